// check: for each login, does its registry accept it (the /v2/ handshake), and is it what docker would send?
// The environment's credentials are checked (what refresh writes: "is my secret right"); when docker would send
// something else for the key (config entry stale or changed, another helper in charge), the result says so.
import { discoverTriples, variableStem } from '../discover.js';
import { DOCKER_HUB_KEY, keyLogins, normalizeRegistryKey } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { registryHandshake, type HandshakeOutcome, type HandshakeResult } from '../registry-handshake.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { readDockerLogins } from '../docker-config/docker-logins.js';
import {
  dockerChoice,
  dockerVerdict,
  storeTrouble,
  type DockerChoice,
  type DockerViewInput,
  type LoginFacts,
  type StoreTrouble,
} from '../docker-config/docker-view.js';
import { observeHelpers } from '../docker-config/helper-probe.js';
import { hashEntry, type Ledger } from '../docker-config/ledger.js';
import type { Credentials, Kind, Login, Problem, Resolved } from '../types.js';
import { placesFromEnv } from '../paths.js';
import { otherClientsView } from '../containers-files.js';
import { describeNotSeen } from '../containers-auth.js';
import { memoryCredentials } from '../docker-config/ledger.js';

/** A handshake result, or `not-effective`: the secret works but docker would send something else. */
export type CheckResultKind = HandshakeResult | 'not-effective';

/** One line of the check report (the JSON shape in README, Commands, plus the prefix when there is one). */
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
  /** Set when no registry variable is in the environment and the logins recorded in this config were checked. */
  recordedIn?: string;
  /** A credsStore that cannot answer, which every registry without a credHelpers entry meets. */
  store?: StoreTrouble;
}

/** Per-registry budget; REGISTRY_LOGIN_CHECK_TIMEOUT (seconds) overrides it. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Checks every login found in env (or only those for the named keys), all registries in parallel. */
export async function check(
  env: NodeJS.ProcessEnv,
  keys: string[],
  options: { now?: Date } = {},
): Promise<CheckResult> {
  const discovered = discoverTriples(env);
  const keyed = keyLogins(discovered.triples);
  const places = placesFromEnv(env);
  const { configPath, config, ledger } = await readConfigSnapshot(places);
  const dockerLogins = readDockerLogins(places.stateDir);
  const view = { config, dockerLogins, memory: memoryCredentials(ledger), ...(await observeHelpers(config, env)) };
  const store = storeTrouble(view, configPath);
  const now = options.now ?? new Date();
  const context: CheckContext = { env, now, timeoutMs: timeoutFrom(env), configPath, ledger, view, secrets: [] };

  // A shell the secrets never reach (a `devcontainer exec` shell after --secrets-file) checks what the hooks wrote.
  const recorded = discovered.triples.length === 0 && discovered.problems.length === 0;
  const known: Login[] = recorded
    ? Object.entries(ledger.entries).map(([key, entry]) => ({
        prefix: entry.prefix,
        key,
        kind: entry.kind,
        server: key,
        user: '',
        password: '',
      }))
    : keyed.logins;
  const others = otherClientsView(places, config, env);
  const results: CheckedLogin[] = [];
  let logins = known;
  if (keys.length > 0) {
    const wanted = new Set<string>();
    for (const name of keys) {
      const normal = normalizeRegistryKey(name);
      if (!normal.ok)
        results.push({
          key: name,
          result: 'error',
          detail: `"${name}" ${normal.reason}; name registries as \`registry-login status\` lists them`,
        });
      else if (!known.some((l) => l.key === normal.key))
        results.push({ key: normal.key, result: 'error', detail: notKnown(normal.key, recorded, configPath) });
      else wanted.add(normal.key);
    }
    logins = known.filter((l) => wanted.has(l.key));
  }

  const checked = recorded
    ? await Promise.all(logins.map((login) => checkRecorded(login, context)))
    : await Promise.all(
        (await resolveLogins(logins, { env, cacheDir: places.cacheDir, force: false, now })).map((entry) =>
          checkResolved(entry, context),
        ),
      );
  results.push(...checked.map((r) => withOtherClients(r, others(r.key))));
  return {
    results,
    problems: keys.length > 0 ? [] : [...discovered.problems, ...keyed.problems],
    secrets: context.secrets,
    ...(recorded && known.length > 0 ? { recordedIn: configPath } : {}),
    ...(store ? { store } : {}),
  };
}

interface CheckContext {
  env: NodeJS.ProcessEnv;
  now: Date;
  timeoutMs: number;
  configPath: string;
  ledger: Ledger;
  view: DockerViewInput;
  /** Every credential handled, collected for the CLI's redactor. */
  secrets: string[];
}

