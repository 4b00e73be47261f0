// status: what registry-login manages in the docker config, and whether docker really uses it.
import { HELPER_NAME, hashEntry } from '../docker-config/ledger.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { readStoredLogins } from '../docker-config/login-store.js';
import type { Kind } from '../types.js';

export interface StatusLogin {
  prefix: string;
  key: string;
  kind: Kind;
  expiresAt?: string;
  effective: boolean;
  /** Why docker would not use the entry, or how it is served; absent when all is as written. */
  reason?: string;
}

export interface StatusResult {
  configPath: string;
  logins: StatusLogin[];
}

/** Lists managed registries with their expiry and whether docker would use the entry. */
export async function status(env: NodeJS.ProcessEnv, now = new Date()): Promise<StatusResult> {
  const { configPath, config, ledger } = await readConfigSnapshot(env);
  const stored = await readStoredLogins(env).catch(() => ({}) as Record<string, unknown>);
  const auths = (config.auths ?? {}) as Record<string, unknown>;
  const helpers = (config.credHelpers ?? {}) as Record<string, unknown>;
  const credsStore = typeof config.credsStore === 'string' ? config.credsStore : undefined;
  const logins = Object.entries(ledger.entries)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, entry]): StatusLogin => {
      const base = { prefix: entry.prefix, key, kind: entry.kind, ...(entry.expiresAt ? { expiresAt: entry.expiresAt } : {}) };
      const verdict = judge(key);
      return { ...base, ...verdict };

      function judge(key: string): { effective: boolean; reason?: string } {
        const helper = helpers[key];
        if (helper !== undefined && helper !== HELPER_NAME) return { effective: false, reason: `credHelpers sends ${key} to docker-credential-${String(helper)}; remove that line from ${configPath}` };
        if (helper === undefined && credsStore) return { effective: false, reason: `no credHelpers entry, so the credsStore "${credsStore}" shadows it; run \`registry-login refresh\`` };
        if (key in stored) return { effective: true, reason: 'served from the login stored by `docker login`' };
        const current = auths[key];
        if (current === undefined) return { effective: false, reason: `the auths entry is gone (docker logout?); run \`registry-login refresh\`` };
        if (!entry.authHashes.includes(hashEntry(current))) return { effective: false, reason: `the auths entry was changed outside registry-login; run \`registry-login logout ${key}\` then \`registry-login refresh\`` };
        if (entry.expiresAt && Date.parse(entry.expiresAt) <= now.getTime()) return { effective: false, reason: `the token expired at ${entry.expiresAt}; run \`registry-login refresh\`` };
        return { effective: true };
      }
    });
  return { configPath, logins };
}
