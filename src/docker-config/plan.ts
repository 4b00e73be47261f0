// Old config + wanted logins + ledger → the edits to make and the ledger to keep. Pure.
import { jsonEqual } from '../json-equal.js';
import { hashEntry, type Ledger, type LedgerEntry } from './ledger.js';
import { HELPER_NAME } from './docker-view.js';
import { dictionary } from '../dictionary.js';
import { encodeAuth } from '../docker/auth.js';
import { memberObject } from '../docker/lookup.js';
import type { Credentials, Kind, Login } from '../types.js';
import type { SecretsMode } from '../paths.js';

/** A login to write: the credentials docker should use for a key. */
export interface WantedEntry extends Credentials {
  key: string;
  prefix: string;
  kind: Kind;
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
  /** 'memory': only credHelpers lines are written, the credentials go into the ledger (kept in memory then). */
  secrets?: SecretsMode;
  /**
   * Keys whose credHelpers line is registry-login's but whose memory is gone and whose secrets are not here: the line
   * is removed so that it does not shadow what docker would use without it.
   */
  forget?: string[];
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

type Container = 'auths' | 'credHelpers';
const CONTAINERS: Container[] = ['auths', 'credHelpers'];
// How many fingerprints of one key the ledger saved before a config write keeps (a bound while writes keep failing).
const LEDGER_BEFORE_HASHES = 4;

/** The config's auths and credHelpers as the plan changes them, its edits, and the containers registry-login made. */
interface Draft {
  config: Record<string, unknown>;
  view: Record<Container, Record<string, unknown>>;
  edits: ConfigEdit[];
  created: Set<string>;
}

/**
 * Plans the config change: writes wanted logins, removes stale or named ones, restores displaced entries, leaves
 * user-changed ones alone.
 */
export function planConfigChange(input: PlanInput): Plan {
  const { config, ledger } = input;
  const view = { auths: memberObject(config, 'auths'), credHelpers: memberObject(config, 'credHelpers') };
  const draft: Draft = { config, view, edits: [], created: new Set(ledger.created) };
  const entries = dictionary(ledger.entries);
  const hashesBefore = new Map<string, string[]>();
  const written: string[] = [];
  const removed: string[] = [];
  const leftAlone: PlanWarning[] = [];
  const warnings: PlanWarning[] = [];
  // A ledger that knows nothing (first run, or lost) meeting credHelpers that hold only registry-login's own lines:
  // registry-login made that object, and takes it away again with its last line (docker omits an empty one too).
  const ownHelpersWithoutLedger =
    Object.keys(ledger.entries).length === 0 &&
    Object.keys(view.credHelpers).length > 0 &&
    Object.values(view.credHelpers).every((h) => h === HELPER_NAME);

  for (const want of input.write) {
    if (input.secrets === 'memory') {
      if (writeInMemory(draft, want, entries, warnings, leftAlone)) written.push(want.key);
      continue;
    }
    const auth = { auth: encodeAuth(want.username, want.secret) };
    const previous = entries[want.key];
    const current = view.auths[want.key];
    const helper = view.credHelpers[want.key];
    if (previous && previous.secretAt !== 'memory' && !jsonEqual(current, auth) && changedByUser(previous, current)) {
      entries[want.key] = { ...previous, prefix: want.prefix, kind: want.kind };
      const warning = leftAloneWarning(want.prefix, want.key);
      warnings.push(warning);
      leftAlone.push(warning);
      continue;
    }
    if (previous?.secretAt === 'memory') {
      // Back from memory mode: an auths entry there now is the user's, displaced like any other.
      const { memory: _memory, secretAt: _at, ...rest } = previous;
      entries[want.key] = {
        ...rest,
        ...(current !== undefined && rest.displaced?.auths === undefined
          ? { displaced: { ...rest.displaced, auths: current } }
          : {}),
      };
    }
    const { entry, before } = entryToWrite(want, auth, entries[want.key], current, helper);
    entries[want.key] = entry;
    if (before) hashesBefore.set(want.key, before);
    if (!previous && helper === HELPER_NAME && ownHelpersWithoutLedger) draft.created.add('credHelpers');
    set(draft, 'auths', want.key, auth);
    if (previous && helper !== undefined && helper !== HELPER_NAME)
      warnings.push(otherHelperWarning(want.prefix, want.key, helper));
    else set(draft, 'credHelpers', want.key, HELPER_NAME);
    written.push(want.key);
  }

  for (const key of keysToRemove(input, entries)) {
    const entry = entries[key]!;
    delete entries[key];
    if (entry.secretAt !== 'memory' && changedByUser(entry, view.auths[key])) {
      // The user's own login (docker login keeps an empty auths entry and the secret with our helper): it stays
      // whole, credHelpers line included, and is no longer managed.
      warnings.push(keptWarning(entry.prefix, key));
      continue;
    }
    // A memory-mode entry never wrote auths: what is there is the user's, unless a displaced one is to come back.
    if (entry.secretAt !== 'memory' || entry.displaced?.auths !== undefined)
      set(draft, 'auths', key, entry.displaced?.auths);
    if (view.credHelpers[key] === HELPER_NAME) set(draft, 'credHelpers', key, entry.displaced?.credHelpers);
    removed.push(key);
  }

  for (const key of input.forget ?? []) {
    if (Object.hasOwn(entries, key) || view.credHelpers[key] !== HELPER_NAME) continue;
    if (ownHelpersWithoutLedger) draft.created.add('credHelpers');
    set(draft, 'credHelpers', key, undefined);
    removed.push(key);
  }

  dropEmptiedContainers(draft, Object.keys(entries).length === 0);
  const ledgerAfter: Ledger = { version: 1, configPath: ledger.configPath, entries, created: [...draft.created] };
  const ledgerBefore = ledgerBeforeWrite(ledger, ledgerAfter, hashesBefore);
  return { edits: draft.edits, ledgerBefore, ledgerAfter, written, removed, leftAlone, warnings };
}

/**
 * Memory mode: credHelpers[key] only, the credentials in the ledger entry; an auths entry registry-login wrote earlier
 * goes, a user's own stays byte for byte (its displaced copy, if registry-login had replaced one, stays in the ledger).
 * False when the user sent the key to another helper (a warning says so).
 */
function writeInMemory(
  draft: Draft,
  want: WantedEntry,
  entries: Record<string, LedgerEntry>,
  warnings: PlanWarning[],
  leftAlone: PlanWarning[],
): boolean {
  const previous = entries[want.key];
  const current = draft.view.auths[want.key];
  const helper = draft.view.credHelpers[want.key];
  if (previous && previous.secretAt !== 'memory' && changedByUser(previous, current)) {
    const warning = leftAloneWarning(want.prefix, want.key);
    warnings.push(warning);
    leftAlone.push(warning);
    return false;
  }
  const ours =
    current !== undefined && (previous ? previous.authHashes.includes(hashEntry(current)) : helper === HELPER_NAME);
  const entry: LedgerEntry = previous
    ? { ...previous, prefix: want.prefix, kind: want.kind, authHashes: [] }
    : { prefix: want.prefix, kind: want.kind, authHashes: [] };
  if (!previous && helper !== undefined && helper !== HELPER_NAME) entry.displaced = { credHelpers: helper };
  entry.secretAt = 'memory';
  entry.memory = { username: want.username, secret: want.secret };
  recordToken(entry, want);
  entries[want.key] = entry;
  if (ours) set(draft, 'auths', want.key, undefined);
  if (previous && helper !== undefined && helper !== HELPER_NAME) {
    warnings.push(otherHelperWarning(want.prefix, want.key, helper));
    return false;
  }
  set(draft, 'credHelpers', want.key, HELPER_NAME);
  return true;
}

/**
 * Whether the user changed the config's entry: it is neither one registry-login wrote nor the one it displaced (which
 * the config holds again after a crash between the ledger and the config write).
 */
function changedByUser(entry: LedgerEntry, current: unknown): boolean {
  return (
    current !== undefined &&
    !entry.authHashes.includes(hashEntry(current)) &&
    !jsonEqual(current, entry.displaced?.auths)
  );
}

/**
 * The ledger entry of a login about to be written, and the fingerprints the ledger saved before the write keeps for it
 * (none when they are the entry's own).
 */
function entryToWrite(
  want: WantedEntry,
  auth: { auth: string },
  previous: LedgerEntry | undefined,
  current: unknown,
  helper: unknown,
): { entry: LedgerEntry; before?: string[] } {
  const entry = previous ? { ...previous, prefix: want.prefix, kind: want.kind } : firstEntry(want, current, helper);
  let before: string[] | undefined;
  // An entry that already holds exactly these credentials needs no new fingerprint (and no hashing).
  if (!(previous && jsonEqual(current, auth) && entry.authHashes.length > 0)) {
    const hashes = fingerprints(entry.authHashes, auth, current);
    entry.authHashes = hashes.after;
    before = hashes.before;
  }
  recordToken(entry, want);
  return { entry, before };
}

/** The first ledger entry of a key: what registry-login displaces there, or what of it is already registry-login's. */
function firstEntry(want: WantedEntry, current: unknown, helper: unknown): LedgerEntry {
  const entry: LedgerEntry = { prefix: want.prefix, kind: want.kind, authHashes: [] };
  if (helper === HELPER_NAME) {
    // registry-login's own entry whose ledger was lost (or kept under another XDG_STATE_HOME): never the user's,
    // so nothing is displaced (removing it later leaves no stale credential behind) and what it holds is ours.
    if (current !== undefined) entry.authHashes = [hashEntry(current)];
    return entry;
  }
  const displaced: LedgerEntry['displaced'] = {};
  if (current !== undefined) displaced.auths = current;
  if (helper !== undefined) displaced.credHelpers = helper;
  if (Object.keys(displaced).length > 0) entry.displaced = displaced;
  return entry;
}

/**
 * The fingerprints a key keeps once `auth` is written (the new one and its predecessor), and those the ledger saved
 * before the write keeps: also the one of what the config holds now, however many writes failed since it was written.
 */
function fingerprints(known: string[], auth: unknown, current: unknown): { before: string[]; after: string[] } {
  const writing = hashEntry(auth);
  const older = known.filter((h) => h !== writing);
  const heldHash = current === undefined ? undefined : hashEntry(current);
  const held = heldHash !== undefined && older.includes(heldHash) ? [heldHash] : [];
  return {
    before: [...new Set([writing, ...held, ...older])].slice(0, LEDGER_BEFORE_HASHES),
    after: [writing, ...older].slice(0, 2),
  };
}

/** The managed keys this change removes: the ones named, or (stale) every one neither written nor kept. */
function keysToRemove(input: PlanInput, entries: Record<string, LedgerEntry>): string[] {
  if (input.remove !== 'stale') return input.remove.filter((k) => k in entries);
  const stays = new Set([...input.keep, ...input.write.map((w) => w.key)]);
  return Object.keys(entries).filter((k) => !stays.has(k));
}

/** Sets (value undefined: deletes) `config[container][key]`, recording the edit unless the value is already there. */
function set(draft: Draft, container: Container, key: string, value: unknown): void {
  if (jsonEqual(draft.view[container][key], value)) return;
  if (!Object.hasOwn(draft.config, container)) draft.created.add(container);
  if (value === undefined) delete draft.view[container][key];
  else draft.view[container][key] = value;
  draft.edits.push({ path: [container, key], value });
}

/**
 * Deletes a container registry-login created and this change emptied, so logout leaves the file as it found it; one
 * it created that is untouched and holds no managed entry is no longer counted as created.
 */
function dropEmptiedContainers(draft: Draft, noneManaged: boolean): void {
  for (const container of CONTAINERS) {
    if (!draft.created.has(container)) continue;
    const edited = draft.edits.some((e) => e.path[0] === container);
    if (edited && container in draft.config && Object.keys(draft.view[container]).length === 0) {
      draft.edits.push({ path: [container], value: undefined });
      draft.created.delete(container);
    } else if (!edited && noneManaged) draft.created.delete(container);
  }
}

/** The ledger saved before the config write: every entry of both ledgers, with the fingerprints it must still know. */
function ledgerBeforeWrite(old: Ledger, after: Ledger, hashesBefore: Map<string, string[]>): Ledger {
  const entries = dictionary(old.entries, after.entries);
  for (const [key, authHashes] of hashesBefore) entries[key] = { ...entries[key]!, authHashes };
  return { ...after, entries, created: [...new Set([...old.created, ...after.created])] };
}

/** The warning for a login not written because the user changed its entry. */
function leftAloneWarning(prefix: string, key: string): PlanWarning {
  const message = `${prefix}: the docker config entry for ${key} was changed outside registry-login (for example by docker login), so it was left alone. To let registry-login manage it again, run \`registry-login logout ${key}\` and then \`registry-login refresh\`.`;
  return { prefix, key, message };
}

/** The warning for a login written to auths while the user's credHelpers line sends docker to another helper. */
function otherHelperWarning(prefix: string, key: string, helper: unknown): PlanWarning {
  const message = `${prefix}: credHelpers["${key}"] was changed to "${String(helper)}" outside registry-login, so docker asks that helper instead; remove that line from the docker config to use this login.`;
  return { prefix, key, message };
}

/** The warning for a login whose secrets are gone but whose entry the user changed, so it stays. */
function keptWarning(prefix: string, key: string): PlanWarning {
  const message = `${prefix}: the docker config entry for ${key} was changed outside registry-login, so it was kept although its secrets are gone; remove it with \`docker logout ${key}\` if it is no longer wanted.`;
  return { prefix, key, message };
}

/** Keeps the token times and the role of the login written in its ledger entry (status shows them). */
function recordToken(entry: LedgerEntry, want: WantedEntry): void {
  if (want.issuedAt) entry.issuedAt = want.issuedAt.toISOString();
  else delete entry.issuedAt;
  if (want.expiresAt) entry.expiresAt = want.expiresAt.toISOString();
  else delete entry.expiresAt;
  if (want.role) entry.role = want.role;
  else delete entry.role;
}
