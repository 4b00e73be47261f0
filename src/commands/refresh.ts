// refresh: discover → key → resolve → plan → write; stale managed entries are removed.
import { discoverTriples } from '../discover.js';
import { keyLogins } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { readConfigSnapshot, updateDockerConfig } from '../docker-config/update.js';
import { wantedEntry, type PlanWarning, type WantedEntry } from '../docker-config/plan.js';
import type { Kind, Problem, Resolved } from '../types.js';
import { placesFromEnv } from '../paths.js';

/** One login's line in the refresh report (the JSON shape in README, Commands). */
export interface RefreshedLogin {
  prefix: string;
  key: string;
  kind: Kind;
  /** 'kept': the user changed the entry since registry-login wrote it, so it was left alone (see reason). */
  status: 'ok' | 'error' | 'kept';
  expiresAt?: string;
  /** The role ARN the token is swapped through (not a secret). */
  role?: string;
  error?: string;
  /** Why a login was kept. */
  reason?: string;
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
export async function refresh(
  env: NodeJS.ProcessEnv,
  options: { force: boolean; hook?: boolean; now?: Date },
): Promise<RefreshResult> {
  const discovered = discoverTriples(env);
  const keyed = keyLogins(discovered.triples);
  // Refuse an unusable config before spending any AWS call.
  const places = placesFromEnv(env);
  const snapshot = await readConfigSnapshot(places, { editable: true });
  const resolved = await resolveLogins(keyed.logins, {
    env,
    cacheDir: places.cacheDir,
    force: options.force,
    now: options.now ?? new Date(),
  });
  const write: WantedEntry[] = [];
  const keep: string[] = [];
  for (const result of resolved) {
    if (result.ok) {
      write.push(wantedEntry(result.login, result.credentials));
    } else {
      keep.push(result.login.key);
    }
  }
  // A shell that sees no registry variable at all is, far more often than not, one the secrets never reach
  // (the devcontainer CLI's --secrets-file feeds only lifecycle hooks): it keeps the hooks' logins and says so.
  // A lifecycle hook (--hook) sees the container's real secrets, so there an empty environment does log out.
  const blind = !options.hook && discovered.triples.length === 0 && discovered.problems.length === 0;
  let kept: string[] = [];
  const { configPath, plan } = await updateDockerConfig(
    places,
    ({ ledger }) => {
      kept = blind ? Object.keys(ledger.entries) : [];
      return { write, keep: [...keep, ...kept], remove: 'stale' };
    },
    snapshot,
  );
  const warnings = [...plan.warnings];
  if (kept.length > 0) warnings.push(keptWarning(kept));
  return {
    configPath,
    logins: resolved.map((r) => toReport(r, plan.leftAlone)),
    problems: [...discovered.problems, ...keyed.problems],
    removed: plan.removed,
    warnings,
    secrets: resolved.flatMap((r) => [...(r.ok ? [r.credentials.secret] : []), ...(r.hidden ?? [])]),
  };
}

/** The note for logins kept because this environment shows no registry variable at all. */
function keptWarning(kept: string[]): PlanWarning {
  const logins = kept.length === 1 ? 'login' : `${kept.length} logins`;
  const were = kept.length === 1 ? 'was' : 'were';
  return {
    prefix: '*',
    key: kept.join(', '),
    message: `no *_CONTAINER_REGISTRY_* variables are set in this environment, so the ${logins} made earlier (${kept.join(', ')}) ${were} kept: secrets given only to lifecycle hooks do not reach terminals. To log out, run \`registry-login logout\`; to refresh, restart the container or run \`registry-login refresh\` where the secrets are set.`,
  };
}

function toReport(result: Resolved, leftAlone: PlanWarning[]): RefreshedLogin {
  const { login } = result;
  const base = {
    prefix: login.prefix,
    key: login.key,
    kind: login.kind,
    ...(login.roleArn ? { role: login.roleArn } : {}),
  };
  if (!result.ok) return { ...base, status: 'error', error: result.error };
  const kept = leftAlone.find((w) => w.key === login.key);
  if (kept) return { ...base, status: 'kept', reason: kept.message };
  return {
    ...base,
    status: 'ok',
    ...(result.credentials.expiresAt ? { expiresAt: result.credentials.expiresAt.toISOString() } : {}),
  };
}
