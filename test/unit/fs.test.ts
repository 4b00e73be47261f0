// src/fs/: the path a write replaces (resolved as the kernel does), the atomic write and the config lock.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, readdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { followSymlinks } from '../../src/fs/resolve-path.js';
import { withFileLock } from '../../src/fs/lock.js';
import { writeFileAtomic } from '../../src/fs/atomic-write.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rl-fs-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('followSymlinks', () => {
  it('follows a chain of links, relative and absolute, even to a missing target', async () => {
    const dir = await tmp();
    await mkdir(join(dir, 'dotfiles'));
    await symlink('dotfiles/docker.json', join(dir, 'link1'));
    await symlink(join(dir, 'link1'), join(dir, 'config.json'));
    expect(followSymlinks(join(dir, 'config.json'))).toBe(join(dir, 'dotfiles', 'docker.json'));
  });

  it('resolves relative links from the real directory holding them, as the kernel does', async () => {
    const dir = await tmp();
    await mkdir(join(dir, 'dotfiles', 'docker'), { recursive: true });
    await symlink('dotfiles/docker', join(dir, '.docker'));
    await symlink('../shared/config.json', join(dir, 'dotfiles', 'docker', 'config.json'));
    expect(followSymlinks(join(dir, '.docker', 'config.json'))).toBe(
      join(realpathSync(dir), 'dotfiles', 'shared', 'config.json'),
    );
  });

  it('refuses a directory link that leads nowhere, where docker cannot save either', async () => {
    const dir = await tmp();
    await symlink('missing', join(dir, '.docker'));
    expect(() => followSymlinks(join(dir, '.docker', 'config.json'))).toThrow(
      /\.docker, on the way to .*symbolic link to a directory that does not exist/,
    );
  });

  it('refuses a loop of links', async () => {
    const dir = await tmp();
    await symlink('b', join(dir, 'a'));
    await symlink('a', join(dir, 'b'));
    expect(() => followSymlinks(join(dir, 'a'))).toThrow(/loop of symbolic links/);
  });
});

describe('writeFileAtomic', () => {
  it('creates new files 0600 in new 0700 directories and leaves no temp file', async () => {
    const dir = await tmp();
    const target = join(dir, 'new', 'config.json');
    writeFileAtomic(target, '{}\n');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'new'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'new'))).toEqual(['config.json']);
  });

  it('keeps the mode of an existing file', async () => {
    const dir = await tmp();
    const target = join(dir, 'config.json');
    await writeFile(target, '{}');
    await chmod(target, 0o640);
    const before = await stat(target);
    writeFileAtomic(target, '{"a":1}', { mode: before.mode & 0o7777, uid: before.uid, gid: before.gid });
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect(await readFile(target, 'utf8')).toBe('{"a":1}');
  });

  it('fails with a clear error when a part of the path is not a directory', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'sub'), 'x');
    expect(() => writeFileAtomic(join(dir, 'sub', 'config.json'), '{}')).toThrow(
      /cannot write .*sub\/config\.json: .*the file was left as it was/,
    );
    expect(await readFile(join(dir, 'sub'), 'utf8')).toBe('x');
  });
});

describe('withFileLock', () => {
  it('serialises critical sections of concurrent callers', async () => {
    const dir = await tmp();
    const target = join(dir, 'config.json');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withFileLock(target, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });
});
