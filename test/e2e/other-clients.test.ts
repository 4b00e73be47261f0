// podman, buildah and skopeo read other files before the docker config: a stale login in each of them for a managed
// registry makes the real client fail to use registry-login's login, and `status`/`check` name that file and client;
// once the stale entry is gone, the clients pull and status says nothing. Each run is in a private mount namespace with
// a test directory over /run and /var/lib/containers/cache, so root's machine-wide files are never touched.
// With registry-login's login alone (secrets in the config or in memory) every client uses it: podman, buildah and
// skopeo pull from the registry, and the libraries docker-py and testcontainers send it to a test Engine API. Without
// the helper on PATH, all but the docker CLI fail or send nothing.
// The results are written to build/client-results.json, from which scripts/client-table.mjs renders the README table.
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, NODE_DIR, REPO, makeAgentHome, runAgent, triple, type AgentHome } from '../support/agent.js';
import { dockerPull, startFakeEngine, type CapturedAuth, type FakeEngine } from '../support/fake-engine.js';
import { pushTestImage } from '../support/oci-image.js';
import { requireCommand } from '../support/process.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';

const PASSWORD = 'clients-pw-Zq4Wn8Ts';
const STALE = Buffer.from('alice:an-old-password').toString('base64');
const CLIENTS = ['podman', 'buildah', 'skopeo'] as const;
// The two client libraries, which send the credentials to the Engine API (here the fake Engine records them).
const LIBRARIES = ['docker-py', 'testcontainers'] as const;
type Client = (typeof CLIENTS)[number] | (typeof LIBRARIES)[number];
const PULL_WITH_TESTCONTAINERS = path.join(REPO, 'test', 'support', 'testcontainers-pull.mjs');

const dirs = new TempDirs();
let registry: RunningRegistry;
let work: string;
const results: { location: string; client: Client; staleFails: boolean; named: boolean; cleanPulls: boolean }[] = [];

beforeAll(async () => {
  for (const tool of ['podman', 'buildah', 'skopeo'] as const) await requireCommand(tool, tool);
  const dockerPy = await execa('/usr/bin/python3', ['-c', 'import docker'], { reject: false });
  expect(dockerPy.exitCode, `docker-py is needed (apt-get install -y python3-docker): ${dockerPy.stderr}`).toBe(0);
  await requireCommand('unshare', 'util-linux');
  registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'alice', password: PASSWORD }] } });
  await pushTestImage(registry.host, 'team/app', 'v1', { creds: { user: 'alice', password: PASSWORD } });
  work = await dirs.make('rl-pod-'); // podman refuses a runroot path of 50 characters or more
  await writeFile(path.join(work, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}');
  await writeFile(
    path.join(work, 'storage.conf'),
    `[storage]\ndriver="vfs"\nrunroot="${work}/rr"\ngraphroot="${work}/g"\n`,
  );
  await writeFile(path.join(work, 'containers.conf'), '');
  await writeFile(path.join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await writeResults();
  await dirs.cleanup();
});

/** Runs a command in a private mount namespace: fresh /run (with runContainers over /run/containers), a test cache. */
async function isolated(command: string, args: string[], env: Record<string, string>, runContainers: string) {
  const cache = path.join(work, 'cache');
  await mkdir(cache, { recursive: true });
  const script =
    'mount --bind "$1" /var/lib/containers/cache && mount -t tmpfs tmpfs /run && mkdir /run/containers && ' +
    'mount --bind "$2" /run/containers && shift 2 && exec "$@"';
  const result = await execa(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', cache, runContainers, command, ...args],
    { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 },
  );
  return { ok: result.exitCode === 0, output: `${result.stdout}\n${result.stderr}` };
}

