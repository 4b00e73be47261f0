// ECR faults from the stand-in: every way GetAuthorizationToken can fail gives a clear error for that login only,
// retried where a retry helps; the other logins are written and no key, secret or token is printed.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcrStandIn, type EcrStandIn, type Reply } from '../support/ecr-stand-in.js';
import { makeAgentHome, triple } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';
import { runTimed } from './harness.js';
import { FULL, Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
let standIn: EcrStandIn;
const KEY = { accessKeyId: 'AKIARELIABILITY00001', secretAccessKey: 'rel-secret-Wq3Zt8Lm-000000000000000000001' };
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const STATIC_PASSWORD = 'static-Pw-Jx5Vn2Qc';
let reply: (n: number) => Reply = () => ({ kind: 'token' });
let callsAtStart = 0;

beforeAll(async () => {
  standIn = await startEcrStandIn({ keys: [KEY], reply: (call) => reply(call.n - callsAtStart) });
});
afterAll(async () => {
  await standIn?.close();
  await tmp.cleanup();
});

interface Fault {
  name: string;
  reply: (n: number) => Reply;
  /** ok: the login is written after retries; error: the message must match. */
  expect: { ok: true; minCalls: number } | { ok: false; says: RegExp; minCalls?: number };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const FAULTS: Fault[] = [
  {
    name: '5xx once, then a token',
    reply: (n) =>
      n === 1 ? { kind: 'error', status: 500, type: 'ServerException', message: 'internal' } : { kind: 'token' },
    expect: { ok: true, minCalls: 2 },
  },
  {
    name: '503 always',
    reply: () => ({ kind: 'error', status: 503, type: 'ServiceUnavailableException', message: 'unavailable' }),
    expect: { ok: false, says: /ServiceUnavailableException/, minCalls: 2 },
  },
  {
    name: 'throttled twice, then a token',
    reply: (n) =>
      n <= 2
        ? { kind: 'error', status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }
        : { kind: 'token' },
    expect: { ok: true, minCalls: 3 },
  },
  {
    name: 'throttled always',
    reply: () => ({ kind: 'error', status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }),
    expect: { ok: false, says: /ThrottlingException/, minCalls: 2 },
  },
  {
    name: 'connection reset once, then a token',
    reply: (n) => (n === 1 ? { kind: 'reset' } : { kind: 'token' }),
    expect: { ok: true, minCalls: 2 },
  },
  {
    name: 'connection reset always',
    reply: () => ({ kind: 'reset' }),
    expect: { ok: false, says: /ECONNRESET|reset|closed/i, minCalls: 2 },
  },
  {
    name: 'malformed JSON body',
    reply: () => ({ kind: 'raw', status: 200, body: '{"authorizationData": [' }),
    expect: { ok: false, says: /ECR|AWS|answer|response|token/i },
  },
  {
    name: 'empty authorizationData',
    reply: () => ({ kind: 'raw', status: 200, body: '{"authorizationData": []}' }),
    expect: { ok: false, says: /token|authorizationData|answer/i },
  },
  {
    name: 'no authorizationData',
    reply: () => ({ kind: 'raw', status: 200, body: '{}' }),
    expect: { ok: false, says: /token|authorizationData|answer/i },
  },
  {
    name: 'token not base64',
    reply: () => ({ kind: 'authorizationToken', value: '%%% not base64 %%%' }),
    expect: { ok: false, says: /token|base64|answer/i },
  },
  {
    name: 'token without AWS:',
    reply: () => ({ kind: 'authorizationToken', value: b64('someone:pw-Tk9') }),
    expect: { ok: false, says: /token|AWS|answer/i },
  },
  {
    name: 'token with an empty password',
    reply: () => ({ kind: 'authorizationToken', value: b64('AWS:') }),
    expect: { ok: false, says: /token|empty|answer/i },
  },
  {
    name: 'token not a string',
    reply: () => ({ kind: 'authorizationToken', value: 12345 }),
    expect: { ok: false, says: /token|answer/i },
  },
  {
    name: 'unknown error type (4xx)',
    reply: () => ({ kind: 'error', status: 400, type: 'WeirdNewException', message: 'new' }),
    expect: { ok: false, says: /WeirdNewException/ },
  },
  ...(FULL
    ? [
        {
          name: 'no answer at all (timeout)',
          reply: () => ({ kind: 'hang' }) as Reply,
          expect: { ok: false as const, says: /time|answer/i },
        },
      ]
    : []),
];

describe('ECR faults', () => {
  it('fails only the ECR login, clearly, retrying where it helps, and writes the others', async () => {
    const failures = new Failures();
    const said: Record<string, string> = {};
    let trials = 0;
    const rounds = size(5, 1);
    for (let round = 0; round < rounds; round++) {
      // The timeout case costs the SDK's whole 30 s budget (twice, with the --hook run): once is enough.
      for (const fault of FAULTS.filter((f) => round === 0 || !f.name.includes('timeout'))) {
        trials++;
        const h = await makeAgentHome(await tmp.make('rl-ecr-'), {
          ...triple('AWSKEYS', ECR, KEY.accessKeyId, KEY.secretAccessKey),
          ...triple('PLAIN', 'registry.example.com', 'u', STATIC_PASSWORD),
          AWS_ENDPOINT_URL_ECR: standIn.url,
        });
        reply = fault.reply;
        callsAtStart = standIn.calls.length;
        const r = await runTimed(['refresh', '--force'], h.env, { timeoutMs: 120_000 });
        const calls = standIn.calls.length - callsAtStart;
        const label = `${fault.name} #${round}`;
        const config = JSON.parse(await readFile(h.configPath, 'utf8').catch(() => '{}')) as {
          auths?: Record<string, { auth: string }>;
        };
        failures.check(
          config.auths?.['registry.example.com']?.auth === b64(`u:${STATIC_PASSWORD}`),
          () => `${label}: the other login was not written`,
        );
        const out = r.stdout + r.stderr;
        const issued = standIn.calls.slice(callsAtStart).flatMap((c) => (c.password ? [c.password] : []));
        for (const secret of [KEY.secretAccessKey, STATIC_PASSWORD, ...issued])
          for (const form of [secret, b64(secret).replace(/=+$/, ''), b64(`AWS:${secret}`).replace(/=+$/, '')])
            failures.check(!out.includes(form), () => `${label}: a secret was printed`);
        if (fault.expect.ok) {
          failures.check(r.exitCode === 0, () => `${label}: exit ${r.exitCode}: ${r.stderr.trim().slice(0, 300)}`);
          failures.check(calls >= fault.expect.minCalls, () => `${label}: ${calls} calls, no retry`);
          const password = issued[issued.length - 1];
          failures.check(
            password !== undefined && config.auths?.[ECR]?.auth === b64(`AWS:${password}`),
            () => `${label}: the token was not written whole`,
          );
        } else {
          const line = r.stderr.split('\n').find((l) => l.includes('AWSKEYS')) ?? '';
          said[fault.name] = line.slice(0, 260);
          failures.check(r.exitCode === 1, () => `${label}: exit ${r.exitCode}, not 1`);
          failures.check(
            line.includes(ECR) && fault.expect.says.test(line),
            () => `${label}: the error does not name the registry and the cause: ${JSON.stringify(line)}`,
          );
          failures.check(
            config.auths?.[ECR] === undefined,
            () => `${label}: an entry was written for the failed login`,
          );
          if (fault.expect.minCalls)
            failures.check(calls >= fault.expect.minCalls, () => `${label}: ${calls} call(s): not retried`);
          const hook = await runTimed(['refresh', '--hook', '--force'], h.env, { timeoutMs: 120_000 });
          failures.check(hook.exitCode === 0, () => `${label}: refresh --hook exited ${hook.exitCode}`);
        }
      }
    }
    recordFigure({
      id: '7-ecr-faults',
      property: `ECR faults from the stand-in (${FAULTS.length} kinds${FULL ? '' : '; the 30 s timeout case runs in the full size only'}), one ECR login beside a static one`,
      trials,
      failures: failures.count,
      examples: failures.examples(),
      facts: Object.fromEntries(Object.entries(said).map(([k, v]) => [`${k}: says`, v.replaceAll(ECR, '<ecr>')])),
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
