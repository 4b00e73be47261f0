// Saving a file atomically: a private temp file beside it, synced, renamed over it, and the directory synced.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirectory } from './directory.js';
import { ConcurrentChangeError, ConfigError, describeFsError, isCode, nextStep } from './errors.js';
import { closeQuietly, readRegularFile, type LoadedFile } from './read-file.js';

/**
 * Writes a file atomically: a 0600 temp file in the same directory, synced, then renamed over the target; keeps an
 * existing file's mode and owner. With `unchanged`, the target must still hold that text (undefined: be absent) just
 * before the rename, else ConcurrentChangeError: docker login and editors save the config without our lock.
 */
export function writeFileAtomic(
  target: string,
  text: string,
  previous?: Pick<LoadedFile, 'mode' | 'uid' | 'gid'>,
  unchanged?: { text: string | undefined },
): void {
  const dir = dirname(target);
  const tmp = tempPath(target);
  let fd: number | undefined;
  try {
    makeDirectory(dir);
    removeOrphanedTempFiles(target);
    // Created 0600 and exclusive: no moment in which the content is readable by others or shared with another writer.
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const bytes = Buffer.from(text, 'utf8');
    for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
    // Through the descriptor, never by path: a link put in the temp file's place must not be what gets changed. The
    // mode is set whatever the umask, which may have taken bits from the 0600 asked for.
    fchmodSync(fd, previous?.mode ?? 0o600);
    if (previous?.uid !== undefined && process.getuid?.() === 0 && (previous.uid !== 0 || previous.gid !== 0))
      fchownSync(fd, previous.uid, previous.gid!);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (unchanged && currentText(target) !== unchanged.text)
      throw new ConcurrentChangeError(
        `${target} was changed by another program while registry-login was writing it; nothing was written. Run \`registry-login refresh\` again.`,
      );
    renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) closeQuietly(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `cannot write ${target}: ${describeFsError(error)}; the file was left as it was. ${nextStep(error, dir)}`,
    );
  }
  syncDirectory(dir);
}

/** A new temp path beside target, named so that removeOrphanedTempFiles knows its writer. */
export function tempPath(target: string): string {
  const random = Math.random().toString(16).slice(2, 10).padEnd(8, '0');
  return join(dirname(target), `.${basename(target)}.${process.pid}.${random}.tmp`);
}

function currentText(target: string): string | undefined {
  try {
    return readRegularFile(target).bytes.toString('utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/**
 * Removes the temp files (or the lock's prepared directories) of target whose writer is dead (killed between creating
 * and renaming them). A live writer's are left: the config and ledger are written under their lock anyway, and the
 * token cache, written without one, only by this user.
 */
export function removeOrphanedTempFiles(target: string): void {
  const dir = dirname(target);
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(target))}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
  for (const name of readdirSync(dir)) {
    const m = pattern.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove: it costs only a stray file
    }
  }
}

export function isAlive(pid: number): boolean {
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
