// Every network wait of every command is bounded, through a proxy too: `check`, `refresh` (ECR) and the helper's
// `get`, run as built, against a proxy that accepts connections and never answers and against a registry or AWS
// endpoint that does the same. Both silent listeners are on 127.0.0.1; the names asked of the silent proxy end in
// .invalid and are never resolved or reached, so nothing leaves the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, runHelper, triple, type AgentResult } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { startSilent, type Silent } from '../support/silent-listener.js';
import { TempDirs } from '../support/tmp.js';

const CHECK_TIMEOUT_S = 3;
// swap.ts DEFAULT_LIMITS.totalTimeoutMs: the longest an ECR swap may take, retries included.
const SWAP_BUDGET_MS = 30_000;
// Generous: these bounds prove that a command ends, not how fast.
const SLACK_MS = 10_000;
// Past every bound above and within vitest's 60 s per test, so a hang fails on the measured time.
const RUNNER_LIMIT_MS = 50_000;

const PASSWORD = 'stalled-pw-Qm7Xc2Vd';
const KEY = { accessKeyId: 'AKIABOUNDEDWAITS0001', secretAccessKey: 'bounded-secret-Ty4Lp8Wn0000000000000001' };
const SECRETS = [PASSWORD, KEY.secretAccessKey];
const ECR_HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
// Only ever named to the silent proxy.
const UNREACHED_ENDPOINT = 'https://api.ecr.us-west-2.bounded-waits.invalid';

const dirs = new TempDirs();
let proxy: Silent;
let server: Silent;
let standIn: EcrStandIn;

beforeAll(async () => {
  [proxy, server, standIn] = await Promise.all([startSilent(), startSilent(), startEcrStandIn({ keys: [KEY] })]);
});

afterAll(async () => {
  await Promise.all([proxy?.close(), server?.close(), standIn?.close()]);
  await dirs.cleanup();
});

async function home(extra: Record<string, string>) {
  return makeAgentHome(await dirs.make('rl-bounded-'), extra);
}

/** Runs a command, measuring how long it took. */
async function timed(run: () => Promise<AgentResult>): Promise<AgentResult & { ms: number }> {
  const started = Date.now();
  const result = await run();
  const ms = Date.now() - started;
  for (const secret of SECRETS) expect(`${result.stdout}\n${result.stderr}`).not.toContain(secret);
  return { ...result, ms };
}

const connectsTo = (host: string) => proxy.received.filter((text) => text.startsWith(`CONNECT ${host} `)).length;

describe('check', () => {
  it.concurrent('ends as unreachable within its timeout behind a proxy that never answers CONNECT', async () => {
    const registry = 'registry.bounded-waits.invalid:443';
    const before = connectsTo(registry);
    const { env } = await home({
      ...triple('STALL', registry, 'alice', PASSWORD),
      HTTPS_PROXY: proxy.url,
      REGISTRY_LOGIN_CHECK_TIMEOUT: String(CHECK_TIMEOUT_S),
    });
    const result = await timed(() => runAgent(['check', '--json'], env, { timeoutMs: RUNNER_LIMIT_MS }));
    expect(result.ms).toBeLessThan(CHECK_TIMEOUT_S * 1000 + SLACK_MS);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout).results).toMatchObject([
      {
        key: registry,
        result: 'unreachable',
        detail: expect.stringContaining(`no answer within ${CHECK_TIMEOUT_S} s`),
      },
    ]);
    expect(connectsTo(registry) - before).toBeGreaterThan(0);
  });

  it.concurrent('ends as unreachable within its timeout at a registry that accepts and never answers', async () => {
    const registry = `127.0.0.1:${server.port}`;
    const { env } = await home({
      ...triple('MUTE', registry, 'alice', PASSWORD),
      REGISTRY_LOGIN_CHECK_TIMEOUT: String(CHECK_TIMEOUT_S),
    });
    const result = await timed(() => runAgent(['check', '--json'], env, { timeoutMs: RUNNER_LIMIT_MS }));
    expect(result.ms).toBeLessThan(CHECK_TIMEOUT_S * 1000 + SLACK_MS);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout).results).toMatchObject([{ key: registry, result: 'unreachable' }]);
  });
});

