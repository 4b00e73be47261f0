// The AWS call goes through a real forward proxy (Debian tinyproxy on loopback) when HTTP(S)_PROXY says so, and around
// it for NO_PROXY and for a loopback endpoint. Loopback endpoints are never proxied, so the proxied cases name the
// stand-in as 0.0.0.0: not a loopback address, yet on Linux a connection to it reaches the stand-in on 127.0.0.1
// (nothing leaves).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { NODE_DIR, REPO, runAgent } from '../support/agent.js';
import { freePort } from '../support/ports.js';
import { requireCommand, spawnTracked, stopTracked, type TrackedChild } from '../support/process.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';

const KEY = { accessKeyId: 'AKIAPROXYKEY00000001', secretAccessKey: 'proxy-secret-000000000000000000000000001' };

let standIn: EcrStandIn;
let work: string;
let proxy: TrackedChild | undefined;
let proxyPort: number;
let proxyLog: string;

async function waitForPort(port: number, child: TrackedChild, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited()) throw new Error(`tinyproxy exited before listening: ${child.output()}`);
    const ok = await new Promise<boolean>((r) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), r(true)));
      socket.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tinyproxy did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/registry-login.cjs')))
    throw new Error('dist/registry-login.cjs is missing: run `npm run build` first (npm test does).');
  const tinyproxy = await requireCommand('tinyproxy', 'tinyproxy');
  standIn = await startEcrStandIn({ keys: [KEY] });
  work = await makeTempDir('ecr-proxy-');
  proxyPort = await freePort();
  proxyLog = join(work, 'tinyproxy.log');
  const conf = join(work, 'tinyproxy.conf');
  // Foreground (-d), loopback only, log every connection; stopped by PID in afterAll.
  await writeFile(
    conf,
    `Port ${proxyPort}\nListen 127.0.0.1\nTimeout 30\nLogFile "${proxyLog}"\nLogLevel Connect\nMaxClients 20\nAllow 127.0.0.1\n`,
  );
  proxy = spawnTracked(tinyproxy, ['-d', '-c', conf]);
  await waitForPort(proxyPort, proxy);
});

afterAll(async () => {
  if (proxy) await stopTracked(proxy);
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
  const log = existsSync(proxyLog) ? await readFile(proxyLog, 'utf8') : '';
  return log
    .split('\n')
    .filter(
      (line) =>
        line.includes(`CONNECT 0.0.0.0:${standIn.port} `) || line.includes(`CONNECT 127.0.0.1:${standIn.port} `),
    ).length;
}

describe('AWS calls and proxies', () => {
  it('go through HTTP_PROXY to an http endpoint (the proxy logs the CONNECT)', async () => {
    const calls = standIn.calls.length;
    const connects = await proxiedConnects();
    const result = await runAgent(['refresh', '--force'], env({ HTTP_PROXY: `http://127.0.0.1:${proxyPort}` }));
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(standIn.calls.length - calls).toBe(1);
    expect(standIn.calls.at(-1)).toMatchObject({ keyId: KEY.accessKeyId, region: 'us-west-2', verified: true });
    expect((await proxiedConnects()) - connects).toBe(1);
  });

  it('go through a lower-case http_proxy too', async () => {
    const connects = await proxiedConnects();
    const result = await runAgent(['refresh', '--force'], env({ http_proxy: `127.0.0.1:${proxyPort}` }));
    expect(result.exitCode).toBe(0);
    expect((await proxiedConnects()) - connects).toBe(1);
  });

  it('bypass the proxy for hosts in NO_PROXY', async () => {
    const calls = standIn.calls.length;
    const connects = await proxiedConnects();
    const result = await runAgent(
      ['refresh', '--force'],
      env({
        HTTP_PROXY: `http://127.0.0.1:${proxyPort}`,
        HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
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
    const proxyUrl = `http://127.0.0.1:${proxyPort}`;
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
