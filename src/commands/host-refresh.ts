// refresh --host: the container's discovery, keys and credentials, each login kept where `docker login` would keep it
// on this host (README, Private dev container images). Nothing is removed; an unchanged login costs no store call and
// no network call.
import { discoverTriples } from '../discover.js';
import { keyLogins } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { decodeAuthsEntry, encodeAuth } from '../docker/auth.js';
import { jsonEqual } from '../json-equal.js';
import { changeHostConfig, readHostSnapshot, type HostSnapshot } from '../host/host-config.js';
import {
  fingerprintFor,
  matchesEntry,
  memoryKey,
  needsMemoryKey,
  sameCredentials,
  type HostLedger,
  type HostLedgerEntry,
  type MemoryKey,
  type MemoryKeyLookup,
} from '../host/ledger.js';
import { FileStore, isStoreError, openStore, type StoreContext } from '../host/credential-store.js';
import { storeName, loginDestination, type HostFacts, type LoginDestination } from '../host/login-destination.js';
import { dictionary } from '../dictionary.js';
import { memberObject } from '../docker/lookup.js';
import { programFinder } from '../programs.js';
import type { ConfigEdit } from '../docker-config/plan.js';
import type { Credentials, Kind, Login, Problem, Resolved } from '../types.js';
import { placesFromEnv, secretsMode } from '../paths.js';
import { whereKept } from '../host/report.js';

/** One login's line in the report: refresh's JSON shape, plus where it is kept and whether this run wrote it. */
export interface HostRefreshedLogin {
  prefix: string;
  key: string;
  kind: Kind;
  status: 'ok' | 'error' | 'kept';
  /** 'file' (the config's auths) or the credential helper's name. */
  store?: string;
  /** Whether this run stored it (false: it was already there). */
  changed?: boolean;
  expiresAt?: string;
  error?: string;
  /** Why a login was left alone (status kept). */
  reason?: string;
}

export interface HostRefreshResult {
  configPath: string;
  logins: HostRefreshedLogin[];
  problems: Problem[];
  /**
   * Always empty: the host's config is shared by every project, so nothing is removed (README, Private dev container
   * images).
   */
  removed: string[];
  warnings: string[];
  /** Every credential resolved, so the CLI can redact them. */
  secrets: string[];
}

export interface HostOptions {
  force: boolean;
  now?: Date;
  /** The platform whose default store applies (process.platform; passed in so each branch can be tested). */
  platform?: NodeJS.Platform;
}

/** Stores every login found in env where docker on this host would look for it. */
export async function refreshHost(env: NodeJS.ProcessEnv, options: HostOptions): Promise<HostRefreshResult> {
  const discovered = discoverTriples(env);
  const keyed = keyLogins(discovered.triples);
  // Refuse an unusable config before spending any AWS call.
  const places = placesFromEnv(env, { host: true });
  const snapshot = await readHostSnapshot(places, { editable: true });
  const resolved = await resolveLogins(keyed.logins, {
    env,
    cacheDir: places.cacheDir,
    force: options.force,
    now: options.now ?? new Date(),
  });
  const find = programFinder(env);
  const facts: HostFacts = {
    platform: options.platform ?? process.platform,
    onPath: (name) => find(name) !== undefined,
  };
  const good = resolved.filter((r): r is Extract<Resolved, { ok: true }> => r.ok);

  let outcomes: Map<string, HostRefreshedLogin>;
  let configPath = snapshot.configPath;
  const destinations = new Map(good.map((r) => [r.login.key, loginDestination(snapshot.config, r.login.key, facts)]));
  // Read only when a static login in a credential store is to be checked: the file case needs no key.
  let memory: MemoryKeyLookup | undefined;
  const lookup = () => (memory ??= memoryKey(env, false));
  // --force compares every login with its store: a `docker login` made since the last run is replaced.
  if (
    !options.force &&
    good.every((r) => isUnchanged(snapshot, r.login, r.credentials, destinations.get(r.login.key)!, find, lookup))
  ) {
    outcomes = new Map(
      good.map((r) => [r.login.key, unchangedOutcome(snapshot, r.login, destinations.get(r.login.key)!)]),
    );
  } else {
    const change = await changeHostConfig(places, async (fresh) =>
      storeAll(fresh, good, { env, facts, find, force: options.force, memory: lookup }),
    );
    ({ configPath } = change);
    outcomes = change.result;
  }
  const warnings = [...outcomes.values()].flatMap((o) => (o.reason ? [o.reason] : []));
  if (memory?.warning) warnings.push(memory.warning);
  if (secretsMode(env) === 'memory')
    warnings.push(
      "secrets are set to be kept in memory only (REGISTRY_LOGIN_SECRETS=memory or the Feature's secrets option), which does not apply on the host: refresh --host keeps each login in the host's own credential store (or the docker config), as always.",
    );
  return {
    configPath,
    logins: resolved.map((r) =>
      r.ok
        ? outcomes.get(r.login.key)!
        : { prefix: r.login.prefix, key: r.login.key, kind: r.login.kind, status: 'error', error: r.error },
    ),
    problems: [...discovered.problems, ...keyed.problems],
    removed: [],
    warnings,
    secrets: [...good.map((r) => r.credentials.secret), ...resolved.flatMap((r) => r.hidden ?? [])],
  };
}

