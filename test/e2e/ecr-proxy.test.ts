// The AWS call goes through a real forward proxy (Debian tinyproxy on loopback) when HTTP(S)_PROXY says so, and around
// it for NO_PROXY and for a loopback endpoint. Loopback endpoints are never proxied, so the proxied cases name the
// stand-in as 0.0.0.0: not a loopback address, yet on Linux a connection to it reaches the stand-in on 127.0.0.1
// (nothing leaves).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_DIR, REPO, runAgent } from '../support/agent.js';
import { type ConnectProxy, startConnectProxy } from '../support/connect-proxy.js';
import { freePort } from '../support/ports.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';

const KEY = { accessKeyId: 'AKIAPROXYKEY00000001', secretAccessKey: 'proxy-secret-000000000000000000000000001' };

let standIn: EcrStandIn;
let work: string;
let proxy: ConnectProxy | undefined;

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/registry-login.cjs')))
    throw new Error('dist/registry-login.cjs is missing: run `npm run build` first (npm test does).');
  standIn = await startEcrStandIn({ keys: [KEY] });
  work = await makeTempDir('ecr-proxy-');
  proxy = await startConnectProxy(work);
});

afterAll(async () => {
  await proxy?.stop();
  await standIn?.close();
  if (work) await removeTempDir(work);
});

function env(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: `${join(REPO, 'bin')}:${NODE_DIR}:/usr/local/bin:/usr/bin:/bin`,
    HOME: work,
    DOCKER_CONFIG: join(work, 'docker'),
    XDG_CACHE_HOME: join(work, 'cache'),
    XDG_STATE_HOME: join(work, 'state'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: `http://0.0.0.0:${standIn.port}`,
    VIA_CONTAINER_REGISTRY_SERVER: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
    VIA_CONTAINER_REGISTRY_USER: KEY.accessKeyId,
    VIA_CONTAINER_REGISTRY_PASSWORD: KEY.secretAccessKey,
    ...extra,
  };
}

async function proxiedConnects(): Promise<number> {
  const wanted = [`0.0.0.0:${standIn.port}`, `127.0.0.1:${standIn.port}`];
  return (await proxy!.connectTargets()).filter((target) => wanted.includes(target)).length;
}

describe('AWS calls and proxies', () => {
  it('go through HTTP_PROXY to an http endpoint (the proxy logs the CONNECT)', async () => {
    const calls = standIn.calls.length;
    const connects = await proxiedConnects();
    const result = await runAgent(['refresh', '--force'], env({ HTTP_PROXY: proxy!.url }));
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(standIn.calls.length - calls).toBe(1);
    expect(standIn.calls.at(-1)).toMatchObject({ keyId: KEY.accessKeyId, region: 'us-west-2', verified: true });
    expect((await proxiedConnects()) - connects).toBe(1);
  });

  it('go through a lower-case http_proxy too', async () => {
    const connects = await proxiedConnects();
    const result = await runAgent(['refresh', '--force'], env({ http_proxy: proxy!.url.replace('http://', '') }));
    expect(result.exitCode).toBe(0);
    expect((await proxiedConnects()) - connects).toBe(1);
  });

  it('bypass the proxy for hosts in NO_PROXY', async () => {
    const calls = standIn.calls.length;
    const connects = await proxiedConnects();
    const result = await runAgent(
      ['refresh', '--force'],
      env({
        HTTP_PROXY: proxy!.url,
        HTTPS_PROXY: proxy!.url,
        NO_PROXY: 'localhost,0.0.0.0',
      }),
    );
    expect(result.exitCode).toBe(0);
    expect(standIn.calls.length - calls).toBe(1);
    expect((await proxiedConnects()) - connects).toBe(0);
  });

  it('never carry a loopback endpoint through the proxy (it would see the key ID and the signature)', async () => {
    const calls = standIn.calls.length;
    const connects = await proxiedConnects();
    const proxyUrl = proxy!.url;
    const result = await runAgent(
      ['refresh', '--force'],
      env({ AWS_ENDPOINT_URL_ECR: standIn.url, HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl }),
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(standIn.calls.length - calls).toBe(1);
    expect(standIn.calls.at(-1)).toMatchObject({ keyId: KEY.accessKeyId, verified: true });
    expect((await proxiedConnects()) - connects).toBe(0);
  });

  it('report a proxy that refuses, naming it as the proxy', async () => {
    // tinyproxy answers 403 to a CONNECT from a client it does not allow; here the proxy address is simply closed.
    const closedPort = await freePort();
    const result = await runAgent(['refresh', '--force'], env({ HTTP_PROXY: `http://127.0.0.1:${closedPort}` }));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /VIA: .*ECONNREFUSED calling 0\.0\.0\.0:\d+ through the proxy.*HTTPS_PROXY\/HTTP_PROXY/,
    );
    expect(result.stderr).not.toContain(KEY.secretAccessKey);
  });
});
