// The core promise, with real parts: secrets in the environment become logins that skopeo and the docker CLI use.
import { chmod, mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, runHelper, triple, type AgentHome } from '../support/agent.js';
import { dockerLogin, dockerLogout } from '../support/docker-cli.js';
import { dockerPull, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { pushTestImage } from '../support/oci-image.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { skopeoInspect } from '../support/skopeo.js';
import { TempDirs } from '../support/tmp.js';

const USER = 'octo';
const PASSWORD = 'correct-horse-battery-staple';
const OTHER = { user: 'hubot', password: 'another-secret-value' };

let registry: RunningRegistry;
let engine: FakeEngine;
const tmp = new TempDirs();

beforeAll(async () => {
  registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: USER, password: PASSWORD }, OTHER] } });
  await pushTestImage(registry.host, 'team/app', 'v1', { creds: { user: USER, password: PASSWORD } });
  engine = await startFakeEngine();
});
afterAll(async () => {
  await registry?.stop();
  await engine?.stop();
});
afterEach(() => tmp.cleanup());

async function home(extra: Record<string, string> = {}): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-login-'), extra);
}

/** A stand-in for the credsStore VS Code (dev-containers-<id>) or DevPod injects: it knows nothing. */
async function emptyCredsStore(dir: string, name: string): Promise<string> {
  const bin = path.join(dir, 'store-bin');
  await mkdir(bin, { recursive: true });
  const file = path.join(bin, `docker-credential-${name}`);
  await writeFile(
    file,
    '#!/bin/sh\ncase "$1" in\n  get) echo "credentials not found in native keychain"; exit 1;;\n  list) echo "{}";;\n  *) cat >/dev/null;;\nesac\n',
  );
  await chmod(file, 0o755);
  return bin;
}