type Good = Extract<Resolved, { ok: true }>;

/**
 * Whether the login is already where docker would look, as the ledger says this host stored it: then no call at all.
 */
function isUnchanged(
  snapshot: HostSnapshot,
  login: Login,
  credentials: Credentials,
  destination: LoginDestination,
  find: (name: string) => string | undefined,
  memory: () => MemoryKeyLookup,
): boolean {
  if (destination.kind === 'cannot-store') return true;
  const entry = snapshot.ledger.entries[login.key];
  if (!entry || entry.store !== storeName(destination) || entry.prefix !== login.prefix || entry.kind !== login.kind)
    return false;
  if (
    destination.kind === 'helper' &&
    (destination.setBy === 'default-store' || find(`docker-credential-${destination.name}`) === undefined)
  )
    return false;
  if ((entry.expiresAt ?? '') !== (credentials.expiresAt ? credentials.expiresAt.toISOString() : '')) return false;
  const marker = memberObject(snapshot.config, 'auths')[login.key];
  // The file holds the login itself: equal is unchanged, and needs no hash. A helper's login is known by its
  // keyed SHA-256 fingerprint, and must still have docker's marker beside it (docker logout removes both). One made
  // under the salt for a login that now needs the memory key is checked in the store once, and so replaced.
  if (destination.kind === 'file')
    return jsonEqual(marker, { auth: encodeAuth(credentials.username, credentials.secret) });
  if (marker === undefined || (needsMemoryKey(entry.store, entry.kind) && entry.keyId === undefined)) return false;
  const key = entry.keyId === undefined ? undefined : memory().key;
  return matchesEntry(snapshot.ledger, key, entry, login.key, credentials) === true;
}

function unchangedOutcome(snapshot: HostSnapshot, login: Login, destination: LoginDestination): HostRefreshedLogin {
  if (destination.kind === 'cannot-store') return cannotStore(snapshot.configPath, login, destination.name);
  const entry = snapshot.ledger.entries[login.key]!;
  return {
    ...base(login),
    status: 'ok',
    store: entry.store,
    changed: false,
    ...(entry.expiresAt ? { expiresAt: entry.expiresAt } : {}),
  };
}

function base(login: Login): Pick<HostRefreshedLogin, 'prefix' | 'key' | 'kind'> {
  return { prefix: login.prefix, key: login.key, kind: login.kind };
}

function cannotStore(configPath: string, login: Login, helper: string): HostRefreshedLogin {
  return {
    ...base(login),
    status: 'kept',
    store: helper,
    reason: `${login.prefix}: ${configPath} sends ${login.key} to docker-credential-${helper}, which gets its own credentials and cannot keep a login, so it was left alone; remove that entry from the config to let registry-login log docker in to ${login.key}.`,
  };
}

/** Under the lock: stores each changed login, leaving docker's marker (and a detected default store) in the config. */
async function storeAll(
  snapshot: HostSnapshot,
  logins: Good[],
  context: {
    env: NodeJS.ProcessEnv;
    facts: HostFacts;
    find: (name: string) => string | undefined;
    force: boolean;
    memory: () => MemoryKeyLookup;
  },
): Promise<{ edits: ConfigEdit[]; ledger: HostLedger; result: Map<string, HostRefreshedLogin> }> {
  const file = new FileStore(snapshot.config);
  const ledger: HostLedger = { ...snapshot.ledger, entries: dictionary(snapshot.ledger.entries) };
  const stores: StoreContext = { env: context.env, configPath: snapshot.configPath, file, find: context.find };
  const extra: ConfigEdit[] = [];
  const result = new Map<string, HostRefreshedLogin>();
  // Made here, under the lock, the first time a static login goes into a credential store after a restart.
  let memory: MemoryKeyLookup | undefined;
  const key = () => {
    memory ??= context.memory().key ? context.memory() : memoryKey(context.env, true);
    return memory.key;
  };
  // One at a time: a keychain may ask the user, and two dialogs at once help nobody.
  for (const { login, credentials } of logins) {
    const destination = loginDestination(snapshot.config, login.key, context.facts);
    if (destination.kind === 'cannot-store') {
      result.set(login.key, cannotStore(snapshot.configPath, login, destination.name));
      continue;
    }
    // Another login's change (or a restart's lost memory key) costs this one no store call.
    if (!context.force && isUnchanged(snapshot, login, credentials, destination, context.find, context.memory)) {
      result.set(login.key, unchangedOutcome(snapshot, login, destination));
      continue;
    }
    const outcome = await storeOne(
      { snapshot, ledger, file, stores, force: context.force, memory: key },
      login,
      credentials,
      destination,
    );
    if (
      outcome.status === 'ok' &&
      destination.kind === 'helper' &&
      destination.setBy === 'default-store' &&
      !extra.some((e) => e.path[0] === 'credsStore')
    ) {
      // As docker login does: the store it detected is written into the config, so every client uses it from now on.
      extra.push({ path: ['credsStore'], value: destination.name });
    }
    result.set(login.key, outcome);
  }
  return { edits: [...file.edits, ...extra], ledger, result };
}

