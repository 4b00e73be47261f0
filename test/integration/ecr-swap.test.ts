// The swap with the real SDK against the SigV4-verifying stand-in: whose keys, which region and endpoint, which
// failures.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_LIMITS,
  getAuthorizationToken,
  MAX_RESPONSE_BYTES,
  readAuthorizationData,
  type SwapLimits,
} from '../../src/ecr/swap.js';
import { ecrEndpoint, type EcrEndpoint } from '../../src/ecr/endpoint.js';
import { parseEcrHost } from '../../src/ecr/host.js';
import { startSilent } from '../support/silent-listener.js';
import {
  ECR_PUBLIC_TARGET,
  ECR_TARGET,
  startEcrStandIn,
  throttleThenToken,
  type EcrStandIn,
} from '../support/ecr-stand-in.js';

const KEY = { accessKeyId: 'AKIATRIPLEKEY0000001', secretAccessKey: 'triple-secret-0000000000000000000000001' };
const TEMP = {
  accessKeyId: 'ASIATRIPLEKEY0000002',
  secretAccessKey: 'triple-secret-0000000000000000000000002',
  sessionToken: 'triple-session-token-0002',
};
const DECOY = { accessKeyId: 'AKIADECOYDECOYDECOY0', secretAccessKey: 'decoy-secret-000000000000000000000000000' };
const FAST: SwapLimits = { connectTimeoutMs: 1000, requestTimeoutMs: 800, totalTimeoutMs: 5000, maxAttempts: 3 };

let standIn: EcrStandIn;
let decoyStandIn: EcrStandIn;
let tmp: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  standIn = await startEcrStandIn({ keys: [KEY, TEMP, DECOY] });
  decoyStandIn = await startEcrStandIn({ keys: [KEY, TEMP, DECOY] });
  tmp = await mkdtemp(join(tmpdir(), 'ecr-swap-'));
  // Everything the SDK's default chains would read, pointing elsewhere: none of it may change a swap.
  await writeFile(
    join(tmp, 'config'),
    `[profile decoy]\nregion = eu-west-1\nuse_fips_endpoint = true\nendpoint_url = ${decoyStandIn.url}\nmax_attempts = 1\n[default]\nregion = eu-west-1\nendpoint_url = ${decoyStandIn.url}\n`,
  );
  await writeFile(
    join(tmp, 'credentials'),
    `[decoy]\naws_access_key_id = ${DECOY.accessKeyId}\naws_secret_access_key = ${DECOY.secretAccessKey}\n[default]\naws_access_key_id = ${DECOY.accessKeyId}\naws_secret_access_key = ${DECOY.secretAccessKey}\n`,
  );
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: DECOY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DECOY.secretAccessKey,
    AWS_SESSION_TOKEN: 'decoy-session-token',
    AWS_PROFILE: 'decoy',
    AWS_CONFIG_FILE: join(tmp, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'credentials'),
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_USE_FIPS_ENDPOINT: 'true',
    AWS_USE_DUALSTACK_ENDPOINT: 'true',
    AWS_ENDPOINT_URL: decoyStandIn.url,
    AWS_ENDPOINT_URL_ECR: decoyStandIn.url,
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await standIn?.close();
  await decoyStandIn?.close();
  await rm(tmp, { recursive: true, force: true });
});

afterEach(() => {
  standIn.setReply(undefined);
  standIn.setDelay(0);
});

function at(
  host: string,
  env: NodeJS.ProcessEnv = { AWS_ENDPOINT_URL_ECR: standIn.url, AWS_ENDPOINT_URL_ECR_PUBLIC: standIn.url },
): EcrEndpoint {
  return ecrEndpoint(parseEcrHost(host)!, env);
}

