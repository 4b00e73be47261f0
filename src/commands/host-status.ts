// status --host: the logins host runs stored, and whether docker on this host would use each.
import { readHostSnapshot } from '../host/host-config.js';
import {
  environmentLogin,
  matchesEntry,
  sameCredentials,
  memoryKey,
  type HostLedgerEntry,
  type MemoryKey,
} from '../host/ledger.js';
import { FileStore, isStoreError, openStore, type StoreContext } from '../host/credential-store.js';
import { storeName, loginDestination, type HostFacts } from '../host/login-destination.js';
import { programFinder } from '../programs.js';
import type { HostSnapshot } from '../host/host-config.js';
import type { Kind } from '../types.js';
import { placesFromEnv } from '../paths.js';
import { whereKept } from '../host/report.js';

export interface HostStatusLogin {
  prefix: string;
  key: string;
  kind: Kind;
  store: string;
  expiresAt?: string;
  effective: boolean;
  /** Why docker would not use the login, with the next step. */
  reason?: string;
}

export interface HostStatusResult {
  configPath: string;
  logins: HostStatusLogin[];
}

/** Lists what host runs stored, asking each store (a read, bounded in time) whether it still holds it. */
export async function statusHost(
  env: NodeJS.ProcessEnv,
  options: { now?: Date; platform?: NodeJS.Platform } = {},
): Promise<HostStatusResult> {
  const snapshot = await readHostSnapshot(placesFromEnv(env, { host: true }));
  const find = programFinder(env);
  const facts: HostFacts = {
    platform: options.platform ?? process.platform,
    onPath: (name) => find(name) !== undefined,
  };
  const stores: StoreContext = { env, configPath: snapshot.configPath, file: new FileStore(snapshot.config), find };
  const now = options.now ?? new Date();
  const memory = Object.values(snapshot.ledger.entries).some((e) => e.keyId) ? memoryKey(env, false).key : undefined;
  const logins: HostStatusLogin[] = [];
  for (const [key, entry] of Object.entries(snapshot.ledger.entries).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const row = {
      prefix: entry.prefix,
      key,
      kind: entry.kind,
      store: entry.store,
      ...(entry.expiresAt ? { expiresAt: entry.expiresAt } : {}),
    };
    logins.push({ ...row, ...(await judge(snapshot, stores, facts, { key, entry, memory, env }, now)) });
  }
  return { configPath: snapshot.configPath, logins };
}

async function judge(
  snapshot: HostSnapshot,
  stores: StoreContext,
  facts: HostFacts,
  login: { key: string; entry: HostLedgerEntry; memory: MemoryKey | undefined; env: NodeJS.ProcessEnv },
  now: Date,
): Promise<{ effective: boolean; reason?: string }> {
  const { key, entry } = login;
  const again =
    "run `registry-login refresh --host` where the secrets are set (a dev container's initializeCommand does)";
  const destination = loginDestination(snapshot.config, key, facts);
  const where = whereKept(entry.store);
  if (storeName(destination) !== entry.store) {
    return {
      effective: false,
      reason: `docker now looks for ${key} in ${whereKept(storeName(destination))} (the config changed since), not in ${where}; ${again}`,
    };
  }
  let current;
  try {
    const store = await openStore(stores, entry.store, {
      setBy: destination.kind === 'helper' ? destination.setBy : 'credsStore',
      key,
    });
    current = await store.get(key);
  } catch (error) {
    if (!isStoreError(error)) throw error;
    return { effective: false, reason: error.message };
  }
  if (current === undefined)
    return { effective: false, reason: `${where} no longer holds a login for ${key} (docker logout?); ${again}` };
  const ours = matchesEntry(snapshot.ledger, login.memory, entry, key, current);
  if (ours === undefined && !sameCredentials(environmentLogin(login.env, key), current)) {
    return {
      effective: false,
      reason: `${where} holds a login for ${key}, but whether it is the one registry-login stored cannot be told here: the key that proves it is kept in memory only and is gone since the machine restarted (or this system has no per-user memory directory); ${again}, which checks it`,
    };
  }
  if (ours === false) {
    return {
      effective: false,
      reason: `${where} now holds another login for ${key} (docker login?), which docker uses instead; \`registry-login refresh --host --force\` replaces it`,
    };
  }
  if (entry.expiresAt && Date.parse(entry.expiresAt) <= now.getTime())
    return { effective: false, reason: `the token expired at ${entry.expiresAt}; ${again}` };
  return { effective: true };
}
