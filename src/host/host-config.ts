// The host's docker config and the host ledger: read them, and change them in one locked, atomic cycle.
import { ConcurrentChangeError, ConfigError, applyConfigEdits, assertEditable, dockerConfigPath, followSymlinks, loadFile, parseDockerConfig, withFileLock, writeFileAtomic, type LoadedFile } from '../docker-config/file.js';
import type { ConfigEdit } from '../docker-config/plan.js';
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
export async function readHostSnapshot(env: NodeJS.ProcessEnv, options: { editable?: boolean } = {}): Promise<HostSnapshot & { file: LoadedFile; ledgerText: string | undefined }> {
  const configPath = dockerConfigPath(env);
  const target = await followSymlinks(configPath);
  const file = await loadFile(target);
  const config = await parseDockerConfig(file.text, target);
  if (options.editable) await assertEditable(file.text, target);
  const ledgerFile = await loadFile(hostLedgerPath(env, target)).catch((error: unknown) => {
    if (error instanceof ConfigError) return { text: undefined };
    throw error;
  });
  return { configPath, target, config, ledger: parseHostLedger(ledgerFile.text, target), file, ledgerText: ledgerFile.text };
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
export async function changeHostConfig<T>(env: NodeJS.ProcessEnv, work: (snapshot: HostSnapshot) => Promise<HostChange<T>>): Promise<{ configPath: string; result: T }> {
  const target = await followSymlinks(dockerConfigPath(env));
  return withFileLock(target, async () => {
    for (let attempt = 1; ; attempt++) {
      const snapshot = await readHostSnapshot(env, { editable: true });
      const before = parseHostLedger(snapshot.ledgerText, snapshot.target);
      const change = await work(snapshot);
      try {
        if (change.edits.length > 0) {
          const { file } = snapshot;
          await writeFileAtomic(snapshot.target, await applyConfigEdits(file.text, change.edits), file, { text: file.text });
        }
        const empty = before.salt === '' && Object.keys(change.ledger.entries).length === 0;
        if (!empty && !jsonEqual(change.ledger, before)) {
          await writeFileAtomic(hostLedgerPath(env, snapshot.target), serializeHostLedger(change.ledger), undefined, { text: snapshot.ledgerText });
        }
        return { configPath: snapshot.configPath, result: change.result };
      } catch (error) {
        if (error instanceof ConcurrentChangeError && attempt < ATTEMPTS) continue;
        throw error;
      }
    }
  });
}
