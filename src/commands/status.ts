// status: what registry-login manages in the docker config, and whether docker really uses it.
import { hashEntry, type LedgerEntry } from '../docker-config/ledger.js';
import { readConfigSnapshot } from '../docker-config/update.js';
import { readStoredLogins } from '../docker-config/login-store.js';
import { HELPER_NAME, dockerChoice, helperFinder, type DockerChoice } from '../docker-config/docker-view.js';
import { discoverTriples } from '../discover.js';
import { keyLogins, needsSwap } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { encodeAuth } from '../docker-config/plan.js';
import { jsonEqual } from '../json-equal.js';
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
  const stored = await readStoredLogins(env).catch(() => ({}));
  const helperOnPath = helperFinder(env);
  const { logins: present } = keyLogins(discoverTriples(env).triples);
  // Keys whose AWS keys are in the environment: registry-login's helper renews their tokens on `get`.
  const renewable = new Set(present.filter((l) => needsSwap(l.kind)).map((l) => l.key));
  // The entries refresh would write now for logins whose secret is the password itself: an entry equal to one of
  // these needs no SHA-256 to be recognised (node:crypto costs ~3 ms to load).
  const expected = new Map<string, unknown>();
  for (const result of await resolveLogins(present.filter((l) => !needsSwap(l.kind)), { env, force: false, now })) {
    if (result.ok) expected.set(result.login.key, { auth: encodeAuth(result.credentials.username, result.credentials.secret) });
  }
  const logins = Object.entries(ledger.entries)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, entry]): StatusLogin => {
      const base = { prefix: entry.prefix, key, kind: entry.kind, ...(entry.expiresAt ? { expiresAt: entry.expiresAt } : {}) };
      const choice = dockerChoice(key, { config, stored, helperOnPath });
      return { ...base, ...judgeEffective(key, entry, choice, { configPath, now, renewable: renewable.has(key), expected: expected.get(key) }) };
    });
  return { configPath, logins };
}

/** Whether docker uses the entry registry-login wrote for key, and if not (or only by luck) why, with the next step. Pure. */
export function judgeEffective(
  key: string,
  entry: LedgerEntry,
  choice: DockerChoice,
  context: { configPath: string; now: Date; renewable: boolean; /** The entry refresh would write now, when known without AWS. */ expected?: unknown },
): { effective: boolean; reason?: string } {
  const { configPath } = context;
  const helperName = `docker-credential-${choice.helper ?? ''}`;
  switch (choice.source) {
    case 'other-helper':
      return choice.helperSetBy === 'credHelpers'
        ? { effective: false, reason: `credHelpers sends ${key} to ${helperName}; remove that line from ${configPath}` }
        : { effective: false, reason: `no credHelpers entry for ${key}, so docker asks the credsStore helper ${helperName} instead; run \`registry-login refresh\`` };
    case 'docker-login':
      return { effective: true, reason: 'served from the login stored by `docker login`' };
    case 'none':
      if (choice.authsEntry === undefined) return { effective: false, reason: `the auths entry is gone (docker logout?); run \`registry-login refresh\`` };
      return { effective: false, reason: `the auths entry was changed outside registry-login and holds no credentials; run \`registry-login logout ${key}\` then \`registry-login refresh\`` };
    case 'auths':
      break;
  }
  const ours = (context.expected !== undefined && jsonEqual(choice.authsEntry, context.expected)) || entry.authHashes.includes(hashEntry(choice.authsEntry));
  if (!ours) {
    return { effective: false, reason: `the auths entry was changed outside registry-login; run \`registry-login logout ${key}\` then \`registry-login refresh\`` };
  }
  if (entry.expiresAt && Date.parse(entry.expiresAt) <= context.now.getTime()) {
    const helperServes = choice.helper === HELPER_NAME && !choice.helperMissing;
    if (helperServes && context.renewable) return { effective: true, reason: `the token expired at ${entry.expiresAt}; ${helperName} gets a new one when docker next asks` };
    return { effective: false, reason: `the token expired at ${entry.expiresAt}; run \`registry-login refresh\`` };
  }
  if (choice.helperMissing) {
    if (choice.helper === HELPER_NAME) return { effective: true, reason: `${helperName} is not on PATH, so docker reads the auths entry itself (ECR tokens are then not renewed); put it on PATH` };
    if (choice.helperSetBy === 'credsStore') return { effective: true, reason: `no credHelpers entry for ${key}: docker uses the auths entry only while the credsStore helper ${helperName} is not on PATH; run \`registry-login refresh\`` };
    return { effective: true, reason: `credHelpers sends ${key} to ${helperName}, which is not on PATH, so docker falls back to the auths entry; remove that line from ${configPath}` };
  }
  return { effective: true };
}
