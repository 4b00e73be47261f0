// Memory mode (REGISTRY_LOGIN_SECRETS=memory): the docker config holds only credHelpers lines and no persistent file
// holds a password in any encoding, while the real docker CLI and skopeo still pull with the login; a switch from
// config mode moves every secret out of persistent files; a lost memory does not shadow a foreign credsStore.
import { execa } from 'execa';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeAgentHome, runAgent, runHelper, triple, type AgentHome } from '../support/agent.js';
import { dockerLogin } from '../support/docker-cli.js';
import { dockerPull, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { pushTestImage } from '../support/oci-image.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { skopeoInspect } from '../support/skopeo.js';
import { TempDirs } from '../support/tmp.js';
import { startEcrStandIn } from '../support/ecr-stand-in.js';

const PASSWORD = 'mem-pw-Qz7Lk3Vb';
const STORED = 'stored-pw-Hn4Xc8Rw';
const DISPLACED = 'displaced-pw-Jt2Pm6Ys';
const FOREIGN = 'foreign-pw-Wd5Ne9Ka';

const dirs = new TempDirs();
const runtimes: string[] = [];
let registry: RunningRegistry;
let byHand: RunningRegistry;
let engine: FakeEngine;

beforeAll(async () => {
  registry = await startRegistry({
    auth: {
      kind: 'htpasswd',
      users: [
        { user: 'alice', password: PASSWORD },
        { user: 'bob', password: STORED },
      ],
    },
  });
  byHand = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'bob', password: STORED }] } });
  await pushTestImage(registry.host, 'private/app', 'v1', { creds: { user: 'alice', password: PASSWORD } });
  engine = await startFakeEngine();
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), byHand?.stop(), engine?.stop()]);
  await Promise.all(runtimes.map((dir) => rm(dir, { recursive: true, force: true })));
  await dirs.cleanup();
});

/** A fresh XDG_RUNTIME_DIR on the /dev/shm tmpfs, 0700 and this user's, so no test shares a memory directory. */
async function runtimeDir(): Promise<string> {
  const dir = await mkdtemp('/dev/shm/rl-mem-test-');
  await chmod(dir, 0o700);
  runtimes.push(dir);
  return dir;
}

async function memoryHome(extra: Record<string, string> = {}): Promise<AgentHome & { runtime: string }> {
  const runtime = await runtimeDir();
  const home = await makeAgentHome(await dirs.make('rl-mem-'), { XDG_RUNTIME_DIR: runtime, ...extra });
  return { ...home, runtime };
}

/** Every encoding of a password a file could hold it in. */
function encodings(user: string, password: string): string[] {
  return [
    password,
    Buffer.from(`${user}:${password}`).toString('base64'),
    JSON.stringify(password).slice(1, -1),
    Buffer.from(password).toString('base64'),
  ];
}

