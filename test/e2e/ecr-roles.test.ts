// Cross-account ECR through a role, through the built CLI and helper: the triple's keys assume the role at STS (the
// SigV4-verifying stand-in with a role table), the ECR call is signed with the role's temporary keys, the token lives
// no longer than the role's session, and the role's credentials never reach a file or an output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeAgentHome, REPO, runAgent, triple, type AgentHome, type AgentResult } from '../support/agent.js';
import {
  ECR_PUBLIC_TARGET,
  startEcrStandIn,
  STS_ASSUME_ROLE,
  type EcrStandIn,
  type RecordedCall,
} from '../support/ecr-stand-in.js';
import { dockerPull, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { type ConnectProxy, startConnectProxy } from '../support/connect-proxy.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

const USER_KEY = { accessKeyId: 'AKIAROLEUSER00000001', secretAccessKey: 'role-user-secret-0000000000000000000001' };
const OTHER_KEY = { accessKeyId: 'AKIAROLEOTHER0000002', secretAccessKey: 'role-other-secret-000000000000000000002' };
const TEMP_KEY = {
  accessKeyId: 'ASIAROLETEMP00000003',
  secretAccessKey: 'role-temp-secret-0000000000000000000003',
  sessionToken: 'role-temp-session-token-0000000000000003',
};
const EXTERNAL_ID = 'ext-id-9f8e7d6c5b4a-secret';
const ROLE_A = 'arn:aws:iam::111111111111:role/ecr-pull';
const ROLE_B = 'arn:aws:iam::222222222222:role/team/ecr-pull-b';
const ROLE_SHORT = 'arn:aws:iam::333333333333:role/short-session';
const ROLE_DENY = 'arn:aws:iam::444444444444:role/trusts-someone-else';
const ROLE_CN = 'arn:aws-cn:iam::555555555555:role/ecr-pull';
const ROLE_GOV = 'arn:aws-us-gov:iam::666666666666:role/ecr-pull';
const SHORT_SECONDS = 5;

const ecr = (account: string, region: string) => `${account}.dkr.ecr.${region}.amazonaws.com`;
const role = (prefix: string, arn: string, externalId?: string): Record<string, string> => ({
  [`${prefix}_CONTAINER_REGISTRY_ROLE_ARN`]: arn,
  ...(externalId !== undefined ? { [`${prefix}_CONTAINER_REGISTRY_EXTERNAL_ID`]: externalId } : {}),
});

let standIn: EcrStandIn;
let work: string;
let homes = 0;

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/assume-role.cjs')))
    throw new Error('dist/assume-role.cjs is missing: run `npm run build` first (npm test does).');
  standIn = await startEcrStandIn({
    keys: [USER_KEY, OTHER_KEY, TEMP_KEY],
    roles: [
      { roleArn: ROLE_A, trusted: [USER_KEY.accessKeyId, TEMP_KEY.accessKeyId] },
      { roleArn: ROLE_B, trusted: [USER_KEY.accessKeyId], externalId: EXTERNAL_ID },
      { roleArn: ROLE_SHORT, trusted: [USER_KEY.accessKeyId], sessionSeconds: SHORT_SECONDS },
      { roleArn: ROLE_DENY, trusted: [OTHER_KEY.accessKeyId] },
    ],
    disabledStsRegions: ['ap-southeast-2'],
  });
  work = await makeTempDir('ecr-roles-');
});

afterAll(async () => {
  await standIn?.close();
  if (work) await removeTempDir(work);
});

async function home(env: Record<string, string>): Promise<AgentHome> {
  const dir = join(work, `home-${++homes}`);
  return makeAgentHome(dir, {
    AWS_ENDPOINT_URL_ECR: standIn.url,
    AWS_ENDPOINT_URL_ECR_PUBLIC: standIn.url,
    AWS_ENDPOINT_URL_STS: standIn.url,
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_STATE_HOME: join(dir, 'state'),
    ...env,
  });
}

function keys(prefix: string, server: string, key = USER_KEY): Record<string, string> {
  return triple(prefix, server, key.accessKeyId, key.secretAccessKey);
}

function since(n: number): RecordedCall[] {
  return standIn.calls.slice(n);
}

/** Every file under dir, as text. */
async function filesUnder(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, text: await readFile(path, 'latin1') });
  }
  return out;
}

