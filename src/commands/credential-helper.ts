// docker-credential-registry-login: the docker credential helper protocol (get, store, erase, list, version).
// Renewing an ECR token is src/renew.ts's business; this module only speaks the protocol.
import { normalizeRegistryKey } from '../registry.js';
import { renewedCredentials } from '../renew.js';
import { ConfigError } from '../fs/errors.js';
import { HELPER_NAME } from '../docker-config/docker-view.js';
import { decodeAuthsEntry } from '../docker/auth.js';
import { memberObject } from '../docker/lookup.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { changeDockerLogin, readDockerLogins } from '../docker-config/docker-logins.js';
import { VERSION } from '../version.js';
import { dictionary } from '../dictionary.js';
import type { Credentials } from '../types.js';
import { placesFromEnv } from '../paths.js';
import { NOT_FOUND_MESSAGE } from '../docker/helper-client.js';

export const NOT_FOUND = NOT_FOUND_MESSAGE;

/** What the helper answers: docker reads stdout, a person reads stderr. */
export interface HelperAnswer {
  stdout: string;
  stderr?: string;
  exitCode: number;
  /** Secrets in the answer that may appear on stdout only. */
  secrets: string[];
}

/** Runs one helper action with docker's input on stdin. */
export async function credentialHelper(
  action: string | undefined,
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<HelperAnswer> {
  switch (action) {
    case 'get':
      return get(input.trim(), env);
    case 'store':
      return store(input, env);
    case 'erase': {
      const key = keyOf(input.trim());
      if (key) await changeDockerLogin(placesFromEnv(env).stateDir, key, undefined);
      return { stdout: '', exitCode: 0, secrets: [] };
    }
    case 'list':
      return list(env);
    case 'version':
      return { stdout: `docker-credential-registry-login (registry-login) ${VERSION}\n`, exitCode: 0, secrets: [] };
    default:
      return {
        stdout: '',
        stderr: `Usage: docker-credential-registry-login <get|store|erase|list|version>\nThis is a docker credential helper; docker runs it, not people. For people there is \`registry-login --help\`.\n`,
        exitCode: 1,
        secrets: [],
      };
  }
}

function keyOf(server: string): string | undefined {
  const keyed = normalizeRegistryKey(server);
  return keyed.ok ? keyed.key : undefined;
}

async function get(server: string, env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  const key = keyOf(server);
  if (!key) return notFound();
  let places;
  let snapshot;
  try {
    places = placesFromEnv(env);
    const dockerLogin = readDockerLogins(places.stateDir)[key];
    if (dockerLogin) return found(server, dockerLogin);
    snapshot = await readConfigSnapshot(places);
  } catch (error) {
    // Docker reads "not found" as "no credentials"; anything else on stdout aborts the pull.
    if (error instanceof ConfigError)
      return { ...notFound(), stderr: `docker-credential-registry-login: ${error.message}\n` };
    throw error;
  }
  const { config, ledger } = snapshot;
  const managed = Object.hasOwn(ledger.entries, key) ? ledger.entries[key] : undefined;
  // Managed: in the ledger, or sent here by a credHelpers line registry-login wrote (a login the user kept).
  if (!managed && memberObject(config, 'credHelpers')[key] !== HELPER_NAME) return notFound();
  // Memory mode keeps the credentials in the ledger (in memory); a login whose memory is gone is not found.
  const current = managed?.memory ?? decodeAuthsEntry(memberObject(config, 'auths')[key]);
  const { credentials, note } = await renewedCredentials(key, managed, current, env, places);
  if (!credentials) return { ...notFound(), ...(note ? { stderr: note } : {}) };
  return found(server, credentials, note);
}

function found(server: string, { username, secret }: Credentials, stderr?: string): HelperAnswer {
  return {
    stdout: `${JSON.stringify({ ServerURL: server, Username: username, Secret: secret })}\n`,
    exitCode: 0,
    secrets: [secret],
    ...(stderr ? { stderr } : {}),
  };
}

function notFound(): HelperAnswer {
  return { stdout: `${NOT_FOUND}\n`, exitCode: 1, secrets: [] };
}

// As docker-credential-helpers does, a failed action says why on stdout (docker shows it: "out: `...`") and exits 1.
function failed(message: string, secrets: string[] = []): HelperAnswer {
  return { stdout: `docker-credential-registry-login store: ${message}\n`, exitCode: 1, secrets };
}

async function store(input: string, env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return failed('the input is not the JSON object docker sends ({"ServerURL","Username","Secret"}).');
  const { ServerURL: server, Username: username, Secret: secret } = value as Record<string, unknown>;
  const key = typeof server === 'string' ? keyOf(server) : undefined;
  if (!key || typeof username !== 'string' || typeof secret !== 'string') {
    return failed(
      'ServerURL, Username and Secret must be strings and ServerURL a registry host.',
      typeof secret === 'string' ? [secret] : [],
    );
  }
  await changeDockerLogin(placesFromEnv(env).stateDir, key, {
    server: server as string,
    credentials: { username, secret },
  });
  return { stdout: '', exitCode: 0, secrets: [secret] };
}

async function list(env: NodeJS.ProcessEnv): Promise<HelperAnswer> {
  const out = dictionary<string>();
  const places = placesFromEnv(env);
  const { config, ledger } = await readConfigSnapshot(places);
  const auths = memberObject(config, 'auths');
  for (const [key, entry] of Object.entries(ledger.entries)) {
    const credentials = entry.memory ?? decodeAuthsEntry(auths[key]);
    if (credentials) out[key] = credentials.username;
  }
  for (const [key, login] of Object.entries(readDockerLogins(places.stateDir))) out[key] = login.username;
  return { stdout: `${JSON.stringify(out)}\n`, exitCode: 0, secrets: [] };
}