/** Every regular file under dir whose bytes contain one of the needles. */
function filesHolding(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const info = statSync(p, { throwIfNoEntry: false });
      if (!info) continue;
      if (info.isDirectory()) walk(p);
      else if (info.isFile()) {
        const text = readFileSync(p, 'latin1');
        if (needles.some((n) => text.includes(n))) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}

function config(home: AgentHome): Record<string, Record<string, unknown> | string> {
  return JSON.parse(readFileSync(home.configPath, 'utf8')) as Record<string, Record<string, unknown> | string>;
}

const memory = { REGISTRY_LOGIN_SECRETS: 'memory' };
const alice = () => triple('ACME', registry.host, 'alice', PASSWORD);

describe('memory mode', () => {
  it('writes only the credHelpers line; docker and skopeo pull with the login; no password on the home', async () => {
    const home = await memoryHome({ ...memory, ...alice() });
    const run = await runAgent(['refresh'], home.env);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(config(home)).toEqual({ credHelpers: { [registry.host]: 'registry-login' } });

    const pull = await dockerPull(`${registry.host}/private/app:v1`, {
      env: home.env,
      dockerConfigDir: home.dockerConfigDir,
      engine,
    });
    expect(pull.auth).toMatchObject({ username: 'alice', password: PASSWORD });
    const skopeo = await skopeoInspect(`${registry.host}/private/app:v1`, {
      dockerConfigDir: home.dockerConfigDir,
      env: { PATH: home.env.PATH, XDG_RUNTIME_DIR: home.runtime, ...memory },
    });
    expect(skopeo.ok, skopeo.stderr).toBe(true);

    const status = JSON.parse((await runAgent(['status', '--json'], home.env)).stdout) as {
      logins: { key: string; effective: boolean; verdict: string }[];
    };
    expect(status.logins).toMatchObject([{ key: registry.host, effective: true, verdict: 'used-memory' }]);

    expect(filesHolding(home.home, encodings('alice', PASSWORD))).toEqual([]);
    // The memory holds it, in the user's own 0700 directory there.
    const dir = path.join(home.runtime, 'registry-login');
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
    expect(filesHolding(dir, [PASSWORD]).length).toBeGreaterThan(0);
  }, 120_000);

  it('moves every secret of a config-mode home out of persistent files, and back to config works', async () => {
    const home = await memoryHome(alice());
    // A displaced entry of the user's, a docker login stored through our helper, config-mode refresh.
    await mkdir(home.dockerConfigDir, { recursive: true });
    await writeFile(
      home.configPath,
      JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`carol:${DISPLACED}`).toString('base64') } } }),
    );
    expect((await runAgent(['refresh'], home.env)).exitCode).toBe(0);
    // A docker login the user made by hand, which docker hands to our helper's store.
    const other = byHand.host;
    const withLine = {
      ...config(home),
      credHelpers: { ...(config(home).credHelpers as object), [other]: 'registry-login' },
    };
    await writeFile(home.configPath, JSON.stringify(withLine));
    const login = await dockerLogin(other, 'bob', STORED, { dockerConfigDir: home.dockerConfigDir, env: home.env });
    expect(login.exitCode, login.stderr).toBe(0);
    // A token-cache file as an ECR login leaves it.
    const cache = path.join(home.home, '.cache', 'registry-login');
    await mkdir(cache, { recursive: true, mode: 0o700 });
    await writeFile(path.join(cache, 'ecr-0123456789abcdef.json'), JSON.stringify({ password: 'ecr-token-secret' }));
    const needles = [...encodings('alice', PASSWORD), ...encodings('carol', DISPLACED), STORED, 'ecr-token-secret'];
    expect(filesHolding(home.home, needles).length).toBeGreaterThan(2);

    const switched = await runAgent(['refresh'], { ...home.env, ...memory });
    expect(switched.exitCode, switched.stderr).toBe(0);
    expect(filesHolding(home.home, needles)).toEqual([]);
    // docker login's own empty entry stays; ours is gone.
    expect(config(home).auths).toEqual({ [other]: {} });
    const env = { ...home.env, ...memory };
    expect(JSON.parse((await runHelper('get', registry.host, env)).stdout)).toMatchObject({ Secret: PASSWORD });
    expect(JSON.parse((await runHelper('get', other, env)).stdout)).toMatchObject({ Secret: STORED });

    const back = await runAgent(['refresh'], home.env);
    expect(back.exitCode, back.stderr).toBe(0);
    expect((config(home).auths as Record<string, unknown>)[registry.host]).toEqual({
      auth: Buffer.from(`alice:${PASSWORD}`).toString('base64'),
    });
    expect(JSON.parse((await runHelper('get', other, home.env)).stdout)).toMatchObject({ Secret: STORED });
    // Logging out restores the user's displaced entry byte for byte.
    expect((await runAgent(['logout', registry.host], home.env)).exitCode).toBe(0);
    expect((config(home).auths as Record<string, unknown>)[registry.host]).toEqual({
      auth: Buffer.from(`carol:${DISPLACED}`).toString('base64'),
    });
    expect(await readdir(path.join(home.runtime, 'registry-login', 'state'))).toEqual([]);
  }, 120_000);

  it('a lost memory and absent secrets: the hook removes the line and a foreign credsStore serves again', async () => {
    const helpers = await dirs.make('rl-mem-helper-');
    await chmod(helpers, 0o755);
    await writeFile(
      path.join(helpers, 'docker-credential-foreign'),
      `#!/bin/sh\ncase "$1" in get) cat >/dev/null; echo '{"ServerURL":"x","Username":"frank","Secret":"${FOREIGN}"}';; *) exit 0;; esac\n`,
    );
    await chmod(path.join(helpers, 'docker-credential-foreign'), 0o755);
    const home = await memoryHome({ ...memory, ...alice() });
    const env = { ...home.env, PATH: `${helpers}:${home.env.PATH}` };
    expect((await runAgent(['refresh', '--hook'], env)).exitCode).toBe(0);
    await writeFile(home.configPath, JSON.stringify({ ...config(home), credsStore: 'foreign' }));
    const before = await dockerPull(`${registry.host}/private/app:v1`, {
      env,
      dockerConfigDir: home.dockerConfigDir,
      engine,
    });
    expect(before.auth).toMatchObject({ username: 'alice' });

    // The container restarted: the memory is gone, and this start sees no secrets.
    await rm(path.join(home.runtime, 'registry-login'), { recursive: true });
    const blind = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('ACME_')));
    const get = await runHelper('get', registry.host, blind);
    expect(get.exitCode).toBe(1);
    expect(get.stdout.trim()).toBe('credentials not found in native keychain');
    const hook = await runAgent(['refresh', '--hook'], blind);
    expect(hook.exitCode).toBe(0);
    expect(hook.stderr).toMatch(
      new RegExp(`login for ${registry.host} kept its secret in memory only.*credHelpers line was removed`),
    );
    expect(config(home)).toEqual({ credsStore: 'foreign' });
    const after = await dockerPull(`${registry.host}/private/app:v1`, {
      env: blind,
      dockerConfigDir: home.dockerConfigDir,
      engine,
    });
    expect(after.auth).toMatchObject({ username: 'frank', password: FOREIGN });
  }, 120_000);

  it('parallel refreshes and helper gets keep the memory store consistent', async () => {
    const home = await memoryHome({ ...memory, ...alice(), ...triple('BETA', 'beta.example', 'bea', 'beta-pw-Xy4') });
    expect((await runAgent(['refresh'], home.env)).exitCode).toBe(0);
    const runs = await Promise.all([
      ...Array.from({ length: 6 }, () => runAgent(['refresh', '--force'], home.env)),
      ...Array.from({ length: 12 }, (_, i) => runHelper('get', i % 2 ? 'beta.example' : registry.host, home.env)),
    ]);
    for (const r of runs) expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    for (const [i, r] of runs.slice(6).entries())
      expect(JSON.parse(r.stdout)).toMatchObject({ Secret: i % 2 ? 'beta-pw-Xy4' : PASSWORD });
    expect(config(home)).toEqual({
      credHelpers: { [registry.host]: 'registry-login', 'beta.example': 'registry-login' },
    });
    expect(filesHolding(home.home, [PASSWORD, 'beta-pw-Xy4'])).toEqual([]);
  }, 120_000);
});

