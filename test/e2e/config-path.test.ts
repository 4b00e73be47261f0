// Where the agent writes: the file docker reads through any symlinks, never a device or FIFO, never the current
// directory, and state it trusts only when this user alone can write it. Each case runs the built CLI.
import { execa } from 'execa';
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, readableInstall, makeAgentHome, runAgent, runHelper, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());
const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');
const LOGIN = triple('A', 'ghcr.io', 'bob', 'pw-path-1');

async function home(extra: Record<string, string> = LOGIN): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-path-'), extra);
}

function stateDirOf(h: AgentHome): string {
  return path.join(h.home, '.local', 'state', 'registry-login');
}

// A device node of our own (never the system's /dev/null: the tests run as root).
async function mknod(file: string): Promise<void> {
  const made = await execa('mknod', ['-m', '666', file, 'c', '1', '3'], { reject: false });
  if (made.exitCode !== 0) throw new Error(`mknod ${file} failed (this test needs root or CAP_MKNOD): ${made.stderr}`);
}

async function mkfifo(file: string): Promise<void> {
  const made = await execa('mkfifo', [file], { reject: false });
  if (made.exitCode !== 0) throw new Error(`mkfifo ${file} failed: ${made.stderr}`);
}

describe('the config path, resolved as docker and the kernel resolve it', () => {
  it('writes, reports and serves the file a relative link chain leads to, not a textual join of the links', async () => {
    const h = await home();
    await mkdir(path.join(h.home, 'dotfiles', 'docker'), { recursive: true });
    await mkdir(path.join(h.home, 'dotfiles', 'shared'));
    await symlink('dotfiles/docker', h.dockerConfigDir);
    await symlink('../shared/config.json', path.join(h.home, 'dotfiles', 'docker', 'config.json'));
    const refresh = await runAgent(['refresh'], h.env);
    expect(refresh.exitCode, refresh.stderr).toBe(0);
    const written = path.join(h.home, 'dotfiles', 'shared', 'config.json');
    expect(JSON.parse(await readFile(written, 'utf8')).auths).toEqual({
      'ghcr.io': { auth: auth('bob', 'pw-path-1') },
    });
    expect(existsSync(path.join(h.home, 'shared'))).toBe(false);
    // What the kernel (and so docker) opens through the links is that file.
    expect(realpathSync(h.configPath)).toBe(realpathSync(written));
    const status = JSON.parse((await runAgent(['status', '--json'], h.env)).stdout) as {
      logins: { key: string; effective: boolean }[];
    };
    expect(status.logins.map((l) => [l.key, l.effective])).toEqual([['ghcr.io', true]]);
    expect(JSON.parse((await runHelper('get', 'ghcr.io', h.env)).stdout)).toMatchObject({
      Username: 'bob',
      Secret: 'pw-path-1',
    });
  });

  it('creates the target of a dangling link and keeps the link, as docker login does', async () => {
    const h = await home();
    await mkdir(h.dockerConfigDir);
    await mkdir(path.join(h.home, 'elsewhere'));
    await symlink('../elsewhere/real.json', h.configPath);
    const refresh = await runAgent(['refresh'], h.env);
    expect(refresh.exitCode, refresh.stderr).toBe(0);
    expect((await lstat(h.configPath)).isSymbolicLink()).toBe(true);
    const target = path.join(h.home, 'elsewhere', 'real.json');
    expect(JSON.parse(await readFile(target, 'utf8')).auths['ghcr.io']).toEqual({ auth: auth('bob', 'pw-path-1') });
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it('refuses a config linked to a character device, naming it, and leaves the device as it was', async () => {
    const h = await home();
    await mkdir(h.dockerConfigDir);
    await mkdir(path.join(h.home, 'dev'));
    const device = path.join(h.home, 'dev', 'null');
    await mknod(device);
    await symlink(device, h.configPath);
    const refresh = await runAgent(['refresh'], h.env);
    expect(refresh.exitCode).toBe(2);
    expect(refresh.stderr).toContain(`${device} is a character device, not a regular file`);
    expect(refresh.stderr).toMatch(/changed nothing.*Point the config at a regular file/);
    const after = await stat(device);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.mode & 0o777).toBe(0o666);
    expect(await readdir(path.join(h.home, 'dev'))).toEqual(['null']);
    expect(await readdir(h.dockerConfigDir)).toEqual(['config.json']);
  });

  it('refuses a config linked to a FIFO at once, for refresh, status, logout and the helper, without holding a lock', async () => {
    const h = await home();
    await mkdir(h.dockerConfigDir);
    const fifo = path.join(h.dockerConfigDir, 'pipe');
    await mkfifo(fifo);
    await symlink('pipe', h.configPath);
    // A generous bound: the old code blocked for ever in open(), holding the config's lock.
    for (const args of [['refresh'], ['status'], ['logout']]) {
      const run = await runAgent(args, h.env, { timeoutMs: 15_000 });
      expect(run.exitCode, `${args[0]}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(`${fifo} is a named pipe (FIFO), not a regular file`);
    }
    const get = await runHelper('get', 'ghcr.io', h.env);
    expect(get.exitCode).toBe(1);
    expect(get.stderr).toContain('named pipe (FIFO)');
    expect((await stat(fifo)).isFIFO()).toBe(true);
    expect((await readdir(h.dockerConfigDir)).sort()).toEqual(['config.json', 'pipe']);
  }, 60_000);
});

describe('homes and state directories', () => {
  // An account unknown to /etc/passwd (as in many containers), so an empty HOME has no fallback at all.
  const STRANGER = ['--reuid=54321', '--regid=54321', '--clear-groups'];

  it('writes nothing into the current directory when HOME is empty and the account has no home', async () => {
    const work = await tmp.make('rl-path-work-');
    await chmod(work, 0o777);
    const install = await tmp.make('rl-path-install-');
    await readableInstall(install);
    const env = { PATH: `${install}/bin:/usr/bin:/bin`, HOME: '', LANG: 'C.UTF-8', ...LOGIN };
    for (const args of [['refresh'], ['refresh', '--hook']]) {
      const run = await execa('setpriv', [...STRANGER, path.join(install, 'bin', 'registry-login'), ...args], {
        cwd: work,
        env,
        extendEnv: false,
        reject: false,
        timeout: 30_000,
      });
      expect(run.stderr).toMatch(
        /HOME is empty and the account \(uid 54321\) has no absolute home directory.*changed nothing.*Set HOME/,
      );
      expect(run.exitCode).toBe(args.includes('--hook') ? 0 : 2);
      expect(await readdir(work)).toEqual([]);
    }
  });

  it('refuses a relative HOME and ignores relative XDG directories, as the XDG spec says', async () => {
    const work = await tmp.make('rl-path-work-');
    const h = await home();
    const relativeHome = await execa(path.join(BIN, 'registry-login'), ['refresh'], {
      cwd: work,
      env: { ...h.env, HOME: 'home' },
      extendEnv: false,
      reject: false,
    });
    expect(relativeHome.exitCode).toBe(2);
    expect(relativeHome.stderr).toContain('HOME is the relative path "home"');
    const relativeXdg = await execa(path.join(BIN, 'registry-login'), ['refresh'], {
      cwd: work,
      env: { ...h.env, XDG_STATE_HOME: 'state', XDG_CACHE_HOME: 'cache' },
      extendEnv: false,
      reject: false,
    });
    expect(relativeXdg.exitCode, relativeXdg.stderr).toBe(0);
    expect(await readdir(work)).toEqual([]);
    expect((await readdir(stateDirOf(h))).some((n) => n.startsWith('ledger-'))).toBe(true);
    expect(existsSync(path.join(h.home, '.cache', 'registry-login'))).toBe(true);
  });

  it('uses a relative DOCKER_CONFIG as given, from the current directory, as docker does', async () => {
    const work = await tmp.make('rl-path-work-');
    const h = await home();
    const run = await execa(path.join(BIN, 'registry-login'), ['refresh'], {
      cwd: work,
      env: { ...h.env, DOCKER_CONFIG: 'docker' },
      extendEnv: false,
      reject: false,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(await readFile(path.join(work, 'docker', 'config.json'), 'utf8')).auths['ghcr.io']).toEqual({
      auth: auth('bob', 'pw-path-1'),
    });
  });

  it('tightens an existing state directory to 0700', async () => {
    const h = await home();
    await mkdir(stateDirOf(h), { recursive: true, mode: 0o755 });
    await chmod(stateDirOf(h), 0o755);
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    expect((await stat(stateDirOf(h))).mode & 0o777).toBe(0o700);
  });

  it('refuses a ledger other users may write: it decides what logout restores', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const [name] = (await readdir(stateDirOf(h))).filter((n) => n.startsWith('ledger-'));
    const ledger = path.join(stateDirOf(h), name!);
    await chmod(ledger, 0o666);
    const configBefore = await readFile(h.configPath, 'utf8');
    for (const args of [['refresh'], ['logout'], ['status']]) {
      const run = await runAgent(args, h.env);
      expect(run.exitCode, args[0]).toBe(2);
      expect(run.stderr).toContain(
        `${ledger} can be written by other users (mode 0666), so registry-login does not trust it`,
      );
    }
    expect(await readFile(h.configPath, 'utf8')).toBe(configBefore);
    await chmod(ledger, 0o600);
    expect((await runAgent(['logout'], h.env)).exitCode).toBe(0);
  });

  it('does not serve a docker login from a store other users may write', async () => {
    const h = await home({});
    await mkdir(h.dockerConfigDir);
    await writeFile(h.configPath, '{"credHelpers": {"reg.example": "registry-login"}}\n');
    const store = await runHelper(
      'store',
      JSON.stringify({ ServerURL: 'reg.example', Username: 'bob', Secret: 'pw-stored-1' }),
      h.env,
    );
    expect(store.exitCode, store.stderr).toBe(0);
    expect(JSON.parse((await runHelper('get', 'reg.example', h.env)).stdout)).toMatchObject({ Secret: 'pw-stored-1' });
    const file = path.join(stateDirOf(h), 'docker-logins.json');
    await chmod(file, 0o646);
    const get = await runHelper('get', 'reg.example', h.env);
    expect(get.stdout).not.toContain('pw-stored-1');
    expect(get.exitCode).toBe(1);
    const again = await runHelper(
      'store',
      JSON.stringify({ ServerURL: 'other.example', Username: 'bob', Secret: 'pw-stored-2' }),
      h.env,
    );
    expect(again.exitCode).not.toBe(0);
    expect(again.stdout).toContain(`${file} can be written by other users (mode 0646)`);
  });
});
