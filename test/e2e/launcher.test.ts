// The launchers as a process sees them: the Node.js they accept, the agent's compiled code (dist/registry-login.cjs),
// the name they were run by, the command line, and stdin.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { chmod, cp, readdir, readFile, stat, symlink, utimes, writeFile, mkdir } from 'node:fs/promises';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, REPO, makeAgentHome, readableInstall, runAgent, triple, type AgentHome } from '../support/agent.js';
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

const cacheDirOf = (h: AgentHome) => path.join(h.home, '.cache', 'registry-login');

/** The launcher's compiled-code files (code-*.bin) in a home's registry-login cache directory, sorted. */
async function codeFiles(h: AgentHome): Promise<string[]> {
  return (await readdir(cacheDirOf(h)).catch(() => [] as string[])).filter((n) => /^code-.*\.bin$/.test(n)).sort();
}

/** Each code file's inode and modification time: the same after a run that used the files and wrote none. */
async function codeStamps(h: AgentHome): Promise<string[]> {
  const files = await codeFiles(h);
  return Promise.all(
    files.map(async (n) => {
      const info = await stat(path.join(cacheDirOf(h), n), { bigint: true });
      return `${n} ${info.ino} ${info.mtimeNs}`;
    }),
  );
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
  it('is written by a run of each command into the 0700 cache directory, 0600, and used by the next', async () => {
    const h = await home();
    // A run that loads another file of dist/ (here the JSON editor, to write the new login) compiles for that path,
    // not for the runs that repeat: it writes no code file, and the next run does.
    const first = await runAgent(['refresh', '--json'], h.env);
    expect(first.exitCode, first.stderr).toBe(0);
    expect((await stat(cacheDirOf(h))).mode & 0o777).toBe(0o700);
    expect(await codeFiles(h)).toEqual([]);
    const second = await runAgent(['refresh', '--json'], h.env);
    expect(second.exitCode, second.stderr).toBe(0);
    const [refreshCode, ...none] = await codeFiles(h);
    expect(refreshCode, 'one code file after one run').toBeDefined();
    expect(none).toEqual([]);
    expect((await stat(path.join(cacheDirOf(h), refreshCode!))).mode & 0o777).toBe(0o600);
    // It begins with the stamp of the agent file it was compiled from.
    const head = (await readFile(path.join(cacheDirOf(h), refreshCode!))).subarray(0, 200).toString('latin1');
    expect(head).toMatch(new RegExp(`^registry-login code cache 1 ${process.version} \\d+ \\d+ [\\d.]+ [\\d.]+\n`));

    // The helper and another command each get a file of their own.
    const helper = await execa(path.join(BIN, 'docker-credential-registry-login'), ['get'], {
      env: h.env,
      extendEnv: false,
      input: SERVER,
      reject: false,
    });
    expect(JSON.parse(helper.stdout)).toEqual({ ServerURL: SERVER, Username: 'someone', Secret: SECRET });
    expect((await runAgent(['status'], h.env)).exitCode).toBe(0);
    const stamps = await codeStamps(h);
    expect(stamps).toHaveLength(3);

    // Used, not written again: V8 refusing a file (below) would have it written anew.
    const again = await runAgent(['refresh', '--json'], h.env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(second.stdout));
    const status = await runAgent(['status'], h.env);
    expect(status.stdout).toContain(SERVER);
    expect(await codeStamps(h)).toEqual(stamps);
  });

  it('is written anew when V8 refuses it, and the run still succeeds', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    expect((await runAgent(['status'], h.env)).exitCode).toBe(0);
    const [name] = await codeFiles(h);
    const file = path.join(cacheDirOf(h), name!);
    const bytes = await readFile(file);
    const stampLength = bytes.indexOf(0x0a) + 1;
    // The right stamp over code V8 cannot use: it must refuse it rather than run it.
    await writeFile(file, Buffer.concat([bytes.subarray(0, stampLength), Buffer.alloc(bytes.length - stampLength, 7)]));
    const run = await runAgent(['status'], h.env);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(SERVER);
    expect(run.stderr).toBe('');
    expect((await readFile(file)).subarray(stampLength, stampLength + 64).equals(Buffer.alloc(64, 7))).toBe(false);
  });

  it('that cannot be saved (a cache directory its owner cannot write) costs nothing else: same exit, no output', async () => {
    // As another user, so that the directory's mode binds (root writes anywhere).
    const install = await tmp.make('rl-launcher-install-');
    const bin = await readableInstall(install);
    const home = await tmp.make('rl-launcher-home-');
    const cache = path.join(home, '.cache', 'registry-login');
    await mkdir(cache, { recursive: true });
    await execa('chown', ['-R', '54321:54321', home]);
    await chmod(home, 0o700);
    await chmod(cache, 0o500);
    const env = {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: home,
      LANG: 'C.UTF-8',
      ...triple('ACME', SERVER, 'someone', SECRET),
    };
    for (const [args, code] of [
      [['bogus'], 2],
      [['--version'], 0],
    ] as const) {
      const run = await execa(
        'setpriv',
        ['--reuid=54321', '--regid=54321', '--clear-groups', path.join(bin, 'registry-login'), ...args],
        { env, extendEnv: false, reject: false },
      );
      expect(run.exitCode, run.stderr).toBe(code);
      if (code === 0) expect(run.stderr).toBe('');
      else expect(run.stderr).toMatch(/^registry-login: unknown command "bogus"/);
    }
    expect(await readdir(cache)).toEqual([]);
  });

  it('is not used with REGISTRY_LOGIN_CODE_CACHE=0, nor in a cache directory other users can write', async () => {
    const off = await home({ REGISTRY_LOGIN_CODE_CACHE: '0' });
    expect((await runAgent(['refresh'], off.env)).exitCode).toBe(0);
    expect((await runAgent(['status'], off.env)).exitCode).toBe(0);
    expect(await readdir(cacheDirOf(off)).catch(() => [])).toEqual([]);

    const shared = await home();
    await mkdir(cacheDirOf(shared), { recursive: true });
    await chmod(cacheDirOf(shared), 0o777);
    const run = await runAgent(['refresh'], shared.env);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readdir(cacheDirOf(shared))).toEqual([]);
  });

  it('removes the v8-*.bin files of the Node 20 builds on its first run, and nothing else there', async () => {
    const h = await home();
    const dir = cacheDirOf(h);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const old = ['v8-e5776c8a709abb42-41ac91ee5ee11765-cli.bin', 'v8-e5776c8a709abb42-41ac91ee5ee11765-helper.bin'];
    for (const name of [...old, 'ecr-token-0123456789abcdef.json', 'v8-notes.txt'])
      await writeFile(path.join(dir, name), 'x', { mode: 0o600 });
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    expect((await readdir(dir)).filter((n) => !/^code-.*\.bin$/.test(n)).sort()).toEqual([
      'ecr-token-0123456789abcdef.json',
      'node-compile-cache',
      'v8-notes.txt',
    ]);
  });

  it('follows a changed agent file: the next run runs the new code', async () => {
    const h = await home();
    const dist = await distCopy();
    const before = await runEntry(dist, ['bogus'], h.env);
    expect(before.stderr).toContain('unknown command "bogus"');
    expect(await codeFiles(h)).toHaveLength(1);
    // Same length, other code, and the same access and modification times: V8 checks only the length, so the stamp's
    // change time must tell them apart.
    const agent = path.join(dist, 'agent.cjs');
    const { atime, mtime } = await stat(agent);
    const source = await readFile(agent, 'utf8');
    const changed = source.replace(/unknown command "/, 'UNKNOWN command "');
    expect(changed.length).toBe(source.length);
    await writeFile(agent, changed);
    await utimes(agent, atime, mtime);
    const run = await runEntry(dist, ['bogus'], h.env);
    expect(run.stderr).toContain('UNKNOWN command "bogus"');
    expect(await codeFiles(h)).toHaveLength(1);
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

describe('the launchers', () => {
  it('run the credential helper by that name alone (a link to the CLI’s launcher too), and ignore REGISTRY_LOGIN_MODE', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const link = path.join(await tmp.make(), 'docker-credential-registry-login');
    await symlink(path.join(BIN, 'registry-login'), link);
    const helper = await execa(link, ['get'], { env: h.env, extendEnv: false, input: SERVER, reject: false });
    expect(helper.exitCode, helper.stderr).toBe(0);
    expect(JSON.parse(helper.stdout)).toEqual({ ServerURL: SERVER, Username: 'someone', Secret: SECRET });
    const cli = await runAgent(['status'], { ...h.env, REGISTRY_LOGIN_MODE: 'credential-helper' });
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(SERVER);
  });

  it('refuse a Node.js older than 22.12 with one line saying what to install, exit 2, and touch nothing', async () => {
    // The machine's own Node.js (Debian's), which must be older than 22.12 for this test to show anything.
    const old = '/usr/bin/node';
    const version = (await execa(old, ['--version'], { reject: false })).stdout;
    expect(version, `${old} must be a Node.js older than 22.12 (apt-get install nodejs on Debian 12 or 13)`).toMatch(
      /^v(1\d|20|21|22\.([0-9]|1[01]))\./,
    );
    const h = await home();
    for (const [name, input] of [
      ['registry-login', undefined],
      ['docker-credential-registry-login', SERVER],
    ] as const) {
      const r = await execa(old, [path.join(BIN, name), name === 'registry-login' ? 'refresh' : 'get'], {
        env: h.env,
        extendEnv: false,
        reject: false,
        ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      });
      expect(r.exitCode, name).toBe(2);
      expect(r.stdout, name).toBe('');
      expect(r.stderr, name).toBe(
        `registry-login needs Node.js 22.12 or later (this is ${version}); install Node.js 22 or 24 LTS, or use the Dev Container Feature, which brings its own`,
      );
    }
    expect(await readdir(h.home)).toEqual([]);
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