describe('memory mode on the host', () => {
  it('does not apply to refresh --host: a warning says so and the host keeps its login as always', async () => {
    const home = await memoryHome({ ...memory, ...alice() });
    const run = await runAgent(['refresh', '--host'], home.env);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/kept in memory only .*does not apply on the host/);
    expect(config(home).auths).toEqual({
      [registry.host]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') },
    });
    expect(existsSync(path.join(home.runtime, 'registry-login', 'state'))).toBe(false);
  }, 60_000);
});

describe('memory mode with ECR keys', () => {
  const KEY = { accessKeyId: 'AKIAMEMKEYA000000001', secretAccessKey: 'mem-secret-a-000000000000000000000000001' };
  const HOST = '444444444444.dkr.ecr.us-west-2.amazonaws.com';

  it('keeps the token in memory and renews it through the helper past half-life', async () => {
    // Tokens that live 3 seconds: half-life comes quickly.
    const standIn = await startEcrStandIn({
      keys: [KEY],
      reply: () => ({ kind: 'token', expiresAt: new Date(Date.now() + 3000) }),
    });
    try {
      const home = await memoryHome({
        ...memory,
        ...triple('ECR', HOST, KEY.accessKeyId, KEY.secretAccessKey),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_ECR: standIn.url,
      });
      const run = await runAgent(['refresh'], home.env);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(config(home)).toEqual({ credHelpers: { [HOST]: 'registry-login' } });
      const first = standIn.calls.at(-1)!.password!;
      const early = await runHelper('get', HOST, home.env);
      expect(JSON.parse(early.stdout)).toMatchObject({ Username: 'AWS', Secret: first });
      expect(standIn.calls).toHaveLength(1);

      await new Promise((r) => setTimeout(r, 1700));
      const late = await runHelper('get', HOST, home.env);
      expect(late.exitCode, late.stderr).toBe(0);
      expect(standIn.calls).toHaveLength(2);
      const renewed = standIn.calls.at(-1)!.password!;
      expect(renewed).not.toBe(first);
      expect(JSON.parse(late.stdout)).toMatchObject({ Secret: renewed });
      expect(config(home)).toEqual({ credHelpers: { [HOST]: 'registry-login' } });
      const needles = [first, renewed, KEY.secretAccessKey, ...encodings('AWS', first), ...encodings('AWS', renewed)];
      expect(filesHolding(home.home, needles)).toEqual([]);
      expect(filesHolding(path.join(home.runtime, 'registry-login', 'cache'), [renewed]).length).toBe(1);
    } finally {
      await standIn.close();
    }
  }, 60_000);
});