/** The role secrets the stand-in issued and the external ID: none may be in any output or file. */
async function expectNoRoleSecrets(where: AgentHome, outputs: AgentResult[]): Promise<void> {
  const issuedKeys = standIn.calls.flatMap((c) => (c.issuedKeyId ? [c.issuedKeyId] : []));
  const passwords = new Set(standIn.calls.flatMap((c) => (c.password ? [c.password] : [])));
  const secrets = [EXTERNAL_ID, ...standIn.issuedSecrets().filter((s) => !passwords.has(s))];
  for (const result of outputs)
    for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret);
  for (const file of await filesUnder(where.home)) {
    for (const secret of [...secrets, ...issuedKeys])
      expect(file.text.includes(secret), `${file.path} holds a role secret`).toBe(false);
  }
}

describe('registries in two accounts and two regions through two roles', () => {
  let where: AgentHome;
  const registries = {
    A_WEST: ecr('111111111111', 'us-west-2'),
    A_EAST: ecr('111111111111', 'eu-central-1'),
    B_WEST: ecr('222222222222', 'us-west-2'),
    B_EAST: ecr('222222222222', 'eu-central-1'),
  };
  let first: AgentResult;
  let firstCalls: RecordedCall[];

  beforeAll(async () => {
    where = await home({
      ...keys('A_WEST', registries.A_WEST),
      ...role('A_WEST', ROLE_A),
      ...keys('A_EAST', registries.A_EAST),
      ...role('A_EAST', ROLE_A),
      ...keys('B_WEST', registries.B_WEST),
      ...role('B_WEST', ROLE_B, EXTERNAL_ID),
      ...keys('B_EAST', registries.B_EAST),
      ...role('B_EAST', ROLE_B, EXTERNAL_ID),
    });
    const before = standIn.calls.length;
    // Each answer takes a while, so calls that run one after the other cannot overlap.
    standIn.setDelay(400);
    try {
      first = await runAgent(['refresh', '--json'], where.env);
    } finally {
      standIn.setDelay(0);
    }
    firstCalls = since(before);
  }, 60_000);

  it('makes exactly 2 AssumeRole and 4 ECR calls, each kind in parallel', () => {
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const assumes = firstCalls.filter((c) => c.target === STS_ASSUME_ROLE);
    const swaps = firstCalls.filter((c) => c.target !== STS_ASSUME_ROLE);
    expect(assumes).toHaveLength(2);
    expect(swaps).toHaveLength(4);
    expect(firstCalls.every((c) => c.verified)).toBe(true);
    const overlap = (calls: RecordedCall[]) =>
      Math.max(...calls.map((c) => c.receivedAt)) < Math.min(...calls.map((c) => c.answeredAt!));
    expect(overlap(assumes)).toBe(true);
    expect(overlap(swaps)).toBe(true);
  });

  it('assumes each role with the user keys at the regional STS of the first registry in key order', () => {
    const assumes = firstCalls.filter((c) => c.target === STS_ASSUME_ROLE);
    expect(assumes.map((c) => c.roleArn).sort()).toEqual([ROLE_A, ROLE_B]);
    for (const call of assumes) {
      expect(call).toMatchObject({ keyId: USER_KEY.accessKeyId, service: 'sts', region: 'eu-central-1' });
      expect(call.roleSessionName).toMatch(/^registry-login-[\w+=,.@-]+$/);
      expect(call.roleSessionName!.length).toBeLessThanOrEqual(64);
      expect(call.durationSeconds).toBeUndefined();
      expect(call.externalIdSent).toBe(call.roleArn === ROLE_B);
    }
  });

  it("signs each ECR call with the role's temporary keys, never the user's", () => {
    const issued = new Map(firstCalls.flatMap((c) => (c.issuedKeyId ? [[c.issuedKeyId, c.roleArn]] : [])));
    const swaps = firstCalls.filter((c) => c.target !== STS_ASSUME_ROLE);
    for (const call of swaps) {
      expect(call.keyId).not.toBe(USER_KEY.accessKeyId);
      expect(issued.has(call.keyId)).toBe(true);
      expect(call.signedAsRole).toBe(issued.get(call.keyId));
      expect(call.sessionToken).toBeDefined();
    }
    const byRegionRole = swaps.map((c) => `${c.signedAsRole} ${c.region}`).sort();
    expect(byRegionRole).toEqual([
      `${ROLE_A} eu-central-1`,
      `${ROLE_A} us-west-2`,
      `${ROLE_B} eu-central-1`,
      `${ROLE_B} us-west-2`,
    ]);
  });

  it("reports the role and the earlier of the token's and the session's ends, in refresh and status", async () => {
    const sessionEnd = new Map(firstCalls.flatMap((c) => (c.issuedKeyId ? [[c.roleArn, c.sessionEndsAt!]] : [])));
    const report = JSON.parse(first.stdout) as { logins: { prefix: string; role?: string; expiresAt?: string }[] };
    for (const login of report.logins) {
      const arn = login.prefix.startsWith('A_') ? ROLE_A : ROLE_B;
      expect(login.role).toBe(arn);
      expect(login.expiresAt).toBe(sessionEnd.get(arn)!.toISOString());
    }
    const status = await runAgent(['status', '--json'], where.env);
    const listed = JSON.parse(status.stdout) as { logins: { prefix: string; role?: string; expiresAt?: string }[] };
    expect(listed.logins.map((l) => [l.prefix, l.role, l.expiresAt])).toEqual(
      report.logins.map((l) => [l.prefix, l.role, l.expiresAt]).sort(),
    );
    const human = await runAgent(['refresh'], where.env);
    expect(human.stdout).toContain(`as ${ROLE_B}`);
    await expectNoRoleSecrets(where, [first, status, human]);
  });

  it('makes no call at all on a second run while the tokens are fresh', async () => {
    const before = standIn.calls.length;
    const again = await runAgent(['refresh', '--json'], where.env);
    expect(again.exitCode).toBe(0);
    expect(since(before)).toEqual([]);
  });
});

