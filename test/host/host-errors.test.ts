// refresh --host when things are wrong: a store that is missing, fails or hangs; a helper that cannot store; a user's
// own login; bad secrets; a config that is not JSON. Each says what is wrong and what to do, with no secret, and
// never loses a byte of the config.
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const KEY = 'registry.example.com:5000';
const PASSWORD = 'host-error-secret-9f3e';
const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

/** A home whose config holds text (when given) and whose PATH has a directory of fake helpers first. */
async function world(
  config: string | undefined,
  helpers: Record<string, string> = {},
): Promise<{ h: AgentHome; env: Record<string, string>; dir: string }> {
  const dir = await tmp.make('rl-host-err-');
  const h = await makeAgentHome(dir);
  const bin = path.join(dir, 'helpers');
  await mkdir(bin);
  for (const [name, script] of Object.entries(helpers)) {
    await writeFile(path.join(bin, `docker-credential-${name}`), script);
    await chmod(path.join(bin, `docker-credential-${name}`), 0o755);
  }
  h.env.PATH = `${bin}:${h.env.PATH}`;
  if (config !== undefined) {
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, config);
  }
  return { h, dir, env: { ...h.env, ...triple('ACME', KEY, 'robot', PASSWORD) } };
}

function expectNoSecret(output: { stdout: string; stderr: string }): void {
  for (const form of [PASSWORD, Buffer.from(`robot:${PASSWORD}`).toString('base64')])
    expect(output.stdout + output.stderr).not.toContain(form);
}

describe('a store that cannot answer', () => {
  it('names a missing helper and the fix, changes nothing, and exits 1 (0 with --hook)', async () => {
    const config = '{\n  "credsStore": "nothere",\n  "x": [1, 2]\n}\n';
    const { h, env } = await world(config);
    const run = await runAgent(['refresh', '--host'], env);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('docker-credential-nothere');
    expect(run.stderr).toContain('is not on PATH');
    expect(run.stderr).toContain(`remove "credsStore" from ${h.configPath}`);
    expectNoSecret(run);
    expect(await readFile(h.configPath, 'utf8')).toBe(config);
    const hook = await runAgent(['refresh', '--host', '--hook'], env);
    expect(hook.exitCode).toBe(0);
    expect(hook.stderr).toContain('docker-credential-nothere');
  });

  it('reports a failing helper without echoing what it printed of the secret', async () => {
    const { env } = await world('{"credsStore": "broken"}', {
      broken:
        '#!/bin/sh\ncase "$1" in get) echo "credentials not found in native keychain"; exit 1;; esac\necho "refused: $(cat)"; exit 1\n',
    });
    const run = await runAgent(['refresh', '--host'], env);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('docker-credential-broken (credsStore "broken"');
    expect(run.stderr).toContain('failed to store the login');
    expectNoSecret(run);
  });

  it('stops a hanging helper (and what it started) in bounded time', async () => {
    const { env, dir } = await world('{"credsStore": "stuck"}');
    await writeFile(
      path.join(dir, 'helpers', 'docker-credential-stuck'),
      `#!/bin/sh\nsleep 600 &\necho $! > '${path.join(dir, 'pid')}'\nwait\n`,
    );
    await chmod(path.join(dir, 'helpers', 'docker-credential-stuck'), 0o755);
    const started = Date.now();
    const run = await runAgent(['refresh', '--host'], env, { timeoutMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('docker-credential-stuck');
    expect(run.stderr).toContain('did not answer `get`');
    const pid = Number(await readFile(path.join(dir, 'pid'), 'utf8'));
    // Gone, or a zombie waiting for a reaper that is not ours to be: either way no longer running.
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
      (stat) => /\) (\S)/.exec(stat)?.[1],
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  }, 70_000);
});

describe('logins left alone', () => {
  it('leaves a key whose credHelpers entry names a helper that cannot store (ecr-login), and says so', async () => {
    const config = `{"credHelpers": {"${KEY}": "ecr-login"}}`;
    const { h, env } = await world(config);
    const run = await runAgent(['refresh', '--host', '--json'], env);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).logins[0]).toMatchObject({ key: KEY, status: 'kept', store: 'ecr-login' });
    expect(run.stderr).toContain('docker-credential-ecr-login');
    expect(await readFile(h.configPath, 'utf8')).toBe(config);
  });

  it("does not overwrite the user's own auths entry without --force, and never writes credHelpers", async () => {
    const own = Buffer.from('me:my-own-password').toString('base64');
    const config = `{\n\t"auths": {\n\t\t"${KEY}": {\n\t\t\t"auth": "${own}"\n\t\t}\n\t}\n}`;
    const { h, env } = await world(config);
    const run = await runAgent(['refresh', '--host'], env);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('did not store');
    expect(run.stderr).toContain('--force');
    expect(await readFile(h.configPath, 'utf8')).toBe(config);
    const forced = await runAgent(['refresh', '--host', '--force'], env);
    expect(forced.exitCode).toBe(0);
    const written = await readFile(h.configPath, 'utf8');
    expect(JSON.parse(written)).toEqual({
      auths: { [KEY]: { auth: Buffer.from(`robot:${PASSWORD}`).toString('base64') } },
    });
    expect(written).not.toContain('credHelpers');
  });

  it('never removes a host login when its triple is gone', async () => {
    const { h, env } = await world(undefined);
    expect((await runAgent(['refresh', '--host'], env)).exitCode).toBe(0);
    const text = await readFile(h.configPath, 'utf8');
    const empty = await runAgent(['refresh', '--host', '--hook'], h.env);
    expect(empty.exitCode).toBe(0);
    expect(await readFile(h.configPath, 'utf8')).toBe(text);
  });
});