async function pull(client: Client, env: Record<string, string>, runContainers: string) {
  const ref = `${registry.host}/team/app:v1`;
  const store = ['--root', path.join(work, 'g'), '--runroot', path.join(work, 'rr'), '--storage-driver', 'vfs'];
  await rm(path.join(work, 'g'), { recursive: true, force: true });
  const policy = ['--tls-verify=false', '--signature-policy', path.join(work, 'policy.json')];
  if (client === 'podman') {
    const extra = ['--tmpdir', path.join(work, 't'), '--events-backend', 'none', '--cgroup-manager', 'cgroupfs'];
    return isolated('podman', [...store, ...extra, 'pull', '-q', ...policy, ref], env, runContainers);
  }
  if (client === 'buildah') return isolated('buildah', [...store, 'pull', '-q', ...policy, ref], env, runContainers);
  return isolated('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], env, runContainers);
}

interface NotSeen {
  client: string;
  reason: string;
  file?: string;
}

async function statusOf(home: AgentHome, env: Record<string, string>, runContainers: string) {
  const result = await isolated(path.join(BIN, 'registry-login'), ['status', '--json'], env, runContainers);
  const json = JSON.parse(result.output.slice(0, result.output.lastIndexOf('}') + 1)) as {
    logins: { key: string; secretAt: string; notSeenBy?: NotSeen[] }[];
  };
  return json.logins.find((l) => l.key === registry.host);
}

async function checkDetail(env: Record<string, string>, runContainers: string): Promise<string> {
  const result = await isolated(path.join(BIN, 'registry-login'), ['check', '--json'], env, runContainers);
  const json = JSON.parse(result.output.slice(0, result.output.lastIndexOf('}') + 1)) as {
    results: { key: string; detail?: string }[];
  };
  return json.results.find((r) => r.key === registry.host)?.detail ?? '';
}

interface Location {
  name: string;
  /** Writes the stale entry; returns the file status must name and the environment the clients run with. */
  stale(home: AgentHome, dir: string): Promise<{ file: string; env?: Record<string, string>; clients?: Client[] }>;
  /** Removes it as a user would (`podman logout --authfile` where that applies). */
  clean(file: string, env: Record<string, string>, runContainers: string): Promise<void>;
}

const staleAuths = JSON.stringify({ auths: { HOST: { auth: STALE } } });

async function writeAuthFile(file: string, body: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body.replaceAll('HOST', registry.host), { mode: 0o600 });
}

async function podmanLogout(file: string, env: Record<string, string>, runContainers: string): Promise<void> {
  const result = await isolated('podman', ['logout', '--authfile', file, registry.host], env, runContainers);
  expect(result.ok, result.output).toBe(true);
}

const removeFile = async (file: string) => rm(file);

const LOCATIONS: Location[] = [
  {
    name: 'REGISTRY_AUTH_FILE',
    async stale(_home, dir) {
      const file = path.join(dir, 'ci-auth.json');
      await writeAuthFile(file, staleAuths);
      return { file, env: { REGISTRY_AUTH_FILE: file } };
    },
    clean: podmanLogout,
  },
  {
    name: '$XDG_RUNTIME_DIR/containers/auth.json',
    async stale(_home, dir) {
      const file = path.join(dir, 'xdg-run', 'containers', 'auth.json');
      await writeAuthFile(file, staleAuths);
      return { file, env: { XDG_RUNTIME_DIR: path.join(dir, 'xdg-run') } };
    },
    clean: podmanLogout,
  },
  {
    name: '/run/containers/0/auth.json (root, XDG_RUNTIME_DIR unset)',
    async stale(_home, dir) {
      await writeAuthFile(path.join(dir, 'run-containers', '0', 'auth.json'), staleAuths);
      return { file: '/run/containers/0/auth.json' };
    },
    clean: podmanLogout,
  },
  {
    name: '~/.config/containers/auth.json',
    async stale(home) {
      const file = path.join(home.home, '.config', 'containers', 'auth.json');
      await writeAuthFile(file, staleAuths);
      return { file };
    },
    clean: podmanLogout,
  },
  {
    name: 'credHelpers in an auth.json',
    async stale(home) {
      const file = path.join(home.home, '.config', 'containers', 'auth.json');
      await writeAuthFile(file, JSON.stringify({ credHelpers: { HOST: 'gone-helper' } }));
      return { file };
    },
    clean: removeFile,
  },
  {
    name: 'credential-helpers in registries.conf',
    async stale(_home, dir) {
      // skopeo 1.9 ignores CONTAINERS_REGISTRIES_CONF (it reads /etc/containers/registries.conf): podman and buildah.
      const file = path.join(dir, 'registries.conf');
      await writeFile(file, 'unqualified-search-registries = []\ncredential-helpers = ["gone-helper"]\n');
      return { file, env: { CONTAINERS_REGISTRIES_CONF: file }, clients: ['podman', 'buildah'] };
    },
    clean: async (file) => writeFile(file, 'unqualified-search-registries = []\n'),
  },
];

