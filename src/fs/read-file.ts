// Reading a file registry-login edits or owns: only a regular file, as UTF-8, with its mode and owner.
// Synchronous calls on purpose: a handful of small local files, and node:fs/promises costs start-up time.
import { chmodSync, closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { dirname } from 'node:path';
import { ConfigError, UntrustedFileError, describeFsError, isCode, nextStep } from './errors.js';

/** A config file as found: its text (undefined when absent) and, when present, its mode and owner. */
export interface LoadedFile {
  path: string;
  text: string | undefined;
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * Reads a file whose path the caller has resolved (resolve-path.ts): a symbolic link as its last part is refused, not
 * followed (O_NOFOLLOW); a missing file is not an error, anything but a regular file is refused.
 */
export function loadFile(target: string): LoadedFile {
  try {
    const { bytes, info } = readRegularFile(target);
    // isUtf8 + toString keeps a byte-order mark as U+FEFF (TextDecoder would drop it), so a BOM is refused below.
    if (!isUtf8(bytes)) {
      throw new ConfigError(
        `${target} is not valid UTF-8; registry-login changed nothing. Fix or move the file, then run \`registry-login refresh\` again.`,
      );
    }
    const text = bytes.toString('utf8');
    return { path: target, text, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  } catch (error) {
    if (isCode(error, 'ENOENT')) return { path: target, text: undefined };
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `cannot read ${target}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(target))}`,
    );
  }
}

// Opened without blocking (a FIFO would wait for a writer for ever) and checked on the open descriptor, so that what
// is read is what was checked: a device or FIFO is never read, nor replaced by the rename that saves the new text.
export function readRegularFile(target: string): { bytes: Buffer; info: Stats } {
  const fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const info = fstatSync(fd);
    if (info.isDirectory())
      throw new ConfigError(
        `${target} is a directory, not a file; registry-login changed nothing: move it away so that a docker config file can be written there, then run \`registry-login refresh\` again.`,
      );
    if (!info.isFile()) {
      throw new ConfigError(
        `${target} is ${describeFileType(info)}, not a regular file; registry-login changed nothing (saving there would replace it). Point the config at a regular file (or remove the link to it), then run \`registry-login refresh\` again.`,
      );
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

/** Reads a file only this user's registry-login writes, refusing one that another user owns or others may write. */
export function loadPrivateFile(path: string): LoadedFile {
  const file = loadFile(path);
  if (file.text === undefined) return file;
  const uid = process.getuid?.();
  const problem =
    uid !== undefined && file.uid !== uid
      ? `belongs to uid ${file.uid}, not to this user (uid ${uid})`
      : (file.mode! & 0o022) !== 0
        ? `can be written by other users (mode ${(file.mode! & 0o777).toString(8).padStart(4, '0')})`
        : undefined;
  if (problem)
    throw new UntrustedFileError(
      `${path} ${problem}, so registry-login does not trust it and changed nothing. If this user wrote it, run \`chown ${uid ?? '$(id -u)'} ${path} && chmod 600 ${path}\`; otherwise remove it; then run \`registry-login refresh\` again.`,
    );
  return file;
}

/**
 * Makes an existing directory of this user's 0700 (private, and usable after a write-protecting umask made it 0500);
 * refuses one another user owns. A missing one is left for the first write.
 */
export function tightenPrivateDirectory(dir: string): void {
  let info;
  try {
    info = statSync(dir);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid)
    throw new UntrustedFileError(
      `${dir} belongs to uid ${info.uid}, not to this user (uid ${uid}), so registry-login does not keep its state there and changed nothing. Set XDG_STATE_HOME to a directory of your own, or remove ${dir}, then run \`registry-login refresh\` again.`,
    );
  if ((info.mode & 0o777) === 0o700) return;
  try {
    chmodSync(dir, 0o700);
  } catch (error) {
    throw new ConfigError(
      `cannot make ${dir} private (mode 0700): ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dir)}`,
    );
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
