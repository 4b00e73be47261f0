// Through the built CLI and helper: NODE_DEBUG cannot make Node print a secret whatever value Node accepts,
// the helper's `get` answers with a renewed ECR token even when the config cannot be saved, `store` takes `__proto__`
// as a key like any other, and the unreadable-config contract of `status` and `refresh --json` (README, Commands).
import { execa } from 'execa';
import fc from 'fast-check';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeAgentHome, runAgent, runHelper, triple, type AgentHome, type AgentResult } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { requireCommand } from '../support/process.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
const USER = 'bob';
const PASSWORD = 'review-basic-password-7f3a9c';
const KEYS = {
  accessKeyId: 'ASIAREVIEW0000000014',
  secretAccessKey: 'review-secret-key-00000000000000000000014',
  sessionToken: 'review-session-token-0014',
};
const ECR_KEY = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

let registry: RunningRegistry;
let standIn: EcrStandIn;

beforeAll(async () => {
  registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: USER, password: PASSWORD }] } });
  standIn = await startEcrStandIn({ keys: [KEYS] });
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await standIn?.close();
  await tmp.cleanup();
});

async function home(): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-node-debug-'), {
    AWS_ENDPOINT_URL_ECR: standIn.url,
    AWS_REGION: 'eu-west-1',
  });
}

const basicLogin = () => triple('BASIC', registry.host, USER, PASSWORD);
const ecrLogin = () => ({
  ...triple('CLOUD', ECR_KEY, KEYS.accessKeyId, KEYS.secretAccessKey),
  CLOUD_CONTAINER_REGISTRY_SESSION_TOKEN: KEYS.sessionToken,
});

/** Every secret the runs could print: the password and its Basic header value, the AWS keys, each ECR token issued. */
function secrets(): string[] {
  const tokens = standIn.calls.flatMap((c) =>
    c.password ? [c.password, Buffer.from(`AWS:${c.password}`).toString('base64')] : [],
  );
  return [
    PASSWORD,
    Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
    KEYS.secretAccessKey,
    KEYS.sessionToken,
    ...tokens,
  ];
}

function leaked(results: AgentResult[]): string[] {
  return secrets().filter((secret) => results.some((r) => r.stdout.includes(secret) || r.stderr.includes(secret)));
}

// Node's debuglog sections (Node 20), the ones that print request options, headers, chunks or environments among them.
const SECTIONS = [
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'fetch',
  'undici',
  'websocket',
  'child_process',
  'worker',
  'stream',
  'stream_socket',
  'module',
  'esm',
  'timer',
  'source_map',
  'inspect',
  'repl',
  'policy',
  'fs',
  'dns',
];
const HARMLESS = ['module', 'esm', 'timer'];

/** NODE_DEBUG values as Node reads them: comma lists of names, `*` anywhere as "anything", any case, stray spaces. */
const nodeDebug = (() => {
  const name = fc.oneof(
    fc.constantFrom(...SECTIONS),
    // a section with a run of its characters (maybe none) turned into `*`: htt*, *tp, n*t, *
    fc.tuple(fc.constantFrom(...SECTIONS), fc.nat(), fc.nat()).map(([s, a, b]) => {
      const start = a % (s.length + 1);
      return `${s.slice(0, start)}*${s.slice(start + (b % (s.length - start + 1)))}`;
    }),
    fc.stringMatching(/^[a-z_*]{0,5}$/),
  );
  const cased = fc
    .tuple(name, fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }))
    .map(([n, up]) => [...n].map((c, i) => (up[i % 16] ? c.toUpperCase() : c)).join(''));
  const spaced = fc
    .tuple(fc.constantFrom('', '', ' '), cased, fc.constantFrom('', '', ' '))
    .map((parts) => parts.join(''));
  return fc.array(spaced, { minLength: 1, maxLength: 4 }).map((names) => names.join(','));
})();

const allowed = (value: string) => value.split(',').every((n) => n === '' || HARMLESS.includes(n.toLowerCase()));

