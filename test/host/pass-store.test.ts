// refresh/status/logout --host with a real credential store: Debian's docker-credential-pass over `pass` with a
// throwaway GPG key. The docker CLI itself is the oracle for where `docker login` keeps a login and what it sends.
import { execa } from 'execa';
import { createHash, createHmac } from 'node:crypto';
import { readFile, writeFile, mkdir, mkdtemp, readdir, rm, lstat } from 'node:fs/promises';
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
// Sorts before USER: docker-credential-pass keeps one login per user name and answers with the first.
const LATER = { user: 'admin', password: 'a-later-docker-login-31' };

let registry: RunningRegistry;
let engine: FakeEngine;
let helpers: string;
const tmp = new TempDirs();
const stores: PassHome[] = [];
/** Per-test stand-ins for $XDG_RUNTIME_DIR (a tmpfs the user owns), so that a test can play a restart. */
const runtimeDirs: string[] = [];

beforeAll(async () => {
  [registry, engine, helpers] = await Promise.all([
    startRegistry({ auth: { kind: 'htpasswd', users: [{ user: USER, password: PASSWORD }, OTHER, LATER] } }),
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
  await Promise.all(runtimeDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  await tmp.cleanup();
});

interface PassWorld {
  h: AgentHome;
  /** $XDG_RUNTIME_DIR of this world: memory, gone at a restart. */
  runtime: string;
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
  if ((await lstat('/dev/shm').catch(() => undefined))?.isDirectory() !== true)
    throw new Error('these tests need /dev/shm (a tmpfs) to stand in for $XDG_RUNTIME_DIR');
  const runtime = await mkdtemp('/dev/shm/rl-test-runtime-');
  runtimeDirs.push(runtime);
  const h = await makeAgentHome(dir, { XDG_RUNTIME_DIR: runtime });
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
    runtime,
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
    // The ledger forgot it too: a second logout has nothing to remove and nothing to warn about.
    const second = await runAgent(['logout', '--host', '--json'], w.env);
    expect(second.stderr).toBe('');
    expect(JSON.parse(second.stdout)).toMatchObject({ removed: [] });
    expect(second.stdout).not.toContain(registry.host);
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

/** A world where refresh --host stored ACME's login, and then the user ran `docker login` as LATER. */
async function refreshedThenDockerLogin(config: string): Promise<PassWorld> {
  const w = await passWorld(config);
  expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
  const login = await dockerLogin(registry.host, LATER.user, LATER.password, {
    dockerConfigDir: w.h.dockerConfigDir,
    env: w.h.env,
  });
  expect(login.stderr + login.stdout).toContain('Login Succeeded');
  return w;
}

/** Every file under dir (not following links), as text. */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile()) out.set(file, await readFile(file, 'latin1'));
  }
  return out;
}

/**
 * What an attacker holding copies of these files can test a password guess against: every value in them is tried as
 * the key (as text and hex-decoded) of an HMAC-SHA-256, or no key (SHA-256), over the fingerprint's message as the
 * source gives it, and compared with every value in them. Returns the files where the guess was confirmed.
 */
function confirmedBy(files: Map<string, string>, key: string, user: string, guess: string): string[] {
  const values = new Set<string>();
  for (const text of files.values()) for (const m of text.matchAll(/[A-Za-z0-9+/=_-]{16,}/g)) values.add(m[0]);
  const messages = [`registry-login host v1\0${key}\0${user}\0${guess}`, `${key}\0${user}\0${guess}`, guess];
  const keys: (string | Buffer)[] = [
    ...values,
    ...[...values].filter((v) => /^([0-9a-f]{2})+$/.test(v)).map((v) => Buffer.from(v, 'hex')),
  ];
  const digests = new Set<string>();
  for (const message of messages) {
    const plain = createHash('sha256').update(message).digest();
    digests.add(plain.toString('hex')).add(plain.toString('base64'));
    for (const k of keys) {
      const mac = createHmac('sha256', k).update(message).digest();
      digests.add(mac.toString('hex')).add(mac.toString('base64'));
    }
  }
  return [...files].filter(([, text]) => [...digests].some((d) => text.includes(d))).map(([file]) => file);
}

describe('what a copy of the persistent files reveals', () => {
  it('holds nothing a password guess can be tested against, and the memory key does', async () => {
    const w = await passWorld('{"credsStore": "pass"}');
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    // Everything on disk the user owns, but the encrypted store and its GPG key (the keychain the attacker lacks).
    const persistent = await filesUnder(w.h.home);
    for (const file of persistent.keys())
      if (file.includes(`${path.sep}.password-store${path.sep}`) || file.includes(`${path.sep}.gnupg${path.sep}`))
        persistent.delete(file);
    expect([...persistent.keys()].some((f) => f.includes('host-ledger-'))).toBe(true);
    expect(confirmedBy(persistent, registry.host, USER, PASSWORD)).toEqual([]);
    // The same attack with the memory directory as well (what only this boot's session holds) finds the fingerprint:
    // the attack is the right one, and the ledger is where it looks.
    const withMemory = new Map([...persistent, ...(await filesUnder(w.runtime))]);
    const found = confirmedBy(withMemory, registry.host, USER, PASSWORD);
    expect(found.some((f) => f.includes('host-ledger-'))).toBe(true);
    expect(confirmedBy(withMemory, registry.host, USER, 'Summer2024!')).toEqual([]);
  });

  it("keeps no fingerprint of registry-login's secret once a docker login replaced it in the config file", async () => {
    const w = await refreshedThenDockerLogin('{"auths": {"elsewhere.example.com": {}}}');
    const kept = await runAgent(['refresh', '--host', '--json'], w.env);
    expect(JSON.parse(kept.stdout).logins[0]).toMatchObject({ status: 'kept', store: 'file' });

    const persistent = await filesUnder(w.h.home);
    for (const file of persistent.keys()) if (file.includes(`${path.sep}.gnupg${path.sep}`)) persistent.delete(file);
    expect(await readFile(w.h.configPath, 'utf8')).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    expect(confirmedBy(persistent, registry.host, USER, PASSWORD)).toEqual([]);
    const status = await runAgent(['status', '--host', '--json'], w.env);
    expect(JSON.parse(status.stdout).logins[0]).toMatchObject({ store: 'file', effective: false });
    expect(JSON.parse(status.stdout).logins[0].reason).toContain('another login');
    expect((await runAgent(['logout', '--host'], w.env)).exitCode).toBe(0);
    expect(await readFile(w.h.configPath, 'utf8')).toContain(
      Buffer.from(`${LATER.user}:${LATER.password}`).toString('base64'),
    );
  });

  it('an unchanged login costs no store call; after a restart one get re-keys it', async () => {
    const w = await passWorld('{"credsStore": "pass"}');
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    const stored = (await w.calls()).length;
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    expect((await w.calls()).slice(stored)).toEqual([]);

    // A restart empties the memory directory.
    await rm(path.join(w.runtime, 'registry-login'), { recursive: true });
    const rekey = await runAgent(['refresh', '--host', '--json'], w.env);
    expect(rekey.exitCode).toBe(0);
    expect(JSON.parse(rekey.stdout).logins[0]).toMatchObject({ status: 'ok', changed: false });
    expect((await w.calls()).slice(stored)).toEqual(['get']);
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    expect((await w.calls()).slice(stored)).toEqual(['get']);
    const status = await runAgent(['status', '--host', '--json'], w.env);
    expect(JSON.parse(status.stdout).logins[0]).toMatchObject({ effective: true });
  });

  it('a changed static secret replaces the old one in the store, but after a restart only with --force', async () => {
    const w = await passWorld('{"credsStore": "pass"}');
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    // The same boot: the memory key proves the old login is registry-login's.
    const changed = await runAgent(['refresh', '--host', '--json'], {
      ...w.env,
      ...triple('ACME', registry.host, USER, LATER.password),
    });
    expect(JSON.parse(changed.stdout).logins[0]).toMatchObject({ status: 'ok', store: 'pass', changed: true });
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Secret: LATER.password });

    await rm(path.join(w.runtime, 'registry-login'), { recursive: true });
    const rotated = { ...w.env, ...triple('ACME', registry.host, USER, OTHER.password) };

    // Nothing proves the old login in the store is registry-login's any more: it is left alone, as a docker login is.
    const kept = await runAgent(['refresh', '--host', '--json'], rotated);
    expect(kept.exitCode).toBe(0);
    expect(JSON.parse(kept.stdout).logins[0]).toMatchObject({ status: 'kept', store: 'pass' });
    expect(kept.stderr).toContain('cannot be told');
    expect(kept.stderr).toContain('--force');
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Secret: LATER.password });

    expect((await runAgent(['refresh', '--host', '--force'], rotated)).exitCode).toBe(0);
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Secret: OTHER.password });
  });

  it('after a restart, logout --host removes the login only when the environment proves it is ours', async () => {
    const w = await passWorld('{"credsStore": "pass"}');
    expect((await runAgent(['refresh', '--host'], w.env)).exitCode).toBe(0);
    await rm(path.join(w.runtime, 'registry-login'), { recursive: true });

    // Without the secret, nothing tells registry-login's login from a `docker login`: it stays, and the warning says so.
    const blind = await runAgent(['logout', '--host'], w.h.env);
    expect(blind.exitCode).toBe(0);
    expect(blind.stderr).toContain('cannot be told');
    expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({ Username: USER });

    const proven = await runAgent(['logout', '--host'], w.env);
    expect(proven.stdout).toContain(`logged out of ${registry.host}`);
    expect(JSON.parse((await w.pass('list', '')).stdout)).toEqual({});
  });
});