describe('ECR Public through a role', () => {
  it("assumes the role at us-east-1's STS and signs the ECR Public call with the role's keys", async () => {
    const where = await home({ ...keys('PUB', 'public.ecr.aws'), ...role('PUB', ROLE_A) });
    const before = standIn.calls.length;
    const result = await runAgent(['refresh', '--json'], where.env);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const [assume, swap] = since(before);
    expect(assume).toMatchObject({ target: STS_ASSUME_ROLE, region: 'us-east-1', keyId: USER_KEY.accessKeyId });
    expect(swap).toMatchObject({ target: ECR_PUBLIC_TARGET, keyId: assume!.issuedKeyId, signedAsRole: ROLE_A });
  });
});

describe('temporary keys assuming a role (role chaining)', () => {
  it("signs AssumeRole with the triple's session token and leaves the duration to STS's one-hour default", async () => {
    const where = await home({
      ...keys('CHAIN', ecr('111111111111', 'us-west-2'), TEMP_KEY),
      CHAIN_CONTAINER_REGISTRY_SESSION_TOKEN: TEMP_KEY.sessionToken,
      ...role('CHAIN', ROLE_A),
    });
    const before = standIn.calls.length;
    const result = await runAgent(['refresh'], where.env);
    expect(result.stderr).toBe('');
    const [assume, swap] = since(before);
    expect(assume).toMatchObject({ target: STS_ASSUME_ROLE, keyId: TEMP_KEY.accessKeyId, verified: true });
    expect(assume!.sessionToken).toBe(TEMP_KEY.sessionToken);
    expect(assume!.durationSeconds).toBeUndefined();
    expect(swap).toMatchObject({ keyId: assume!.issuedKeyId, signedAsRole: ROLE_A, verified: true });
    expect(result.stdout + result.stderr).not.toContain(TEMP_KEY.sessionToken);
  });
});

describe('a role whose session is short', () => {
  it("renews through the helper's get inside a real docker pull, assuming the role again", async () => {
    const server = ecr('333333333333', 'us-west-2');
    const where = await home({ ...keys('SHORT', server), ...role('SHORT', ROLE_SHORT) });
    const engine: FakeEngine = await startFakeEngine();
    try {
      const refreshed = await runAgent(['refresh', '--json'], where.env);
      expect(refreshed.exitCode).toBe(0);
      const issuedFirst = standIn.calls.filter((c) => c.signedAsRole === ROLE_SHORT && c.password).at(-1)!;
      // Past half the session (the token's 12 hours are not what counts), yet before the session ends.
      await new Promise((r) => setTimeout(r, (SHORT_SECONDS / 2) * 1000 + 300));
      const before = standIn.calls.length;
      const pull = await dockerPull(`${server}/team/app:v1`, {
        dockerConfigDir: where.dockerConfigDir,
        env: where.env,
        engine,
      });
      expect(pull.stderr).not.toMatch(/error/i);
      expect(pull.exitCode).toBe(0);
      const renewal = since(before);
      expect(renewal.map((c) => c.target)).toEqual([
        STS_ASSUME_ROLE,
        'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
      ]);
      const issuedNow = renewal[1]!;
      expect(issuedNow.signedAsRole).toBe(ROLE_SHORT);
      expect(pull.auth).toMatchObject({ username: 'AWS', password: issuedNow.password });
      expect(standIn.tokenAccepted(issuedNow.password!)).toBe(true);
      // The first token claimed 12 hours, but stops working when its session ends: only renewal kept docker working.
      const firstSessionEnd = standIn.calls.find((c) => c.issuedKeyId === issuedFirst.keyId)!.sessionEndsAt!;
      expect(standIn.tokenAccepted(issuedFirst.password!, new Date(firstSessionEnd.getTime() + 1))).toBe(false);
      expect(issuedFirst.expiresAt!.getTime()).toBeGreaterThan(firstSessionEnd.getTime() + 3600_000);
    } finally {
      await engine.stop();
    }
  }, 60_000);
});

