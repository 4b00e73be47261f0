// The host's docker config and the host ledger: read them, and change them through the one locked cycle.
import type { Places } from '../paths.js';
import {
  lockedCycle,
  readSnapshot,
  type CycleChange,
  type LedgerFile,
  type Snapshot,
} from '../docker-config/locked-cycle.js';
import { hostLedgerPath, parseHostLedger, type HostLedger } from './ledger.js';

export type HostSnapshot = Snapshot<HostLedger>;

const HOST_LEDGER: LedgerFile<HostLedger> = { path: hostLedgerPath, parse: parseHostLedger };

/** Reads the config (refusing one registry-login must not edit, with editable) and its host ledger. */
export function readHostSnapshot(places: Places, options: { editable?: boolean } = {}): Promise<HostSnapshot> {
  return readSnapshot(places, HOST_LEDGER, options);
}

/**
 * Runs work on a fresh read under the config's lock, then saves its config edits and the ledger it returns. work must
 * be safe to repeat (a store already holding exactly the login makes no second store call).
 */
export function changeHostConfig<T>(
  places: Places,
  work: (snapshot: HostSnapshot) => Promise<CycleChange<HostLedger, T>>,
): Promise<{ configPath: string; result: T }> {
  return lockedCycle(places, HOST_LEDGER, work);
}