describe('whose keys and which region', () => {
  it("signs with the triple's key and the region of the host while decoy AWS_* keys, profile, config and endpoints are set", async () => {
    const before = standIn.calls.length;
    const result = await getAuthorizationToken(at('123456789012.dkr.ecr.ap-south-2.amazonaws.com'), KEY, {}, FAST);
    expect(result.ok).toBe(true);
    const calls = standIn.calls.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      keyId: KEY.accessKeyId,
      region: 'ap-south-2',
      service: 'ecr',
      target: ECR_TARGET,
      verified: true,
    });
    expect(calls[0]!.sessionToken).toBeUndefined();
    expect(decoyStandIn.calls).toHaveLength(0);
    if (result.ok) expect(result.password).toBe(calls[0]!.password);
  });

  it('never opens the AWS config or credentials file (each is a FIFO here: opening one would block the swap)', async () => {
    const saved = { config: process.env.AWS_CONFIG_FILE, credentials: process.env.AWS_SHARED_CREDENTIALS_FILE };
    const fifos = { config: join(tmp, 'config.fifo'), credentials: join(tmp, 'credentials.fifo') };
    execFileSync('mkfifo', [fifos.config, fifos.credentials]);
    Object.assign(process.env, { AWS_CONFIG_FILE: fifos.config, AWS_SHARED_CREDENTIALS_FILE: fifos.credentials });
    try {
      const result = await getAuthorizationToken(
        at('123456789012.dkr.ecr.us-east-1.amazonaws.com'),
        KEY,
        {},
        { ...FAST, totalTimeoutMs: 3000 },
      );
      expect(result.ok).toBe(true);
    } finally {
      Object.assign(process.env, { AWS_CONFIG_FILE: saved.config, AWS_SHARED_CREDENTIALS_FILE: saved.credentials });
    }
  }, 10_000);

  it('passes the session token of temporary keys', async () => {
    const before = standIn.calls.length;
    const result = await getAuthorizationToken(at('123456789012.dkr.ecr.eu-north-1.amazonaws.com'), TEMP, {}, FAST);
    expect(result.ok).toBe(true);
    expect(standIn.calls.slice(before)).toMatchObject([
      { keyId: TEMP.accessKeyId, sessionToken: TEMP.sessionToken, region: 'eu-north-1', verified: true },
    ]);
  });

  it('asks ECR Public in us-east-1, signing for ecr-public', async () => {
    for (const host of ['public.ecr.aws', 'ecr-public.aws.com']) {
      const before = standIn.calls.length;
      const result = await getAuthorizationToken(at(host), KEY, {}, FAST);
      expect(result.ok).toBe(true);
      expect(standIn.calls.slice(before)).toMatchObject([
        {
          keyId: KEY.accessKeyId,
          region: 'us-east-1',
          service: 'ecr-public',
          target: ECR_PUBLIC_TARGET,
          verified: true,
        },
      ]);
    }
    expect(decoyStandIn.calls).toHaveLength(0);
  });

  it("fails with the stand-in's verdict when the secret is wrong (the signature really is checked)", async () => {
    const result = await getAuthorizationToken(
      at('123456789012.dkr.ecr.us-west-2.amazonaws.com'),
      { ...KEY, secretAccessKey: 'wrong' },
      {},
      FAST,
    );
    expect(result).toMatchObject({
      ok: false,
      failure: { kind: 'aws', code: 'InvalidSignatureException', httpStatus: 400 },
    });
  });
});