async function storeOne(
  run: {
    snapshot: HostSnapshot;
    ledger: HostLedger;
    file: FileStore;
    stores: StoreContext;
    force: boolean;
    memory: () => MemoryKey | undefined;
  },
  login: Login,
  credentials: Credentials,
  destination: Exclude<LoginDestination, { kind: 'cannot-store' }>,
): Promise<HostRefreshedLogin> {
  const { ledger, file } = run;
  const name = storeName(destination);
  const key = login.key;
  const previous = ledger.entries[key];
  const outcome = { ...base(login), store: name };
  let changed = false;
  try {
    const store = await openStore(run.stores, name, {
      setBy: destination.kind === 'helper' ? destination.setBy : 'credsStore',
      key,
    });
    const current = await store.get(key);
    const same = sameCredentials(current, credentials);
    if (!same) {
      const ours =
        current === undefined || previous?.store !== name
          ? false
          : matchesEntry(ledger, previous.keyId === undefined ? undefined : run.memory(), previous, key, current);
      if (current !== undefined && ours !== true && !run.force) {
        const holder = name === 'file' ? run.snapshot.configPath : whereKept(name);
        const replace = `run \`registry-login refresh --host --force\` to replace it with ${login.prefix}'s, or \`docker logout ${key}\` first.`;
        // The config no longer holds the secret the fingerprint was made of, so the fingerprint would be the one trace of
        // it on disk: it goes, and the entry stays, known to be someone else's.
        if (name === 'file' && ours === false && previous) ledger.entries[key] = { ...previous, fingerprint: '' };
        return {
          ...outcome,
          status: 'kept',
          reason:
            ours === undefined
              ? `${login.prefix}: ${holder} holds another login for ${key} than ${login.prefix}'s, and whether registry-login stored it cannot be told: the key that proves it is kept in memory only and is gone since the machine restarted (or this system has no per-user memory directory), so it was left alone; if it is an older secret of ${login.prefix}'s, ${replace}`
              : `${login.prefix}: ${holder} already holds a login for ${key} that registry-login did not store (from \`docker login\`?), so it was left alone; ${replace}`,
        };
      }
      // A store keyed by server and user name (pass) keeps another user's login beside ours and may keep answering
      // with it: the login being replaced goes first, as `docker logout` would remove it.
      if (current !== undefined && current.username !== credentials.username) await store.erase(key);
      await store.store(key, credentials);
      changed = true;
    }
  } catch (error) {
    if (!isStoreError(error)) throw error;
    return { ...outcome, status: 'error', error: `${login.prefix}: ${key} was not logged in: ${error.message}` };
  }
  if (destination.kind === 'helper') {
    // docker login leaves an empty auths entry beside a login kept in a helper; one this host wrote earlier into the
    // file (with the secret in it) becomes that marker. Anyone else's entry stays as it is.
    const entry = file.entry(key);
    const oldOurs = previous?.store === 'file' && entry !== undefined && fileEntryIsOurs(ledger, previous, key, entry);
    if (entry === undefined || oldOurs) file.set(key, {});
  }
  ledger.entries[key] = {
    prefix: login.prefix,
    kind: login.kind,
    store: name,
    ...fingerprintFor(
      ledger,
      needsMemoryKey(name, login.kind) ? run.memory() : undefined,
      { store: name, kind: login.kind },
      key,
      credentials,
    ),
    ...(credentials.issuedAt ? { issuedAt: credentials.issuedAt.toISOString() } : {}),
    ...(credentials.expiresAt ? { expiresAt: credentials.expiresAt.toISOString() } : {}),
  };
  // Nothing is removed on the host: a login kept elsewhere before (the config's store changed since) stays there.
  const moved =
    previous && previous.store !== name
      ? {
          reason: `${login.prefix}: the login for ${key} is now kept in ${whereKept(name)}, where docker looks for it; the one stored earlier in ${whereKept(previous.store)} was left there.`,
        }
      : {};
  return {
    ...outcome,
    status: 'ok',
    changed,
    ...(credentials.expiresAt ? { expiresAt: credentials.expiresAt.toISOString() } : {}),
    ...moved,
  };
}

function fileEntryIsOurs(ledger: HostLedger, previous: HostLedgerEntry, key: string, authsEntry: unknown): boolean {
  const decoded = decodeAuthsEntry(authsEntry);
  return decoded !== undefined && matchesEntry(ledger, undefined, previous, key, decoded) === true;
}
