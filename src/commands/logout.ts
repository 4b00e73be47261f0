// logout: remove managed entries now, restoring what they displaced.
import { normalizeRegistryKey } from '../registry.js';
import { updateDockerConfig } from '../docker-config/update.js';
import type { PlanWarning } from '../docker-config/plan.js';
import { placesFromEnv } from '../paths.js';
import { settleSecretsMode } from '../secrets-switch.js';

export interface LogoutResult {
  configPath: string;
  removed: string[];
  /** Named keys registry-login does not manage. */
  unknown: string[];
  warnings: PlanWarning[];
}

/** Removes the named managed keys (every managed key when none is named). */
export async function logout(env: NodeJS.ProcessEnv, names: string[]): Promise<LogoutResult> {
  const wanted = names.map((name) => {
    const keyed = normalizeRegistryKey(name);
    return keyed.ok ? keyed.key : name;
  });
  let unknown: string[] = [];
  const places = placesFromEnv(env);
  await settleSecretsMode(places, env);
  const { configPath, plan } = await updateDockerConfig(places, ({ ledger }) => {
    const managed = Object.keys(ledger.entries);
    unknown = wanted.filter((key) => !managed.includes(key));
    return {
      write: [],
      keep: [],
      remove: names.length === 0 ? managed : wanted.filter((key) => managed.includes(key)),
      secrets: places.secrets,
    };
  });
  return { configPath, removed: plan.removed, unknown, warnings: plan.warnings };
}