describe('NODE_DEBUG', () => {
  it("refuses NODE_DEBUG='htt*' for registry-login check, printing no secret", async () => {
    const h = await home();
    const result = await runAgent(['check'], { ...h.env, ...basicLogin(), NODE_DEBUG: 'htt*' });
    expect(leaked([result])).toEqual([]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/NODE_DEBUG="htt\*".*unset NODE_DEBUG/);
    expect(result.stdout).toBe('');
  });

  it('with --hook, refuses and exits 0 without touching the config', async () => {
    const h = await home();
    const result = await runAgent(['refresh', '--hook'], { ...h.env, ...basicLogin(), NODE_DEBUG: '*Tp' });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('unset NODE_DEBUG');
    await expect(readFile(h.configPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('no value Node accepts makes check (Basic auth) or refresh (ECR with a session token) print a secret', async () => {
    const h = await home();
    // Without NODE_DEBUG both work: the property below is not passing because nothing runs.
    const both = { ...h.env, ...basicLogin(), ...ecrLogin() };
    expect((await runAgent(['refresh', '--force'], both)).exitCode).toBe(0);
    expect((await runAgent(['check'], { ...h.env, ...basicLogin() })).exitCode).toBe(0);
    const RUNS = 80;
    let tried = 0;
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(nodeDebug, async (value) => {
        tried++;
        const check = await runAgent(['check', '--json'], { ...h.env, ...basicLogin(), NODE_DEBUG: value });
        const refresh = await runAgent(['refresh', '--force', '--json'], { ...both, NODE_DEBUG: value });
        expect(leaked([check, refresh]), `NODE_DEBUG=${JSON.stringify(value)}`).toEqual([]);
        if (allowed(value)) {
          ran++;
          expect(
            [check.exitCode, refresh.exitCode],
            `NODE_DEBUG=${JSON.stringify(value)}: ${check.stderr}${refresh.stderr}`,
          ).toEqual([0, 0]);
        } else {
          for (const r of [check, refresh]) {
            expect(r.exitCode, `NODE_DEBUG=${JSON.stringify(value)}`).toBe(2);
            expect(r.stderr).toContain('unset NODE_DEBUG');
          }
        }
      }),
      {
        numRuns: RUNS,
        examples: [
          ['htt*'],
          ['*tp'],
          ['n*t'],
          ['HTTP'],
          ['module,*'],
          ['fetch'],
          ['child_process'],
          ['esm, http'],
          ['Module,ESM,timer'],
          ['module,'],
          ['*'],
        ],
      },
    );
    // Every value ran (the examples count among them), and some were harmless ones that must have worked.
    expect(tried).toBe(RUNS);
    expect(ran).toBeGreaterThanOrEqual(2);
  }, 240_000);
});

describe('credential helper get renewing an ECR token it cannot save', () => {
  it('answers docker with the renewed token and says on stderr why the config keeps the old one', async () => {
    const unshare = await requireCommand('unshare', 'util-linux');
    const h = await home();
    const env = { ...h.env, ...ecrLogin() };
    // Tokens that live 3 seconds: past half-life after 1.5 s.
    standIn.setReply(() => ({ kind: 'token', expiresAt: new Date(Date.now() + 3000) }));
    try {
      expect((await runAgent(['refresh'], env)).exitCode).toBe(0);
      const before = await readFile(h.configPath);
      const issued = standIn.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 1700));
      // The docker config directory read-only (a private mount namespace that dies with the helper), the cache
      // writable.
      const dir = h.dockerConfigDir;
      const helper = path.join(BIN, 'docker-credential-registry-login');
      const r = await execa(
        unshare,
        [
          '-m',
          '--propagation',
          'private',
          'sh',
          '-euc',
          `mount --bind "${dir}" "${dir}"; mount -o remount,bind,ro "${dir}"; exec "${helper}" get`,
        ],
        {
          env,
          extendEnv: false,
          reject: false,
          input: `https://${ECR_KEY}\n`,
          timeout: 60_000,
        },
      );
      const renewed = standIn.calls.slice(issued);
      expect(renewed).toHaveLength(1);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        ServerURL: `https://${ECR_KEY}`,
        Username: 'AWS',
        Secret: renewed[0]!.password,
      });
      expect(r.stderr).toContain(`renewed the ECR token for ${ECR_KEY}`);
      expect(r.stderr).toContain('CLOUD_CONTAINER_REGISTRY_');
      expect(r.stderr).toMatch(/could not save it in the docker config: .*read-only/i);
      expect(leaked([{ exitCode: 0, stdout: '', stderr: r.stderr }])).toEqual([]);
      expect(await readFile(h.configPath)).toEqual(before);
    } finally {
      standIn.setReply(() => ({ kind: 'token' }));
    }
  }, 60_000);
});

describe('credential helper store', () => {
  it('stores a login for the ServerURL __proto__ like any other key: get, list and erase see it', async () => {
    const h = await home();
    const login = { ServerURL: '__proto__', Username: 'me', Secret: 'proto-secret-0014' };
    const stored = await runHelper('store', JSON.stringify(login), h.env);
    expect(stored).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    const got = await runHelper('get', '__proto__\n', h.env);
    expect(got.exitCode, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(login);
    const listed = await runHelper('list', '', h.env);
    expect(Object.entries(JSON.parse(listed.stdout) as object)).toEqual([['__proto__', 'me']]);
    expect((await runHelper('erase', '__proto__\n', h.env)).exitCode).toBe(0);
    expect((await runHelper('get', '__proto__\n', h.env)).exitCode).toBe(1);
  });
});

describe('an unreadable docker config (README, Commands)', () => {
  async function brokenHome(): Promise<AgentHome> {
    const h = await home();
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, '{"auths": not json');
    return h;
  }

  it('status exits 2 with the reason on stderr', async () => {
    const h = await brokenHome();
    for (const args of [['status'], ['status', '--json']]) {
      const r = await runAgent(args, h.env);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`${h.configPath} is not valid JSON`);
    }
  });

  it('refresh --json prints one JSON object with the error on stdout: exit 2, 0 with --hook', async () => {
    const h = await brokenHome();
    for (const [args, code] of [
      [['refresh', '--json'], 2],
      [['refresh', '--json', '--hook'], 0],
    ] as const) {
      const r = await runAgent([...args], { ...h.env, ...basicLogin() });
      expect(r.exitCode).toBe(code);
      const report = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(report).toEqual({
        configPath: h.configPath,
        logins: [],
        problems: [],
        removed: [],
        error: expect.stringContaining(`${h.configPath} is not valid JSON`),
      });
      expect(r.stderr).toContain('is not valid JSON');
      expect(leaked([r])).toEqual([]);
    }
    expect(await readFile(h.configPath, 'utf8')).toBe('{"auths": not json');
  });
});
