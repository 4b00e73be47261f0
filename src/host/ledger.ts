// What `refresh --host` stored, per docker config file: where each login went and a keyed SHA-256 fingerprint of it,
// never the secret, so an unchanged login costs nothing and logout removes only what is still exactly ours.
// A password a person chose and keeps in an encrypted store is fingerprinted only under a key kept in memory (README,
// Decisions): a fingerprint beside its salt in a plain file would let whoever copies it test guesses offline.
import { closeSync, constants, fstatSync, linkSync, openSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverTriples } from '../discover.js';
import { fingerprint64 } from '../fingerprint.js';
import { MemoryDirError, memoryDir } from '../fs/memory-dir.js';
import { isCode } from '../fs/errors.js';
import { keyLogins } from '../registry.js';
import type { Credentials, Kind } from '../types.js';
import { dictionary } from '../dictionary.js';

/** One login a host run stored. */
export interface HostLedgerEntry {
  prefix: string;
  kind: Kind;
  /** 'file' (the config's auths) or the credential helper's name. */
  store: string;
  /**
   * HMAC-SHA-256 of key, user name and secret: what decides that a stored login is ours. Under the memory key named by
   * keyId, else under the ledger's salt. '' for a login kept in a store when no memory directory could hold the key
   * (then only the store knows), and for a config-file login someone else has replaced (then it is not ours).
   */
  fingerprint: string;
  /** The memory key the fingerprint was made with; absent for one made under the salt. */
  keyId?: string;
  issuedAt?: string;
  expiresAt?: string;
}

/** The host ledger of one config file. */
export interface HostLedger {
  version: 1;
  configPath: string;
  /** Random, per ledger: the fingerprints cannot be compared across files or looked up in a precomputed table. */
  salt: string;
  entries: Record<string, HostLedgerEntry>;
}

/**
 * Where the host ledger of a config file (by its real path) lives, beside the container ledger in the state directory.
 */
export function hostLedgerPath(stateDir: string, configTarget: string): string {
  return join(stateDir, `host-ledger-${fingerprint64(configTarget)}.json`);
}

/** Reads a host ledger; anything unusable counts as empty (a login it forgets is looked up in its store again). */
export function parseHostLedger(text: string | undefined, configPath: string): HostLedger {
  try {
    const value = text ? (JSON.parse(text) as Partial<HostLedger>) : undefined;
    if (
      value?.version === 1 &&
      typeof value.salt === 'string' &&
      // '' until a login needs it: one kept only under the memory key does not.
      (value.salt === '' || value.salt.length >= 32) &&
      value.entries &&
      typeof value.entries === 'object'
    ) {
      const entries = dictionary<HostLedgerEntry>();
      for (const [key, entry] of Object.entries(value.entries)) if (isEntry(entry)) entries[key] = entry;
      return { version: 1, configPath, salt: value.salt, entries };
    }
  } catch {
    // fall through
  }
  return { version: 1, configPath, salt: '', entries: dictionary<HostLedgerEntry>() };
}

/** The ledger's salt, made on first use. */
export function ensureSalt(ledger: HostLedger): string {
  if (ledger.salt === '') ledger.salt = process.getBuiltinModule('node:crypto').randomBytes(32).toString('hex');
  return ledger.salt;
}

/** A random key in the user's memory directory, the same for every run until the machine restarts. */
export interface MemoryKey {
  /** Random, not derived from the key: names it in the ledger. */
  id: string;
  key: Buffer;
}

/** The memory key (made when create and missing); a warning when the memory directory is not safely the user's. */
export interface MemoryKeyLookup {
  key?: MemoryKey;
  warning?: string;
}

/**
 * Whether a login's fingerprint may be kept only under the memory key: a static password in a credential store. One in
 * the config file sits beside its own secret, and an ECR token is a 12-hour value made by AWS that nobody can guess, so
 * a fingerprint of either reveals nothing and is kept under the salt, where it survives a restart.
 */
export function needsMemoryKey(store: string, kind: Kind): boolean {
  return store !== 'file' && kind === 'static';
}

