// resolveEcrLogins: one call per distinct identity, in parallel, through the cache; errors per login that say what to
// do.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEcrLogins, type EcrResolveOptions } from '../../src/ecr/resolve-ecr.js';
import { keyLogins } from '../../src/registry.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import type { Login, Triple } from '../../src/types.js';

const A = { accessKeyId: 'AKIAKEYA000000000001', secretAccessKey: 'secret-a-000000000000000000000000000001' };
const B = { accessKeyId: 'AKIAKEYB000000000002', secretAccessKey: 'secret-b-000000000000000000000000000002' };
const T = {
  accessKeyId: 'ASIAKEYT000000000003',
  secretAccessKey: 'secret-t-000000000000000000000000000003',
  sessionToken: 'session-t-0003',
};
const FAST = { connectTimeoutMs: 1000, requestTimeoutMs: 1000, totalTimeoutMs: 4000, maxAttempts: 2 };

let standIn: EcrStandIn;
let cacheDir: string;
beforeAll(async () => {
  standIn = await startEcrStandIn({ keys: [A, B, T] });
});
afterAll(() => standIn.close());
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'ecr-resolve-'));
});
afterEach(async () => {
  standIn.setReply(undefined);
  standIn.setDelay(0);
  await rm(cacheDir, { recursive: true, force: true });
});

function logins(
  specs: [
    prefix: string,
    server: string,
    keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  ][],
): Login[] {
  const triples: Triple[] = specs.map(([prefix, server, keys]) => ({
    prefix,
    server,
    user: keys.accessKeyId,
    password: keys.secretAccessKey,
    ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
  }));
  return keyLogins(triples).logins;
}

function options(extra: Partial<EcrResolveOptions> = {}): EcrResolveOptions {
  return {
    env: { AWS_ENDPOINT_URL_ECR: standIn.url, AWS_ENDPOINT_URL_ECR_PUBLIC: standIn.url },
    force: false,
    now: new Date(),
    cacheDir,
    limits: FAST,
    ...extra,
  };
}

const ecr = (account: string, region: string) => `${account}.dkr.ecr.${region}.amazonaws.com`;

describe('dedupe and parallelism', () => {
  it('makes one call per key pair for 6 registries over 2 keys in 1 region', async () => {
    const before = standIn.calls.length;
    const set = logins([
      ['R1', ecr('111111111111', 'us-west-2'), A],
      ['R2', ecr('222222222222', 'us-west-2'), A],
      ['R3', ecr('333333333333', 'us-west-2'), A],
      ['R4', ecr('444444444444', 'us-west-2'), B],
      ['R5', ecr('555555555555', 'us-west-2'), B],
      ['R6', `https://${ecr('666666666666', 'us-west-2')}/some/repo`, B],
    ]);
    const results = await resolveEcrLogins(set, options());
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = standIn.calls.slice(before);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.keyId).sort()).toEqual([A.accessKeyId, B.accessKeyId]);
    // Registries sharing a call share its token.
    const secrets = results.map((r) => (r.ok ? r.credentials.secret : ''));
    expect(new Set(secrets.slice(0, 3)).size).toBe(1);
    expect(new Set(secrets.slice(3)).size).toBe(1);
    expect(secrets[0]).not.toBe(secrets[3]);
  });

  it('calls separately per region, flavour, session token and service', async () => {
    const before = standIn.calls.length;
    const set = logins([
      ['P1', ecr('111111111111', 'us-west-2'), A],
      ['P2', ecr('111111111111', 'eu-west-1'), A],
      ['P3', '111111111111.dkr.ecr-fips.us-west-2.amazonaws.com', A],
      ['P4', '111111111111.dkr-ecr.us-west-2.on.aws', A],
      ['P5', ecr('222222222222', 'us-west-2'), T],
      ['P6', 'public.ecr.aws', A],
      ['P7', ecr('333333333333', 'us-east-1'), A],
    ]);
    const results = await resolveEcrLogins(set, options());
    expect(results.map((r) => r.ok)).toEqual(set.map(() => true));
    const calls = standIn.calls.slice(before);
    expect(calls).toHaveLength(7);
    expect(calls.filter((c) => c.service === 'ecr-public')).toMatchObject([
      { region: 'us-east-1', keyId: A.accessKeyId },
    ]);
    expect(calls.filter((c) => c.sessionToken === T.sessionToken)).toHaveLength(1);
  });

  it('runs the calls in parallel', async () => {
    standIn.setDelay(400);
    const set = logins([
      ['Q1', ecr('111111111111', 'us-west-1'), A],
      ['Q2', ecr('111111111111', 'us-east-2'), A],
      ['Q3', ecr('111111111111', 'us-west-1'), B],
      ['Q4', ecr('111111111111', 'us-east-2'), B],
    ]);
    const started = Date.now();
    const results = await resolveEcrLogins(set, options());
    expect(results.every((r) => r.ok)).toBe(true);
    expect(Date.now() - started).toBeLessThan(4 * 400);
  });
});

