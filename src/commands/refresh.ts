// refresh: discover → key → resolve → plan → write; stale managed entries are removed.
import { discoverTriples } from '../discover.js';
import { keyLogins } from '../registry.js';
import { resolveLogins } from '../resolve.js';
import { readConfigSnapshot, updateDockerConfig } from '../docker-config/update.js';
import { wantedEntry, type PlanWarning, type WantedEntry } from '../docker-config/plan.js';
import type { Kind, Problem, Resolved } from '../types.js';
import { placesFromEnv } from '../paths.js';
import { settleSecretsMode } from '../secrets-switch.js';
import { HELPER_NAME } from '../docker-config/docker-view.js';
import { memberObject } from '../docker/lookup.js';
import { readDockerLogins } from '../docker-config/docker-logins.js';

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
  await settleSecretsMode(places, env);
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
  let forget: string[] = [];
  const { configPath, plan } = await updateDockerConfig(
    places,
    ({ ledger, config }) => {
      kept = blind ? Object.keys(ledger.entries) : [];
      forget = places.secrets === 'memory' ? memoryGone(config, ledger.entries, write, places.stateDir) : [];
      return { write, keep: [...keep, ...kept], remove: 'stale', secrets: places.secrets, forget };
    },
    snapshot,
  );
  const warnings = [...plan.warnings];
  if (kept.length > 0) warnings.push(keptWarning(kept));
  for (const key of forget) if (plan.removed.includes(key)) warnings.push(memoryGoneWarning(key));
  return {
    configPath,
    logins: resolved.map((r) => toReport(r, plan.leftAlone)),
    problems: [...discovered.problems, ...keyed.problems],
    removed: plan.removed,
    warnings,
    secrets: resolved.flatMap((r) => [...(r.ok ? [r.credentials.secret] : []), ...(r.hidden ?? [])]),
  };
}

/**
 * Memory mode: keys whose credHelpers line is registry-login's but which the memory no longer knows (it is gone with
 * the container) and this environment does not log in: the line would only shadow docker's other credentials.
 */
function memoryGone(
  config: Record<string, unknown>,
  entries: Record<string, unknown>,
  write: WantedEntry[],
  memoryStateDir: string,
): string[] {
  const helpers = memberObject(config, 'credHelpers');
  const ours = Object.keys(helpers).filter((key) => helpers[key] === HELPER_NAME && !Object.hasOwn(entries, key));
  if (ours.length === 0) return [];
  const stored = readDockerLogins(memoryStateDir);
  return ours.filter((key) => !write.some((w) => w.key === key) && !Object.hasOwn(stored, key));
}

function memoryGoneWarning(key: string): PlanWarning {
  return {
    prefix: '*',
    key,
    message: `the login for ${key} kept its secret in memory only, and that memory is gone (the container restarted) while no *_CONTAINER_REGISTRY_* variables for ${key} are set here, so its credHelpers line was removed: docker uses its other credentials for ${key} again (a credsStore, an auths entry). Whatever registry-login had displaced there was kept in that memory too and could not be restored. To log in again, run \`registry-login refresh\` where the secrets are set.`,
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