describe('refresh with a real registry', () => {
  it('writes a login that skopeo uses with nothing but the docker config', async () => {
    const h = await home(triple('ACME', `http://${registry.host}/team`, USER, PASSWORD));
    const before = await skopeoInspect(`docker://${registry.host}/team/app:v1`, { dockerConfigDir: h.dockerConfigDir });
    expect(before.ok).toBe(false);
    const result = await runAgent(['refresh'], h.env);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(registry.host);
    const inspect = await skopeoInspect(`docker://${registry.host}/team/app:v1`, {
      dockerConfigDir: h.dockerConfigDir,
      env: { PATH: h.env.PATH },
    });
    expect(inspect.stderr).toBe('');
    expect(inspect.ok).toBe(true);
    expect((await stat(h.configPath)).mode & 0o777).toBe(0o600);
    expect((await stat(h.dockerConfigDir)).mode & 0o777).toBe(0o700);
  });

  it('writes a login that fails in skopeo when the secret is wrong', async () => {
    const h = await home(triple('ACME', registry.host, USER, 'wrong-password'));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const inspect = await skopeoInspect(`docker://${registry.host}/team/app:v1`, {
      dockerConfigDir: h.dockerConfigDir,
      env: { PATH: h.env.PATH },
    });
    expect(inspect.ok).toBe(false);
    expect(inspect.stderr).toMatch(/unauthorized|authentication required/i);
  });

  it('wins over a credsStore that knows nothing, as VS Code and DevPod inject', async () => {
    const dir = await tmp.make('rl-store-');
    const storeBin = await emptyCredsStore(dir, 'dev-containers-test');
    const h = await home(triple('ACME', registry.host, USER, PASSWORD));
    h.env.PATH = `${storeBin}:${h.env.PATH}`;
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, JSON.stringify({ credsStore: 'dev-containers-test' }, null, '\t'));

    // Control: an auths entry alone is shadowed by the credsStore — the CLI sends nothing.
    await writeFile(
      h.configPath,
      JSON.stringify(
        {
          credsStore: 'dev-containers-test',
          auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
        },
        null,
        '\t',
      ),
    );
    const shadowed = await dockerPull(`${registry.host}/team/app:v1`, {
      engine,
      dockerConfigDir: h.dockerConfigDir,
      env: h.env,
    });
    expect(shadowed.reachedEngine).toBe(true);
    expect(shadowed.auth?.username ?? null).toBeNull();

    await writeFile(h.configPath, JSON.stringify({ credsStore: 'dev-containers-test' }, null, '\t'));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const pulled = await dockerPull(`${registry.host}/team/app:v1`, {
      engine,
      dockerConfigDir: h.dockerConfigDir,
      env: h.env,
    });
    expect(pulled.auth).toMatchObject({ username: USER, password: PASSWORD });
    const config = JSON.parse(await readFile(h.configPath, 'utf8')) as Record<string, unknown>;
    expect(config.credsStore).toBe('dev-containers-test');
    expect(config.credHelpers).toEqual({ [registry.host]: 'registry-login' });
  });

  it('falls back to auths when the helper is not on PATH', async () => {
    const h = await home(triple('ACME', registry.host, USER, PASSWORD));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const pulled = await dockerPull(`${registry.host}/team/app:v1`, {
      engine,
      dockerConfigDir: h.dockerConfigDir,
      env: { ...h.env, PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    expect(pulled.auth).toMatchObject({ username: USER, password: PASSWORD });
  });

  it('lets docker login and docker logout on a managed registry behave as users expect', async () => {
    const h = await home(triple('ACME', registry.host, USER, PASSWORD));
    const docker = { dockerConfigDir: h.dockerConfigDir, env: h.env };
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);

    const login = await dockerLogin(registry.host, OTHER.user, OTHER.password, docker);
    expect(login.stderr).not.toMatch(/not implemented/i);
    expect(login.ok).toBe(true);
    expect((await dockerPull(`${registry.host}/team/app:v1`, { engine, ...docker })).auth).toMatchObject({
      username: OTHER.user,
      password: OTHER.password,
    });
    const list = await runHelper('list', '', h.env);
    expect(JSON.parse(list.stdout)).toEqual({ [registry.host]: OTHER.user });

    // The user's own login is left alone by refresh, with a warning saying how to hand it back.
    const refresh = await runAgent(['refresh'], h.env);
    expect(refresh.exitCode).toBe(0);
    expect(refresh.stderr).toMatch(/ACME: the docker config entry for .* was changed outside registry-login/);
    expect((await dockerPull(`${registry.host}/team/app:v1`, { engine, ...docker })).auth).toMatchObject({
      username: OTHER.user,
    });

    const logout = await dockerLogout(registry.host, docker);
    expect(logout.ok).toBe(true);
    expect((await dockerPull(`${registry.host}/team/app:v1`, { engine, ...docker })).auth?.username ?? null).toBeNull();

    // The secret is still there, so the next refresh (every start) logs in again.
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    expect((await dockerPull(`${registry.host}/team/app:v1`, { engine, ...docker })).auth).toMatchObject({
      username: USER,
      password: PASSWORD,
    });
  });

  it('removes the login when its secret goes away and restores what it displaced', async () => {
    const h = await home();
    await mkdir(h.dockerConfigDir, { recursive: true });
    const original = `{\n\t"auths": {\n\t\t"${registry.host}": {\n\t\t\t"auth": "${Buffer.from('old:old').toString('base64')}"\n\t\t},\n\t\t"other.example": {}\n\t},\n\t"psFormat": "table {{.ID}}",\n\t"x-unknown": {"keep": [1, 2, 3]}\n}\n`;
    await writeFile(h.configPath, original);
    const stays = triple('STAYS', 'stays.example.com', 'u', 'stays-secret');
    expect(
      (await runAgent(['refresh'], { ...h.env, ...stays, ...triple('ACME', registry.host, USER, PASSWORD) })).exitCode,
    ).toBe(0);
    expect(await readFile(h.configPath, 'utf8')).not.toBe(original);
    const gone = await runAgent(['refresh', '--json'], { ...h.env, ...stays });
    expect(gone.exitCode).toBe(0);
    expect(JSON.parse(gone.stdout)).toMatchObject({ removed: [registry.host], problems: [] });
    const config = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths: Record<string, unknown> };
    expect(config.auths[registry.host]).toEqual({ auth: Buffer.from('old:old').toString('base64') });
    expect((await runAgent(['logout', 'stays.example.com'], h.env)).exitCode).toBe(0);
    expect(JSON.parse(await readFile(h.configPath, 'utf8'))).toEqual(JSON.parse(original));
  });

  it("keeps the hooks' logins in a shell that no secret reaches, and logs out in a hook that sees none", async () => {
    const h = await home();
    expect(
      (await runAgent(['refresh', '--hook'], { ...h.env, ...triple('ACME', registry.host, USER, PASSWORD) })).exitCode,
    ).toBe(0);
    const shell = await runAgent(['refresh', '--json'], h.env);
    expect(shell.exitCode).toBe(0);
    expect(JSON.parse(shell.stdout)).toMatchObject({ removed: [] });
    expect(shell.stderr).toMatch(
      new RegExp(
        `no \\*_CONTAINER_REGISTRY_\\* variables are set in this environment, so the login made earlier \\(${registry.host.replace(/\./g, '\\.')}\\) was kept`,
      ),
    );
    expect(JSON.parse(await readFile(h.configPath, 'utf8'))).toMatchObject({ auths: { [registry.host]: {} } });
    const hook = await runAgent(['refresh', '--hook', '--json'], h.env);
    expect(JSON.parse(hook.stdout)).toMatchObject({ removed: [registry.host] });
    expect(JSON.parse(await readFile(h.configPath, 'utf8'))).toEqual({});
  });

  it('answers the credential helper protocol', async () => {
    const h = await home(triple('ACME', registry.host, USER, PASSWORD));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const get = await runHelper('get', `${registry.host}\n`, h.env);
    expect(get.exitCode).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ ServerURL: registry.host, Username: USER, Secret: PASSWORD });
    const missing = await runHelper('get', 'unknown.example.com', h.env);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout.trim()).toBe('credentials not found in native keychain');
    const version = await runHelper('version', '', h.env);
    expect(version.stdout).toMatch(/^docker-credential-registry-login \(registry-login\) \d+\.\d+\.\d+$/m);
    const list = await runHelper('list', '', h.env);
    expect(JSON.parse(list.stdout)).toEqual({ [registry.host]: USER });
  });
});
