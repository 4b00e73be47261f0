// Loading, locking and atomically saving the docker config (and the ledger beside it), keeping every foreign byte.
// Synchronous calls on purpose: a handful of small local files, and node:fs/promises costs start-up time.
import * as fs from 'node:fs';
import { chmodSync, chownSync, closeSync, constants, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { homeDirectory } from '../builtin.js';
import { basename, dirname, join, resolve } from 'node:path';
import { findDuplicateKey } from './duplicate-keys.js';
import type { ConfigEdit } from './plan.js';

/** A config (or state file) that registry-login refuses to touch; the message names the file and the problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The file changed under us (another program saved it while we held our lock, which it does not know of); nothing was written. */
export class ConcurrentChangeError extends ConfigError {
  override name = 'ConcurrentChangeError';
}

/** The docker config path: $DOCKER_CONFIG/config.json (a relative one from the current directory, as docker does), else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG) return resolve(env.DOCKER_CONFIG, 'config.json');
  const home = homeDirectory(env);
  if (home === undefined) throw new ConfigError(`${describeHome(env)}, so registry-login cannot tell where the docker config is and changed nothing. Set HOME to your home directory (or DOCKER_CONFIG to the docker config directory), then run \`registry-login refresh\` again.`);
  return join(home, '.docker', 'config.json');
}

/** Why no home directory is known, for a message: a relative HOME (refused), or none and no account entry. */
export function describeHome(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return `HOME is the relative path "${env.HOME}", which would put files under the current directory`;
  return `HOME is ${env.HOME === undefined ? 'unset' : 'empty'} and the account (uid ${process.getuid?.() ?? '?'}) has no absolute home directory`;
}

/**
 * The file a write to path really replaces, resolved as the kernel does: the directories by their real path, each
 * link's text relative to the real directory holding it, a dangling last link to its target (docker writes there too).
 */
export async function followSymlinks(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    current = join(realDirectory(dirname(current), path), basename(current));
    let info;
    try {
      info = lstatSync(current);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return current;
      throw new ConfigError(`cannot read ${current}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(current))}`);
    }
    if (!info.isSymbolicLink()) return current;
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw new ConfigError(`${path} is a loop of symbolic links; point it at a real file or remove it, then run \`registry-login refresh\` again.`);
}

// The real path of a directory; a missing one (created later) by the real path of its nearest existing ancestor.
function realDirectory(dir: string, configPath: string): string {
  let missing = '';
  for (let existing = dir; ; existing = dirname(existing)) {
    try {
      return join(realpathSync(existing), missing);
    } catch (error) {
      if (!isCode(error, 'ENOENT') || dirname(existing) === existing) {
        const reason = isCode(error, 'ELOOP') ? 'is a loop of symbolic links' : `cannot be resolved (${describeFsError(error)})`;
        throw new ConfigError(`${existing}, on the way to ${configPath}, ${reason}; registry-login changed nothing. Fix that path, then run \`registry-login refresh\` again.`);
      }
      if (isSymbolicLink(existing)) {
        throw new ConfigError(`${existing}, on the way to ${configPath}, is a symbolic link to a directory that does not exist, where docker could not save either; registry-login changed nothing. Create the directory it points to (${readlinkSync(existing)}) or remove the link, then run \`registry-login refresh\` again.`);
      }
      missing = join(basename(existing), missing);
    }
  }
}

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A config file as found: its text (undefined when absent) and, when present, its mode and owner. */
export interface LoadedFile {
  path: string;
  text: string | undefined;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** Reads a file (following symlinks); a missing file is not an error, anything but a regular file is refused. */
export async function loadFile(target: string): Promise<LoadedFile> {
  try {
    const { bytes, info } = readRegularFile(target);
    // isUtf8 + toString keeps a byte-order mark as U+FEFF (TextDecoder would drop it), so a BOM is refused below.
    if (!isUtf8(bytes)) {
      throw new ConfigError(`${target} is not valid UTF-8; registry-login changed nothing. Fix or move the file, then run \`registry-login refresh\` again.`);
    }
    const text = bytes.toString('utf8');
    return { path: target, text, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  } catch (error) {
    if (isCode(error, 'ENOENT')) return { path: target, text: undefined };
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read ${target}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(target))}`);
  }
}

// Opened without blocking (a FIFO would wait for a writer for ever) and checked on the open descriptor, so that what
// is read is what was checked: a device or FIFO is never read, nor replaced by the rename that saves the new text.
function readRegularFile(target: string): { bytes: Buffer; info: Stats } {
  const fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new ConfigError(`${target} is a directory, not a file; registry-login changed nothing: move it away so that a docker config file can be written there, then run \`registry-login refresh\` again.`);
    if (!info.isFile()) {
      throw new ConfigError(`${target} is ${describeFileType(info)}, not a regular file; registry-login changed nothing (saving there would replace it). Point the config at a regular file (or remove the link to it), then run \`registry-login refresh\` again.`);
    }
    return { bytes: readFileSync(fd), info };
  } finally {
    closeQuietly(fd);
  }
}

