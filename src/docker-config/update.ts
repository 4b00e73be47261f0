// The container's docker config and ledger: read them, and change them through the one locked cycle.
import { jsonEqual } from '../json-equal.js';
import { existsSync } from 'node:fs';
import type { Places } from '../paths.js';
import { lockPath } from '../fs/lock.js';
import { ledgerPath, parseLedger, type Ledger } from './ledger.js';
import { lockedCycle, readSnapshot, type LedgerFile, type Snapshot } from './locked-cycle.js';
import { planConfigChange, type Plan, type PlanInput } from './plan.js';

export type ConfigSnapshot = Snapshot<Ledger>;

const LEDGER: LedgerFile<Ledger> = { path: ledgerPath, parse: parseLedger };

/** Reads the docker config and its ledger (see readSnapshot). */
export function readConfigSnapshot(places: Places, options: { editable?: boolean } = {}): Promise<ConfigSnapshot> {
  return readSnapshot(places, LEDGER, options);
}

/**
 * Plans with the caller's input and, when anything changes, re-plans on a fresh read and saves ledger and config under
 * the config's lock.
 */
export async function updateDockerConfig(
  places: Places,
  makeInput: (snapshot: ConfigSnapshot) => Omit<PlanInput, 'config' | 'ledger'>,
  /** An editable snapshot the caller read a moment ago (saves reading the files again). */
  given?: ConfigSnapshot,
  /** How long to wait for a lock another process holds (default: withFileLock's) before LockBusyError. */
  { lockWaitMs }: { lockWaitMs?: number } = {},
): Promise<{ configPath: string; plan: Plan }> {
  // Most refreshes change nothing: a consistent unlocked read (writes are renames) settles that without the lock,
  // unless a lock directory is there (another writer, or a dead one whose lock the locked path reclaims and clears).
  const snapshot = given ?? (await readConfigSnapshot(places, { editable: true }));
  const dryRun = planConfigChange({ ...makeInput(snapshot), config: snapshot.config, ledger: snapshot.ledger });
  const nothingToDo =
    dryRun.edits.length === 0 &&
    jsonEqual(dryRun.ledgerAfter, snapshot.ledger) &&
    jsonEqual(dryRun.ledgerBefore, snapshot.ledger);
  if (nothingToDo && !existsSync(lockPath(snapshot.target))) return { configPath: snapshot.configPath, plan: dryRun };
  const { configPath, result } = await lockedCycle(
    places,
    LEDGER,
    async (fresh) => {
      const plan = planConfigChange({ ...makeInput(fresh), config: fresh.config, ledger: fresh.ledger });
      return { ledgerBefore: plan.ledgerBefore, edits: plan.edits, ledger: plan.ledgerAfter, result: plan };
    },
    { lockWaitMs },
  );
  return { configPath, plan: result };
}
