// The /v2/ handshake against small in-process registries on 127.0.0.1 (cases a real registry will not produce on demand),
// and the pure parts: challenge parsing, error sorting, loopback and proxy rules, certs.d reading.
import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { parseChallenges, registryHandshake, registryHost } from '../../src/registry-handshake.js';
import { classifyNetworkError, loadRegistryTrust } from '../../src/registry-transport.js';
import { isLoopbackHost, proxyForUrl } from '../../src/proxy.js';
import { TempDirs } from '../support/tmp.js';

const dirs = new TempDirs();
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await dirs.cleanup();
});

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void;

/** A plain-http server on 127.0.0.1 answering with handler; returns its host:port. */
async function serve(handler: Handler): Promise<string> {
  let base = '';
  const server = http.createServer((req, res) => handler(req, res, base));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
  return host;
}

const CREDS = { username: 'u', secret: 'the-secret' };
const BASIC = `Basic ${Buffer.from('u:the-secret').toString('base64')}`;

async function handshake(host: string, timeoutMs = 5000) {
  const certs = await dirs.make('rl-certs-');
  return registryHandshake(host, CREDS, { env: { REGISTRY_LOGIN_CERTS_D: certs }, timeoutMs });
}

/** A registry whose /v2/ wants a Bearer token from its own /token, which answers tokenStatus. */
function bearerRegistry(tokenStatus: number, finalStatus = 200, tokenBody = '{"token":"tok-123"}'): Handler {
  return (req, res, base) => {
    const url = new URL(req.url!, base);
    if (url.pathname === '/token') {
      res.writeHead(tokenStatus, { 'content-type': 'application/json' }).end(tokenStatus === 200 ? tokenBody : '{}');
      return;
    }
    if (req.headers.authorization === 'Bearer tok-123') return void res.writeHead(finalStatus).end();
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${base}/token",service="svc"` }).end();
  };
}

describe('registryHandshake', () => {
  it('falls back to plain http on loopback and logs in with Basic', async () => {
    const host = await serve((req, res) => (req.headers.authorization === BASIC ? res.writeHead(200).end() : res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end()));
    expect(await handshake(host)).toMatchObject({ result: 'ok', scheme: 'basic', endpoint: `http://${host}/v2/` });
  });

  it('asks the token server as docker login does: Basic credentials, service, account, client_id, offline_token, no scope', async () => {
    const seen: { query?: URLSearchParams; auth?: string } = {};
    const inner = bearerRegistry(200);
    const host = await serve((req, res, base) => {
      if (req.url!.startsWith('/token')) Object.assign(seen, { query: new URL(req.url!, base).searchParams, auth: req.headers.authorization });
      inner(req, res, base);
    });
    expect(await handshake(host)).toMatchObject({ result: 'ok', scheme: 'bearer' });
    expect(Object.fromEntries(seen.query!)).toEqual({ service: 'svc', account: 'u', client_id: 'docker', offline_token: 'true' });
    expect(seen.auth).toBe(BASIC);
  });

  it.each([
    [401, 200, 'unauthorized', /HTTP 401 from the token server/],
    [403, 200, 'denied', /HTTP 403 from the token server/],
    [500, 200, 'error', /answered HTTP 500/],
    [200, 401, 'unauthorized', /refused the token/],
    [200, 403, 'denied', /HTTP 403 from/],
  ])('token server %i then registry %i → %s', async (tokenStatus, finalStatus, result, cause) => {
    const host = await serve(bearerRegistry(tokenStatus, finalStatus));
    const outcome = await handshake(host);
    expect(outcome.result).toBe(result);
    expect(outcome.cause).toMatch(cause);
  });

  it('reports a token answer without a token as error', async () => {
    const host = await serve(bearerRegistry(200, 200, '{"expires_in":60}'));
    expect(await handshake(host)).toMatchObject({ result: 'error', cause: expect.stringContaining('without a token') });
  });

  it.each([
    [404, 'error', /HTTP 404, so there is no registry API there/],
    [502, 'error', /HTTP 502/],
  ])('reports /v2/ answering %i as %s', async (status, result, cause) => {
    const host = await serve((_req, res) => res.writeHead(status).end());
    const outcome = await handshake(host);
    expect(outcome.result).toBe(result);
    expect(outcome.cause).toMatch(cause);
  });

  it('reports Basic 403 as denied and a 401 without a known challenge as error', async () => {
    const denied = await serve((req, res) => (req.headers.authorization ? res.writeHead(403).end() : res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end()));
    expect(await handshake(denied)).toMatchObject({ result: 'denied' });
    const odd = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end());
    expect(await handshake(odd)).toMatchObject({ result: 'error', cause: expect.stringContaining('without a Basic or Bearer challenge') });
  });

  it('says ok but that credentials were not needed when /v2/ answers anonymously', async () => {
    const host = await serve((_req, res) => res.writeHead(200).end('{}'));
    expect(await handshake(host)).toMatchObject({ result: 'ok', scheme: 'anonymous', cause: expect.stringContaining('without authentication') });
  });

  it('reports a token server that cannot be reached as unreachable, naming it', async () => {
    const host = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="s"' }).end());
    expect(await handshake(host)).toMatchObject({ result: 'unreachable', cause: expect.stringContaining('the token server http://127.0.0.1:1/token') });
  });

  it('gives up after the timeout as unreachable', async () => {
    const host = await serve(() => undefined);
    const started = Date.now();
    expect(await handshake(host, 300)).toMatchObject({ result: 'unreachable', cause: expect.stringContaining('no answer within 0.3 s') });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('never puts the secret or the token in an outcome', async () => {
    for (const handler of [bearerRegistry(200), bearerRegistry(401), bearerRegistry(200, 401)]) {
      const text = JSON.stringify(await handshake(await serve(handler)));
      expect(text).not.toContain('the-secret');
      expect(text).not.toContain('tok-123');
      expect(text).not.toContain(BASIC.slice(6));
    }
  });
});

describe('parseChallenges', () => {
  it.each([
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:a/b:pull' } }],
    ],
    ['Bearer realm="a\\"b" , service=bare', [{ scheme: 'bearer', params: { realm: 'a"b', service: 'bare' } }]],
    ['Bearer realm="x", Basic realm="y"', [{ scheme: 'bearer', params: { realm: 'x' } }, { scheme: 'basic', params: { realm: 'y' } }]],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});

describe('classifyNetworkError', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['ECONNREFUSED', 'unreachable'],
    ['ENOTFOUND', 'unreachable'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
    ['CERT_HAS_EXPIRED', 'tls'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'not-tls'],
    ['EPROTO', 'not-tls'],
  ])('%s → %s', (code, kind) => {
    expect(classifyNetworkError(err(code), '/certs/h').kind).toBe(kind);
  });

  it('points an untrusted certificate at the certs.d directory', () => {
    expect(classifyNetworkError(err('DEPTH_ZERO_SELF_SIGNED_CERT'), '/certs/h').advice).toContain('/certs/h/ca.crt');
  });
});