describe('a stale login in a file podman, buildah and skopeo read before the docker config', () => {
  for (const location of LOCATIONS) {
    it(`${location.name}: the clients fail with it, status and check name it; without it they pull`, async () => {
      const dir = await dirs.make('rl-pod-case-');
      const home = await makeAgentHome(dir, triple('ACME', registry.host, 'alice', PASSWORD));
      const runContainers = path.join(dir, 'run-containers');
      await mkdir(runContainers, { recursive: true });
      const refreshed = await runAgent(['refresh'], home.env);
      expect(refreshed.exitCode, refreshed.stderr).toBe(0);
      const { file, env: extra = {}, clients = [...CLIENTS] } = await location.stale(home, dir);
      const env = clientEnv(home, extra);

      const status = await statusOf(home, env, runContainers);
      expect(status?.secretAt).toBe('config');
      const detail = await checkDetail(env, runContainers);
      const staleRuns = await Promise.all(
        clients.map(async (client) => [client, await pull(client, env, runContainers)] as const),
      );
      for (const [client, run] of staleRuns) {
        const named = (status?.notSeenBy ?? []).some((n) => n.client === client && n.file === file);
        expect(run.ok, `${client} should fail with the stale entry in ${file}:\n${run.output}`).toBe(false);
        expect(named, `status should name ${client} and ${file}: ${JSON.stringify(status)}`).toBe(true);
        expect(detail).toContain(client);
        expect(detail).toContain(file);
        results.push({ location: location.name, client, staleFails: !run.ok, named, cleanPulls: false });
      }

      await location.clean(file, env, runContainers);
      const after = await statusOf(home, env, runContainers);
      expect(after?.notSeenBy, JSON.stringify(after)).toBeUndefined();
      for (const client of clients) {
        const run = await pull(client, env, runContainers);
        expect(run.ok, `${client} should pull once ${file} is clean:\n${run.output}`).toBe(true);
        const row = results.find((r) => r.location === location.name && r.client === client);
        if (row) row.cleanPulls = true;
      }
    }, 180_000);
  }
});

describe("registry-login's login alone, with the helper on PATH", () => {
  for (const secrets of ['config', 'memory'] as const) {
    it(`podman, buildah and skopeo pull with it, docker-py and testcontainers send it to the Engine (secrets in ${secrets})`, async () => {
      const dir = await dirs.make('rl-lib-case-');
      // Memory mode keeps the secret only behind the credential helper: the docker config has no auths entry for it.
      const runtime = secrets === 'memory' ? await mkdtemp('/dev/shm/rl-lib-test-') : undefined;
      try {
        const extra: Record<string, string> = runtime
          ? { XDG_RUNTIME_DIR: runtime, REGISTRY_LOGIN_SECRETS: 'memory' }
          : {};
        if (runtime) await chmod(runtime, 0o700);
        const home = await makeAgentHome(dir, { ...triple('ACME', registry.host, 'alice', PASSWORD), ...extra });
        const refreshed = await runAgent(['refresh'], home.env);
        expect(refreshed.exitCode, refreshed.stderr).toBe(0);
        const config = await readFile(path.join(home.dockerConfigDir, 'config.json'), 'utf8');
        expect(config.includes(Buffer.from(`alice:${PASSWORD}`).toString('base64'))).toBe(secrets === 'config');
        const runContainers = path.join(dir, 'run-containers');
        await mkdir(runContainers, { recursive: true });
        const env = clientEnv(home);
        const location = `registry-login's login alone (secrets in ${secrets})`;
        for (const client of CLIENTS) {
          const run = await pull(client, env, runContainers);
          expect(run.ok, `${client} with registry-login's login:\n${run.output}`).toBe(true);
        }
        const engine = await startFakeEngine();
        try {
          for (const library of [dockerPyPull, testcontainersPull]) {
            const run = await library(engine, env);
            expect(run.ok, `${run.client}: ${run.error}`).toBe(true);
            expect(run.sent, `what ${run.client} sent`).toMatchObject({ username: 'alice', password: PASSWORD });
          }
        } finally {
          await engine.stop();
        }
        for (const client of [...CLIENTS, ...LIBRARIES])
          results.push({ location, client, staleFails: false, named: false, cleanPulls: true });
      } finally {
        if (runtime) await rm(runtime, { recursive: true, force: true });
      }
    }, 180_000);
  }
});

describe('the helper binary missing from PATH', () => {
  it('podman, buildah, skopeo, docker-py and testcontainers fail or send nothing, the docker CLI falls back to auths; status names them', async () => {
    const dir = await dirs.make('rl-pod-case-');
    const home = await makeAgentHome(dir, triple('ACME', registry.host, 'alice', PASSWORD));
    const runContainers = path.join(dir, 'run-containers');
    await mkdir(runContainers, { recursive: true });
    expect((await runAgent(['refresh'], home.env)).exitCode).toBe(0);
    // The tests' Node.js (its folder holds only node), so the launchers run; registry-login's bin/ is left out.
    const env = clientEnv(home, { PATH: `${NODE_DIR}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin` });
    const status = await statusOf(home, env, runContainers);
    const named = new Set((status?.notSeenBy ?? []).map((n) => n.client));
    expect([...named].sort()).toEqual(['buildah', 'docker-py', 'podman', 'skopeo', 'testcontainers']);
    for (const client of CLIENTS) {
      const run = await pull(client, env, runContainers);
      expect(run.ok, `${client} without the helper:\n${run.output}`).toBe(false);
    }
    const engine = await startFakeEngine();
    try {
      for (const library of [dockerPyPull, testcontainersPull]) {
        const run = await library(engine, env);
        expect(!run.ok || run.sent === null, `${run.client} sent ${JSON.stringify(run.sent)}: ${run.error}`).toBe(true);
      }
      for (const client of [...CLIENTS, ...LIBRARIES])
        results.push({
          location: 'helper missing from PATH',
          client,
          staleFails: true,
          named: named.has(client),
          cleanPulls: false,
        });
      const cli = await dockerPull(`${registry.host}/team/app:v1`, {
        engine,
        dockerConfigDir: home.dockerConfigDir,
        env,
      });
      expect(cli.auth?.username, cli.stderr).toBe('alice');
      expect(named.has('docker')).toBe(false);
    } finally {
      await engine.stop();
    }
  }, 180_000);
});

