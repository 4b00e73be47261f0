// Every network wait of every command is bounded, through a proxy too: `check`, `refresh` (ECR) and the helper's
// `get`, run as built, against a proxy that accepts connections and never answers and against a registry or AWS
// endpoint that does the same; the helper's `get` with a valid token answers within its deadline, a held config lock
// included. Both silent listeners are on 127.0.0.1; the names asked of the silent proxy end in
// .invalid and are never resolved or reached, so nothing leaves the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO, makeAgentHome, runAgent, runHelper, triple, type AgentResult } from '../support/agent.js';
import { spawnTracked, stopTracked, type TrackedChild } from '../support/process.js';
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
// Its tokens live 2 s: expired by the time the helper is asked.
const EXPIRING_KEY = {
  accessKeyId: 'AKIABOUNDEDWAITS0002',
  secretAccessKey: 'bounded-secret-Ty4Lp8Wn0000000000000002',
};
const SECRETS = [PASSWORD, KEY.secretAccessKey, EXPIRING_KEY.secretAccessKey];
const ECR_HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
// Only ever named to the silent proxy.
const UNREACHED_ENDPOINT = 'https://api.ecr.us-west-2.bounded-waits.invalid';

const dirs = new TempDirs();
let proxy: Silent;
let server: Silent;
let standIn: EcrStandIn;