describe('refresh --host --force after a later docker login', () => {
  for (const [where, config, store] of [
    ['a credential store', '{"credsStore": "pass"}', 'pass'],
    ['the config file', '{"auths": {"elsewhere.example.com": {}}}', 'file'],
  ] as const) {
    it(`puts registry-login's login back in ${where}, and status says it is effective again`, async () => {
      const w = await refreshedThenDockerLogin(config);
      const before = await runAgent(['status', '--host', '--json'], w.env);
      expect(JSON.parse(before.stdout).logins[0]).toMatchObject({ store, effective: false });

      const forced = await runAgent(['refresh', '--host', '--force', '--json'], w.env);
      expect(forced.exitCode).toBe(0);
      expect(JSON.parse(forced.stdout).logins[0]).toMatchObject({ status: 'ok', store, changed: true });
      if (store === 'pass') {
        expect(JSON.parse((await w.pass('get', registry.host)).stdout)).toMatchObject({
          Username: USER,
          Secret: PASSWORD,
        });
      } else {
        const auths = (JSON.parse(await readFile(w.h.configPath, 'utf8')) as { auths: Record<string, unknown> }).auths;
        expect(auths[registry.host]).toEqual({ auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') });
      }
      const after = await runAgent(['status', '--host', '--json'], w.env);
      expect(JSON.parse(after.stdout).logins).toEqual([
        { prefix: 'ACME', key: registry.host, kind: 'static', store, effective: true },
      ]);
      // What docker sends now is registry-login's login.
      const pull = await dockerPull(`${registry.host}/team/app:v1`, {
        dockerConfigDir: w.h.dockerConfigDir,
        engine,
        env: w.h.env,
      });
      expect(pull.auth).toMatchObject({ username: USER, password: PASSWORD });
    });
  }
});
