// Root running with another user's HOME (`sudo -E`, macOS sudo) creates what it creates there as that user: no
// root-owned ~/.docker, config.json, ~/.local/state or ~/.cache that the user's docker and registry-login can no longer
// use, and a link the user planted leads root nowhere it could not go as the user.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readableInstall, triple } from '../support/agent.js';
import { dockerCli } from '../support/docker-cli.js';
import { type SystemUser, addSystemUser } from '../support/system-user.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
const NAME = `rlhome${process.pid}`;
let user: SystemUser;
let install: string;

beforeAll(async () => {
  user = await addSystemUser(NAME);
  install = await tmp.make('rl-home-install-');
  await readableInstall(install);
});
afterAll(async () => {
  await tmp.cleanup();
  await user?.remove();
});

// A home of the user's inside a folder of root's that the user may pass through.
async function usersHome(): Promise<{ outside: string; home: string }> {
  const outside = await tmp.make('rl-home-');
  await chmod(outside, 0o755);
  const home = path.join(outside, 'home');
  await mkdir(home, { mode: 0o700 });
  await chown(home, user.uid, user.gid);
  return { outside, home };
}

function env(home: string, password: string): Record<string, string> {
  return {
    PATH: `${install}/bin:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    ...triple('A', 'registry.example.com', 'alice', password),
  };
}

const asRoot = (args: string[], e: Record<string, string>) =>
  execa(path.join(install, 'bin', 'registry-login'), args, { env: e, extendEnv: false, reject: false });
const asUser = (file: string, args: string[], e: Record<string, string>) =>
  execa('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', file, ...args], {
    env: e,
    extendEnv: false,
    reject: false,
  });

// Every entry under root (not following links) with its owner, mode and, for files, a hash of its bytes.
async function tree(root: string, skip?: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const name of await readdir(root)) {
    const file = path.join(root, name);
    if (file === skip) continue;
    const info = await lstat(file);
    const bytes = info.isFile()
      ? createHash('sha256')
          .update(await readFile(file))
          .digest('hex')
      : '';
    found.set(file, `${info.uid}:${info.gid} ${(info.mode & 0o7777).toString(8)} ${bytes}`);
    if (info.isDirectory()) for (const [f, v] of await tree(file, skip)) found.set(f, v);
  }
  return found;
}

describe("root with another user's HOME", () => {
  it('creates everything as that user, whose own refresh and docker keep working', async () => {
    const { home } = await usersHome();
    const byRoot = await asRoot(['refresh'], env(home, 'pw-root-run'));
    expect(byRoot.exitCode, byRoot.stderr).toBe(0);
    const entries = await tree(home);
    expect([...entries.keys()].map((f) => path.relative(home, f))).toEqual(
      expect.arrayContaining(['.docker/config.json', '.local/state/registry-login']),
    );
    const notTheUsers = [...entries].filter(([, v]) => !v.startsWith(`${user.uid}:`)).map(([f, v]) => `${f} ${v}`);
    expect(notTheUsers).toEqual([]);

    const own = await asUser(path.join(install, 'bin', 'registry-login'), ['refresh'], env(home, 'pw-user-run'));
    expect(own.exitCode, own.stderr).toBe(0);
    const config = JSON.parse(await readFile(path.join(home, '.docker', 'config.json'), 'utf8'));
    expect(config.auths['registry.example.com'].auth).toBe(Buffer.from('alice:pw-user-run').toString('base64'));
    // The user's docker reads and saves its config.
    const docker = await asUser((await dockerCli()).path, ['logout', 'registry.example.com'], env(home, 'x'));
    expect(docker.exitCode, docker.stderr).toBe(0);
    expect(docker.stderr).not.toMatch(/Error loading config|permission denied/i);
    expect(JSON.parse(await readFile(path.join(home, '.docker', 'config.json'), 'utf8')).auths).toEqual({});
  });

  it('changes nothing outside the home through links the user planted to root-owned places', async () => {
    const { outside, home } = await usersHome();
    const victim = path.join(outside, 'root-owned.json');
    await writeFile(victim, '{"auths": {}}\n', { mode: 0o644 });
    const rootDir = path.join(outside, 'root-owned-dir');
    await mkdir(rootDir, { mode: 0o755 });
    const plant = async (target: string, link: string) => {
      await mkdir(path.dirname(link), { recursive: true });
      await symlink(target, link);
      for (let p = link; p !== home; p = path.dirname(p)) await execa('chown', ['-h', `${user.uid}:${user.gid}`, p]);
    };
    await plant(victim, path.join(home, '.docker', 'config.json'));
    await plant(rootDir, path.join(home, '.local', 'state'));
    await plant(rootDir, path.join(home, '.cache'));
    const before = await tree(outside, home);

    const byRoot = await asRoot(['refresh'], env(home, 'pw-planted'));
    expect(byRoot.exitCode).toBe(2);
    expect(byRoot.stderr).toMatch(/permission denied/);
    expect(byRoot.stderr).not.toContain('pw-planted');
    expect(await tree(outside, home)).toEqual(before);
    const notTheUsers = [...(await tree(home))].filter(([, v]) => !v.startsWith(`${user.uid}:`));
    expect(notTheUsers).toEqual([]);
  });
});
