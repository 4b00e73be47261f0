// The built CLI and credential helper against the ECR stand-in: whose keys, how many calls, what the cache saves
// (down to which modules load), what failures say, and how the helper renews a token past half-life.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_DIR, REPO, runAgent, runHelper, type AgentResult } from '../support/agent.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { startEcrStandIn, type EcrStandIn, type RecordedCall } from '../support/ecr-stand-in.js';

const A = { accessKeyId: 'AKIAE2EKEYA000000001', secretAccessKey: 'e2e-secret-a-0000000000000000000000000001' };
const B = { accessKeyId: 'AKIAE2EKEYB000000002', secretAccessKey: 'e2e-secret-b-0000000000000000000000000002' };
const T = {
  accessKeyId: 'ASIAE2EKEYT000000003',
  secretAccessKey: 'e2e-secret-t-0000000000000000000000000003',
  sessionToken: 'e2e-session-token-0003',
};
const DENIED = { accessKeyId: 'AKIAE2EDENIED0000004', secretAccessKey: 'e2e-secret-denied-00000000000000000000004' };
const DECOY = { accessKeyId: 'AKIAE2EDECOY00000009', secretAccessKey: 'e2e-decoy-secret-000000000000000000000009' };
const ALL_KEYS = [A, B, T, DENIED, DECOY];

let standIn: EcrStandIn;
let work: string;
let home: string;
let moduleHooks: string;

/** Fails (never skips) when the agent was not built or is older than its sources. */
async function assertFreshBuild(): Promise<void> {
  const built = join(REPO, 'dist/registry-login.cjs');
  if (!existsSync(built))
    throw new Error(`${built} is missing: run \`npm run build\` before these tests (npm test does).`);
  const newest = async (dir: string): Promise<number> => {
    let max = 0;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      max = Math.max(max, entry.isDirectory() ? await newest(path) : (await stat(path)).mtimeMs);
    }
    return max;
  };
  if ((await stat(built)).mtimeMs < (await newest(join(REPO, 'src'))))
    throw new Error(`${built} is older than src/: run \`npm run build\`.`);
}

beforeAll(async () => {
  await assertFreshBuild();
  standIn = await startEcrStandIn({
    keys: ALL_KEYS,
    reply: (call) =>
      call.keyId === DENIED.accessKeyId
        ? {
            kind: 'error',
            status: 400,
            type: 'AccessDeniedException',
            message: `User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecr:GetAuthorizationToken`,
          }
        : { kind: 'token' },
  });
  work = await makeTempDir('ecr-cli-');
  // Records every module the agent loads, so a test can tell whether the AWS SDK was evaluated:
  // files loaded through the ESM loader (import(), as the lazy swap is) and those in require.cache at exit.
  await writeFile(
    join(work, 'module-log-hooks.mjs'),
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.RL_MODULE_LOG, url + '\\n'); return next(url, context); }\n`,
  );
  await writeFile(
    join(work, 'module-log-register.mjs'),
    `import { register } from 'node:module';\nregister('./module-log-hooks.mjs', import.meta.url);\n`,
  );
  await writeFile(
    join(work, 'module-log-require.cjs'),
    `process.on('exit', () => require('node:fs').appendFileSync(process.env.RL_MODULE_LOG, Object.keys(require.cache).map((f) => 'file://' + f + '\\n').join('')));\n`,
  );
  moduleHooks = `--import ${join(work, 'module-log-register.mjs')} --require ${join(work, 'module-log-require.cjs')}`;
  await writeFile(
    join(work, 'aws-config'),
    `[profile decoy]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9\n[default]\nregion = eu-west-1\n`,
  );
  await writeFile(
    join(work, 'aws-credentials'),
    `[decoy]\naws_access_key_id = ${DECOY.accessKeyId}\naws_secret_access_key = ${DECOY.secretAccessKey}\n`,
  );
});

afterAll(async () => {
  await standIn?.close();
  if (work) await removeTempDir(work);
});

beforeEach(async () => {
  home = await mkdtemp(join(work, 'home-'));
  standIn.setDelay(0);
});

type Triple = [
  prefix: string,
  server: string,
  keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
];

function envFor(triples: Triple[], extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${join(REPO, 'bin')}:${NODE_DIR}:/usr/local/bin:/usr/bin:/bin`,
    LANG: 'C.UTF-8',
    HOME: home,
    DOCKER_CONFIG: join(home, '.docker'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local/state'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: standIn.url,
    AWS_ENDPOINT_URL_ECR_PUBLIC: standIn.url,
    // Decoys: ambient keys, a profile with its own keys, region and endpoint. None may be used.
    AWS_ACCESS_KEY_ID: DECOY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DECOY.secretAccessKey,
    AWS_SESSION_TOKEN: 'e2e-decoy-session-token',
    AWS_PROFILE: 'decoy',
    AWS_CONFIG_FILE: join(work, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'aws-credentials'),
    AWS_REGION: 'eu-west-1',
    ...extra,
  };
  for (const [prefix, server, keys] of triples) {
    env[`${prefix}_CONTAINER_REGISTRY_SERVER`] = server;
    env[`${prefix}_CONTAINER_REGISTRY_USER`] = keys.accessKeyId;
    env[`${prefix}_CONTAINER_REGISTRY_PASSWORD`] = keys.secretAccessKey;
    if (keys.sessionToken) env[`${prefix}_CONTAINER_REGISTRY_SESSION_TOKEN`] = keys.sessionToken;
  }
  return env;
}