/** The environment's login: does its registry accept the secrets, and does docker send them? */
async function checkResolved(entry: Resolved, context: CheckContext): Promise<CheckedLogin> {
  const { login } = entry;
  const base = { key: login.key, prefix: login.prefix };
  context.secrets.push(...(entry.hidden ?? []));
  if (!entry.ok)
    return {
      ...base,
      result: 'error',
      detail:
        entry.failedAt === 'role' ? `the role's failure, before any registry was asked: ${entry.error}` : entry.error,
    };
  const mine = { username: entry.credentials.username, secret: entry.credentials.secret };
  context.secrets.push(mine.secret);
  const choice = dockerChoice(login.key, context.view);
  if (choice.credentials) context.secrets.push(choice.credentials.secret);
  const handshake = (credentials: typeof mine) =>
    registryHandshake(login.key, credentials, { env: context.env, timeoutMs: context.timeoutMs });

  if (choice.source === 'docker-login' && choice.credentials && !sameCredentials(choice.credentials, mine)) {
    // The user ran `docker login` for this registry on purpose; docker pull succeeds or fails with that login.
    const [theirs, ours] = await Promise.all([handshake(choice.credentials), handshake(mine)]);
    const registry = registryName(login.key);
    const next =
      theirs.result === 'ok'
        ? ''
        : `; run \`docker logout ${login.key}\` to use the ${stem(login)} secrets instead, or \`docker login ${login.key}\` again`;
    const note = ours.result === 'ok' ? '' : `; the ${stem(login)} secrets themselves: ${ours.result} (${ours.cause})`;
    return {
      ...base,
      result: theirs.result,
      detail: `docker uses the login \`docker login\` stored for ${registry}, not the ${stem(login)} secrets: ${theirs.result} (${theirs.cause})${next}${note}`,
    };
  }
  const outcome = await handshake(mine);
  if (outcome.result !== 'ok') return { ...base, result: outcome.result, detail: describe(login, outcome) };
  // The handshake has just proved the secrets current, so a recorded expiry does not count here.
  const verdict = dockerVerdict(login.key, choice, {
    configPath: context.configPath,
    entry: entryAgainst(login.key, choice, mine, context.ledger),
    now: context.now,
    renewable: false,
  });
  if (verdict.used) return { ...base, result: 'ok', detail: withNote(describe(login, outcome), verdict.sentence) };
  return {
    ...base,
    result: 'not-effective',
    detail: `the ${stem(login)} login works with ${registryName(login.key)}, but docker does not use it: ${verdict.sentence ?? verdict.code}`,
  };
}

/**
 * A login recorded in the config (no secrets here): does docker send it, and does the registry accept what it sends?
 */
async function checkRecorded(login: Login, context: CheckContext): Promise<CheckedLogin> {
  const base = { key: login.key, prefix: login.prefix };
  const choice = dockerChoice(login.key, context.view);
  const entry = context.ledger.entries[login.key];
  const current = entry !== undefined && entry.authHashes.includes(hashEntry(choice.authsEntry));
  const verdict = dockerVerdict(login.key, choice, {
    configPath: context.configPath,
    entry: current ? 'current' : 'changed',
    now: context.now,
    renewable: false,
  });
  if (!verdict.used || !choice.credentials) {
    return {
      ...base,
      result: 'not-effective',
      detail: `docker does not use the login the ${stem(login)} secrets made for ${registryName(login.key)}: ${verdict.sentence ?? verdict.code}`,
    };
  }
  context.secrets.push(choice.credentials.secret);
  const outcome = await registryHandshake(login.key, choice.credentials, {
    env: context.env,
    timeoutMs: context.timeoutMs,
  });
  const detail =
    outcome.result === 'ok'
      ? `${registryName(login.key)} accepts the login the ${stem(login)} secrets made (${outcome.cause})`
      : describe(login, outcome);
  return { ...base, result: outcome.result, detail: withNote(detail, verdict.sentence) };
}

/** How docker's auths entry compares with the secrets' credentials, for the verdict. */
function entryAgainst(key: string, choice: DockerChoice, mine: Credentials, ledger: Ledger): LoginFacts['entry'] {
  if (choice.credentials && sameCredentials(choice.credentials, mine)) return 'current';
  const entry = ledger.entries[key];
  if (!entry) return 'not-written';
  return entry.authHashes.includes(hashEntry(choice.authsEntry)) ? 'older-secret' : 'changed';
}

/** A check names the other clients that would not use the login, and the file to blame, after docker's verdict. */
function withOtherClients(
  result: CheckedLogin,
  notSeen: ReturnType<ReturnType<typeof otherClientsView>>,
): CheckedLogin {
  if (notSeen.length === 0) return result;
  const note = describeNotSeen(notSeen).join('; ');
  return { ...result, detail: result.detail ? `${result.detail}; ${note}` : note };
}

function withNote(detail: string, note: string | undefined): string {
  return note ? `${detail}; ${note}` : detail;
}

function notKnown(key: string, recorded: boolean, configPath: string): string {
  if (recorded)
    return `registry-login keeps no login for ${key} in ${configPath}; \`registry-login status\` lists the registries there are`;
  return `no *_CONTAINER_REGISTRY_SERVER secret names ${key}; \`registry-login status\` lists the registries there are`;
}

function timeoutFrom(env: NodeJS.ProcessEnv): number {
  const seconds = Number(env.REGISTRY_LOGIN_CHECK_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_TIMEOUT_MS;
}

function sameCredentials(a: Credentials, b: Credentials): boolean {
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
      const { what, next } = refusal(login.kind);
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

/** What a registry refused, by the kind of login, and what to do about it. */
function refusal(kind: Kind): { what: string; next: string } {
  if (kind === 'static')
    return { what: 'the user name or password', next: 'update the secret, then run `registry-login refresh`' };
  if (kind === 'ecr-token') {
    return {
      what: 'the ECR token',
      next: 'ECR tokens last 12 hours: store a fresh one (`aws ecr get-login-password`), then run `registry-login refresh`',
    };
  }
  return {
    what: 'the ECR token swapped from the AWS keys',
    next: 'run `registry-login refresh --force` for a new token; if it is refused again, check the IAM permissions of the keys',
  };
}
