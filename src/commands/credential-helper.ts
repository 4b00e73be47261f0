// docker-credential-registry-login: the docker credential helper protocol (get, store, erase, list, version).
import { normalizeRegistryKey } from '../registry.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { changeStoredLogin, readStoredLogins } from '../docker-config/login-store.js';
import { VERSION } from '../version.js';

export const NOT_FOUND = 'credentials not found in native keychain';

/** What the helper answers: docker reads stdout, a person reads stderr. */
export interface HelperAnswer {
  stdout: string;
  stderr?: string;
  exitCode: number;
  /** Secrets in the answer that may appear on stdout only. */
  secrets: string[];
}

/** Runs one helper action with docker's input on stdin. */
export async function credentialHelper(action: string | undefined, input: string, env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  switch (action) {
    case 'get':
      return get(input.trim(), env);
    case 'store':
      return store(input, env);
    case 'erase': {
      const key = keyOf(input.trim());
      if (key) await changeStoredLogin(env, key, undefined);
      return { stdout: '', exitCode: 0, secrets: [] };
    }
    case 'list':
      return list(env);
    case 'version':
      return { stdout: `docker-credential-registry-login (registry-login) ${VERSION}\n`, exitCode: 0, secrets: [] };
    default:
      return { stdout: '', stderr: `Usage: docker-credential-registry-login <get|store|erase|list|version>\nThis is a docker credential helper; docker runs it, not people. For people there is \`registry-login --help\`.\n`, exitCode: 1, secrets: [] };
  }
}

function keyOf(server: string): string | undefined {
  const keyed = normalizeRegistryKey(server);
  return keyed.ok ? keyed.key : undefined;
}

async function get(server: string, env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  const key = keyOf(server);
  if (!key) return notFound();
  const stored = (await readStoredLogins(env))[key];
  if (stored) return found(server, stored.Username, stored.Secret);
  const { config } = await readConfigSnapshot(env);
  const entry = (config.auths as Record<string, { auth?: unknown }> | undefined)?.[key];
  if (typeof entry?.auth !== 'string') return notFound();
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return notFound();
  return found(server, decoded.slice(0, colon), decoded.slice(colon + 1));
}

function found(server: string, username: string, secret: string): HelperAnswer {
  return { stdout: `${JSON.stringify({ ServerURL: server, Username: username, Secret: secret })}\n`, exitCode: 0, secrets: [secret] };
}

function notFound(): HelperAnswer {
  return { stdout: `${NOT_FOUND}\n`, exitCode: 1, secrets: [] };
}

async function store(input: string, env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  let value: { ServerURL?: unknown; Username?: unknown; Secret?: unknown };
  try {
    value = JSON.parse(input) as typeof value;
  } catch {
    return { stdout: '', stderr: 'docker-credential-registry-login store: the input is not the JSON docker sends ({"ServerURL","Username","Secret"}).\n', exitCode: 1, secrets: [] };
  }
  const key = typeof value.ServerURL === 'string' ? keyOf(value.ServerURL) : undefined;
  if (!key || typeof value.Username !== 'string' || typeof value.Secret !== 'string') {
    return { stdout: '', stderr: 'docker-credential-registry-login store: ServerURL, Username and Secret must be strings and ServerURL a registry host.\n', exitCode: 1, secrets: typeof value.Secret === 'string' ? [value.Secret] : [] };
  }
  await changeStoredLogin(env, key, { ServerURL: value.ServerURL as string, Username: value.Username, Secret: value.Secret });
  return { stdout: '', exitCode: 0, secrets: [value.Secret] };
}

async function list(env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  const out: Record<string, string> = {};
  const { config, ledger } = await readConfigSnapshot(env);
  const auths = (config.auths ?? {}) as Record<string, { auth?: unknown }>;
  for (const key of Object.keys(ledger.entries)) {
    const auth = auths[key]?.auth;
    if (typeof auth === 'string') out[key] = Buffer.from(auth, 'base64').toString('utf8').split(':')[0] ?? '';
  }
  for (const [key, login] of Object.entries(await readStoredLogins(env))) out[key] = login.Username;
  return { stdout: `${JSON.stringify(out)}\n`, exitCode: 0, secrets: [] };
}