describe('the cache', () => {
  const set = () =>
    logins([
      ['C1', ecr('111111111111', 'us-west-2'), A],
      ['C2', ecr('222222222222', 'us-west-2'), A],
    ]);

  it('serves a fresh token without a call, and --force asks again', async () => {
    const before = standIn.calls.length;
    const first = await resolveEcrLogins(set(), options());
    expect(standIn.calls.length - before).toBe(1);
    const second = await resolveEcrLogins(set(), options());
    expect(standIn.calls.length - before).toBe(1);
    expect(second.map((r) => r.ok && r.credentials.secret)).toEqual(first.map((r) => r.ok && r.credentials.secret));
    const forced = await resolveEcrLogins(set(), options({ force: true }));
    expect(standIn.calls.length - before).toBe(2);
    expect(forced[0]!.ok && forced[0]!.credentials.secret).not.toBe(first[0]!.ok && first[0]!.credentials.secret);
  });

  it('renews a token past half its life', async () => {
    const issued = new Date();
    const before = standIn.calls.length;
    standIn.setReply(() => ({ kind: 'token', expiresAt: new Date(issued.getTime() + 12 * 3600_000) }));
    const first = await resolveEcrLogins(set(), options({ now: issued }));
    expect(first[0]).toMatchObject({ ok: true, credentials: { username: 'AWS', issuedAt: issued } });
    await resolveEcrLogins(set(), options({ now: new Date(issued.getTime() + 5.9 * 3600_000) }));
    expect(standIn.calls.length - before).toBe(1);
    await resolveEcrLogins(set(), options({ now: new Date(issued.getTime() + 6.1 * 3600_000) }));
    expect(standIn.calls.length - before).toBe(2);
  });

  it('keys the cached token by the access key ID, not the secret: a wrong secret shows at renewal or with --force', async () => {
    const before = standIn.calls.length;
    await resolveEcrLogins(set(), options());
    const other = logins([['C1', ecr('111111111111', 'us-west-2'), { ...A, secretAccessKey: 'a-different-secret' }]]);
    const cached = await resolveEcrLogins(other, options());
    expect(cached[0]!.ok).toBe(true);
    expect(standIn.calls.length - before).toBe(1);
    const forced = await resolveEcrLogins(other, options({ force: true }));
    expect(forced[0]!.ok).toBe(false);
    expect(standIn.calls.length - before).toBe(2);
  });
});

