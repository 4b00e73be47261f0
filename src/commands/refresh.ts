// refresh: discover → key → resolve → plan → write; stale managed entries are removed.
import { discoverTriples } from '../discover.js';
import { keyLogins } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { readConfigSnapshot, updateDockerConfig } from '../docker-config/update.js';
import type { PlanWarning, WantedEntry } from '../docker-config/plan.js';
import type { Kind, Problem, Resolved } from '../types.js';

/** One login's line in the refresh report (SPEC §8 JSON shape). */
export interface RefreshedLogin {
  prefix: string;
  key: string;
  kind: Kind;
  status: 'ok' | 'error';
  expiresAt?: string;
  error?: string;
}

export interface RefreshResult {
  configPath: string;
  logins: RefreshedLogin[];
  problems: Problem[];
  removed: string[];
  warnings: PlanWarning[];
  /** Every credential resolved, so the CLI can redact them from anything it prints. */
  secrets: string[];
}

/** Logs in every registry found in env and removes logins whose secrets are gone. */
export async function refresh(env: NodeJS.ProcessEnv, options: { force: boolean; now?: Date }): Promise<RefreshResult> {
  const discovered = discoverTriples(env);
  const keyed = keyLogins(discovered.triples);
  // Refuse an unreadable config before spending any AWS call (one that is only unsafe to edit is refused when a write is due).
  await readConfigSnapshot(env);
  const resolved = await resolveLogins(keyed.logins, { env, force: options.force, now: options.now ?? new Date() });
  const write: WantedEntry[] = [];
  const keep: string[] = [];
  for (const result of resolved) {
    if (result.ok) {
      const { credentials, login } = result;
      write.push({ key: login.key, prefix: login.prefix, kind: login.kind, username: credentials.username, secret: credentials.secret, ...(credentials.issuedAt ? { issuedAt: credentials.issuedAt } : {}), ...(credentials.expiresAt ? { expiresAt: credentials.expiresAt } : {}) });
    } else {
      keep.push(result.login.key);
    }
  }
  const { configPath, plan } = await updateDockerConfig(env, () => ({ write, keep, remove: 'stale' }));
  return {
    configPath,
    logins: resolved.map(toReport),
    problems: [...discovered.problems, ...keyed.problems],
    removed: plan.removed,
    warnings: plan.warnings,
    secrets: resolved.flatMap((r) => (r.ok ? [r.credentials.secret] : [])),
  };
}

function toReport(result: Resolved): RefreshedLogin {
  const { login } = result;
  const base = { prefix: login.prefix, key: login.key, kind: login.kind };
  if (!result.ok) return { ...base, status: 'error', error: result.error };
  return { ...base, status: 'ok', ...(result.credentials.expiresAt ? { expiresAt: result.credentials.expiresAt.toISOString() } : {}) };
}
