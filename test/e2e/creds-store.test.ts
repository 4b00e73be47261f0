// A foreign credsStore that cannot answer (VS Code's or DevPod's helper outside their terminals): what the real
// docker CLI 28 and skopeo do with it, that `status` and `check` say exactly that, and that the logins
// registry-login manages keep working through their credHelpers entries.
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple } from '../support/agent.js';
import { dockerCli } from '../support/docker-cli.js';
import { startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { pushTestImage } from '../support/oci-image.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { skopeoInspect } from '../support/skopeo.js';
import { TempDirs } from '../support/tmp.js';

const PASSWORD = 'store-pw-Rt6Yh2Kd';
const HELPER_SECRET = 'helper-secret-Mv8Qs1Lc';
/** How long a docker command may run before the test calls it blocked (the CLI has no timeout of its own). */
const BLOCKED_AFTER_MS = 8_000;

const dirs = new TempDirs();
let anonymous: RunningRegistry;
let privateRegistry: RunningRegistry;
let engine: FakeEngine;
let helpers: string;

beforeAll(async () => {
  [anonymous, privateRegistry] = await Promise.all([
    startRegistry({ auth: { kind: 'none' } }),
    startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'alice', password: PASSWORD }] } }),
  ]);
  await pushTestImage(anonymous.host, 'public/app', 'v1');
  await pushTestImage(privateRegistry.host, 'private/app', 'v1', { creds: { user: 'alice', password: PASSWORD } });
  engine = await startFakeEngine();
  helpers = await dirs.make('rl-store-helpers-');
  // Stand-ins for an editor's helper outside its terminal: one that fails (and would print a secret if asked
  // to list), one that never answers. "missing" has no binary at all.
  await writeFile(
    path.join(helpers, 'docker-credential-failing'),
    `#!/bin/sh\necho "cannot reach the editor (${HELPER_SECRET})" >&2\nexit 1\n`,
  );
  await writeFile(path.join(helpers, 'docker-credential-hanging'), '#!/bin/sh\nexec sleep 300\n');
  await Promise.all(
    ['failing', 'hanging'].map((name) => chmod(path.join(helpers, `docker-credential-${name}`), 0o755)),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([anonymous?.stop(), privateRegistry?.stop(), engine?.stop()]);
  await dirs.cleanup();
});

interface Bounded {
  /** null: still running after BLOCKED_AFTER_MS, then killed with its whole process group. */
  exitCode: number | null;
  stderr: string;
  ms: number;
}

/** Runs a command in its own process group, killing the group if it has not finished in time (a helper may hang). */
function runBounded(file: string, args: string[], env: Record<string, string>): Promise<Bounded> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      resolve({ exitCode: null, stderr, ms: Date.now() - started });
    }, BLOCKED_AFTER_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stderr, ms: Date.now() - started });
    });
  });
}

/** A home whose refresh logged in to the private registry, then a credsStore added as an editor does. */
async function homeWithStore(store: string) {
  const home = await makeAgentHome(
    await dirs.make(`rl-store-${store}-`),
    triple('ACME', privateRegistry.host, 'alice', PASSWORD),
  );
  const env = { ...home.env, PATH: `${helpers}:${home.env.PATH}` };
  expect((await runAgent(['refresh'], env)).exitCode).toBe(0);
  const config = JSON.parse(await readFile(home.configPath, 'utf8')) as Record<string, unknown>;
  await writeFile(home.configPath, JSON.stringify({ ...config, credsStore: store }, null, '\t'));
  return { ...home, env };
}

/** The X-Registry-Auth docker sent for the last pull, or "none" / "no pull reached the engine". */
async function dockerPull(image: string, env: Record<string, string>) {
  const before = engine.pulls.length;
  const run = await runBounded((await dockerCli()).path, ['pull', image], {
    ...env,
    DOCKER_HOST: engine.dockerHost,
    DOCKER_CLI_HINTS: 'false',
  });
  const record = engine.pulls.slice(before)[0];
  return { ...run, sent: record === undefined ? 'no pull reached the engine' : (record.auth?.username ?? 'none') };
}

function expectNoSecret(text: string) {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(HELPER_SECRET);
}

// What docker CLI 28 was measured to do, per store, and the words status and check must use for it.
const CASES = [
  {
    store: 'missing',
    pull: { exitCode: 0, stderr: '' },
    says: /docker-credential-missing is not on PATH; docker pull and docker build go on without it/,
  },
  {
    store: 'failing',
    pull: { exitCode: 0, stderr: 'cannot reach the editor' },
    says: /docker-credential-failing fails when docker runs it; docker pull and docker build print its error and go on without it/,
  },
  {
    store: 'hanging',
    pull: { exitCode: null, stderr: '' },
    says: /docker-credential-hanging does not answer; docker pull and docker build wait for it without end/,
  },
] as const;