/** The environment the clients run with: the home's, this test's containers files, then extra. */
function clientEnv(home: AgentHome, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...home.env,
    CONTAINERS_STORAGE_CONF: path.join(work, 'storage.conf'),
    CONTAINERS_CONF: path.join(work, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(work, 'registries.conf'),
    ...extra,
  };
}

/** How a client library's pull went, and the credentials the engine received during it (null: none, or no pull). */
interface LibraryPull {
  client: (typeof LIBRARIES)[number];
  ok: boolean;
  error: string;
  sent: CapturedAuth | null;
}

/** What the engine received while run ran: at most one image pull (one at a time per engine). */
async function sentDuring<T>(engine: FakeEngine, run: () => Promise<T>): Promise<[T, CapturedAuth | null]> {
  const before = engine.pulls.length;
  const result = await run();
  const records = engine.pulls.slice(before);
  if (records.length > 1) throw new Error(`${String(records.length)} image pulls reached the engine during one pull`);
  return [result, records[0]?.auth ?? null];
}

/** docker-py's APIClient.pull at the engine; the script exits 3 when it raised (its error on stderr). */
async function dockerPyPull(engine: FakeEngine, env: Record<string, string>): Promise<LibraryPull> {
  const script = `import docker,sys\nc=docker.APIClient(base_url="${engine.dockerHost}", version="1.41")\ntry:\n  c.pull("${registry.host}/team/app", tag="v1")\nexcept Exception as e:\n  print(type(e).__name__, e, file=sys.stderr); sys.exit(3)`;
  const [run, sent] = await sentDuring(engine, () =>
    execa('/usr/bin/python3', ['-c', script], {
      env: { ...env, DOCKER_HOST: engine.dockerHost },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    }),
  );
  return { client: 'docker-py', ok: run.exitCode === 0, error: run.stderr, sent };
}

/** testcontainers' image pull at the engine, in a child process with exactly env (and Ryuk, its reaper, off). */
async function testcontainersPull(engine: FakeEngine, env: Record<string, string>): Promise<LibraryPull> {
  const [run, sent] = await sentDuring(engine, () =>
    execa(process.execPath, [PULL_WITH_TESTCONTAINERS, `${registry.host}/team/app:v1`], {
      env: { ...env, DOCKER_HOST: engine.dockerHost, TESTCONTAINERS_RYUK_DISABLED: 'true' },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    }),
  );
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  let outcome: { ok: boolean; error?: string };
  try {
    outcome = JSON.parse(line) as { ok: boolean; error?: string };
  } catch {
    throw new Error(`testcontainers-pull.mjs printed no result (exit ${String(run.exitCode)}): ${run.stderr}`);
  }
  return { client: 'testcontainers', ok: outcome.ok, error: `${outcome.error ?? ''}\n${run.stderr}`.trim(), sent };
}

async function writeResults(): Promise<void> {
  if (results.length === 0) return;
  const out = path.join(REPO, 'build', 'client-results.json');
  await mkdir(path.dirname(out), { recursive: true });
  const versions: Record<string, string> = {};
  for (const client of CLIENTS)
    versions[client] = (await execa(client, ['--version'], { reject: false })).stdout.trim();
  const py = ['-c', 'import docker; print("docker-py " + docker.__version__)'];
  versions['docker-py'] = (await execa('/usr/bin/python3', py, { reject: false })).stdout.trim();
  const testcontainers = path.join(REPO, 'node_modules', 'testcontainers', 'package.json');
  versions.testcontainers = `testcontainers ${(JSON.parse(await readFile(testcontainers, 'utf8')) as { version: string }).version}`;
  await writeFile(out, `${JSON.stringify({ versions, results }, null, 2)}\n`);
  // Keep the written file readable for scripts/client-table.mjs even when a test above failed part-way.
  JSON.parse(await readFile(out, 'utf8'));
}