describe('the host ledger', () => {
  it('is refused when other users may write it: it decides what logout --host erases', async () => {
    const { h, env } = await world(undefined);
    expect((await runAgent(['refresh', '--host'], env)).exitCode).toBe(0);
    const state = path.join(h.home, '.local', 'state', 'registry-login');
    const [name] = (await readdir(state)).filter((n) => n.startsWith('host-ledger-'));
    const ledger = path.join(state, name!);
    await chmod(ledger, 0o666);
    const config = await readFile(h.configPath, 'utf8');
    for (const args of [
      ['refresh', '--host'],
      ['status', '--host'],
      ['logout', '--host'],
    ]) {
      const run = await runAgent(args, env);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(
        `${ledger} can be written by other users (mode 0666), so registry-login does not trust it`,
      );
      expectNoSecret(run);
    }
    expect(await readFile(h.configPath, 'utf8')).toBe(config);
    await chmod(ledger, 0o600);
    const logout = await runAgent(['logout', '--host'], env);
    expect(logout.exitCode).toBe(0);
    expect(logout.stdout).toContain(`logged out of ${KEY}`);
  });
});

describe('bad input', () => {
  it('names the missing variable, exits 1 (0 with --hook), and prints no secret', async () => {
    const { env } = await world(undefined);
    delete env.ACME_CONTAINER_REGISTRY_USER;
    const run = await runAgent(['refresh', '--host'], env);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('ACME_CONTAINER_REGISTRY_USER');
    expectNoSecret(run);
    expect((await runAgent(['refresh', '--host', '--hook'], env)).exitCode).toBe(0);
  });

  it('never overwrites a config that is not JSON', async () => {
    const config = `{"auths": {"other.example": {"auth": "c2VjcmV0"}},,}`;
    const { h, env } = await world(config);
    for (const args of [
      ['refresh', '--host'],
      ['logout', '--host'],
      ['status', '--host'],
    ]) {
      const run = await runAgent(args, env);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(h.configPath);
      expect(run.stderr).toContain('not valid JSON');
      expect(run.stderr).not.toContain('c2VjcmV0');
    }
    expect((await runAgent(['refresh', '--host', '--hook'], env)).exitCode).toBe(0);
    expect(await readFile(h.configPath, 'utf8')).toBe(config);
  });

  it('refuses --host where it does not apply', async () => {
    const { env } = await world(undefined);
    const run = await runAgent(['check', '--host'], env);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--host does not apply here');
  });
});