describe.each(CASES)('credsStore "$store"', ({ store, pull, says }) => {
  let home: Awaited<ReturnType<typeof homeWithStore>>;
  beforeAll(async () => {
    home = await homeWithStore(store);
  }, 60_000);

  it('docker pull from an anonymous registry: what the CLI does', async () => {
    const result = await dockerPull(`${anonymous.host}/public/app:v1`, home.env);
    expect(result.exitCode).toBe(pull.exitCode);
    if (pull.exitCode === null) {
      expect(result.sent).toBe('no pull reached the engine');
    } else {
      expect(result.sent).toBe('none');
      if (pull.stderr) expect(result.stderr).toContain(pull.stderr);
      else expect(result.stderr.trim()).toBe('');
    }
  }, 30_000);

  it('the managed registry still works for docker through its credHelpers entry', async () => {
    const result = await dockerPull(`${privateRegistry.host}/private/app:v1`, home.env);
    expect(result).toMatchObject({ exitCode: 0, sent: 'alice' });
  }, 30_000);

  it('skopeo ignores the credsStore: anonymous and managed registries both work', async () => {
    const options = { dockerConfigDir: home.dockerConfigDir, env: { PATH: home.env.PATH }, timeoutMs: 30_000 };
    expect((await skopeoInspect(`${anonymous.host}/public/app:v1`, options)).ok).toBe(true);
    expect((await skopeoInspect(`${privateRegistry.host}/private/app:v1`, options)).ok).toBe(true);
  }, 60_000);

  it('status names the store, says what docker does, the fix, and calls the managed login effective', async () => {
    const started = Date.now();
    const json = await runAgent(['status', '--json'], home.env);
    expect(Date.now() - started).toBeLessThan(15_000); // the probe of a hanging helper is bounded
    expectNoSecret(json.stdout + json.stderr);
    const result = JSON.parse(json.stdout) as {
      store?: { store: string; health: string; sentence: string };
      logins: { key: string; effective: boolean }[];
    };
    expect(result.store).toMatchObject({
      store,
      health: store === 'missing' ? 'missing' : store === 'failing' ? 'fails' : 'hangs',
    });
    expect(result.store!.sentence).toMatch(says);
    expect(result.store!.sentence).toContain(`"credsStore"`);
    expect(result.store!.sentence).toContain('DOCKER_CONFIG');
    expect(result.logins).toEqual([expect.objectContaining({ key: privateRegistry.host, effective: true })]);
    const human = await runAgent(['status'], home.env);
    expect(human.stderr).toMatch(says);
    expect(human.stdout).toContain('effective');
  }, 30_000);

  it('check says the same, and the managed login is ok', async () => {
    const started = Date.now();
    const json = await runAgent(['check', '--json'], home.env);
    expect(Date.now() - started).toBeLessThan(20_000);
    expectNoSecret(json.stdout + json.stderr);
    const result = JSON.parse(json.stdout) as {
      store?: { sentence: string };
      results: { key: string; result: string }[];
    };
    expect(result.store?.sentence).toMatch(says);
    expect(result.results).toEqual([expect.objectContaining({ key: privateRegistry.host, result: 'ok' })]);
    expect(json.exitCode).toBe(0);
    const human = await runAgent(['check'], home.env);
    expect(human.stderr).toMatch(says);
  }, 40_000);

  it('nothing edited the foreign credsStore', async () => {
    const config = JSON.parse(await readFile(home.configPath, 'utf8')) as { credsStore?: string };
    expect(config.credsStore).toBe(store);
  });
});

/** A home whose refresh logged in to the private registry, with docker-credential-<name> (that script) on PATH. */
async function homeWithHelper(name: string, script: string) {
  const dir = await dirs.make(`rl-store-${name}-`);
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, `docker-credential-${name}`), script);
  await chmod(path.join(bin, `docker-credential-${name}`), 0o755);
  const home = await makeAgentHome(dir, triple('ACME', privateRegistry.host, 'alice', PASSWORD));
  const env = { ...home.env, PATH: `${bin}:${home.env.PATH}` };
  expect((await runAgent(['refresh'], env)).exitCode).toBe(0);
  const written = JSON.parse(await readFile(home.configPath, 'utf8')) as Record<string, unknown>;
  return { ...home, env, written };
}

describe('a credsStore that answers', () => {
  it('is no trouble: status reports no store', async () => {
    const home = await homeWithHelper('fine', '#!/bin/sh\necho "credentials not found in native keychain"\nexit 1\n');
    await writeFile(home.configPath, JSON.stringify({ ...home.written, credsStore: 'fine' }));
    const result = JSON.parse((await runAgent(['status', '--json'], home.env)).stdout) as { store?: unknown };
    expect(result.store).toBeUndefined();
  }, 30_000);
});

describe('an empty credHelpers entry', () => {
  const OTHER = { Username: 'bob', Secret: 'answering-secret-Wq4Zp7Xn' };

  it('sends the key to auths past a credsStore that answers, and status agrees with what docker sent', async () => {
    // A store that answers every registry with credentials of its own, as Docker Desktop's would.
    const answer = JSON.stringify({ ServerURL: privateRegistry.host, ...OTHER });
    const home = await homeWithHelper('answering', `#!/bin/sh\ncat >/dev/null\nprintf '%s' '${answer}'\n`);
    const withHelper = async (entry: Record<string, string>) => {
      const config = { ...home.written, credsStore: 'answering', credHelpers: entry };
      await writeFile(home.configPath, JSON.stringify(config, null, '\t'));
      const pull = await dockerPull(`${privateRegistry.host}/private/app:v1`, home.env);
      const json = await runAgent(['status', '--json'], home.env);
      expect(json.stderr + json.stdout).not.toContain(PASSWORD);
      const [login] = (JSON.parse(json.stdout) as { logins: { effective: boolean; verdict: string }[] }).logins;
      return { sent: pull.sent, effective: login?.effective, verdict: login?.verdict };
    };

    // Without an entry for the key the store answers, and status says docker does not use the login.
    expect(await withHelper({})).toEqual({ sent: 'bob', effective: false, verdict: 'creds-store' });
    // An empty entry means docker's file store: it sends the auths entry registry-login wrote.
    expect(await withHelper({ [privateRegistry.host]: '' })).toEqual({
      sent: 'alice',
      effective: true,
      verdict: 'used',
    });
  }, 60_000);
});
