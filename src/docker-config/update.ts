// One locked read-plan-write cycle over the docker config and its ledger.
import { jsonEqual } from '../json-equal.js';
import { existsSync } from 'node:fs';
import { applyConfigEdits, assertEditable, parseDockerConfig } from './file.js';
import type { Places } from '../paths.js';
import { ConcurrentChangeError } from '../fs/errors.js';
import { followSymlinks } from '../fs/resolve-path.js';
import { loadFile } from '../fs/read-file.js';
import { lockPath, withFileLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { ledgerPath, parseLedger, readLedgerText, type Ledger } from './ledger.js';
import { planConfigChange, type Plan, type PlanInput } from './plan.js';

/** The docker config and ledger as they are now, read without the lock (writes are atomic renames). */
export interface ConfigSnapshot {
  /** The path docker reads (may be a symlink). */
  configPath: string;
  /** The file really written. */
  target: string;
  config: Record<string, unknown>;
  ledger: Ledger;
}

/**
 * Reads the docker config and its ledger; throws ConfigError when the config cannot be read, or (editable) when
 * commands that edit it must refuse it. Readers (status, check, the helper's get) read duplicate keys as docker does.
 */
export async function readConfigSnapshot(
  places: Places,
  options: { editable?: boolean } = {},
): Promise<ConfigSnapshot> {
  const { configPath } = places;
  const target = followSymlinks(configPath);
  const file = loadFile(target);
  const config = await parseDockerConfig(file.text, target);
  if (options.editable) assertEditable(file.text, target);
  const ledger = parseLedger(readLedgerText(places.stateDir, ledgerPath(places.stateDir, target)), target);
  return { configPath, target, config, ledger };
}

// How often a locked cycle starts over when another program saved the config meanwhile.
const CONCURRENT_CHANGE_ATTEMPTS = 5;

/**
 * Plans with the caller's input and, when anything changes, re-reads and saves ledger and config atomically under the
 * config's lock.
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
  const { configPath, target } = snapshot;
  const cycle = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const file = loadFile(target);
        const config = await parseDockerConfig(file.text, target);
        assertEditable(file.text, target);
        const where = ledgerPath(places.stateDir, target);
        const ledgerText = readLedgerText(places.stateDir, where);
        const ledger = parseLedger(ledgerText, target);
        const plan = planConfigChange({ ...makeInput({ configPath, target, config, ledger }), config, ledger });
        // Ledger first: a crash after it leaves entries the next run still recognises as its own.
        // Each write checks that the file still holds what was read: our lock does not stop docker login or an editor
        // (nor, past its staleness, a registry-login that waited for a stalled one).
        let ledgerNow = ledgerText;
        if (!jsonEqual(plan.ledgerBefore, ledger)) {
          const text = serializeLedger(plan.ledgerBefore);
          writeFileAtomic(where, text, undefined, { text: ledgerNow });
          ledgerNow = text;
        }
        if (plan.edits.length > 0)
          writeFileAtomic(target, await applyConfigEdits(file.text, plan.edits), file, { text: file.text });
        if (!jsonEqual(plan.ledgerAfter, plan.ledgerBefore))
          writeFileAtomic(where, serializeLedger(plan.ledgerAfter), undefined, { text: ledgerNow });
        return { configPath, plan };
      } catch (error) {
        // Start over from what the other program saved (a ledger already written only knows more, never less).
        if (error instanceof ConcurrentChangeError && attempt < CONCURRENT_CHANGE_ATTEMPTS) continue;
        throw error;
      }
    }
  };
  return withFileLock(target, cycle, { waitMs: lockWaitMs });
}

function serializeLedger(ledger: Ledger): string {
  return `${JSON.stringify(ledger, null, 2)}\n`;
}
