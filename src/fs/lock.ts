// The cross-process lock of a file: a directory beside it (config.json.lock) holding its holder's owner record.
//
// A held lock is never empty: the directory is prepared aside with the record in it and renamed into place, which the
// kernel does only while no lock directory, or an empty one, is there. A lock is released, or taken over when stale,
// by removing its record, whose name is its holder's alone: a process that judged one record stale can never remove
// the next holder's, and of several that judged the same one stale, one removes it and the others find it gone and
// try again. So no two processes ever hold the lock at once, however many take over a dead holder's lock together.
import {
  closeSync,
  existsSync,
  fchmodSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirectory } from './directory.js';
import { ConfigError, LockBusyError, describeFsError, isCode, nextStep } from './errors.js';
import { isAlive, removeOrphanedTempFiles, tempPath } from './atomic-write.js';

/** A lock untouched this long (its holder stopped refreshing it) is taken over; sooner when its owner is provably gone. */
export const LOCK_STALE_MS = 4000;
// How long to wait for a lock another registry-login holds, and how often a holder touches its lock.
const LOCK_WAIT_MS = 40_000;
const LOCK_REFRESH_MS = 1000;

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
  bootId?: string;
  pidNamespace?: string;
}

let thisProcess: LockOwner | undefined;

function thisLockOwner(): LockOwner {
  if (thisProcess) return thisProcess;
  try {
    return (thisProcess = {
      pid: process.pid,
      startTime: processStartTime('self'),
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      pidNamespace: readlinkSync('/proc/self/ns/pid'),
    });
  } catch {
    return (thisProcess = { pid: process.pid }); // not Linux, or no /proc: the lock goes stale by age alone
  }
}

// True only when the record's owner ran on this kernel, in this PID namespace, and is no longer alive. A different boot
// id is not proof: two live kernels (a VM and its host) can share a bind-mounted file; such a lock goes stale by age.
function ownerIsGone(record: string): boolean {
  const me = thisLockOwner();
  try {
    const owner = JSON.parse(readFileSync(record, 'utf8')) as Partial<LockOwner>;
    if (!me.bootId || owner.bootId !== me.bootId || owner.pidNamespace !== me.pidNamespace) return false;
    if (!Number.isInteger(owner.pid) || owner.pid! <= 0) return false;
    return (
      !isAlive(owner.pid!) || (typeof owner.startTime === 'string' && processStartTime(owner.pid!) !== owner.startTime)
    );
  } catch {
    return false; // unreadable, or not ours to read (another version's): the age rule decides
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

// The lock as this process will hold it, made aside: a 0700 directory holding a 0600 record named after it.
function prepareLock(aside: string): string {
  makeDirectory(aside);
  const record = join(aside, `owner.${basename(aside).split('.').slice(-3, -1).join('.')}`);
  const fd = openSync(record, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, JSON.stringify(thisLockOwner()));
  } finally {
    closeSync(fd);
  }
  return basename(record);
}

// One attempt: true when the lock is now ours. A stale lock loses its records, so that a later attempt can take it.
function tryLock(lock: string, aside: string): boolean {
  const now = new Date();
  utimesSync(aside, now, now); // prepared while waiting: it must not arrive looking stale
  try {
    renameSync(aside, lock);
    return true;
  } catch (error) {
    if (!isCode(error, 'ENOTEMPTY') && !isCode(error, 'EEXIST')) throw error;
  }
  try {
    // Listed before its age is read: a record removed meanwhile has touched the directory, so it no longer looks stale.
    const records = readdirSync(lock);
    const stale =
      Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS ||
      (records.length === 1 && ownerIsGone(join(lock, records[0]!)));
    if (stale) for (const record of records) unlinkSync(join(lock, record));
  } catch (error) {
    // Released or taken over by another process meanwhile: still locked for us, try again.
    if (!isCode(error, 'ENOENT')) throw error;
  }
  return false;
}

/**
 * Runs fn while holding the cross-process lock of a config file (a lock directory beside it, taken over when stale).
 * Waits up to waitMs for a lock another process holds, then throws LockBusyError.
 */
export async function withFileLock<T>(
  target: string,
  fn: () => Promise<T>,
  { waitMs = LOCK_WAIT_MS }: { waitMs?: number } = {},
): Promise<T> {
  const dir = dirname(target);
  try {
    makeDirectory(dir);
  } catch (error) {
    throw new ConfigError(
      `cannot create ${dir}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dir)}`,
    );
  }
  const lock = lockPath(target);
  const aside = tempPath(lock);
  let record;
  try {
    removeOrphanedTempFiles(lock);
    record = join(lock, prepareLock(aside));
    const deadline = Date.now() + waitMs;
    for (let delay = 5; !tryLock(lock, aside); delay = Math.min(100, delay * 1.3)) {
      if (Date.now() > deadline)
        throw new LockBusyError(
          `${target} stayed locked by another registry-login for too long; try again, or remove ${lock} if no registry-login is running.`,
        );
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    }
  } catch (error) {
    rmSync(aside, { recursive: true, force: true });
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `cannot lock ${target} (${lock}): ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dir)}`,
    );
  }
  // Touched while held, so that it looks stale only once its holder stopped (a lock taken over from a stalled holder
  // means another process waited for us: each write checks that its file is unchanged). Only while the record is ours.
  const refresh = setInterval(() => {
    try {
      if (existsSync(record)) utimesSync(lock, new Date(), new Date());
    } catch {
      // taken over meanwhile
    }
  }, LOCK_REFRESH_MS).unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    try {
      unlinkSync(record);
      rmdirSync(lock); // fails, harmlessly, when the next holder's lock is already in its place
    } catch {
      // taken over meanwhile, or already someone else's
    }
  }
}
