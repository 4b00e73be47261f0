// The cross-process lock of a file: proper-lockfile's lock directory beside it, recording who holds it so that a dead
// holder's lock is taken over at once.
import {
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpath,
  rmdirSync,
  stat,
  unlinkSync,
  utimes,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, LockBusyError, describeFsError, isCode, nextStep } from './errors.js';
import { isAlive, makeDirectory } from './atomic-write.js';

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
      thisProcess = {
        pid: process.pid,
        startTime: processStartTime('self'),
        bootId,
        pidNamespace: readlinkSync('/proc/self/ns/pid'),
      };
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
    if (
      owner.bootId !== me.bootId ||
      owner.pidNamespace !== me.pidNamespace ||
      !Number.isInteger(owner.pid) ||
      owner.pid! <= 0
    )
      return false;
    return (
      !isAlive(owner.pid!) || (typeof owner.startTime === 'string' && processStartTime(owner.pid!) !== owner.startTime)
    );
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
    writeFileSync(join(lock, LOCK_OWNER_FILE), JSON.stringify(owner), { mode: 0o600, flag: 'wx' });
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
        mkdirSync(lock, { mode: 0o700 });
        if (owner) writeLockOwner(lock, owner);
      } catch (error) {
        failure = error as NodeJS.ErrnoException;
      }
      process.nextTick(callback, failure);
    },
    stat(lock: string, callback: Callback<Stats>) {
      stat(lock, (error, info) => {
        if (!error && lockOwnerIsGone(lock)) info.mtime = new Date(0);
        callback(error, info);
      });
    },
    // Synchronous too: a process killed between the two steps would leave a lock without an owner.
    rmdir(lock: string, callback: Callback) {
      let failure: NodeJS.ErrnoException | null = null;
      try {
        forgetLockOwner(lock);
        rmdirSync(lock);
      } catch (error) {
        failure = error as NodeJS.ErrnoException;
      }
      process.nextTick(callback, failure);
    },
    rmdirSync(lock: string) {
      forgetLockOwner(lock);
      rmdirSync(lock);
    },
    utimes,
    realpath,
  };
}

/**
 * Runs fn while holding the cross-process lock of a config file (a lock directory beside it, reclaimed when stale).
 * Waits up to waitMs for a lock another process holds, then throws LockBusyError.
 */
export async function withFileLock<T>(
  target: string,
  fn: () => Promise<T>,
  { waitMs = LOCK_WAIT_MS }: { waitMs?: number } = {},
): Promise<T> {
  try {
    makeDirectory(dirname(target));
  } catch (error) {
    throw new ConfigError(
      `cannot create ${dirname(target)}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(target))}`,
    );
  }
  let release: () => Promise<void>;
  try {
    // Loaded on first use: commands that only read (status, the helper's get) never pay for it.
    const { default: lockfile } = await import('proper-lockfile');
    // Only a held lock is worth waiting for: proper-lockfile's own retries also repeat EROFS, EACCES and ENOSPC,
    // which turned a read-only config directory into a 40 s hang before the error.
    const deadline = Date.now() + waitMs;
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
    if (isCode(error, 'ELOCKED'))
      throw new LockBusyError(
        `${target} stayed locked by another registry-login for too long; try again, or remove ${target}.lock if no registry-login is running.`,
      );
    throw new ConfigError(
      `cannot lock ${target} (${target}.lock): ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(target))}`,
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
