// The host's docker config and the host ledger: read them, and change them in one locked, atomic cycle.
import { applyConfigEdits, assertEditable, parseDockerConfig } from '../docker-config/file.js';
import type { Places } from '../paths.js';
import { ConcurrentChangeError } from '../fs/errors.js';
import { followSymlinks } from '../fs/resolve-path.js';
import { loadFile, type LoadedFile } from '../fs/read-file.js';
import { withFileLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { ConfigEdit } from '../docker-config/plan.js';
import { readLedgerText } from '../docker-config/ledger.js';
import { jsonEqual } from '../json-equal.js';
import { hostLedgerPath, parseHostLedger, serializeHostLedger, type HostLedger } from './ledger.js';

/** The host config and ledger as read now. */
export interface HostSnapshot {
  /** The path docker reads (may be a symlink). */
  configPath: string;
  /** The file really written. */
  target: string;
  config: Record<string, unknown>;
  ledger: HostLedger;
}

/** Reads the config (refusing one registry-login must not edit, with editable) and its host ledger. */
export async function readHostSnapshot(
  places: Places,
  options: { editable?: boolean } = {},
): Promise<HostSnapshot & { file: LoadedFile; ledgerText: string | undefined }> {
  const { configPath } = places;
  const target = followSymlinks(configPath);
  const file = loadFile(target);
  const config = await parseDockerConfig(file.text, target);
  if (options.editable) assertEditable(file.text, target);
  const ledgerText = readLedgerText(places.stateDir, hostLedgerPath(places.stateDir, target));
  return { configPath, target, config, ledger: parseHostLedger(ledgerText, target), file, ledgerText };
}

/** What a locked cycle decided: config edits to save, and the ledger to keep. */
export interface HostChange<T> {
  edits: ConfigEdit[];
  ledger: HostLedger;
  result: T;
}

const ATTEMPTS = 5;

/**
 * Runs work under the config's lock on a fresh read, then saves its config edits (keeping every other byte) and the
 * ledger atomically. Another program that saves the config meanwhile makes the cycle start over: work must be safe to
 * repeat (a store already holding exactly the login makes no second store call).
 */
export async function changeHostConfig<T>(
  places: Places,
  work: (snapshot: HostSnapshot) => Promise<HostChange<T>>,
): Promise<{ configPath: string; result: T }> {
  const target = followSymlinks(places.configPath);
  return withFileLock(target, async () => {
    for (let attempt = 1; ; attempt++) {
      const snapshot = await readHostSnapshot(places, { editable: true });
      const before = parseHostLedger(snapshot.ledgerText, snapshot.target);
      const change = await work(snapshot);
      try {
        if (change.edits.length > 0) {
          const { file } = snapshot;
          writeFileAtomic(snapshot.target, await applyConfigEdits(file.text, change.edits), file, { text: file.text });
        }
        if (!jsonEqual(change.ledger, before)) {
          writeFileAtomic(
            hostLedgerPath(places.stateDir, snapshot.target),
            serializeHostLedger(change.ledger),
            undefined,
            { text: snapshot.ledgerText },
          );
        }
        return { configPath: snapshot.configPath, result: change.result };
      } catch (error) {
        if (error instanceof ConcurrentChangeError && attempt < ATTEMPTS) continue;
        throw error;
      }
    }
  });
}
