// Directories registry-login creates: each one 0700 whatever the umask, so that a write-protecting umask (0222) cannot
// leave a directory its own next step cannot write into.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isCode } from './errors.js';

/**
 * Creates dir and its missing parents, each 0700. One level at a time, so that a failure names its real cause
 * (read-only filesystem, permissions) where a recursive mkdir reports ENOENT whatever happened.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (error) {
      if (isCode(error, 'EEXIST')) continue; // made meanwhile by another process, or a link: not ours to change
      throw error;
    }
    // The umask may have taken bits away from what mkdir was asked for; this directory is ours.
    chmodSync(d, 0o700);
  }
}
