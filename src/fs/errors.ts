// The errors registry-login raises about files it reads or writes, and the advice a message gives for an fs error.

/** A config (or state file) that registry-login refuses to touch; the message names the file and the problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The file changed under us (another program saved it while we held our lock, which it does not know of); nothing was
 * written.
 */
export class ConcurrentChangeError extends ConfigError {
  override name = 'ConcurrentChangeError';
}

/** A file only registry-login writes (ledger, stored logins) that another user owns or may write: never trusted. */
export class UntrustedFileError extends ConfigError {
  override name = 'UntrustedFileError';
}

/** Another registry-login held the lock for longer than the caller was willing to wait; nothing was written. */
export class LockBusyError extends ConfigError {
  override name = 'LockBusyError';
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/** What a user can do about a filesystem error in dir, ending with the command to run again. */
export function nextStep(error: unknown, dir: string): string {
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
