// Old config + wanted logins + ledger → the edits to make and the ledger to keep. Pure.
import { jsonEqual } from '../json-equal.js';
import { hashEntry, type Ledger, type LedgerEntry } from './ledger.js';
import { HELPER_NAME } from './docker-view.js';
import { dictionary } from '../dictionary.js';
import { encodeAuth } from '../docker/auth.js';
import { memberObject } from '../docker/lookup.js';
import type { Credentials, Kind, Login } from '../types.js';

/** A login to write: the credentials docker should use for a key. */
export interface WantedEntry {
  key: string;
  prefix: string;
  kind: Kind;
  username: string;
  secret: string;
  issuedAt?: Date;
  expiresAt?: Date;
  /** The role the token came through, recorded for status. */
  role?: string;
}

/** The entry to write for a login resolved to these credentials. */
export function wantedEntry(login: Login, credentials: Credentials): WantedEntry {
  return {
    key: login.key,
    prefix: login.prefix,
    kind: login.kind,
    username: credentials.username,
    secret: credentials.secret,
    ...(credentials.issuedAt ? { issuedAt: credentials.issuedAt } : {}),
    ...(credentials.expiresAt ? { expiresAt: credentials.expiresAt } : {}),
    ...(login.roleArn ? { role: login.roleArn } : {}),
  };
}

/** One change to the config: set (or, with value undefined, delete) `config[path[0]][path[1]]`, or a top-level key. */
export interface ConfigEdit {
  path: [string] | [string, string];
  value: unknown;
}

/** A note for the user about an entry registry-login chose not to touch. */
export interface PlanWarning {
  prefix: string;
  key: string;
  message: string;
}

export interface PlanInput {
  config: Record<string, unknown>;
  ledger: Ledger;
  /** Logins to write. */
  write: WantedEntry[];
  /** Keys whose secrets still exist but could not be resolved now: their entries stay as they are. */
  keep: string[];
  /** 'stale': remove every managed key not written or kept; a list: remove exactly those (logout). */
  remove: 'stale' | string[];
}

export interface Plan {
  edits: ConfigEdit[];
  /** The ledger to save before the config is written: it also knows every entry being removed. */
  ledgerBefore: Ledger;
  /** The ledger once the config is written. */
  ledgerAfter: Ledger;
  written: string[];
  removed: string[];
  /** Logins to write whose entries the user changed since registry-login wrote them: left alone (see warnings). */
  leftAlone: PlanWarning[];
  warnings: PlanWarning[];
}

const CONTAINERS = ['auths', 'credHelpers'] as const;
// How many fingerprints of one key the ledger saved before a config write keeps (a bound while writes keep failing).
const LEDGER_BEFORE_HASHES = 4;

// An older import path of src/docker/auth.ts, kept until its importers move there.
export { encodeAuth } from '../docker/auth.js';

/**
 * Plans the config change: writes wanted logins, removes stale or named ones, restores displaced entries, leaves
 * user-changed ones alone.
 */