describe('failures', () => {
  it('fails only the logins of a bad key, naming prefix, registry, code and remedy, without a secret', async () => {
    const bad = { accessKeyId: A.accessKeyId, secretAccessKey: 'not-the-right-secret-0000000000000000' };
    const set = logins([
      ['GOOD', ecr('111111111111', 'us-west-2'), B],
      ['BAD', ecr('222222222222', 'us-west-2'), bad],
      [
        'UNKNOWN',
        ecr('333333333333', 'us-west-2'),
        { accessKeyId: 'AKIANOBODY', secretAccessKey: 'nobody-secret-000000000' },
      ],
    ]);
    const [wrongSecret, good, unknown] = await resolveEcrLogins(set, options()); // keyLogins sorts by prefix
    expect(good!.ok).toBe(true);
    expect(wrongSecret).toMatchObject({ ok: false });
    const message = (wrongSecret as { error: string }).error;
    expect(message).toContain('BAD:');
    expect(message).toContain('222222222222.dkr.ecr.us-west-2.amazonaws.com');
    expect(message).toContain('InvalidSignatureException');
    expect(message).toContain('BAD_CONTAINER_REGISTRY_USER');
    expect(message).toContain('BAD_CONTAINER_REGISTRY_PASSWORD');
    expect(message).not.toContain(bad.secretAccessKey);
    expect((unknown as { error: string }).error).toMatch(
      /UNKNOWN: .*UnrecognizedClientException.*UNKNOWN_CONTAINER_REGISTRY_USER/,
    );
  });

  it('names the IAM permission on AccessDeniedException, for ECR and ECR Public', async () => {
    standIn.setReply(() => ({ kind: 'error', status: 400, type: 'AccessDeniedException', message: 'not authorized' }));
    const [privateResult, publicResult] = await resolveEcrLogins(
      logins([
        ['PRIV', ecr('111111111111', 'us-west-2'), A],
        ['PUB', 'public.ecr.aws', A],
      ]),
      options(),
    );
    expect((privateResult as { error: string }).error).toMatch(
      /PRIV: .*111111111111\.dkr\.ecr\.us-west-2\.amazonaws\.com.*AccessDeniedException.*ecr:GetAuthorizationToken/,
    );
    expect((publicResult as { error: string }).error).toMatch(
      /PUB: .*public\.ecr\.aws.*AccessDeniedException.*ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken/,
    );
  });

  it('mentions the missing session token for temporary keys', async () => {
    const [result] = await resolveEcrLogins(
      logins([
        ['TMP', ecr('111111111111', 'us-west-2'), { accessKeyId: T.accessKeyId, secretAccessKey: T.secretAccessKey }],
      ]),
      options(),
    );
    expect((result as { error: string }).error).toMatch(
      /UnrecognizedClientException.*TMP_CONTAINER_REGISTRY_SESSION_TOKEN/,
    );
  });

  it('lets a hanging identity time out while the others resolve', async () => {
    standIn.setReply((call) => (call.keyId === A.accessKeyId ? { kind: 'hang' } : { kind: 'token' }));
    const started = Date.now();
    const [fine, hung] = await resolveEcrLogins(
      logins([
        ['SLOW', ecr('111111111111', 'us-west-2'), A],
        ['FINE', ecr('222222222222', 'us-west-2'), B],
      ]),
      options({ limits: { ...FAST, requestTimeoutMs: 300, totalTimeoutMs: 1200 } }),
    );
    expect(fine!.ok).toBe(true);
    expect((hung as { error: string }).error).toMatch(/SLOW: .*TimeoutError.*127\.0\.0\.1.*AWS_ENDPOINT_URL_ECR/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('explains an answer without a usable token', async () => {
    standIn.setReply(() => ({ kind: 'authorizationToken', value: Buffer.from('nobody:pw').toString('base64') }));
    const [result] = await resolveEcrLogins(logins([['ODD', ecr('111111111111', 'us-west-2'), A]]), options());
    expect((result as { error: string }).error).toMatch(/ODD: .*InvalidAuthorizationData.*AWS:<password>/);
  });

  it('does not cache failures', async () => {
    standIn.setReply(() => ({ kind: 'error', status: 500, type: 'ServerException' }));
    const set = logins([['FLAKY', ecr('111111111111', 'us-west-2'), A]]);
    expect((await resolveEcrLogins(set, options()))[0]!.ok).toBe(false);
    standIn.setReply(undefined);
    expect((await resolveEcrLogins(set, options()))[0]!.ok).toBe(true);
  });
});
