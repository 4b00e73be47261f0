// Root running with another user's HOME (`sudo -E`, macOS sudo): everything it creates there would be root's, and the
// user's docker could no longer read its own config. Changing owners afterwards, by path, would let a link the user
// planted make root chown anything; so such a run becomes that user before it touches a file, and the kernel checks
// every link it follows as it would for the user.
import { statSync } from 'node:fs';

/** The owner of home when this process is root and home is an existing directory of another user. */
export function otherUsersHome(home: string | undefined): { uid: number; gid: number } | undefined {
  if (home === undefined || process.geteuid?.() !== 0) return undefined;
  try {
    const info = statSync(home);
    return info.isDirectory() && info.uid !== 0 ? { uid: info.uid, gid: info.gid } : undefined;
  } catch {
    return undefined; // no home yet: nothing in it belongs to anyone else
  }
}

/**
 * As root in another user's home, becomes that user for the rest of the process: the account's groups (or the home's
 * group alone, for a uid without an account), then the group and user ids, real and saved too, so that the credential
 * helpers it runs are that user as well.
 */
export function becomeHomeOwner(home: string | undefined): void {
  const owner = otherUsersHome(home);
  if (!owner) return;
  try {
    // Node has it on POSIX; @types/node leaves it out.
    (process as unknown as { initgroups(user: number, extraGroup: number): void }).initgroups(owner.uid, owner.gid);
  } catch {
    process.setgroups!([owner.gid]);
  }
  process.setgid!(owner.gid);
  process.setuid!(owner.uid);
}
