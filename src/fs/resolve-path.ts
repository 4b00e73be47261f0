// The file a write to a path really replaces, found as the kernel resolves the path.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, describeFsError, isCode, nextStep } from './errors.js';

/**
 * The file a write to path really replaces, resolved as the kernel does: the directories by their real path, each
 * link's text relative to the real directory holding it, a dangling last link to its target (docker writes there too).
 */
export function followSymlinks(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    current = join(realDirectory(dirname(current), path), basename(current));
    let info;
    try {
      info = lstatSync(current);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return current;
      throw new ConfigError(
        `cannot read ${current}: ${describeFsError(error)}; registry-login changed nothing. ${nextStep(error, dirname(current))}`,
      );
    }
    if (!info.isSymbolicLink()) return current;
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw new ConfigError(
    `${path} is a loop of symbolic links; point it at a real file or remove it, then run \`registry-login refresh\` again.`,
  );
}

// The real path of a directory; a missing one (created later) by the real path of its nearest existing ancestor.
function realDirectory(dir: string, configPath: string): string {
  let missing = '';
  for (let existing = dir; ; existing = dirname(existing)) {
    try {
      return join(realpathSync(existing), missing);
    } catch (error) {
      if (!isCode(error, 'ENOENT') || dirname(existing) === existing) {
        const reason = isCode(error, 'ELOOP')
          ? 'is a loop of symbolic links'
          : `cannot be resolved (${describeFsError(error)})`;
        throw new ConfigError(
          `${existing}, on the way to ${configPath}, ${reason}; registry-login changed nothing. Fix that path, then run \`registry-login refresh\` again.`,
        );
      }
      if (isSymbolicLink(existing)) {
        throw new ConfigError(
          `${existing}, on the way to ${configPath}, is a symbolic link to a directory that does not exist, where docker could not save either; registry-login changed nothing. Create the directory it points to (${readlinkSync(existing)}) or remove the link, then run \`registry-login refresh\` again.`,
        );
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