/** The fingerprint a ledger entry gets for a login stored now. */
export function fingerprintFor(
  ledger: HostLedger,
  memory: MemoryKey | undefined,
  entry: { store: string; kind: Kind },
  key: string,
  credentials: Credentials,
): Pick<HostLedgerEntry, 'fingerprint' | 'keyId'> {
  if (!needsMemoryKey(entry.store, entry.kind))
    return { fingerprint: fingerprintLogin(ensureSalt(ledger), key, credentials) };
  if (memory === undefined) return { fingerprint: '' };
  return { fingerprint: fingerprintLogin(memory.key, key, credentials), keyId: memory.id };
}

/**
 * Whether credentials are the ones the entry recorded: undefined when that cannot be told (its memory key is gone
 * since a restart, or there never was one).
 */
export function matchesEntry(
  ledger: HostLedger,
  memory: MemoryKey | undefined,
  entry: HostLedgerEntry,
  key: string,
  credentials: Credentials,
): boolean | undefined {
  if (entry.keyId !== undefined)
    return memory?.id === entry.keyId
      ? fingerprintLogin(memory.key, key, credentials) === entry.fingerprint
      : undefined;
  // Without a memory key, '' is a login judged someone else's (its fingerprint was dropped), and stays so.
  if (entry.fingerprint === '') return needsMemoryKey(entry.store, entry.kind) ? undefined : false;
  if (ledger.salt === '') return undefined;
  return fingerprintLogin(ledger.salt, key, credentials) === entry.fingerprint;
}

function fingerprintLogin(hmacKey: string | Buffer, key: string, credentials: Credentials): string {
  const crypto = process.getBuiltinModule('node:crypto');
  return crypto
    .createHmac('sha256', hmacKey)
    .update(`registry-login host v1\0${key}\0${credentials.username}\0${credentials.secret}`)
    .digest('hex');
}

const KEY_FILE = 'host-ledger-key';

/** Reads the memory key, making it first when create; nothing when this system has no memory directory. */
export function memoryKey(env: NodeJS.ProcessEnv, create: boolean): MemoryKeyLookup {
  let dir;
  try {
    dir = memoryDir(env, { create });
  } catch (error) {
    if (!(error instanceof MemoryDirError)) throw error;
    return {
      warning: `${error.message}. Until then, logins kept in a credential store are checked with a store call on every run.`,
    };
  }
  if (dir === undefined) return {};
  const path = join(dir, KEY_FILE);
  const found = readKey(path);
  if (found || !create) return found ? { key: found } : {};
  const crypto = process.getBuiltinModule('node:crypto');
  const made = { id: crypto.randomBytes(8).toString('hex'), key: crypto.randomBytes(32) };
  // Written whole under a unique name, then linked into place: a reader never sees half a key, and of two runs making
  // one at once, the first link wins and both use it.
  const temp = `${path}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  writeFileSync(temp, `${made.id} ${made.key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
    return { key: made };
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
    const winner = readKey(path);
    return winner ? { key: winner } : {};
  } finally {
    unlinkSync(temp);
  }
}

function readKey(path: string): MemoryKey | undefined {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ELOOP')) return undefined;
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0) return undefined;
    const buffer = Buffer.alloc(128);
    const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    const match = /^([0-9a-f]{16}) ([0-9a-f]{64})\n$/.exec(text);
    return match ? { id: match[1]!, key: Buffer.from(match[2]!, 'hex') } : undefined;
  } finally {
    closeSync(fd);
  }
}

/** The static login the environment holds for key, if any: the one thing a lost fingerprint can be checked against. */
export function environmentLogin(env: NodeJS.ProcessEnv, key: string): Credentials | undefined {
  const login = keyLogins(discoverTriples(env).triples).logins.find((l) => l.key === key && l.kind === 'static');
  return login && { username: login.user, secret: login.password };
}

function isEntry(value: unknown): value is HostLedgerEntry {
  const entry = value as Partial<HostLedgerEntry> | null;
  return (
    !!entry &&
    typeof entry.prefix === 'string' &&
    typeof entry.kind === 'string' &&
    typeof entry.store === 'string' &&
    typeof entry.fingerprint === 'string' &&
    (entry.keyId === undefined || typeof entry.keyId === 'string') &&
    (entry.issuedAt === undefined || typeof entry.issuedAt === 'string') &&
    (entry.expiresAt === undefined || typeof entry.expiresAt === 'string')
  );
}

/** Whether two logins are the same user name and secret (a missing one is not). */
export function sameCredentials(a: Credentials | undefined, b: Credentials | undefined): boolean {
  return a !== undefined && b !== undefined && a.username === b.username && a.secret === b.secret;
}
