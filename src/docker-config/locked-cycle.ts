// The one locked read-plan-write cycle over a docker config and the ledger registry-login keeps of it, for the
// container's ledger and the host's alike.
import type { Places } from '../paths.js';
import { ConcurrentChangeError, ConfigError, UntrustedFileError } from '../fs/errors.js';
import { followSymlinks } from '../fs/resolve-path.js';
import { loadFile, loadPrivateFile, tightenPrivateDirectory, type LoadedFile } from '../fs/read-file.js';
import { withFileLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { jsonEqual } from '../json-equal.js';
import { applyConfigEdits, assertEditable, parseDockerConfig } from './file.js';
import type { ConfigEdit } from './plan.js';

/** One kind of ledger: where it lives for a config file (by its real path), and how its text is read. */
export interface LedgerFile<L> {
  path: (stateDir: string, target: string) => string;
  parse: (text: string | undefined, target: string) => L;
}

/** A docker config and its ledger as read now. */
export interface Snapshot<L> {
  /** The path docker reads (may be a symlink). */
  configPath: string;
  /** The file really written. */
  target: string;
  file: LoadedFile;
  config: Record<string, unknown>;
  ledger: L;
  ledgerText: string | undefined;
}

/**
 * Reads the docker config and its ledger, without the lock (writes are atomic renames); throws ConfigError when the
 * config cannot be read, or (editable) when commands that edit it must refuse it. Readers (status, check, the helper's
 * get) read duplicate keys as docker does.
 */
export async function readSnapshot<L>(
  places: Places,
  ledgerFile: LedgerFile<L>,
  options: { editable?: boolean } = {},
): Promise<Snapshot<L>> {
  const { configPath, stateDir } = places;
  const target = followSymlinks(configPath);
  const file = loadFile(target);
  const config = await parseDockerConfig(file.text, target);
  if (options.editable) assertEditable(file.text, target);
  const ledgerText = readLedgerText(stateDir, ledgerFile.path(stateDir, target));
  return { configPath, target, file, config, ledger: ledgerFile.parse(ledgerText, target), ledgerText };
}

/**
 * A ledger's text, through the one trust check: a ledger decides what is restored or erased, so one another user owns
 * or may write is refused; an unreadable one counts as absent (the config stays the source of truth).
 */
export function readLedgerText(stateDir: string, path: string): string | undefined {
  tightenPrivateDirectory(stateDir);
  try {
    return loadPrivateFile(path).text;
  } catch (error) {
    if (!(error instanceof ConfigError) || error instanceof UntrustedFileError) throw error;
    return undefined;
  }
}

/** What one pass of the cycle decided. */
export interface CycleChange<L, T> {
  /** Saved before the config: it must already name every entry the config may end up holding. */
  ledgerBefore?: L;
  edits: ConfigEdit[];
  /** Saved once the config is: only now may it forget what the config no longer holds. */
  ledger: L;
  result: T;
}

// How often the cycle starts over when a program that does not take our lock saved the config meanwhile.
const ATTEMPTS = 5;

/**
 * Runs work under the config's lock on a fresh read, then saves the ledger before (when given and changed), the config
 * edits (keeping every other byte) and the ledger (when changed), each atomically. Each save checks that the file
 * still holds what was read: our lock does not stop docker login or an editor (nor, past its staleness, a
 * registry-login that waited for a stalled one); such a change starts the cycle over, so work must be safe to repeat.
 */
export async function lockedCycle<L, T>(
  places: Places,
  ledgerFile: LedgerFile<L>,
  work: (snapshot: Snapshot<L>) => Promise<CycleChange<L, T>>,
  /** How long to wait for a lock another process holds (default: withFileLock's) before LockBusyError. */
  { lockWaitMs }: { lockWaitMs?: number } = {},
): Promise<{ configPath: string; result: T }> {
  const cycle = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const snapshot = await readSnapshot(places, ledgerFile, { editable: true });
        const { file, target, ledgerText } = snapshot;
        const change = await work(snapshot);
        const where = ledgerFile.path(places.stateDir, target);
        // Compared with a fresh parse: work may have changed the snapshot's ledger in place.
        let saved = { ledger: ledgerFile.parse(ledgerText, target), text: ledgerText };
        const save = (ledger: L) => {
          if (jsonEqual(ledger, saved.ledger)) return;
          const text = `${JSON.stringify(ledger, null, 2)}\n`;
          writeFileAtomic(where, text, undefined, { text: saved.text });
          saved = { ledger, text };
        };
        if (change.ledgerBefore) save(change.ledgerBefore);
        if (change.edits.length > 0)
          writeFileAtomic(target, await applyConfigEdits(file.text, change.edits), file, { text: file.text });
        save(change.ledger);
        return { configPath: snapshot.configPath, result: change.result };
      } catch (error) {
        // Start over from what the other program saved (a ledger already saved only knows more, never less).
        if (error instanceof ConcurrentChangeError && attempt < ATTEMPTS) continue;
        throw error;
      }
    }
  };
  return withFileLock(followSymlinks(places.configPath), cycle, { waitMs: lockWaitMs });
}
