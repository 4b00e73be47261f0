// refresh/status/logout --host with a real credential store: Debian's docker-credential-pass over `pass` with a
// throwaway GPG key. The docker CLI itself is the oracle for where `docker login` keeps a login and what it sends.
import { execa } from 'execa';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, NODE_DIR, makeAgentHome, runAgent, triple, type AgentHome } from '../support/agent.js';
import { dockerLogin } from '../support/docker-cli.js';
import { dockerPull, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { countingWrapper, credentialHelpersDir, initPassStore, type PassHome } from '../support/pass-store.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';

const USER = 'robot';
const PASSWORD = 'pass-store-secret-4c1d';
const OTHER = { user: 'someone', password: 'their-own-password-77' };

let registry: RunningRegistry;
let engine: FakeEngine;
let helpers: string;
const tmp = new TempDirs();
const stores: PassHome[] = [];

beforeAll(async () => {
  [registry, engine, helpers] = await Promise.all([
    startRegistry({ auth: { kind: 'htpasswd', users: [{ user: USER, password: PASSWORD }, OTHER] } }),
    startFakeEngine(),
    credentialHelpersDir(),
  ]);
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  await engine?.stop();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.stop()));
  await tmp.cleanup();
});

interface PassWorld {
  h: AgentHome;
  /** The environment with the registry triple. */
  env: Record<string, string>;
  /** Each docker-credential-pass action registry-login (or docker) ran, in order. */
  calls(): Promise<string[]>;
  pass(action: string, input: string): Promise<{ exitCode: number; stdout: string }>;
}

/** A home with a pass store, docker-credential-pass on PATH behind a wrapper that counts calls, and a config. */
async function passWorld(config: string | undefined): Promise<PassWorld> {
  const dir = await tmp.make('rl-host-pass-');
  const wrappers = path.join(dir, 'wrappers');
  const log = path.join(dir, 'calls.log');
  await countingWrapper(wrappers, 'pass', path.join(helpers, 'docker-credential-pass'), log);
  const h = await makeAgentHome(dir);
  h.env.PATH = `${wrappers}:${BIN}:${NODE_DIR}:/usr/local/bin:/usr/bin:/bin`;
  const store = await initPassStore(h.home, h.env.PATH);
  stores.push(store);
  Object.assign(h.env, store.env);
  if (config !== undefined) {
    await mkdir(h.dockerConfigDir, { recursive: true, mode: 0o700 });
    await writeFile(h.configPath, config, { mode: 0o600 });
  }
  return {
    h,
    env: { ...h.env, ...triple('ACME', registry.host, USER, PASSWORD) },
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean),
    pass: async (action, input) => {
      const r = await execa(path.join(helpers, 'docker-credential-pass'), [action], {
        input,
        env: h.env,
        extendEnv: false,
        reject: false,
      });
      return { exitCode: r.exitCode ?? -1, stdout: r.stdout };
    },
  };
}

function secretForms(): string[] {
  return [PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')];
}

describe('credsStore "pass"', () => {
  it('keeps the secret in the store, not in config.json, and docker sends it', async () => {
    const w = await passWorld('{\n\t"credsStore": "pass"\n}\n');
    const run = await runAgent(['refresh', '--host'], w.env);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('in docker-credential-pass');

    const listed = await w.pass('list', '');
    expect(JSON.parse(listed.stdout)).toMatchObject({ [registry.host]: USER });
    const got = await w.pass('get', registry.host);
    expect(JSON.parse(got.stdout)).toMatchObject({ Username: USER, Secret: PASSWORD });

    const text = await readFile(w.h.configPath, 'utf8');
    for (const form of secretForms()) expect(text).not.toContain(form);
    expect(JSON.parse(text)).toEqual({ credsStore: 'pass', auths: { [registry.host]: {} } });
    expect(text).not.toContain('registry-login');

    // The docker CLI, without registry-login on PATH, sends the login it finds in the store.
    const pull = await dockerPull(`${registry.host}/team/app:v1`, {
      dockerConfigDir: w.h.dockerConfigDir,
      engine,
      env: { ...w.h.env, PATH: w.h.env.PATH!.replace(`${BIN}:`, '') },
    });
    expect(pull.auth).toMatchObject({ username: USER, password: PASSWORD });
  });

  it('makes no store call for an unchanged login, and logout --host removes it again', async () => {
    const w = await passWorld('{"credsStore": "pass"}');
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    const first = await w.calls();
    expect(first).toContain('store');

    const again = await runAgent(['refresh', '--host', '--json'], w.env);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).logins).toEqual([
      { prefix: 'ACME', key: registry.host, kind: 'static', status: 'ok', store: 'pass', changed: false },
    ]);
    expect(await w.calls()).toEqual(first);

    const status = await runAgent(['status', '--host', '--json'], w.env);
    expect(JSON.parse(status.stdout).logins).toEqual([
      { prefix: 'ACME', key: registry.host, kind: 'static', store: 'pass', effective: true },
    ]);

    const logout = await runAgent(['logout', '--host'], w.env);
    expect(logout.stderr).toBe('');
    expect(logout.stdout).toContain(`logged out of ${registry.host}`);
    expect(JSON.parse((await w.pass('list', '')).stdout)).toEqual({});
    expect(JSON.parse(await readFile(w.h.configPath, 'utf8'))).toEqual({ credsStore: 'pass', auths: {} });
  });

  it("leaves a user's own login in the store alone unless --force is given", async () => {
    const w = await passWorld('{"credsStore": "pass"}');
    const login = await dockerLogin(registry.host, OTHER.user, OTHER.password, {
      dockerConfigDir: w.h.dockerConfigDir,
      env: w.h.env,
    });
    expect(login.stderr + login.stdout).toContain('Login Succeeded');

    const kept = await runAgent(['refresh', '--host', '--json'], w.env);
    expect(kept.exitCode).toBe(0);
    expect(JSON.parse(kept.stdout).logins[0]).toMatchObject({ status: 'kept', store: 'pass' });
    expect(kept.stderr).toContain('did not store');
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({
      Username: OTHER.user,
      Secret: OTHER.password,
    });
    for (const form of [...secretForms(), OTHER.password]) expect(kept.stdout + kept.stderr).not.toContain(form);

    // logout --host never touches what it did not store.
    await runAgent(['logout', '--host'], w.env);
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Username: OTHER.user });

    const forced = await runAgent(['refresh', '--host', '--force'], w.env);
    expect(forced.exitCode).toBe(0);
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Username: USER, Secret: PASSWORD });
  });
});

describe("docker's default store (no store named, pass on PATH)", () => {
  it('stores where docker login would, and writes the detected store into the config as docker login does', async () => {
    const w = await passWorld(undefined);
    const run = await runAgent(['refresh', '--host'], w.env);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Username: USER, Secret: PASSWORD });
    const ours = JSON.parse(await readFile(w.h.configPath, 'utf8')) as unknown;

    // The oracle: docker login in the same situation (a fresh config, the same PATH).
    const oracle = await passWorld(undefined);
    const login = await dockerLogin(registry.host, USER, PASSWORD, {
      dockerConfigDir: oracle.h.dockerConfigDir,
      env: oracle.h.env,
    });
    expect(login.stderr + login.stdout).toContain('Login Succeeded');
    expect(JSON.parse(await readFile(oracle.h.configPath, 'utf8'))).toEqual(ours);
    expect(ours).toEqual({ auths: { [registry.host]: {} }, credsStore: 'pass' });
  });
});