describe('memory mode, unprivileged', () => {
  const UID = 54322;
  const STRANGER = [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups'];

  it.each(['pre-created', 'linked'])(
    'refuses a %s /dev/shm/registry-login-<uid> of another user, writing nothing',
    async (how) => {
      if (process.getuid?.() !== 0) throw new Error('this test needs root to act as another user (setpriv)');
      const install = await dirs.make('rl-mem-install-');
      await chmod(install, 0o755);
      await cp(BIN, path.join(install, 'bin'), { recursive: true });
      await cp(path.join(BIN, '..', 'dist'), path.join(install, 'dist'), { recursive: true });
      await cp(process.execPath, path.join(install, 'bin', 'node'));
      const home = await dirs.make('rl-mem-stranger-');
      await chown(home, UID, UID);
      const planted = `/dev/shm/registry-login-${UID}`;
      const decoy = await mkdtemp('/dev/shm/rl-mem-decoy-');
      runtimes.push(planted, decoy);
      await rm(planted, { recursive: true, force: true });
      if (how === 'linked') await execa('ln', ['-s', decoy, planted]);
      // Readable, so that the refusal is for its owner, not for a failed open.
      else await mkdir(planted, { mode: 0o755 });
      const env = { PATH: `${install}/bin:/usr/bin:/bin`, HOME: home, LANG: 'C.UTF-8', ...memory, ...alice() };
      const run = await execa('setpriv', [...STRANGER, path.join(install, 'bin', 'registry-login'), 'refresh'], {
        env,
        extendEnv: false,
        reject: false,
        timeout: 30_000,
      });
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain(planted);
      expect(run.stderr).toMatch(how === 'linked' ? /is a link/ : /belongs to uid 0/);
      expect(run.stderr).toContain('registry-login wrote nothing');
      expect(existsSync(path.join(home, '.docker'))).toBe(false);
      expect(filesHolding(home, encodings('alice', PASSWORD))).toEqual([]);
      expect(await readdir(decoy)).toEqual([]);
      expect(how === 'linked' || (await readdir(planted)).length === 0).toBe(true);
    },
    60_000,
  );
});