describe('which AWS endpoint', () => {
  let proxy: Server;
  const connects: string[] = [];
  beforeAll(async () => {
    // A forward proxy that records each CONNECT target and refuses it: no call leaves the machine.
    proxy = createServer();
    proxy.on('connect', (req, socket) => {
      connects.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  it.each([
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com', 'api.ecr.us-west-2.amazonaws.com:443'],
    ['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', 'api.ecr-fips.us-east-2.amazonaws.com:443'],
    ['123456789012.dkr-ecr.us-west-2.on.aws', 'ecr.us-west-2.api.aws:443'],
    ['123456789012.dkr-ecr-fips.us-east-1.on.aws', 'ecr-fips.us-east-1.api.aws:443'],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', 'api.ecr.cn-north-1.amazonaws.com.cn:443'],
    ['123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn', 'ecr.cn-north-1.api.amazonwebservices.com.cn:443'],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', 'api.ecr.eusc-de-east-1.amazonaws.eu:443'],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', 'api.ecr-fips.us-gov-west-1.amazonaws.com:443'],
    ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', 'api.ecr.us-iso-east-1.c2s.ic.gov:443'],
    ['123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov', 'api.ecr.us-isob-east-1.sc2s.sgov.gov:443'],
    ['123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk', 'api.ecr.eu-isoe-west-1.cloud.adc-e.uk:443'],
    ['123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov', 'api.ecr.us-isof-south-1.csp.hci.ic.gov:443'],
    ['public.ecr.aws', 'api.ecr-public.us-east-1.amazonaws.com:443'],
  ])('%s → %s (through HTTPS_PROXY)', async (host, expected) => {
    const env = { HTTPS_PROXY: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` };
    const result = await getAuthorizationToken(at(host, env), KEY, env, { ...FAST, maxAttempts: 1 });
    expect(connects.at(-1)).toBe(expected);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'network', code: 'ProxyRefused', viaProxy: true } });
    expect(decoyStandIn.calls).toHaveLength(0);
  });

  it('honours AWS_ENDPOINT_URL when no service-specific variable is set, and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', () => {
    const location = parseEcrHost('123456789012.dkr.ecr.us-west-2.amazonaws.com')!;
    expect(ecrEndpoint(location, { AWS_ENDPOINT_URL: 'http://a' })).toMatchObject({
      url: 'http://a',
      urlVariable: 'AWS_ENDPOINT_URL',
    });
    expect(ecrEndpoint(location, { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_ECR: 'http://b' })).toMatchObject({
      url: 'http://b',
      urlVariable: 'AWS_ENDPOINT_URL_ECR',
    });
    expect(ecrEndpoint(location, { AWS_ENDPOINT_URL_ECR_PUBLIC: 'http://c' }).url).toBeUndefined();
    expect(
      ecrEndpoint(parseEcrHost('public.ecr.aws')!, {
        AWS_ENDPOINT_URL_ECR: 'http://b',
        AWS_ENDPOINT_URL_ECR_PUBLIC: 'http://c',
      }).url,
    ).toBe('http://c');
    expect(
      ecrEndpoint(location, { AWS_ENDPOINT_URL_ECR: 'http://b', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).url,
    ).toBeUndefined();
  });

  it('says which variable holds an endpoint that is not a URL', async () => {
    const result = await getAuthorizationToken(
      at('123456789012.dkr.ecr.us-west-2.amazonaws.com', { AWS_ENDPOINT_URL_ECR: 'not a url' }),
      KEY,
      {},
      FAST,
    );
    expect(result).toMatchObject({
      ok: false,
      failure: { code: 'InvalidEndpoint', message: 'AWS_ENDPOINT_URL_ECR is not a URL' },
    });
  });
});

describe('failures', () => {
  const host = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

  it('retries throttling with back-off, then succeeds', async () => {
    const before = standIn.calls.length;
    standIn.setReply((call) => throttleThenToken(before + 2)(call));
    const result = await getAuthorizationToken(at(host), KEY, {}, FAST);
    expect(result.ok).toBe(true);
    const calls = standIn.calls.slice(before);
    expect(calls).toHaveLength(3);
    // Standard retry backs off between attempts.
    expect(calls[2]!.receivedAt - calls[0]!.receivedAt).toBeGreaterThan(50);
  });

  it('retries 5xx, then succeeds', async () => {
    const before = standIn.calls.length;
    standIn.setReply((call) =>
      call.n <= before + 2
        ? { kind: 'error', status: 500, type: 'ServerException', message: 'internal' }
        : { kind: 'token' },
    );
    expect((await getAuthorizationToken(at(host), KEY, {}, FAST)).ok).toBe(true);
    expect(standIn.calls.length - before).toBe(3);
  });

  it('gives up on endless throttling after the bounded attempts', async () => {
    const before = standIn.calls.length;
    standIn.setReply(() => ({ kind: 'error', status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }));
    const result = await getAuthorizationToken(at(host), KEY, {}, FAST);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'aws', code: 'ThrottlingException' } });
    expect(standIn.calls.length - before).toBe(FAST.maxAttempts);
  });

  it('does not retry AccessDeniedException', async () => {
    const before = standIn.calls.length;
    standIn.setReply(() => ({
      kind: 'error',
      status: 400,
      type: 'AccessDeniedException',
      message: 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken',
    }));
    const result = await getAuthorizationToken(at(host), KEY, {}, FAST);
    expect(result).toMatchObject({
      ok: false,
      failure: { kind: 'aws', code: 'AccessDeniedException', httpStatus: 400 },
    });
    expect(standIn.calls.length - before).toBe(1);
  });

  it('reports UnrecognizedClientException for an unknown key', async () => {
    const result = await getAuthorizationToken(
      at(host),
      { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' },
      {},
      FAST,
    );
    expect(result).toMatchObject({ ok: false, failure: { kind: 'aws', code: 'UnrecognizedClientException' } });
  });

  it('reports a connection reset as a network failure after retrying', async () => {
    const before = standIn.calls.length;
    standIn.setReply(() => ({ kind: 'reset' }));
    const result = await getAuthorizationToken(at(host), KEY, {}, FAST);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'network', code: 'ECONNRESET' } });
    expect(standIn.calls.length - before).toBe(FAST.maxAttempts);
  });

  it('bounds a hanging endpoint by the time limit', async () => {
    standIn.setReply(() => ({ kind: 'hang' }));
    const started = Date.now();
    const result = await getAuthorizationToken(
      at(host),
      KEY,
      {},
      { ...FAST, requestTimeoutMs: 300, totalTimeoutMs: 1500 },
    );
    expect(result).toMatchObject({ ok: false, failure: { kind: 'timeout', code: 'TimeoutError' } });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a refused connection', async () => {
    const closed = await startEcrStandIn({ keys: [] });
    await closed.close();
    const result = await getAuthorizationToken(
      at(host, { AWS_ENDPOINT_URL_ECR: closed.url }),
      KEY,
      {},
      { ...FAST, maxAttempts: 1 },
    );
    expect(result).toMatchObject({ ok: false, failure: { kind: 'network', code: 'ECONNREFUSED' } });
  });

  it.each([
    [
      'an empty authorizationData list',
      { kind: 'raw', status: 200, body: '{"authorizationData":[]}' },
      'InvalidAuthorizationData',
    ],
    ['no authorizationData', { kind: 'raw', status: 200, body: '{}' }, 'InvalidAuthorizationData'],
    [
      'no token',
      { kind: 'raw', status: 200, body: '{"authorizationData":[{"expiresAt":1}]}' },
      'InvalidAuthorizationData',
    ],
    ['a token that is not base64', { kind: 'authorizationToken', value: 'not base64!' }, 'InvalidAuthorizationData'],
    [
      'a token without AWS:',
      { kind: 'authorizationToken', value: Buffer.from('USER:password').toString('base64') },
      'InvalidAuthorizationData',
    ],
    ['a body that is not JSON', { kind: 'raw', status: 200, body: '<html>captive portal</html>' }, undefined],
  ] as const)('rejects an answer with %s', async (_name, reply, code) => {
    standIn.setReply(() => reply);
    const result = await getAuthorizationToken(at(host), KEY, {}, { ...FAST, maxAttempts: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.failure.kind).toBe('response');
      if (code) expect(result.failure.code).toBe(code);
    }
  });

  it.each([
    ['without a length, streamed for ever', false],
    ['declaring 1.5 GB', true],
  ])('refuses an answer larger than the cap, %s, having read little of it', async (_name, declared) => {
    let written = 0;
    const huge = createServer((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/x-amz-json-1.1',
        ...(declared ? { 'content-length': String(1.5 * 1024 ** 3) } : {}),
      });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && written < 1.5 * 1024 ** 3) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      req.socket.once('close', () => res.destroy());
      pump();
    });
    await new Promise<void>((resolve) => huge.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(huge.address() as AddressInfo).port}`;
      const result = await getAuthorizationToken(at(host, { AWS_ENDPOINT_URL_ECR: url }), KEY, {}, FAST);
      expect(result).toMatchObject({
        ok: false,
        failure: { kind: 'response', code: 'ResponseTooLarge', message: expect.stringContaining('larger than 1 MiB') },
      });
      expect(written).toBeLessThan(MAX_RESPONSE_BYTES * 16);
    } finally {
      huge.closeAllConnections();
      await new Promise((resolve) => huge.close(resolve));
    }
  });

  it('calls a loopback endpoint directly though HTTPS_PROXY and HTTP_PROXY are set (the proxy would see the key ID, token and signature)', async () => {
    const proxy = await startSilent();
    try {
      for (const endpoint of [standIn.url, standIn.url.replace('127.0.0.1', 'localhost')]) {
        const result = await getAuthorizationToken(
          at(host, { AWS_ENDPOINT_URL_ECR: endpoint }),
          TEMP,
          { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url },
          FAST,
        );
        expect(result).toMatchObject({ ok: true });
      }
      expect(proxy.received).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it('uses the defaults it documents', () => {
    expect(DEFAULT_LIMITS.maxAttempts).toBeGreaterThan(1);
    expect(DEFAULT_LIMITS.totalTimeoutMs).toBeLessThanOrEqual(60_000);
  });
});

describe('readAuthorizationData', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it.each([
    [
      'a good token',
      { authorizationToken: b64('AWS:pass:with:colons'), expiresAt: new Date(1e12) },
      { ok: true, password: 'pass:with:colons' },
    ],
    ['missing data', undefined, { ok: false }],
    ['empty token', { authorizationToken: '' }, { ok: false }],
    ['bad padding', { authorizationToken: b64('AWS:x').slice(0, -1) }, { ok: false }],
    ['empty password', { authorizationToken: b64('AWS:') }, { ok: false }],
    ['lower-case user', { authorizationToken: b64('aws:x') }, { ok: false }],
  ])('%s', (_name, data, expected) => {
    expect(readAuthorizationData(data)).toMatchObject(expected);
  });
});