describe('what a role failure says', () => {
  it('AccessDenied names the prefix, registry, role and the trust policy, and the other logins still work', async () => {
    const denied = ecr('444444444444', 'us-west-2');
    const fine = ecr('111111111111', 'us-west-2');
    const where = await home({
      ...keys('DENIED', denied),
      ...role('DENIED', ROLE_DENY),
      ...keys('FINE', fine),
      ...role('FINE', ROLE_A),
    });
    const result = await runAgent(['refresh', '--json'], where.env);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as { logins: { prefix: string; status: string; error?: string }[] };
    expect(report.logins.find((l) => l.prefix === 'FINE')).toMatchObject({ status: 'ok' });
    const error = report.logins.find((l) => l.prefix === 'DENIED')!.error!;
    expect(error).toContain('DENIED:');
    expect(error).toContain(denied);
    expect(error).toContain(ROLE_DENY);
    expect(error).toContain('AccessDenied');
    expect(error).toMatch(/sts:AssumeRole on .*trust policy must name that user/);
    expect(error).not.toContain('sts:ExternalId');
    const checked = await runAgent(['check', denied, '--json'], where.env);
    const detail = (JSON.parse(checked.stdout) as { results: { detail?: string }[] }).results[0]!.detail!;
    expect(detail).toMatch(/^the role's failure/);
    expect(detail).toContain(ROLE_DENY);
  });

  it("an ECR refusal after the role was assumed points at the role's permissions policy", async () => {
    const server = ecr('111111111111', 'us-west-2');
    const where = await home({ ...keys('NOECR', server), ...role('NOECR', ROLE_A) });
    standIn.setReply((call) =>
      call.signedAsRole
        ? {
            kind: 'error',
            status: 400,
            type: 'AccessDeniedException',
            message: 'not authorized: ecr:GetAuthorizationToken',
          }
        : { kind: 'token' },
    );
    try {
      const result = await runAgent(['refresh'], where.env);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `NOECR: could not get an ECR token for ${server.replace(/\./g, '\\.')} as the role ${ROLE_A}: AWS answered AccessDeniedException.*The role ${ROLE_A} needs permission for ecr:GetAuthorizationToken; grant it in the role's permissions policy`,
        ),
      );
    } finally {
      standIn.setReply(undefined);
    }
  });

  it('a wrong external ID points at the sts:ExternalId condition and never shows the ID', async () => {
    const server = ecr('222222222222', 'us-west-2');
    const wrong = 'not-the-external-id-1234';
    const where = await home({ ...keys('WRONGID', server), ...role('WRONGID', ROLE_B, wrong) });
    const result = await runAgent(['refresh'], where.env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/WRONGID: could not assume the role .*AccessDenied.*sts:ExternalId/);
    expect(result.stdout + result.stderr).not.toContain(wrong);
  });

  it('RegionDisabledException says which STS region to activate', async () => {
    const server = ecr('111111111111', 'ap-southeast-2');
    const where = await home({ ...keys('OFF', server), ...role('OFF', ROLE_A) });
    const result = await runAgent(['refresh'], where.env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/OFF: could not assume the role .*RegionDisabledException.*activate ap-southeast-2/);
  });

  it('a role on a static registry, or with USER=AWS, is a problem for that prefix; a bad ARN says its shape', async () => {
    const where = await home({
      ...triple('STATIC', 'registry.example.com', 'alice', 'static-password-1234'),
      ...role('STATIC', ROLE_A),
      ...triple('TOKEN', ecr('111111111111', 'us-west-2'), 'AWS', 'a-ready-made-ecr-token'),
      ...role('TOKEN', ROLE_A),
      ...keys('BADARN', ecr('111111111111', 'eu-west-1')),
      ...role('BADARN', 'arn:aws:iam::1111:user/ecr-pull'),
    });
    const result = await runAgent(['refresh', '--json'], where.env);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as { logins: unknown[]; problems: { prefix: string; message: string }[] };
    expect(report.logins).toEqual([]);
    const message = (prefix: string) => report.problems.find((p) => p.prefix === prefix)?.message ?? '';
    expect(message('STATIC')).toMatch(
      /STATIC_CONTAINER_REGISTRY_ROLE_ARN is set, but registry\.example\.com is not an ECR registry/,
    );
    expect(message('TOKEN')).toMatch(/TOKEN_CONTAINER_REGISTRY_USER is AWS/);
    expect(message('BADARN')).toMatch(
      /BADARN_CONTAINER_REGISTRY_ROLE_ARN is not an IAM role ARN \(expected arn:<partition>:iam::<12-digit account>:role\//,
    );
  });
});