export function planConfigChange(input: PlanInput): Plan {
  const { config, ledger } = input;
  const view = {
    auths: memberObject(config, 'auths'),
    credHelpers: memberObject(config, 'credHelpers'),
  };
  const edits: ConfigEdit[] = [];
  const warnings: PlanWarning[] = [];
  const entries = dictionary(ledger.entries);
  // Until the config is written, the ledger must still recognise what the config holds now: the ledger saved
  // before the write forgets no fingerprint; only the one saved after a successful write does.
  const hashesBefore = new Map<string, string[]>();
  const created = new Set(ledger.created);
  const written: string[] = [];
  const removed: string[] = [];
  const leftAlone: PlanWarning[] = [];
  // A ledger that knows nothing (first run, or lost) meeting credHelpers that hold only registry-login's own lines:
  // registry-login made that object, and takes it away again with its last line (docker omits an empty one too).
  const forgotten = Object.keys(ledger.entries).length === 0;
  const onlyOurHelpers =
    Object.keys(view.credHelpers).length > 0 && Object.values(view.credHelpers).every((h) => h === HELPER_NAME);

  const set = (container: 'auths' | 'credHelpers', key: string, value: unknown): void => {
    if (jsonEqual(view[container][key], value)) return;
    if (!Object.hasOwn(config, container) && !created.has(container)) created.add(container);
    if (value === undefined) delete view[container][key];
    else view[container][key] = value;
    edits.push({ path: [container, key], value });
  };

  for (const want of input.write) {
    const previous = entries[want.key];
    const auth = { auth: encodeAuth(want.username, want.secret) };
    const current = view.auths[want.key];
    const currentHelper = view.credHelpers[want.key];
    const entry: LedgerEntry = previous
      ? { ...previous, prefix: want.prefix, kind: want.kind }
      : { prefix: want.prefix, kind: want.kind, authHashes: [] };
    if (!previous && currentHelper === HELPER_NAME) {
      // registry-login's own entry whose ledger was lost (or kept under another XDG_STATE_HOME): never the user's,
      // so nothing is displaced (removing it later leaves no stale credential behind) and what it holds is ours.
      if (current !== undefined) entry.authHashes = [hashEntry(current)];
      if (forgotten && onlyOurHelpers) created.add('credHelpers');
    } else if (!previous) {
      const displaced: LedgerEntry['displaced'] = {};
      if (current !== undefined) displaced.auths = current;
      if (currentHelper !== undefined) displaced.credHelpers = currentHelper;
      if (Object.keys(displaced).length > 0) entry.displaced = displaced;
    } else if (
      current !== undefined &&
      !jsonEqual(current, auth) &&
      !isOurs(previous, current) &&
      !jsonEqual(current, previous.displaced?.auths)
    ) {
      // (An entry equal to the displaced one means a crash came between the ledger and the config write.)
      const warning = {
        prefix: want.prefix,
        key: want.key,
        message: `${want.prefix}: the docker config entry for ${want.key} was changed outside registry-login (for example by docker login), so it was left alone. To let registry-login manage it again, run \`registry-login logout ${want.key}\` and then \`registry-login refresh\`.`,
      };
      warnings.push(warning);
      leftAlone.push(warning);
      entries[want.key] = entry;
      continue;
    }
    // An entry that already holds exactly these credentials needs no new fingerprint (and no hashing).
    if (!(previous && jsonEqual(current, auth) && entry.authHashes.length > 0)) {
      const hash = hashEntry(auth);
      const older = entry.authHashes.filter((h) => h !== hash);
      // Before the write: the new fingerprint, the one of what the config holds now (however many writes failed
      // since it was written), and the newest others; after it, the new one and its predecessor.
      const now = current === undefined ? undefined : hashEntry(current);
      const held = now !== undefined && older.includes(now) ? [now] : [];
      hashesBefore.set(want.key, [...new Set([hash, ...held, ...older])].slice(0, LEDGER_BEFORE_HASHES));
      entry.authHashes = [hash, ...older].slice(0, 2);
    }
    if (want.issuedAt) entry.issuedAt = want.issuedAt.toISOString();
    else delete entry.issuedAt;
    if (want.expiresAt) entry.expiresAt = want.expiresAt.toISOString();
    else delete entry.expiresAt;
    if (want.role) entry.role = want.role;
    else delete entry.role;
    entries[want.key] = entry;
    set('auths', want.key, auth);
    if (previous && currentHelper !== undefined && currentHelper !== HELPER_NAME) {
      warnings.push({
        prefix: want.prefix,
        key: want.key,
        message: `${want.prefix}: credHelpers["${want.key}"] was changed to "${String(currentHelper)}" outside registry-login, so docker asks that helper instead; remove that line from the docker config to use this login.`,
      });
    } else {
      set('credHelpers', want.key, HELPER_NAME);
    }
    written.push(want.key);
  }

  const keepKeys = new Set([...input.keep, ...written, ...input.write.map((w) => w.key)]);
  const toRemove =
    input.remove === 'stale'
      ? Object.keys(entries).filter((k) => !keepKeys.has(k))
      : input.remove.filter((k) => k in entries);
  for (const key of toRemove) {
    const entry = entries[key]!;
    const current = view.auths[key];
    delete entries[key];
    if (current !== undefined && !isOurs(entry, current) && !jsonEqual(current, entry.displaced?.auths)) {
      // The user's own login (docker login keeps an empty auths entry and the secret with our helper): it stays
      // whole, credHelpers line included, and is no longer managed.
      warnings.push({
        prefix: entry.prefix,
        key,
        message: `${entry.prefix}: the docker config entry for ${key} was changed outside registry-login, so it was kept although its secrets are gone; remove it with \`docker logout ${key}\` if it is no longer wanted.`,
      });
      continue;
    }
    set('auths', key, entry.displaced?.auths);
    if (view.credHelpers[key] === HELPER_NAME) set('credHelpers', key, entry.displaced?.credHelpers);
    removed.push(key);
  }

  // A container registry-login created and emptied again goes too, so logout leaves the file as it found it.
  for (const container of CONTAINERS) {
    if (
      created.has(container) &&
      container in config &&
      Object.keys(view[container]).length === 0 &&
      edits.some((e) => e.path[0] === container)
    ) {
      edits.push({ path: [container], value: undefined });
      created.delete(container);
    }
    if (created.has(container) && Object.keys(entries).length === 0 && !edits.some((e) => e.path[0] === container))
      created.delete(container);
  }

  const ledgerAfter: Ledger = { version: 1, configPath: ledger.configPath, entries, created: [...created] };
  const entriesBefore = dictionary(ledger.entries, entries);
  for (const [key, authHashes] of hashesBefore) entriesBefore[key] = { ...entriesBefore[key]!, authHashes };
  const ledgerBefore: Ledger = {
    ...ledgerAfter,
    entries: entriesBefore,
    created: [...new Set([...ledger.created, ...created])],
  };
  return { edits, ledgerBefore, ledgerAfter, written, removed, leftAlone, warnings };
}

function isOurs(entry: LedgerEntry, current: unknown): boolean {
  return entry.authHashes.includes(hashEntry(current));
}
