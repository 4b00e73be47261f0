// logout --host: removes what host runs stored, and only while its store still holds exactly that.
import { normalizeRegistryKey } from '../registry.js';
import { jsonEqual } from '../json-equal.js';
import { changeHostConfig } from '../host/host-config.js';
import {
  environmentLogin,
  matchesEntry,
  sameCredentials,
  memoryKey,
  type HostLedger,
  type MemoryKeyLookup,
} from '../host/ledger.js';
import { FileStore, isStoreError, openStore, type StoreContext } from '../host/credential-store.js';
import { programFinder } from '../programs.js';
import { placesFromEnv } from '../paths.js';
import { whereKept } from '../host/report.js';
import { dictionary } from '../dictionary.js';
import { memberObject } from '../docker/lookup.js';

export interface HostLogoutResult {
  configPath: string;
  removed: string[];
  /** Named keys no host run stored. */
  unknown: string[];
  warnings: string[];
}

/** Removes the named host logins (all when none is named) from their stores, and docker's marker beside them. */
export async function logoutHost(env: NodeJS.ProcessEnv, names: string[]): Promise<HostLogoutResult> {
  const wanted = names.map((name) => {
    const keyed = normalizeRegistryKey(name);
    return keyed.ok ? keyed.key : name;
  });
  const find = programFinder(env);
  let memory: MemoryKeyLookup | undefined;
  const { configPath, result } = await changeHostConfig(placesFromEnv(env, { host: true }), async (snapshot) => {
    const file = new FileStore(snapshot.config);
    const stores: StoreContext = { env, configPath: snapshot.configPath, file, find };
    const ledger: HostLedger = {
      ...snapshot.ledger,
      entries: dictionary(snapshot.ledger.entries),
    };
    const managed = Object.keys(ledger.entries);
    const out = {
      removed: [] as string[],
      unknown: wanted.filter((key) => !managed.includes(key)),
      warnings: [] as string[],
    };
    const helpers = memberObject(snapshot.config, 'credHelpers');
    for (const key of names.length === 0 ? managed : wanted.filter((k) => managed.includes(k))) {
      const entry = ledger.entries[key]!;
      const where = whereKept(entry.store);
      try {
        const store = await openStore(stores, entry.store, {
          setBy: helpers[key] === entry.store ? 'credHelpers' : 'credsStore',
          key,
          retry: 'registry-login logout --host',
        });
        const current = await store.get(key);
        let ours =
          current &&
          matchesEntry(ledger, entry.keyId ? (memory ??= memoryKey(env, false)).key : undefined, entry, key, current);
        if (current && ours === undefined && sameCredentials(environmentLogin(env, key), current)) ours = true;
        if (current && ours === undefined) {
          // Kept in the ledger: a refresh --host with the secret set proves it again, and then logout removes it.
          out.warnings.push(
            `${key}: ${where} holds a login for ${key}, but whether it is still the one registry-login stored cannot be told: the key that proves it is kept in memory only and is gone since the machine restarted (or this system has no per-user memory directory), so it was left there; run \`registry-login logout --host ${key}\` where ${entry.prefix}'s secret is set, or \`docker logout ${key}\`.`,
          );
          continue;
        }
        if (current && ours === false) {
          out.warnings.push(
            `${key}: ${where} holds another login for ${key} than the one registry-login stored (docker login?), so it was left there; \`docker logout ${key}\` removes it.`,
          );
        } else {
          if (current !== undefined) await store.erase(key);
          // docker logout also removes the empty auths entry docker login left beside a helper's login.
          if (entry.store !== 'file' && jsonEqual(file.entry(key), {})) file.set(key, undefined);
          if (current !== undefined) out.removed.push(key);
          else
            out.warnings.push(
              `${key}: ${where} no longer held the login registry-login stored (docker logout?); nothing to remove.`,
            );
        }
        delete ledger.entries[key];
      } catch (error) {
        if (!isStoreError(error)) throw error;
        out.warnings.push(`${key}: not logged out: ${error.message}`);
      }
    }
    return { edits: file.edits, ledger, result: out };
  });
  return { configPath, ...result };
}