describe("the host side's refresh --host with a role", () => {
  it('stores the token made with the role, and a second run costs no call', async () => {
    const server = ecr('111111111111', 'us-west-2');
    const where = await home({ ...keys('HOSTED', server), ...role('HOSTED', ROLE_A) });
    // A config that already holds auth: docker (and so --host) keeps the login in the file.
    const hostDocker = join(where.home, 'hostdocker');
    await mkdir(hostDocker, { recursive: true });
    await writeFile(join(hostDocker, 'config.json'), '{"auths": {}}\n');
    const env = { ...where.env, DOCKER_CONFIG: hostDocker };
    const before = standIn.calls.length;
    const result = await runAgent(['refresh', '--host', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const calls = since(before);
    expect(calls.map((c) => c.target)).toEqual([
      STS_ASSUME_ROLE,
      'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
    ]);
    const config = JSON.parse(await readFile(join(hostDocker, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(config.auths[server]!.auth, 'base64').toString()).toBe(`AWS:${calls[1]!.password}`);
    const second = standIn.calls.length;
    expect((await runAgent(['refresh', '--host', '--json'], env)).exitCode).toBe(0);
    expect(since(second)).toEqual([]);
    await expectNoRoleSecrets(where, [result]);
  });
});

describe('the STS host a role is assumed at, without an endpoint override (through a logging proxy)', () => {
  let proxy: ConnectProxy | undefined;

  beforeAll(async () => {
    proxy = await startConnectProxy(work);
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  it('China, GovCloud FIPS and commercial FIPS registries reach STS in their own region and partition', async () => {
    const where = await home({
      ...keys('CHINA', '555555555555.dkr.ecr.cn-northwest-1.amazonaws.com.cn'),
      ...role('CHINA', ROLE_CN),
      ...keys('GOVFIPS', '666666666666.dkr.ecr-fips.us-gov-east-1.amazonaws.com'),
      ...role('GOVFIPS', ROLE_GOV),
      ...keys('FIPS', '111111111111.dkr.ecr-fips.us-east-2.amazonaws.com'),
      ...role('FIPS', ROLE_A),
    });
    const env = { ...where.env, HTTPS_PROXY: proxy!.url };
    for (const name of ['AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL_ECR_PUBLIC', 'AWS_ENDPOINT_URL_STS'])
      delete (env as Record<string, string | undefined>)[name];
    const result = await runAgent(['refresh', '--json'], env, { timeoutMs: 60_000 });
    // Nothing answers behind the proxy here: each role fails, saying which STS host it tried, through the proxy.
    expect(result.exitCode).toBe(1);
    const targets = await proxy!.connectTargets();
    expect(new Set(targets)).toEqual(
      new Set([
        'sts.cn-northwest-1.amazonaws.com.cn:443',
        'sts.us-gov-east-1.amazonaws.com:443',
        'sts-fips.us-east-2.amazonaws.com:443',
      ]),
    );
    const report = JSON.parse(result.stdout) as { logins: { prefix: string; error?: string }[] };
    expect(report.logins.find((l) => l.prefix === 'CHINA')!.error).toMatch(
      /CHINA: could not assume the role arn:aws-cn:.* calling sts\.cn-northwest-1\.amazonaws\.com\.cn(:443)? through the proxy/,
    );
  }, 90_000);
});
