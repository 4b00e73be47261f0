// The launchers as a process sees them: V8's code cache (dist/registry-login.cjs), the command line, and stdin.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { chmod, chown, cp, readdir, readFile, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, REPO, makeAgentHome, runAgent, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(async () => {
  await tmp.cleanup();
});

const SECRET = 's3cret-launcher-password-0123456789';
const SERVER = 'registry.launcher.example:5000';

async function home(extra: Record<string, string> = {}): Promise<AgentHome> {
  return makeAgentHome(await tmp.make(), { ...triple('ACME', SERVER, 'someone', SECRET), ...extra });
}

/** A private copy of dist/, so a test may change the agent file without touching the one other tests run. */
async function distCopy(): Promise<string> {
  const dir = path.join(await tmp.make(), 'dist');
  await cp(path.join(REPO, 'dist'), dir, { recursive: true });
  return dir;
}

async function runEntry(dist: string, args: string[], env: Record<string, string>, input?: string) {
  const r = await execa(process.execPath, [path.join(dist, 'registry-login.cjs'), ...args], {
    env,
    extendEnv: false,
    reject: false,
    ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function codeCaches(h: AgentHome): Promise<string[]> {
  const dir = path.join(h.home, '.cache', 'registry-login');
  return (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('v8-')).sort();
}

/** Runs a launcher from bin/ with raw descriptors (execa would wrap them): its exit and what it wrote to pipes. */
function spawnLauncher(
  name: string,
  args: string[],
  env: Record<string, string>,
  stdio: (number | 'ignore' | 'pipe')[],
) {
  const child = spawn(path.join(BIN, name), args, { env, stdio });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (c: Buffer) => (out.stdout += c));
  child.stderr?.on('data', (c: Buffer) => (out.stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { exited, out };
}

/** A NODE_OPTIONS preload that records, at exit, which Node modules the run loaded. */
async function moduleProbe(): Promise<{ nodeOptions: string; loaded: () => Promise<string[]> }> {
  const dir = await tmp.make();
  const log = path.join(dir, 'modules.log');
  const probe = path.join(dir, 'modules.cjs');
  await writeFile(
    probe,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, process.moduleLoadList.join('\\n')));\n`,
  );
  return { nodeOptions: `--require ${probe}`, loaded: async () => (await readFile(log, 'utf8')).split('\n') };
}

describe('the code cache', () => {
  it('is written 0600 in a 0700 directory on the first run and reused, unchanged, by the next', async () => {
    const h = await home();
    const first = await runAgent(['refresh', '--json'], h.env);
    expect(first.exitCode, first.stderr).toBe(0);
    const [cache, ...others] = await codeCaches(h);
    expect(others).toEqual([]);
    expect(cache).toMatch(/^v8-[0-9a-f]{16}-[0-9a-f]{16}-cli\.bin$/);
    const file = path.join(h.home, '.cache', 'registry-login', cache!);
    const before = await stat(file);
    expect(before.mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(before.size).toBeGreaterThan(10_000);

    const second = await runAgent(['refresh', '--json'], h.env);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));
    const after = await stat(file);
    // Accepted by V8, so not written again.
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await codeCaches(h)).toEqual([cache]);
  });

  it('keeps the CLI and the credential helper apart, and writes nothing with REGISTRY_LOGIN_CODE_CACHE=0', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const helper = await execa(path.join(BIN, 'docker-credential-registry-login'), ['get'], {
      env: h.env,
      extendEnv: false,
      input: SERVER,
      reject: false,
    });
    expect(JSON.parse(helper.stdout)).toEqual({ ServerURL: SERVER, Username: 'someone', Secret: SECRET });
    expect((await codeCaches(h)).map((f) => f.replace(/^v8-[0-9a-f]+-[0-9a-f]+-/, ''))).toEqual([
      'cli.bin',
      'helper.bin',
    ]);

    const off = await home({ REGISTRY_LOGIN_CODE_CACHE: '0' });
    expect((await runAgent(['refresh'], off.env)).exitCode).toBe(0);
    expect((await runAgent(['status'], off.env)).exitCode).toBe(0);
    expect(await codeCaches(off)).toEqual([]);
  });

  it('keeps one per set of Node flags, so runs with and without NODE_OPTIONS do not replace each other', async () => {
    const h = await home();
    const flagged = { ...h.env, NODE_OPTIONS: '--max-old-space-size=512' };
    expect((await runAgent(['status'], h.env)).exitCode).toBe(0);
    expect((await runAgent(['status'], flagged)).exitCode).toBe(0);
    const files = await codeCaches(h);
    expect(files).toHaveLength(2);
    const dir = path.join(h.home, '.cache', 'registry-login');
    const before = await Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).mtimeMs));
    expect((await runAgent(['status'], h.env)).exitCode).toBe(0);
    expect((await runAgent(['status'], flagged)).exitCode).toBe(0);
    expect(await codeCaches(h)).toEqual(files);
    expect(await Promise.all(files.map(async (f) => (await stat(path.join(dir, f))).mtimeMs))).toEqual(before);
  });

  it('is replaced when V8 refuses it (damaged) or another user could have written it, and the run is unaffected', async () => {
    const h = await home();
    const dist = await distCopy();
    const reference = await runEntry(dist, ['refresh', '--json'], h.env);
    expect(reference.exitCode, reference.stderr).toBe(0);
    const [name] = await codeCaches(h);
    const file = path.join(h.home, '.cache', 'registry-login', name!);

    const good = await readFile(file);
    const damaged = Buffer.from(good);
    damaged.fill(0x5a, 0, 64);
    await writeFile(file, damaged, { mode: 0o600 });
    const afterDamage = await runEntry(dist, ['refresh', '--json'], h.env);
    expect(afterDamage.exitCode, afterDamage.stderr).toBe(0);
    expect(JSON.parse(afterDamage.stdout)).toEqual(JSON.parse(reference.stdout));
    expect((await readFile(file)).subarray(0, 64)).not.toEqual(damaged.subarray(0, 64));

    // Group-writable, then owned by someone else: not read (so not trusted), and replaced by this user's own.
    await chmod(file, 0o620);
    expect((await runEntry(dist, ['status'], h.env)).exitCode).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    if (process.getuid?.() === 0) {
      await chown(file, 4242, 4242);
      expect((await runEntry(dist, ['status'], h.env)).exitCode).toBe(0);
      expect((await stat(file)).uid).toBe(0);
    }
  });

  it('follows a changed agent file: a new cache, the old one removed', async () => {
    const h = await home();
    const dist = await distCopy();
    expect((await runEntry(dist, ['status'], h.env)).exitCode).toBe(0);
    const [old] = await codeCaches(h);
    // Same length, other code: V8 itself would accept the old cache (it checks only the source's length).
    const agent = path.join(dist, 'agent-function.js');
    const source = await readFile(agent, 'utf8');
    const changed = source.replace(/unknown command "/, 'UNKNOWN command "');
    expect(changed.length).toBe(source.length);
    await writeFile(agent, changed);
    await utimes(agent, new Date(), new Date(Date.now() + 5000));
    const run = await runEntry(dist, ['bogus'], h.env);
    expect(run.stderr).toContain('UNKNOWN command "bogus"');
    const now = await codeCaches(h);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(old);
  });

  it('is skipped when it cannot be written, and the run still succeeds', async () => {
    const dir = await tmp.make();
    const blocked = path.join(dir, 'not-a-dir');
    await writeFile(blocked, 'a file where the cache directory would go');
    const h = await makeAgentHome(dir, { ...triple('ACME', SERVER, 'someone', SECRET), XDG_CACHE_HOME: blocked });
    const run = await runAgent(['refresh', '--json'], h.env);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ logins: [{ prefix: 'ACME', status: 'ok' }] });
    expect(run.stderr).toBe('');
  });
});

describe('Node 20 before 20.16', () => {
  it('loads built-ins on first use without process.getBuiltinModule (crypto for a new entry, tty for /dev/null, os without HOME)', async () => {
    const h = await home();
    const older = path.join(await tmp.make(), 'older-node.cjs');
    await writeFile(older, 'delete process.getBuiltinModule;\n');
    const env = { ...h.env, NODE_OPTIONS: `--require ${older}` };
    const devNull = openSync('/dev/null', 'w');
    try {
      // stdout on /dev/null (a character device) makes the agent ask node:tty whether it is a terminal.
      const run = spawnLauncher('registry-login', ['refresh'], env, ['ignore', devNull, 'pipe']);
      expect(await run.exited, run.out.stderr).toBe(0);
    } finally {
      closeSync(devNull);
    }
    const config = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths: Record<string, unknown> };
    expect(Object.keys(config.auths)).toEqual([SERVER]);
    const withoutHome: Record<string, string> = { ...env };
    delete withoutHome.HOME;
    // Without HOME the config path comes from node:os (status only reads it).
    const status = await execa(path.join(BIN, 'registry-login'), ['status', '--json'], {
      env: withoutHome,
      extendEnv: false,
      reject: false,
    });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ configPath: path.join(os.homedir(), '.docker', 'config.json') });
  });
});

describe('terminals', () => {
  it('asks node:tty only about a terminal: output to /dev/null loads no tty or net; a terminal gets colour', async () => {
    const h = await home();
    const probe = await moduleProbe();
    const devNull = openSync('/dev/null', 'w');
    try {
      const run = spawnLauncher('registry-login', ['refresh'], { ...h.env, NODE_OPTIONS: probe.nodeOptions }, [
        'ignore',
        devNull,
        devNull,
      ]);
      expect(await run.exited).toBe(0);
    } finally {
      closeSync(devNull);
    }
    const loaded = await probe.loaded();
    expect(loaded).not.toContain('NativeModule tty');
    expect(loaded).not.toContain('NativeModule net');

    // util-linux script(1) runs the CLI on a pseudo-terminal.
    const onTerminal = await execa('script', ['-qec', `${path.join(BIN, 'registry-login')} status`, '/dev/null'], {
      env: h.env,
      extendEnv: false,
      reject: false,
    });
    expect(onTerminal.exitCode, onTerminal.stderr).toBe(0);
    expect(onTerminal.stdout).toContain(SERVER);
    expect(onTerminal.stdout).toMatch(/\x1b\[[0-9;]*m/);
    const noColour = await execa('script', ['-qec', `${path.join(BIN, 'registry-login')} status`, '/dev/null'], {
      env: { ...h.env, NO_COLOR: '1' },
      extendEnv: false,
      reject: false,
    });
    expect(noColour.stdout).toContain(SERVER);
    expect(noColour.stdout).not.toMatch(/\x1b\[[0-9;]*m/);
  });
});

describe('the command line', () => {
  it('takes flags anywhere, -h, and -- before positionals that start with a dash', async () => {
    const h = await home();
    const json = await runAgent(['--json', 'refresh'], h.env);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ logins: [{ prefix: 'ACME', key: SERVER, status: 'ok' }] });
    const help = await runAgent(['-h'], h.env);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: registry-login <command>/);
    const version = await runAgent(['--version'], h.env);
    expect(version.stdout).toMatch(/^registry-login \d+\.\d+\.\d+$/);
    // A key after -- is a key, not an option: logout of a registry that is not managed removes nothing.
    const logout = await runAgent(['logout', '--json', '--', '-odd.example'], h.env);
    expect(logout.exitCode, logout.stderr).toBe(0);
    expect(JSON.parse(logout.stdout)).toMatchObject({ removed: [] });
  });

  it('refuses unknown options, values on flags, flags of other commands and stray arguments, with exit 2', async () => {
    const h = await home();
    const cases: [string[], RegExp][] = [
      [
        ['refresh', '--bogus'],
        /^registry-login: unknown option "--bogus"; the options are --force, --json, --hook, --strict, --attach, --host, --help and --version/,
      ],
      [['refresh', '-x'], /^registry-login: unknown option "-x"/],
      [['refresh', '--json=yes'], /^registry-login: option --json takes no value \(found "--json=yes"\)/],
      [['status', '--force'], /^registry-login status: --force does not apply here/],
      [['refresh', 'extra'], /^registry-login refresh: unexpected argument "extra"/],
      [
        ['frobnicate'],
        /^registry-login: unknown command "frobnicate"; the commands are refresh, status, check and logout/,
      ],
      [[], /^Usage: registry-login <command>/],
    ];
    for (const [args, message] of cases) {
      const r = await runAgent(args, h.env);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    // Nothing was written by any of them.
    await expect(stat(h.configPath)).rejects.toThrow(/ENOENT/);
  });
});

describe('the credential helper reads stdin', () => {
  it('from a non-blocking pipe whose writer is slow', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    // A FIFO opened non-blocking: read(2) answers EAGAIN until the writer below sends the server name.
    const fifo = path.join(await tmp.make(), 'stdin');
    await execa('mkfifo', [fifo]);
    const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeEnd = openSync(fifo, constants.O_WRONLY);
    try {
      const run = spawnLauncher('docker-credential-registry-login', ['get'], h.env, [readEnd, 'pipe', 'pipe']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeSync(writeEnd, SERVER);
      closeSync(writeEnd);
      expect(await run.exited, run.out.stderr).toBe(0);
      expect(JSON.parse(run.out.stdout)).toEqual({ ServerURL: SERVER, Username: 'someone', Secret: SECRET });
    } finally {
      closeSync(readEnd);
    }
  });

  it('from a file, and an empty stdin is "not found"', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const dir = await tmp.make();
    await mkdir(dir, { recursive: true });
    const input = path.join(dir, 'server');
    await writeFile(input, `${SERVER}\n`);
    const fromFile = await execa(path.join(BIN, 'docker-credential-registry-login'), ['get'], {
      env: h.env,
      extendEnv: false,
      inputFile: input,
      reject: false,
    });
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ Secret: SECRET });
    const empty = await execa(path.join(BIN, 'docker-credential-registry-login'), ['get'], {
      env: h.env,
      extendEnv: false,
      input: '',
      reject: false,
    });
    expect(empty.exitCode).toBe(1);
    expect(empty.stdout.trim()).toBe('credentials not found in native keychain');
  });
});