function describeFileType(info: Stats): string {
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}

/** A file only registry-login writes (ledger, stored logins) that another user owns or may write: never trusted. */
export class UntrustedFileError extends ConfigError {
  override name = 'UntrustedFileError';
}

/** Reads a file only this user's registry-login writes, refusing one that another user owns or others may write. */
export async function loadPrivateFile(path: string): Promise<LoadedFile> {
  const file = await loadFile(path);
  if (file.text === undefined) return file;
  const uid = process.getuid?.();
  const problem = uid !== undefined && file.uid !== uid ? `belongs to uid ${file.uid}, not to this user (uid ${uid})` : (file.mode! & 0o022) !== 0 ? `can be written by other users (mode ${(file.mode! & 0o777).toString(8).padStart(4, '0')})` : undefined;
  if (problem) throw new UntrustedFileError(`${path} ${problem}, so registry-login does not trust it and changed nothing. If this user wrote it, run \`chown ${uid ?? '$(id -u)'} ${path} && chmod 600 ${path}\`; otherwise remove it; then run \`registry-login refresh\` again.`);
  return file;
}

/** Makes an existing directory of this user's private (0700); refuses one another user owns. A missing one is left for the first write. */
export function tightenPrivateDirectory(dir: string): void {
  let info;
  try {
    info = statSync(dir);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw new UntrustedFileError(`${dir} belongs to uid ${info.uid}, not to this user (uid ${uid}), so registry-login does not keep its state there and changed nothing. Set XDG_STATE_HOME to a directory of your own, or remove ${dir}, then run \`registry-login refresh\` again.`);
  if ((info.mode & 0o077) === 0) return;
  try {
    chmodSync(dir, 0o700);
  } catch (error) {
    throw new ConfigError(`cannot make ${dir} private (mode 0700): ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dir)}`);
  }
}

/** Parses a docker config, refusing anything docker or registry-login could misread (SPEC §7). */
export async function parseDockerConfig(text: string | undefined, path: string): Promise<Record<string, unknown>> {
  if (text === undefined || text.trim() === '') return {};
  const bad = (what: string): ConfigError => new ConfigError(`${path} ${what}; registry-login changed nothing. Fix or move the file, then run \`registry-login refresh\` again.`);
  if (text.charCodeAt(0) === 0xfeff) throw bad('starts with a byte-order mark, which docker cannot read either');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Loaded only on this error path: the JSON parser that can say where the text is broken.
    const { describeJsonError } = await import('./json-edit.js');
    throw bad(`is not valid JSON (${describeJsonError(text, error)})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad(`holds ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not a JSON object`);
  const config = value as Record<string, unknown>;
  for (const key of ['auths', 'credHelpers']) {
    const member = config[key];
    if (member !== undefined && (member === null || typeof member !== 'object' || Array.isArray(member))) throw bad(`has a "${key}" that is not an object`);
  }
  return config;
}

/** Refuses a config whose top level, auths or credHelpers repeat a key: a targeted edit could change the copy docker does not read. */
export async function assertEditable(text: string | undefined, path: string): Promise<void> {
  const duplicate = text === undefined ? undefined : findDuplicateKey(text);
  if (duplicate) throw new ConfigError(`${path} has the key ${duplicate} twice, so its meaning is ambiguous; registry-login changed nothing. Fix or move the file, then run \`registry-login refresh\` again.`);
}

/** Applies planned edits to the config text, leaving every other byte where it was; a new file gets docker's tab indentation. */
export async function applyConfigEdits(text: string | undefined, edits: ConfigEdit[]): Promise<string> {
  // Loaded on first use: the JSON parser is only needed when the file changes.
  const { editJsonMany } = await import('./json-edit.js');
  const fresh = text === undefined || text.trim() === '';
  let out = fresh ? '{\n}' : text;
  out = editJsonMany(out, edits);
  return fresh ? `${out}\n` : out;
}

/** A lock older than this (its holder stopped refreshing it) is taken over; sooner when its owner is provably gone. */
export const LOCK_STALE_MS = 4000;
// How long to wait for a lock another registry-login holds.
const LOCK_WAIT_MS = 40_000;

/** The lock directory of a file: beside it, so it lives and dies with the file's directory. */
export function lockPath(target: string): string {
  return `${target}.lock`;
}

// Who holds a lock: a PID proves something only on the same kernel (boot id) and in the same PID namespace, as a
// config may be bind-mounted into containers and shared with the host.
interface LockOwner {
  pid: number;
  /** The process's start time (clock ticks since boot): a PID reused by another process has another one. */
  startTime?: string;
  bootId: string;
  pidNamespace: string;
}

const LOCK_OWNER_FILE = 'owner';
let thisProcess: LockOwner | undefined | null = null;

function thisLockOwner(): LockOwner | undefined {
  if (thisProcess === null) {
    try {
      const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      thisProcess = { pid: process.pid, startTime: processStartTime('self'), bootId, pidNamespace: readlinkSync('/proc/self/ns/pid') };
    } catch {
      thisProcess = undefined; // not Linux, or no /proc: locks carry no owner and go stale by age alone
    }
  }
  return thisProcess;
}

// True only when the lock's owner ran on this kernel, in this PID namespace, and is no longer alive. A different boot
// id is not proof: two live kernels (a VM and its host) can share a bind-mounted file; such a lock goes stale by age.
function lockOwnerIsGone(lock: string): boolean {
  const me = thisLockOwner();
  if (!me) return false;
  try {
    const owner = JSON.parse(readFileSync(join(lock, LOCK_OWNER_FILE), 'utf8')) as Partial<LockOwner>;
    if (owner.bootId !== me.bootId || owner.pidNamespace !== me.pidNamespace || !Number.isInteger(owner.pid) || owner.pid! <= 0) return false;
    return !isAlive(owner.pid!) || (typeof owner.startTime === 'string' && processStartTime(owner.pid!) !== owner.startTime);
  } catch {
    return false; // no owner recorded (an older version, or a lock being created): the age rule decides
  }
}

// Field 22 of /proc/PID/stat; the command name before it may hold spaces and parentheses, so count from the last ')'.
function processStartTime(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function writeLockOwner(lock: string, owner: LockOwner): void {
  try {
    fs.writeFileSync(join(lock, LOCK_OWNER_FILE), JSON.stringify(owner), { mode: 0o600, flag: 'wx' });
  } catch {
    // no owner recorded: the lock goes stale by age alone
  }
}

function forgetLockOwner(lock: string): void {
  try {
    unlinkSync(join(lock, LOCK_OWNER_FILE));
  } catch {
    // none recorded
  }
}

type Callback<T = void> = (error: NodeJS.ErrnoException | null, value?: T) => void;

// The filesystem proper-lockfile works through: the lock directory is 0700 whatever the umask and records its owner;
// a lock whose owner is provably gone looks long stale, so it is taken over at once by proper-lockfile's own rule.
function lockFileSystem(): object {
  return {
    // Synchronous, so the owner is recorded in the same turn as the directory appears: with an asynchronous mkdir a
    // process killed while its callback waited for the event loop left a lock without an owner.
    mkdir(lock: string, callback: Callback) {
      let failure: NodeJS.ErrnoException | null = null;
      const owner = thisLockOwner();
      try {
        fs.mkdirSync(lock, { mode: 0o700 });
        if (owner) writeLockOwner(lock, owner);
      } catch (error) {
        failure = error as NodeJS.ErrnoException;
      }
      process.nextTick(callback, failure);
    },
    stat(lock: string, callback: Callback<Stats>) {
      fs.stat(lock, (error, info) => {
        if (!error && lockOwnerIsGone(lock)) info.mtime = new Date(0);
        callback(error, info);
      });
    },
    // Synchronous too: a process killed between the two steps would leave a lock without an owner.
    rmdir(lock: string, callback: Callback) {
      let failure: NodeJS.ErrnoException | null = null;
      try {
        forgetLockOwner(lock);
        fs.rmdirSync(lock);
      } catch (error) {
        failure = error as NodeJS.ErrnoException;
      }
      process.nextTick(callback, failure);
    },
    rmdirSync(lock: string) {
      forgetLockOwner(lock);
      fs.rmdirSync(lock);
    },
    utimes: fs.utimes,
    realpath: fs.realpath,
  };
}

/** Runs fn while holding the cross-process lock of a config file (a lock directory beside it, reclaimed when stale). */
export async function withFileLock<T>(target: string, fn: () => Promise<T>): Promise<T> {
  try {
    makeDirectory(dirname(target));
  } catch (error) {
    throw new ConfigError(`cannot create ${dirname(target)}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(target))}`);
  }
  let release: () => Promise<void>;
  try {
    // Loaded on first use: commands that only read (status, the helper's get) never pay for it.
    const { default: lockfile } = await import('proper-lockfile');
    // Only a held lock is worth waiting for: proper-lockfile's own retries also repeat EROFS, EACCES and ENOSPC,
    // which turned a read-only config directory into a 40 s hang before the error.
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 5; ; delay = Math.min(100, delay * 1.3)) {
      try {
        release = await lockfile.lock(target, {
          realpath: false,
          fs: lockFileSystem(),
          lockfilePath: lockPath(target),
          stale: LOCK_STALE_MS,
          update: 1000,
          retries: 0,
          // A lock taken over as stale means another process waited 4 s for us; the write checks the file is unchanged.
          onCompromised: () => undefined,
        });
        break;
      } catch (error) {
        if (!isCode(error, 'ELOCKED') || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      }
    }
  } catch (error) {
    if (isCode(error, 'ELOCKED')) throw new ConfigError(`${target} stayed locked by another registry-login for too long; try again, or remove ${target}.lock if no registry-login is running.`);
    throw new ConfigError(`cannot lock ${target} (${target}.lock): ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(target))}`);
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Writes a file atomically: a 0600 temp file in the same directory, synced, then renamed over the target; keeps an
 * existing file's mode and owner. With `unchanged`, the target must still hold that text (undefined: be absent) just
 * before the rename, else ConcurrentChangeError: docker login and editors save the config without our lock.
 */
export async function writeFileAtomic(target: string, text: string, previous?: Pick<LoadedFile, 'mode' | 'uid' | 'gid'>, unchanged?: { text: string | undefined }): Promise<void> {
  const dir = dirname(target);
  const tmp = join(dir, `.${target.slice(dir.length + 1)}.${process.pid}.${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}.tmp`);
  let fd: number | undefined;
  try {
    makeDirectory(dir);
    removeOrphanedTempFiles(dir, target.slice(dir.length + 1));
    // Created 0600 and exclusive: no moment in which the content is readable by others or shared with another writer.
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const bytes = Buffer.from(text, 'utf8');
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    if (previous?.mode !== undefined) chmodSync(tmp, previous.mode);
    if (previous?.uid !== undefined && process.getuid?.() === 0 && (previous.uid !== 0 || previous.gid !== 0)) chownSync(tmp, previous.uid, previous.gid!);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (unchanged && currentText(target) !== unchanged.text) throw new ConcurrentChangeError(`${target} was changed by another program while registry-login was writing it; nothing was written. Run \`registry-login refresh\` again.`);
    renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot write ${target}: ${describeFsError(error)}; the file was left as it was. ${nextStep(error, dir)}`);
  }
  syncDirectory(dir);
}

// New directories are 0700. A recursive mkdir that cannot create a missing parent reports ENOENT whatever the cause
// (read-only filesystem, permissions); creating the first missing one alone surfaces the real error for the message.
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
    let missing = dir;
    while (dirname(missing) !== missing && !existsSync(dirname(missing))) missing = dirname(missing);
    mkdirSync(missing, { mode: 0o700 });
    throw error;
  }
}

function currentText(target: string): string | undefined {
  try {
    return readRegularFile(target).bytes.toString('utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

// A temp file whose writer is dead (killed between open and rename) is garbage. One of a live writer is left: the
// config and ledger are written under their lock anyway, and the token cache, written without one, only by this user.
function removeOrphanedTempFiles(dir: string, base: string): void {
  const pattern = new RegExp(`^\\.${escapeRegExp(base)}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
  for (const name of readdirSync(dir)) {
    const m = pattern.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // gone already
    }
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function syncDirectory(dir: string): void {
  // Makes the rename durable; some filesystems refuse to sync a directory, which costs only durability.
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // durability only
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/** What a user can do about a filesystem error in dir, ending with the command to run again. */
function nextStep(error: unknown, dir: string): string {
  const again = 'then run `registry-login refresh` again.';
  switch ((error as NodeJS.ErrnoException)?.code) {
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return `Make ${dir} writable for this user (or set DOCKER_CONFIG, or XDG_STATE_HOME for registry-login's state, to a writable directory), ${again}`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `Free some space on the filesystem holding ${dir}, ${again}`;
    default:
      return `Fix that, ${again}`;
  }
}

/** A short reason for a filesystem error, without a stack. */
export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (check the owner and mode of the file and its directory)';
    case 'EROFS':
      return 'the filesystem is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exhausted';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of its path is not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return e?.message ?? String(error);
  }
}
