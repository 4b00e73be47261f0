// status: what registry-login manages in the docker config, and whether docker really uses it.
import { hashEntry } from '../docker-config/ledger.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { readDockerLogins } from '../docker-config/docker-logins.js';
import {
  dockerChoice,
  dockerVerdict,
  storeTrouble,
  type StoreTrouble,
  type VerdictCode,
} from '../docker-config/docker-view.js';
import { observeHelpers } from '../docker-config/helper-probe.js';
import { discoverTriples } from '../discover.js';
import { keyLogins, needsSwap } from '../registry.js';
import type { Kind } from '../types.js';
import { placesFromEnv } from '../paths.js';
import { otherClientsView } from '../containers-files.js';
import type { NotSeen } from '../containers-auth.js';
import { secretAt, type SecretAt } from '../secret-at.js';
import { memoryCredentials } from '../docker-config/ledger.js';

export interface StatusLogin {
  prefix: string;
  key: string;
  kind: Kind;
  expiresAt?: string;
  /** The role ARN the token was swapped through. */
  role?: string;
  /** Where the login's secret lives. */
  secretAt: SecretAt;
  effective: boolean;
  /** Clients other than docker that would not use this login, and why (absent when none). */
  notSeenBy?: NotSeen[];
  /** The verdict's code: why docker uses the entry or not. */
  verdict: VerdictCode;
  /** Why docker would not use the entry, or how it is served; absent when all is as written. */
  reason?: string;
}

export interface StatusResult {
  configPath: string;
  logins: StatusLogin[];
  /** A credsStore that cannot answer, which every registry without a credHelpers entry meets. */
  store?: StoreTrouble;
}

/** Lists managed registries with their expiry and whether docker would use the entry. */
export async function status(env: NodeJS.ProcessEnv, now = new Date()): Promise<StatusResult> {
  const places = placesFromEnv(env);
  const { configPath, config, ledger } = await readConfigSnapshot(places);
  const dockerLogins = readDockerLogins(places.stateDir);
  const view = { config, dockerLogins, memory: memoryCredentials(ledger), ...(await observeHelpers(config, env)) };
  const others = otherClientsView(places, config, env);
  const { logins: present } = keyLogins(discoverTriples(env).triples);
  // Keys whose AWS keys are in the environment: registry-login's helper renews their tokens on `get`.
  const renewable = new Set(present.filter((l) => needsSwap(l.kind)).map((l) => l.key));
  const logins = Object.entries(ledger.entries)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, entry]): StatusLogin => {
      const base = {
        prefix: entry.prefix,
        key,
        kind: entry.kind,
        ...(entry.expiresAt ? { expiresAt: entry.expiresAt } : {}),
        ...(entry.role ? { role: entry.role } : {}),
        secretAt: secretAt({ memory: entry.secretAt === 'memory' }),
      };
      const notSeenBy = others(key);
      const choice = dockerChoice(key, view);
      const current = entry.authHashes.includes(hashEntry(choice.authsEntry));
      const facts = {
        configPath,
        entry: current ? ('current' as const) : ('changed' as const),
        expiresAt: entry.expiresAt,
        now,
        renewable: renewable.has(key),
      };
      const verdict = dockerVerdict(key, choice, facts);
      return {
        ...base,
        effective: verdict.used,
        verdict: verdict.code,
        ...(verdict.sentence ? { reason: verdict.sentence } : {}),
        ...(notSeenBy.length > 0 ? { notSeenBy } : {}),
      };
    });
  const store = storeTrouble(view, configPath);
  return { configPath, logins, ...(store ? { store } : {}) };
}