describe('isLoopbackHost and proxyForUrl', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['[::1]', true],
    ['::1', true],
    ['10.0.0.1', false],
    ['ghcr.io', false],
    ['127.0.0.1.example.com', false],
  ])('%s loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('honours HTTPS_PROXY and NO_PROXY of the given environment, and never proxies loopback for handshakes', () => {
    const env = { HTTPS_PROXY: 'http://proxy.example:3128', NO_PROXY: 'internal.example,.corp.example' };
    const direct = { loopback: 'direct' } as const;
    expect(proxyForUrl(new URL('https://ghcr.io/v2/'), env, direct)).toBe('http://proxy.example:3128');
    expect(proxyForUrl(new URL('https://internal.example/v2/'), env, direct)).toBeUndefined();
    expect(proxyForUrl(new URL('https://reg.corp.example/v2/'), env, direct)).toBeUndefined();
    expect(proxyForUrl(new URL('https://127.0.0.1:5000/v2/'), env, direct)).toBeUndefined();
    expect(proxyForUrl(new URL('http://localhost:5000/v2/'), env, direct)).toBeUndefined();
    expect(proxyForUrl(new URL('http://ghcr.io/v2/'), env, direct)).toBeUndefined();
    expect(proxyForUrl(new URL('https://127.0.0.1:5000/v2/'), env)).toBe('http://proxy.example:3128');
  });
});

describe('loadRegistryTrust', () => {
  it('adds certs.d CAs to the default roots and NODE_EXTRA_CA_CERTS, and loads client.cert/client.key', async () => {
    const root = await dirs.make('rl-certs-d-');
    const dir = path.join(root, 'reg.example:5000');
    await mkdir(dir);
    await writeFile(path.join(dir, 'ca.crt'), 'CA-PEM');
    await writeFile(path.join(dir, 'client.cert'), 'CLIENT-CERT');
    await writeFile(path.join(dir, 'client.key'), 'CLIENT-KEY');
    const extra = path.join(root, 'extra.pem');
    await writeFile(extra, 'EXTRA-PEM');
    const trust = await loadRegistryTrust('reg.example:5000', { REGISTRY_LOGIN_CERTS_D: root, NODE_EXTRA_CA_CERTS: extra });
    expect(trust.dir).toBe(dir);
    expect(trust.problem).toBeUndefined();
    expect(trust.tls.ca).toEqual([...tls.rootCertificates, 'EXTRA-PEM', 'CA-PEM']);
    expect(trust.tls).toMatchObject({ cert: ['CLIENT-CERT'], key: ['CLIENT-KEY'] });
  });

  it('leaves the default store alone when certs.d has nothing for the host, and defaults to /etc/docker/certs.d', async () => {
    expect((await loadRegistryTrust('nothing.example', { REGISTRY_LOGIN_CERTS_D: await dirs.make() })).tls).toEqual({});
    expect((await loadRegistryTrust('nothing.example', {})).dir).toBe('/etc/docker/certs.d/nothing.example');
  });

  it('refuses a client certificate without its key, as docker does', async () => {
    const root = await dirs.make('rl-certs-d-');
    await mkdir(path.join(root, 'h'));
    await writeFile(path.join(root, 'h', 'client.cert'), 'C');
    expect((await loadRegistryTrust('h', { REGISTRY_LOGIN_CERTS_D: root })).problem).toContain('has no client.key');
  });
});

describe('registryHost', () => {
  it('talks to registry-1.docker.io for the Docker Hub key and to the key itself otherwise', () => {
    expect(registryHost('https://index.docker.io/v1/')).toBe('registry-1.docker.io');
    expect(registryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
});
