// The helper client: which names and paths it runs, the environment a helper gets, and how every call ends (exit,
// deadline, too much output, a program that cannot start) with small shell scripts as helpers.
import { readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NOT_FOUND_MESSAGE,
  findHelper,
  helperEnvironment,
  isHelperName,
  runHelper,
  saysNotFound,
} from '../../src/docker/helper-client.js';
import { programFinder } from '../../src/programs.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

async function helper(body: string, name = 'docker-credential-test'): Promise<{ program: string; dir: string }> {
  const dir = await tmp.make('rl-helper-client-');
  const program = path.join(dir, name);
  await writeFile(program, `#!/bin/sh\n${body}`);
  await chmod(program, 0o755);
  return { program, dir };
}

/** Whether pid still runs: gone, or a zombie waiting for a reaper that is not ours to be, is not running. */
function running(pid: number): boolean {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] !== 'Z';
  } catch {
    return false;
  }
}

describe('isHelperName', () => {
  it.each([
    ['pass', true],
    ['desktop.exe', true],
    ['ecr-login', true],
    ['', false],
    ['x/../../tmp/evil', false],
    ['sub/helper', false],
    ['win\\helper', false],
    ['..', false],
    ['a..b', false],
  ])('%j → %s', (name, ok) => expect(isHelperName(name)).toBe(ok));
});

describe('findHelper and programFinder', () => {
  it('looks only in absolute PATH folders, and refuses a name that leads out of them', async () => {
    const { dir } = await helper('exit 0\n', 'docker-credential-here');
    const relative = path.relative(process.cwd(), dir);
    expect(findHelper('here', programFinder({ PATH: `.:${relative}::bin` }))).toEqual({ kind: 'missing' });
    expect(findHelper('here', programFinder({ PATH: `${relative}:${dir}` }))).toEqual({
      kind: 'found',
      path: path.join(dir, 'docker-credential-here'),
    });
    const escape = `x/${'../'.repeat(16)}${dir.slice(1)}/docker-credential-here`;
    expect(findHelper(escape, programFinder({ PATH: dir }))).toEqual({ kind: 'bad-name' });
    expect(programFinder({ PATH: dir })(`docker-credential-${escape}`)).toBeUndefined();
  });
});

describe('helperEnvironment', () => {
  it('drops every *_CONTAINER_REGISTRY_* variable in any case and keeps the rest', () => {
    expect(
      helperEnvironment({
        HOME: '/h',
        ACME_CONTAINER_REGISTRY_PASSWORD: 'p',
        acme_container_registry_user: 'u',
        X_CONTAINER_REGISTRY_ROLE_ARN: 'r',
        AWS_PROFILE: 'dev',
        REGISTRY_LOGIN_CHECK_TIMEOUT: '5',
        CONTAINER_REGISTRY_NOTE: 'kept: no prefix',
      }),
    ).toEqual({
      HOME: '/h',
      AWS_PROFILE: 'dev',
      REGISTRY_LOGIN_CHECK_TIMEOUT: '5',
      CONTAINER_REGISTRY_NOTE: 'kept: no prefix',
    });
  });
});

describe('runHelper', () => {
  it('passes the input on stdin and the action as its argument, and hands back what it printed', async () => {
    const { program } = await helper('echo "$1:$(cat)"; echo warn >&2\n');
    expect(await runHelper(program, 'store', '{"ServerURL":"r"}', { PATH: '/usr/bin:/bin' })).toEqual({
      kind: 'exited',
      ok: true,
      stdout: 'store:{"ServerURL":"r"}\n',
      stderr: 'warn\n',
    });
  });

  it('gives the helper the filtered environment', async () => {
    const { program } = await helper('env\n');
    const answer = await runHelper(program, 'get', 'r', {
      PATH: '/usr/bin:/bin',
      A_CONTAINER_REGISTRY_PASSWORD: 's',
      KEEP: '1',
    });
    expect(answer.kind === 'exited' && answer.stdout).toContain('KEEP=1');
    expect(answer.kind === 'exited' && answer.stdout).not.toContain('_CONTAINER_REGISTRY_');
  });

  it("tells the protocol's not-found answer from another failure", async () => {
    const notFound = await runHelper((await helper(`echo "${NOT_FOUND_MESSAGE}"; exit 1\n`)).program, 'get', 'r', {});
    expect(notFound).toMatchObject({ kind: 'exited', ok: false });
    expect(saysNotFound(notFound)).toBe(true);
    const broken = await runHelper((await helper('echo "no dbus"; exit 1\n')).program, 'get', 'r', {});
    expect(saysNotFound(broken)).toBe(false);
  });

  it('ends on the helper exit although a child in a session of its own keeps the pipes open', async () => {
    const { program } = await helper(`setsid sleep 600 &\necho $! > "$0.pid"\necho answered\n`);
    const answer = await runHelper(program, 'get', 'r', { PATH: '/usr/bin:/bin' }, 60_000);
    const child = Number(await readFile(`${program}.pid`, 'utf8'));
    try {
      expect(answer).toEqual({ kind: 'exited', ok: true, stdout: 'answered\n', stderr: '' });
      expect(running(child)).toBe(true); // the pipe really was still held
    } finally {
      process.kill(child, 'SIGKILL');
    }
  });

  it('kills the process group at the deadline, and does not wait for a child of its own session', async () => {
    const { program } = await helper(
      `setsid sleep 600 &\necho $! > "$0.session"\nsleep 600 &\necho $! > "$0.group"\nwait\n`,
    );
    const answer = await runHelper(program, 'get', 'r', { PATH: '/usr/bin:/bin' }, 500);
    const session = Number(await readFile(`${program}.session`, 'utf8'));
    const group = Number(await readFile(`${program}.group`, 'utf8'));
    try {
      expect(answer).toEqual({ kind: 'timed-out', deadlineMs: 500 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(running(group)).toBe(false);
    } finally {
      process.kill(session, 'SIGKILL');
    }
  });

  it('stops a helper that prints more than the limit', async () => {
    const { program } = await helper('exec yes\n');
    expect(await runHelper(program, 'list', '', { PATH: '/usr/bin:/bin' })).toEqual({ kind: 'too-much-output' });
  });

  it('reports a program that cannot start, and runs only absolute paths', async () => {
    const { program } = await helper('exit 0\n');
    await chmod(program, 0o644);
    expect(await runHelper(program, 'get', 'r', {})).toEqual({ kind: 'unrunnable', reason: 'EACCES' });
    expect(await runHelper('docker-credential-test', 'get', 'r', {})).toMatchObject({ kind: 'unrunnable' });
  });
});