beforeAll(async () => {
  [proxy, server, standIn] = await Promise.all([
    startSilent(),
    startSilent(),
    startEcrStandIn({ keys: [KEY, EXPIRING_KEY] }),
  ]);
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

describe("the helper's get, renewing an ECR token past half its life", () => {
  // SPEC: while the token is valid, get answers within this whatever the network or a lock does. Asserted with room
  // to spare: the behaviour is the deadline, not the speed.
  const ANSWER_WITHIN_MS = 3000;
  const ANSWER_BOUND_MS = 2 * ANSWER_WITHIN_MS;
  // Tokens the stand-in issues for these tests: past half-life after half of this, still valid for the other half.
  const LIFETIME_MS = 20_000;
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  beforeAll(() => {
    standIn.setReply((call) => ({
      kind: 'token',
      expiresAt: new Date(Date.now() + (call.keyId === EXPIRING_KEY.accessKeyId ? 2000 : LIFETIME_MS)),
    }));
  });
  afterAll(() => standIn.setReply(undefined));

  // A managed ECR login whose token is past half its life (or, with expired, past its end).
  async function loginAt(prefix: string, { expired = false } = {}) {
    const keys = expired ? EXPIRING_KEY : KEY;
    const agentHome = await home({
      ...triple(prefix, ECR_HOST, keys.accessKeyId, keys.secretAccessKey),
      AWS_ENDPOINT_URL_ECR: standIn.url,
    });
    const refreshed = await runAgent(['refresh', '--json'], agentHome.env);
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    const [login] = JSON.parse(refreshed.stdout).logins as { expiresAt: string }[];
    const expiresAt = Date.parse(login!.expiresAt);
    const due = expired ? expiresAt + 500 : expiresAt - LIFETIME_MS / 2 + 500;
    await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const current = JSON.parse((await readFile(agentHome.configPath, 'utf8')).toString()).auths[ECR_HOST].auth;
    return { ...agentHome, expiresAt: login!.expiresAt, current: Buffer.from(current, 'base64').toString() };
  }

  const secretOf = (stdout: string) => {
    const answer = JSON.parse(stdout) as { ServerURL: string; Username: string; Secret: string };
    expect(answer).toMatchObject({ ServerURL: `https://${ECR_HOST}`, Username: 'AWS' });
    return `AWS:${answer.Secret}`;
  };

  it.concurrent('answers with the current token within 3 s behind a proxy that never answers CONNECT', async () => {
    const h = await loginAt('GETPROXY');
    const apiHost = new URL(UNREACHED_ENDPOINT).hostname;
    const before = connectsTo(`${apiHost}:443`);
    const result = await timed(() =>
      runHelper('get', `https://${ECR_HOST}\n`, {
        ...h.env,
        AWS_ENDPOINT_URL_ECR: UNREACHED_ENDPOINT,
        HTTPS_PROXY: proxy.url,
      }),
    );
    expect(result.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(secretOf(result.stdout)).toBe(h.current);
    expect(result.stderr).toMatch(
      new RegExp(
        `GETPROXY: the ECR token for ${escaped(ECR_HOST)} expires at ${escaped(h.expiresAt)} and renewing it did not finish within 3 s .*still valid until ${escaped(h.expiresAt)}`,
      ),
    );
    expect(connectsTo(`${apiHost}:443`) - before).toBeGreaterThan(0);
  });

  it.concurrent('answers with the current token within 3 s at an AWS endpoint that never answers', async () => {
    const h = await loginAt('GETMUTE');
    const result = await timed(() =>
      runHelper('get', `https://${ECR_HOST}\n`, { ...h.env, AWS_ENDPOINT_URL_ECR: server.url }),
    );
    expect(result.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(secretOf(result.stdout)).toBe(h.current);
    expect(result.stderr).toMatch(
      new RegExp(`GETMUTE: the ECR token for ${escaped(ECR_HOST)} .*did not finish within 3 s .*still valid until`),
    );
  });

  it.concurrent(
    'answers with the renewed token within 3 s while a live process holds the config lock, and saves it later',
    async () => {
      const h = await loginAt('GETLOCKED');
      const before = await readFile(h.configPath, 'utf8');
      const holder = spawnTracked(process.execPath, [path.join(REPO, 'test/support/lock-holder.mjs'), h.configPath]);
      try {
        await waitForOutput(holder, 'held\n');
        const calls = standIn.calls.length;
        const result = await timed(() => runHelper('get', `https://${ECR_HOST}\n`, h.env));
        expect(result.ms).toBeLessThan(ANSWER_BOUND_MS);
        expect(result.exitCode, result.stderr).toBe(0);
        const renewed = standIn.calls.slice(calls).find((c) => c.keyId === KEY.accessKeyId);
        expect(renewed?.password).toBeDefined();
        expect(secretOf(result.stdout)).toBe(`AWS:${renewed!.password}`);
        expect(result.stderr).toMatch(
          new RegExp(
            `GETLOCKED: renewed the ECR token for ${escaped(ECR_HOST)} .*docker gets the new one, but could not save it in the docker config: .*stayed locked`,
          ),
        );
        expect(await readFile(h.configPath, 'utf8')).toBe(before);
      } finally {
        await stopTracked(holder);
      }
      // The lock released: the next get saves the token it renewed (from the token cache, no second AWS call).
      const calls = standIn.calls.length;
      const next = await runHelper('get', `https://${ECR_HOST}\n`, h.env);
      expect(next.exitCode, next.stderr).toBe(0);
      expect(next.stderr).toBe('');
      expect(standIn.calls.length).toBe(calls);
      const saved = JSON.parse(await readFile(h.configPath, 'utf8')).auths[ECR_HOST].auth;
      expect(secretOf(next.stdout)).toBe(Buffer.from(saved, 'base64').toString());
    },
  );

  it('waits for the swap limit for an expired token at an AWS endpoint that never answers, then says why', async () => {
    const h = await loginAt('GETEXPIRED', { expired: true });
    const result = await timed(() =>
      runHelper('get', `https://${ECR_HOST}\n`, { ...h.env, AWS_ENDPOINT_URL_ECR: server.url }),
    );
    expect(result.ms).toBeGreaterThan(ANSWER_BOUND_MS);
    expect(result.ms).toBeLessThan(SWAP_BUDGET_MS + SLACK_MS);
    // No expired token for docker: "not found" lets a public image be pulled anonymously.
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('credentials not found in native keychain');
    expect(result.stderr).toMatch(
      new RegExp(
        `GETEXPIRED: the ECR token for ${escaped(ECR_HOST)} expired at ${escaped(h.expiresAt)} and could not be renewed: .*TimeoutError calling 127\\.0\\.0\\.1:\\d+`,
      ),
    );
  }, 120_000);
});

async function waitForOutput(child: TrackedChild, text: string): Promise<void> {
  for (let waited = 0; !child.output().includes(text); waited += 50) {
    if (child.hasExited() || waited > 10_000) throw new Error(`the lock holder did not start: ${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
