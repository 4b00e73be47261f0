// check: for each login, does its registry accept it (the /v2/ handshake), and is it what docker would send?
// The environment's credentials are checked (what refresh writes: "is my secret right"); when docker would send
// something else for the key (config entry stale or changed, another helper in charge), the result says so.
import { discoverTriples, variableStem } from '../discover.js';
import { DOCKER_HUB_KEY, keyLogins, normalizeRegistryKey } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { registryHandshake, type HandshakeOutcome, type HandshakeResult } from '../registry-handshake.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { readStoredLogins } from '../docker-config/login-store.js';
import { dockerChoice, helperFinder, type DockerChoice } from '../docker-config/docker-view.js';
import { hashEntry, type Ledger } from '../docker-config/ledger.js';
import type { Login, Problem } from '../types.js';

/** A handshake result, or `not-effective`: the secret works but docker would send something else. */
export type CheckResultKind = HandshakeResult | 'not-effective';

/** One line of the check report (SPEC §8 JSON shape, plus the prefix when there is one). */
export interface CheckedLogin {
  key: string;
  prefix?: string;
  result: CheckResultKind;
  detail?: string;
}

export interface CheckResult {
  results: CheckedLogin[];
  problems: Problem[];
  /** Every credential check handled, so the CLI can redact them from anything it prints. */
  secrets: string[];
}

/** Per-registry budget; REGISTRY_LOGIN_CHECK_TIMEOUT (seconds) overrides it. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Checks every login found in env (or only those for the named keys), all registries in parallel. */
export async function check(env: NodeJS.ProcessEnv, keys: string[], options: { now?: Date } = {}): Promise<CheckResult> {
  const discovered = discoverTriples(env);
  const keyed = keyLogins(discovered.triples);
  const { configPath, config, ledger } = await readConfigSnapshot(env);
  const stored = await readStoredLogins(env).catch(() => ({}));
  const timeoutMs = timeoutFrom(env);

  const results: CheckedLogin[] = [];
  let logins = keyed.logins;
  if (keys.length > 0) {
    const wanted = new Set<string>();
    for (const name of keys) {
      const normal = normalizeRegistryKey(name);
      if (!normal.ok) results.push({ key: name, result: 'error', detail: `"${name}" ${normal.reason}; name registries as \`registry-login status\` lists them` });
      else if (!keyed.logins.some((l) => l.key === normal.key)) results.push({ key: normal.key, result: 'error', detail: `no *_CONTAINER_REGISTRY_SERVER secret names ${normal.key}; \`registry-login status\` lists the registries there are` });
      else wanted.add(normal.key);
    }
    logins = keyed.logins.filter((l) => wanted.has(l.key));
  }

  const secrets: string[] = [];
  const resolved = await resolveLogins(logins, { env, force: false, now: options.now ?? new Date() });
  const helperOnPath = helperFinder(env);
  const checked = await Promise.all(
    resolved.map(async (entry): Promise<CheckedLogin> => {
      const { login } = entry;
      const base = { key: login.key, prefix: login.prefix };
      if (!entry.ok) return { ...base, result: 'error', detail: entry.error };
      const mine = { username: entry.credentials.username, secret: entry.credentials.secret };
      secrets.push(mine.secret);
      const choice = dockerChoice(login.key, { config, stored, helperOnPath });
      if (choice.credentials) secrets.push(choice.credentials.secret);
      const handshake = (credentials: typeof mine) => registryHandshake(login.key, credentials, { env, timeoutMs });

      if (choice.source === 'docker-login' && choice.credentials && !sameCredentials(choice.credentials, mine)) {
        // The user ran `docker login` for this registry on purpose; docker pull succeeds or fails with that login.
        const [theirs, ours] = await Promise.all([handshake(choice.credentials), handshake(mine)]);
        const registry = registryName(login.key);
        const next = theirs.result === 'ok' ? '' : `; run \`docker logout ${login.key}\` to use the ${stem(login)} secrets instead, or \`docker login ${login.key}\` again`;
        const note = ours.result === 'ok' ? '' : `; the ${stem(login)} secrets themselves: ${ours.result} (${ours.cause})`;
        return { ...base, result: theirs.result, detail: `docker uses the login \`docker login\` stored for ${registry}, not the ${stem(login)} secrets: ${theirs.result} (${theirs.cause})${next}${note}` };
      }
      const outcome = await handshake(mine);
      if (outcome.result !== 'ok') return { ...base, result: outcome.result, detail: describe(login, outcome) };
      if (choice.credentials && sameCredentials(choice.credentials, mine)) return { ...base, result: 'ok', detail: describe(login, outcome) };
      return { ...base, result: 'not-effective', detail: `the ${stem(login)} login works with ${registryName(login.key)}, but docker does not use it: ${whyUnused(login.key, choice, ledger, configPath)}` };
    }),
  );
  results.push(...checked);
  return { results, problems: keys.length > 0 ? [] : [...discovered.problems, ...keyed.problems], secrets };
}