describe('refresh with AWS keys', () => {
  const ecrTriple = (prefix: string) => triple(prefix, ECR_HOST, KEY.accessKeyId, KEY.secretAccessKey);

  it.concurrent(
    'gives up within the swap budget behind a proxy that never answers CONNECT, naming the proxy',
    async () => {
      const apiHost = new URL(UNREACHED_ENDPOINT).hostname;
      const before = connectsTo(`${apiHost}:443`);
      const { env } = await home({
        ...ecrTriple('VIAPROXY'),
        AWS_ENDPOINT_URL_ECR: UNREACHED_ENDPOINT,
        HTTPS_PROXY: proxy.url,
      });
      const result = await timed(() => runAgent(['refresh'], env, { timeoutMs: RUNNER_LIMIT_MS }));
      expect(result.ms).toBeLessThan(SWAP_BUDGET_MS + SLACK_MS);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`VIAPROXY: could not get an ECR token for ${ECR_HOST.replace(/\./g, '\\.')}: .*through the proxy`),
      );
      expect(connectsTo(`${apiHost}:443`) - before).toBeGreaterThan(0);
    },
  );

  it.concurrent('gives up within the swap budget at an AWS endpoint that accepts and never answers', async () => {
    const { env } = await home({ ...ecrTriple('MUTEAWS'), AWS_ENDPOINT_URL_ECR: server.url });
    const result = await timed(() => runAgent(['refresh'], env, { timeoutMs: RUNNER_LIMIT_MS }));
    expect(result.ms).toBeLessThan(SWAP_BUDGET_MS + SLACK_MS);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/MUTEAWS: could not get an ECR token for .*TimeoutError calling 127\.0\.0\.1:\d+/);
  });
});

describe("the helper's get, renewing a stale ECR token", () => {
  // A managed ECR login whose token is past half its life, so that get asks AWS again.
  async function staleLogin(prefix: string) {
    const agentHome = await home({
      ...triple(prefix, ECR_HOST, KEY.accessKeyId, KEY.secretAccessKey),
      AWS_ENDPOINT_URL_ECR: standIn.url,
    });
    standIn.setReply(() => ({ kind: 'token', expiresAt: new Date(Date.now() + 4000) }));
    const refreshed = await runAgent(['refresh'], agentHome.env);
    standIn.setReply(undefined);
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    return agentHome;
  }

  it('answers with the config within the swap budget behind a proxy that never answers CONNECT, saying why', async () => {
    const { env } = await staleLogin('GETPROXY');
    const apiHost = new URL(UNREACHED_ENDPOINT).hostname;
    const before = connectsTo(`${apiHost}:443`);
    const result = await timed(() =>
      runHelper('get', `https://${ECR_HOST}\n`, {
        ...env,
        AWS_ENDPOINT_URL_ECR: UNREACHED_ENDPOINT,
        HTTPS_PROXY: proxy.url,
      }),
    );
    expect(result.ms).toBeLessThan(SWAP_BUDGET_MS + SLACK_MS);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ServerURL: `https://${ECR_HOST}`, Username: 'AWS' });
    expect(result.stderr).toMatch(/could not be renewed: .*through the proxy/);
    expect(connectsTo(`${apiHost}:443`) - before).toBeGreaterThan(0);
  }, 120_000);

  it('answers with the config within the swap budget at an AWS endpoint that accepts and never answers', async () => {
    const { env } = await staleLogin('GETMUTE');
    const result = await timed(() =>
      runHelper('get', `https://${ECR_HOST}\n`, { ...env, AWS_ENDPOINT_URL_ECR: server.url }),
    );
    expect(result.ms).toBeLessThan(SWAP_BUDGET_MS + SLACK_MS);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/could not be renewed: .*TimeoutError calling 127\.0\.0\.1:\d+/);
  }, 120_000);
});
