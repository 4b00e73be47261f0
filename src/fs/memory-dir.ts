// The user's own directory on a memory file system (README, Decisions): `$XDG_RUNTIME_DIR/registry-login` when
// $XDG_RUNTIME_DIR is a tmpfs the user owns, else `/dev/shm/registry-login-<uid>`. What is kept there is gone at the
// next boot and never reaches a backup. Other users can write to /dev/shm, so the directory is made without races:
// one mkdir (no recursion), then opened without following a link, and its owner and mode checked on the descriptor.
import { closeSync, constants, fstatSync, fchmodSync, lstatSync, mkdirSync, openSync, statfsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isCode } from './errors.js';

/** The f_type statfs reports for tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;

/** A memory directory that exists but must not be used: someone else made it, can write to it, or it is a link. */
export class MemoryDirError extends Error {
  override name = 'MemoryDirError';
}

/**
 * The user's memory directory, made 0700 when missing (unless create is false: then undefined); undefined when this
 * system has none (macOS, no /dev/shm, no user id). Throws MemoryDirError for one that is not safely the user's own.
 */
export function memoryDir(env: NodeJS.ProcessEnv, options: { create?: boolean } = {}): string | undefined {
  const create = options.create ?? true;
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime) && isOwnTmpfs(runtime, uid))
    return ownDir(join(runtime, 'registry-login'), uid, create);
  let shm;
  try {
    shm = lstatSync('/dev/shm');
  } catch {
    return undefined;
  }
  // Sticky: nobody else can rename or remove what is ours in it.
  if (!shm.isDirectory() || (shm.mode & 0o1000) === 0) return undefined;
  return ownDir(`/dev/shm/registry-login-${uid}`, uid, create);
}

function isOwnTmpfs(dir: string, uid: number): boolean {
  try {
    const stat = lstatSync(dir);
    return stat.isDirectory() && stat.uid === uid && statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

function ownDir(dir: string, uid: number, create: boolean): string | undefined {
  let made = false;
  if (create) {
    try {
      mkdirSync(dir, { mode: 0o700 });
      made = true;
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw new MemoryDirError(`${dir} could not be made (${describe(error)})`);
    }
  }
  let fd;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    if (!create && isCode(error, 'ENOENT')) return undefined;
    throw new MemoryDirError(
      isCode(error, 'ELOOP') || isCode(error, 'ENOTDIR')
        ? `${dir} is a link or not a directory, so it is not used; remove it`
        : `${dir} could not be opened (${describe(error)})`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (stat.uid !== uid)
      throw new MemoryDirError(`${dir} belongs to uid ${stat.uid}, not to this user, so it is not used; remove it`);
    // A umask may have taken bits from the mode just made; the directory is the user's alone either way.
    if (made && (stat.mode & 0o777) !== 0o700) fchmodSync(fd, 0o700);
    else if ((stat.mode & 0o077) !== 0)
      throw new MemoryDirError(
        `${dir} can be read or written by other users (mode ${(stat.mode & 0o777).toString(8)}), so it is not used; remove it`,
      );
  } finally {
    closeSync(fd);
  }
  return dir;
}

function describe(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
