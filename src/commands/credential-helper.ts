// docker-credential-registry-login: the docker credential helper protocol (get, store, erase, list, version).
import { keyLogins, normalizeRegistryKey } from '../registry.js';
import { discoverTriples, variableStem } from '../discover.js';
import { resolveLogins } from '../resolve.js';
import { readConfigSnapshot, updateDockerConfig } from '../docker-config/update.js';
import type { LedgerEntry } from '../docker-config/ledger.js';
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
  const { config, ledger } = await readConfigSnapshot(env);
  let note: string | undefined;
  const managed = ledger.entries[key];
  if (managed && needsRenewal(managed, new Date())) {
    const renewed = await renewEcrToken(key, managed, env);
    if (renewed.ok) return found(server, renewed.username, renewed.secret);
    note = renewed.note;
  }
  const entry = (config.auths as Record<string, { auth?: unknown }> | undefined)?.[key];
  if (typeof entry?.auth !== 'string') return { ...notFound(), ...(note ? { stderr: note } : {}) };
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return notFound();
  return found(server, decoded.slice(0, colon), decoded.slice(colon + 1), note);
}

// An ECR token swapped from AWS keys is renewed once half of its life is gone (SPEC §6, §8).
function needsRenewal(entry: LedgerEntry, now: Date): boolean {
  if ((entry.kind !== 'ecr-keys' && entry.kind !== 'ecr-public-keys') || !entry.issuedAt || !entry.expiresAt) return false;
  const issued = Date.parse(entry.issuedAt);
  const expires = Date.parse(entry.expiresAt);
  return !(expires - now.getTime() > (expires - issued) / 2);
}

type Renewal = { ok: true; username: string; secret: string } | { ok: false; note: string };

/** Swaps the keys in the helper's environment for a new token (cache first) and writes it, under the lock, before docker gets it. */
async function renewEcrToken(key: string, entry: LedgerEntry, env: NodeJS.ProcessEnv): Promise<Renewal> {
  const now = new Date();
  const when = `${Date.parse(entry.expiresAt!) <= now.getTime() ? 'expired' : 'expires'} at ${entry.expiresAt}`;
  const login = keyLogins(discoverTriples(env).triples).logins.find((l) => l.key === key && (l.kind === 'ecr-keys' || l.kind === 'ecr-public-keys'));
  if (!login) {
    return { ok: false, note: `docker-credential-registry-login: the ECR token for ${key} ${when}; the ${variableStem(entry.prefix)}* AWS keys are not in this environment, so it was not renewed. Run \`registry-login refresh\` where they are set.\n` };
  }
  const [result] = await resolveLogins([login], { env, force: false, now });
  if (!result?.ok) return { ok: false, note: `docker-credential-registry-login: the ECR token for ${key} ${when} and could not be renewed: ${result?.ok === false ? result.error : 'no result'}\n` };
  const { credentials } = result;
  const { plan } = await updateDockerConfig(env, ({ ledger }) => ({
    write: [{ key, prefix: login.prefix, kind: login.kind, username: credentials.username, secret: credentials.secret, ...(credentials.issuedAt ? { issuedAt: credentials.issuedAt } : {}), ...(credentials.expiresAt ? { expiresAt: credentials.expiresAt } : {}) }],
    keep: Object.keys(ledger.entries).filter((k) => k !== key),
    remove: [],
  }));
  if (!plan.written.includes(key)) {
    return { ok: false, note: `docker-credential-registry-login: the ECR token for ${key} ${when}; ${plan.warnings.map((w) => w.message).join(' ') || 'the renewed token was not written'}\n` };
  }
  return { ok: true, username: credentials.username, secret: credentials.secret };
}

function found(server: string, username: string, secret: string, stderr?: string): HelperAnswer {
  return { stdout: `${JSON.stringify({ ServerURL: server, Username: username, Secret: secret })}\n`, exitCode: 0, secrets: [secret], ...(stderr ? { stderr } : {}) };
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