const outputs: string[] = [];
async function cli(args: string[], env: Record<string, string>): Promise<AgentResult> {
  const result = await runAgent(args, env);
  outputs.push(result.stdout, result.stderr);
  return result;
}
async function helper(action: string, input: string, env: Record<string, string>): Promise<AgentResult> {
  const result = await runHelper(action, input, env);
  // Only `get` may print a secret, on stdout, for docker.
  outputs.push(result.stderr, ...(action === 'get' ? [] : [result.stdout]));
  return result;
}

async function readConfig(): Promise<{ auths: Record<string, { auth: string }>; credHelpers: Record<string, string> }> {
  return JSON.parse(await readFile(join(home, '.docker/config.json'), 'utf8'));
}

function decodedAuth(config: Awaited<ReturnType<typeof readConfig>>, key: string): string {
  return Buffer.from(config.auths[key]!.auth, 'base64').toString('utf8');
}

function callsSince(n: number): RecordedCall[] {
  return standIn.calls.slice(n);
}

const ecr = (account: string, region: string) => `${account}.dkr.ecr.${region}.amazonaws.com`;

describe('refresh with AWS keys', () => {
  it("swaps the triple's keys (never the decoys) for tokens, region from the host, session token passed, and status shows the expiry", async () => {
    const before = standIn.calls.length;
    const triples: Triple[] = [
      ['WEST_ONE', ecr('111111111111', 'us-west-2'), A],
      ['WEST_TWO', ecr('222222222222', 'us-west-2'), A],
      ['CENTRAL', ecr('333333333333', 'eu-central-1'), T],
      ['GALLERY', 'public.ecr.aws', B],
    ];
    const result = await cli(['refresh', '--json'], envFor(triples));
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const calls = callsSince(before);
    expect(calls.every((c) => c.verified)).toBe(true);
    expect(calls.map((c) => [c.keyId, c.region, c.service, c.sessionToken]).sort()).toEqual(
      [
        [A.accessKeyId, 'us-west-2', 'ecr', undefined],
        [T.accessKeyId, 'eu-central-1', 'ecr', T.sessionToken],
        [B.accessKeyId, 'us-east-1', 'ecr-public', undefined],
      ].sort(),
    );
    const config = await readConfig();
    const issued = (keyId: string) => calls.find((c) => c.keyId === keyId)!;
    expect(decodedAuth(config, ecr('111111111111', 'us-west-2'))).toBe(`AWS:${issued(A.accessKeyId).password}`);
    expect(decodedAuth(config, ecr('222222222222', 'us-west-2'))).toBe(`AWS:${issued(A.accessKeyId).password}`);
    expect(decodedAuth(config, ecr('333333333333', 'eu-central-1'))).toBe(`AWS:${issued(T.accessKeyId).password}`);
    expect(decodedAuth(config, 'public.ecr.aws')).toBe(`AWS:${issued(B.accessKeyId).password}`);
    expect(issued(A.accessKeyId).password!.length).toBe(2000);
    expect(config.credHelpers[ecr('111111111111', 'us-west-2')]).toBe('registry-login');

    const report = JSON.parse(result.stdout) as {
      logins: { key: string; kind: string; status: string; expiresAt: string }[];
    };
    expect(report.logins.find((l) => l.key === 'public.ecr.aws')).toMatchObject({
      kind: 'ecr-public-keys',
      status: 'ok',
      expiresAt: issued(B.accessKeyId).expiresAt!.toISOString(),
    });

    const status = await cli(['status', '--json'], envFor([]));
    const listed = (JSON.parse(status.stdout) as { logins: { key: string; expiresAt?: string; effective: boolean }[] })
      .logins;
    expect(listed.find((l) => l.key === ecr('333333333333', 'eu-central-1'))).toMatchObject({
      expiresAt: issued(T.accessKeyId).expiresAt!.toISOString(),
      effective: true,
    });
    const human = await cli(['status'], envFor([]));
    expect(human.stdout).toContain(`until ${issued(T.accessKeyId).expiresAt!.toISOString()}`);
  });

  it('makes 2 calls for 6 registries over 2 key pairs in one region', async () => {
    const before = standIn.calls.length;
    const triples: Triple[] = ['1', '2', '3', '4', '5', '6'].map((n) => [
      `R${n}`,
      ecr(n.repeat(12), 'ap-northeast-1'),
      Number(n) <= 3 ? A : B,
    ]);
    const result = await cli(['refresh'], envFor(triples));
    expect(result.exitCode).toBe(0);
    expect(
      callsSince(before)
        .map((c) => c.keyId)
        .sort(),
    ).toEqual([A.accessKeyId, B.accessKeyId]);
    expect(result.stdout).toContain('6 of 6 registries logged in');
  });

  it('serves a second refresh from the cache with zero calls and without loading the SDK; --force asks AWS again', async () => {
    const triples: Triple[] = [
      ['ONE', ecr('111111111111', 'sa-east-1'), A],
      ['TWO', ecr('222222222222', 'sa-east-1'), A],
    ];
    const before = standIn.calls.length;
    expect((await cli(['refresh'], envFor(triples))).exitCode).toBe(0);
    expect(callsSince(before)).toHaveLength(1);
    const firstConfig = await readFile(join(home, '.docker/config.json'), 'utf8');

    // One token (the directory also holds the launcher's compiled code).
    const cacheFiles = (await readdir(join(home, '.cache/registry-login'))).filter((f) => f.startsWith('ecr-'));
    expect(cacheFiles).toHaveLength(1);
    // A run that loaded the SDK keeps no compiled code of the agent: the cached run below writes it.
    const codeFiles = async () =>
      (await readdir(join(home, '.cache/registry-login'))).filter((f) => /^code-.*\.bin$/.test(f));
    expect(await codeFiles()).toEqual([]);
    expect((await stat(join(home, '.cache/registry-login'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(home, '.cache/registry-login', cacheFiles[0]!))).mode & 0o777).toBe(0o600);

    const moduleLog = join(home, 'modules.log');
    const cached = await cli(
      ['refresh', '--json'],
      envFor(triples, { NODE_OPTIONS: moduleHooks, RL_MODULE_LOG: moduleLog }),
    );
    expect(cached.exitCode).toBe(0);
    expect(callsSince(before)).toHaveLength(1);
    // Both ECR logins were resolved (from the cache) and the config is as the first run left it.
    expect((JSON.parse(cached.stdout) as { logins: { status: string; kind: string }[] }).logins).toMatchObject([
      { status: 'ok', kind: 'ecr-keys' },
      { status: 'ok', kind: 'ecr-keys' },
    ]);
    expect(await readFile(join(home, '.docker/config.json'), 'utf8')).toBe(firstConfig);
    expect(await codeFiles()).toHaveLength(1);
    const loaded = [...new Set((await readFile(moduleLog, 'utf8')).split('\n').filter((u) => u.startsWith('file://')))];
    // The module log saw the agent itself (so it would have seen the SDK) ...
    expect(loaded.some((u) => u.endsWith('/dist/registry-login.cjs'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('/dist/ecr-swap.cjs'))).toBe(false);
    // ... and no loaded file holds SDK code.
    for (const url of loaded) {
      const text = await readFile(new URL(url), 'utf8');
      expect(
        text.includes('AmazonEC2ContainerRegistry_V20150921') ||
          text.includes('SpencerFrontendService') ||
          text.includes('aws-sdk-js'),
        url,
      ).toBe(false);
    }

    const forced = await cli(['refresh', '--force'], envFor(triples));
    expect(forced.exitCode).toBe(0);
    expect(callsSince(before)).toHaveLength(2);
    expect(await readFile(join(home, '.docker/config.json'), 'utf8')).not.toBe(firstConfig);
  });

  it('fails only the logins whose keys fail, saying why and what to do, and writes the others', async () => {
    const before = standIn.calls.length;
    const badSecret = { accessKeyId: A.accessKeyId, secretAccessKey: 'e2e-wrong-secret-0000000000000000000000' };
    const triples: Triple[] = [
      ['OK_ONE', ecr('111111111111', 'us-east-2'), B],
      ['WRONG', ecr('222222222222', 'us-east-2'), badSecret],
      ['NOPERM', ecr('333333333333', 'us-east-2'), DENIED],
      ['NOPERM_PUBLIC', 'public.ecr.aws', DENIED],
    ];
    const result = await cli(['refresh'], envFor(triples));
    expect(result.exitCode).toBe(1);
    expect(callsSince(before).length).toBeGreaterThanOrEqual(4);
    const config = await readConfig();
    expect(Object.keys(config.auths)).toEqual([ecr('111111111111', 'us-east-2')]);
    const lines = result.stderr.split('\n');
    expect(lines.find((l) => l.includes('WRONG:'))).toMatch(
      /222222222222\.dkr\.ecr\.us-east-2\.amazonaws\.com.*InvalidSignatureException.*WRONG_CONTAINER_REGISTRY_USER.*WRONG_CONTAINER_REGISTRY_PASSWORD/,
    );
    expect(lines.find((l) => l.includes('NOPERM:'))).toMatch(
      /333333333333\.dkr\.ecr\.us-east-2\.amazonaws\.com.*AccessDeniedException.*ecr:GetAuthorizationToken/,
    );
    expect(lines.find((l) => l.includes('NOPERM_PUBLIC:'))).toMatch(
      /public\.ecr\.aws.*AccessDeniedException.*sts:GetServiceBearerToken/,
    );
    expect(result.stdout).toContain('1 of 4 registries logged in');

    const hook = await cli(['refresh', '--hook'], envFor(triples));
    expect(hook.exitCode).toBe(0);
  });

  it('says which endpoint could not be reached, and still writes the rest', async () => {
    const closed = await startEcrStandIn({ keys: [] });
    await closed.close();
    const result = await cli(
      ['refresh'],
      envFor(
        [
          ['PRIVATE', ecr('111111111111', 'us-west-1'), A],
          ['PUBLIC', 'public.ecr.aws', B],
        ],
        { AWS_ENDPOINT_URL_ECR: closed.url },
      ),
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /PRIVATE: .*111111111111\.dkr\.ecr\.us-west-1\.amazonaws\.com.*ECONNREFUSED.*127\.0\.0\.1.*AWS_ENDPOINT_URL_ECR/,
    );
    expect(Object.keys((await readConfig()).auths)).toEqual(['public.ecr.aws']);
  });
});

describe('credential helper get', () => {
  const KEY = ecr('444444444444', 'us-west-2');
  const helperGet = (env: Record<string, string>) => helper('get', `https://${KEY}\n`, env);

  it('renews a token past half its life when the keys are in its environment, writing it before answering', async () => {
    const triples: Triple[] = [
      ['RENEW', KEY, A],
      ['OTHER', ecr('555555555555', 'us-west-2'), B],
    ];
    // Tokens that live 3 seconds: half-life comes quickly.
    standIn.setReply(() => ({ kind: 'token', expiresAt: new Date(Date.now() + 3000) }));
    try {
      const before = standIn.calls.length;
      expect((await cli(['refresh'], envFor(triples))).exitCode).toBe(0);
      const first = callsSince(before).find((c) => c.keyId === A.accessKeyId)!;
      const otherAuth = (await readConfig()).auths[ecr('555555555555', 'us-west-2')];

      // Before half-life: answered from the config, no call.
      const early = await helperGet(envFor(triples));
      expect(early.exitCode).toBe(0);
      expect(JSON.parse(early.stdout)).toEqual({
        ServerURL: `https://${KEY}`,
        Username: 'AWS',
        Secret: first.password,
      });
      expect(callsSince(before)).toHaveLength(2);

      await new Promise((r) => setTimeout(r, 1700));
      const late = await helperGet(envFor(triples));
      expect(late.exitCode).toBe(0);
      expect(late.stderr).toBe('');
      const renewed = callsSince(before).slice(2);
      expect(renewed).toMatchObject([{ keyId: A.accessKeyId, region: 'us-west-2', verified: true }]);
      expect(JSON.parse(late.stdout).Secret).toBe(renewed[0]!.password);
      const config = await readConfig();
      expect(decodedAuth(config, KEY)).toBe(`AWS:${renewed[0]!.password}`);
      expect(config.auths[ecr('555555555555', 'us-west-2')]).toEqual(otherAuth);
      const status = JSON.parse((await cli(['status', '--json'], envFor([]))).stdout) as {
        logins: { key: string; expiresAt: string }[];
      };
      expect(status.logins.map((l) => l.key).sort()).toEqual([KEY, ecr('555555555555', 'us-west-2')].sort());
      expect(status.logins.find((l) => l.key === KEY)!.expiresAt).toBe(renewed[0]!.expiresAt!.toISOString());
    } finally {
      standIn.setReply((call) =>
        call.keyId === DENIED.accessKeyId
          ? { kind: 'error', status: 400, type: 'AccessDeniedException' }
          : { kind: 'token' },
      );
    }
  });

  it('answers with the config and says to run refresh when the keys are not in its environment', async () => {
    standIn.setReply(() => ({ kind: 'token', expiresAt: new Date(Date.now() + 2000) }));
    try {
      const before = standIn.calls.length;
      expect((await cli(['refresh'], envFor([['AWAY', KEY, A]]))).exitCode).toBe(0);
      const issued = callsSince(before)[0]!;
      await new Promise((r) => setTimeout(r, 1200));
      const answer = await helperGet(envFor([]));
      expect(answer.exitCode).toBe(0);
      expect(JSON.parse(answer.stdout).Secret).toBe(issued.password);
      expect(answer.stderr).toContain(`the ECR token for ${KEY} expires at ${issued.expiresAt!.toISOString()}`);
      expect(answer.stderr).toContain('registry-login refresh');
      expect(answer.stderr).toContain('AWAY_CONTAINER_REGISTRY_');
      expect(callsSince(before)).toHaveLength(1);
    } finally {
      standIn.setReply((call) =>
        call.keyId === DENIED.accessKeyId
          ? { kind: 'error', status: 400, type: 'AccessDeniedException' }
          : { kind: 'token' },
      );
    }
  });
});

describe('secrets', () => {
  it('never appear in any output of these tests (helper get stdout excepted)', () => {
    const secrets = [
      ...ALL_KEYS.map((k) => k.secretAccessKey),
      T.sessionToken,
      ...standIn.calls.flatMap((c) => (c.password ? [c.password] : [])),
    ];
    expect(outputs.length).toBeGreaterThan(10);
    for (const text of outputs) for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  });
});
