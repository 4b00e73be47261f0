// A system account made for one test file: no home, no login shell, its own group. Tests that need a user other than
// root (whose home root writes into, whose files must end up theirs) make one in beforeAll and remove it in afterAll.
import { execa } from 'execa';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  /** Deletes the account (its group with it). */
  remove(): Promise<void>;
}

/** Adds the account `name`; throws, saying why, where it cannot (the tests that need one run as root). */
export async function addSystemUser(name: string): Promise<SystemUser> {
  const added = await execa('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name], {
    reject: false,
  });
  if (added.exitCode !== 0) throw new Error(`useradd ${name} failed (this test needs root): ${added.stderr}`);
  const id = (flag: string) => execa('id', [flag, name]).then((r) => Number(r.stdout.trim()));
  return {
    name,
    uid: await id('-u'),
    gid: await id('-g'),
    remove: async () => {
      await execa('userdel', [name], { reject: false });
    },
  };
}