function timeoutFrom(env: NodeJS.ProcessEnv): number {
  const seconds = Number(env.REGISTRY_LOGIN_CHECK_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_TIMEOUT_MS;
}

function sameCredentials(a: { username: string; secret: string }, b: { username: string; secret: string }): boolean {
  return a.username === b.username && a.secret === b.secret;
}

function stem(login: Login): string {
  return `${variableStem(login.prefix)}*`;
}

function registryName(key: string): string {
  return key === DOCKER_HUB_KEY ? 'Docker Hub' : key;
}

/** One line a user can act on: what happened, naming the prefix and the registry, then the next step. */
export function describe(login: Login, outcome: HandshakeOutcome): string {
  const whose = `the ${stem(login)} secrets`;
  const registry = registryName(login.key);
  switch (outcome.result) {
    case 'ok':
      return `${registry} accepts ${whose} (${outcome.cause})`;
    case 'unauthorized': {
      const what =
        login.kind === 'static' ? 'the user name or password' : login.kind === 'ecr-token' ? 'the ECR token' : 'the ECR token swapped from the AWS keys';
      const next =
        login.kind === 'static'
          ? 'update the secret, then run `registry-login refresh`'
          : login.kind === 'ecr-token'
            ? 'ECR tokens last 12 hours: store a fresh one (`aws ecr get-login-password`), then run `registry-login refresh`'
            : 'run `registry-login refresh --force` for a new token; if it is refused again, check the IAM permissions of the keys';
      return `${what} of ${stem(login)} is refused by ${registry} (${outcome.cause}): ${next}`;
    }
    case 'denied':
      return `${registry} accepts ${whose} but denies access (${outcome.cause}): give that account or token access to the registry, then run \`registry-login check\` again`;
    case 'unreachable':
      return `${registry}, named by ${variableStem(login.prefix)}SERVER, cannot be reached (${outcome.cause}): check the server name and port, the network, and HTTPS_PROXY/NO_PROXY`;
    case 'tls':
      return `TLS with ${registry} (${stem(login)}) fails: ${outcome.cause}: ${outcome.advice ?? 'fix the TLS setup'}`;
    case 'error':
      return `${registry} (${stem(login)}): ${outcome.cause}: ${outcome.advice ?? 'tell the registry operator'}`;
  }
}

function whyUnused(key: string, choice: DockerChoice, ledger: Ledger, configPath: string): string {
  const helper = `docker-credential-${choice.helper ?? ''}`;
  if (choice.source === 'other-helper') {
    return choice.helperSetBy === 'credHelpers'
      ? `credHelpers sends ${key} to ${helper}; remove that line from ${configPath}`
      : `${configPath} has no credHelpers entry for ${key}, so docker asks the credsStore helper ${helper}; run \`registry-login refresh\``;
  }
  if (choice.source === 'none') return `${configPath} holds no login for ${key}; run \`registry-login refresh\``;
  const entry = ledger.entries[key];
  if (!entry) return `${configPath} holds credentials for ${key} that registry-login did not write; run \`registry-login refresh\` (\`registry-login logout\` puts them back)`;
  if (!entry.authHashes.includes(hashEntry(choice.authsEntry))) {
    return `${configPath} holds other credentials for ${key}, changed outside registry-login; run \`registry-login logout ${key}\`, then \`registry-login refresh\``;
  }
  return `${configPath} holds other credentials for ${key} (from an older secret); run \`registry-login refresh\``;
}
