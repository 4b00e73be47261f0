// The /v2/ handshake against small in-process registries on 127.0.0.1 (cases a real registry will not produce on
// demand). The pure parts (challenge parsing, error sorting, loopback and proxy rules, certs.d reading) are in
// test/unit/registry-handshake.test.ts.
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registryHandshake } from '../../src/registry-handshake.js';
import { startSilent, type Silent } from '../support/silent-listener.js';
import { makeCaDir, makeSelfSignedCert } from '../support/tls.js';
import { TempDirs } from '../support/tmp.js';

const dirs = new TempDirs();
const servers: net.Server[] = [];
const silents: Silent[] = [];
afterEach(async () => {
  await Promise.all(silents.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await dirs.cleanup();
});

/**
 * A listener on 127.0.0.1 that accepts connections and never says a word (a stalled proxy or registry); returns its
 * port.
 */
async function silent(): Promise<number> {
  const listener = await startSilent();
  silents.push(listener);
  return listener.port;
}

/**
 * An https server on 127.0.0.1 with a self-signed certificate trusted through certs.d; returns its host:port and the
 * certs.d root.
 */
async function serveTls(handler: Handler): Promise<{ host: string; certsD: string }> {
  const dir = await dirs.make('rl-tls-');
  const cert = await makeSelfSignedCert(dir);
  let base = '';
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => handler(req, res, base));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `https://${host}`;
  const certsD = path.join(dir, 'certs.d');
  await makeCaDir(path.join(certsD, host), cert.certPem);
  return { host, certsD };
}

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
    const host = await serve((req, res) =>
      req.headers.authorization === BASIC
        ? res.writeHead(200).end()
        : res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end(),
    );
    expect(await handshake(host)).toMatchObject({ result: 'ok', scheme: 'basic', endpoint: `http://${host}/v2/` });
  });

  it('asks the token server as docker login does: Basic credentials, service, account, client_id, offline_token, no scope', async () => {
    const seen: { query?: URLSearchParams; auth?: string } = {};
    const inner = bearerRegistry(200);
    const host = await serve((req, res, base) => {
      if (req.url!.startsWith('/token'))
        Object.assign(seen, { query: new URL(req.url!, base).searchParams, auth: req.headers.authorization });
      inner(req, res, base);
    });
    expect(await handshake(host)).toMatchObject({ result: 'ok', scheme: 'bearer' });
    expect(Object.fromEntries(seen.query!)).toEqual({
      service: 'svc',
      account: 'u',
      client_id: 'docker',
      offline_token: 'true',
    });
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
    const denied = await serve((req, res) =>
      req.headers.authorization
        ? res.writeHead(403).end()
        : res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end(),
    );
    expect(await handshake(denied)).toMatchObject({ result: 'denied' });
    const odd = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end());
    expect(await handshake(odd)).toMatchObject({
      result: 'error',
      cause: expect.stringContaining('without a Basic or Bearer challenge'),
    });
  });

  it('says ok but that credentials were not needed when /v2/ answers anonymously', async () => {
    const host = await serve((_req, res) => res.writeHead(200).end('{}'));
    expect(await handshake(host)).toMatchObject({
      result: 'ok',
      scheme: 'anonymous',
      cause: expect.stringContaining('without authentication'),
    });
  });

  it('reports a token server that cannot be reached as unreachable, naming it', async () => {
    const host = await serve((_req, res) =>
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="s"' }).end(),
    );
    expect(await handshake(host)).toMatchObject({
      result: 'unreachable',
      cause: expect.stringContaining('the token server http://127.0.0.1:1/token'),
    });
  });

  it('gives up after the timeout as unreachable', async () => {
    const host = await serve(() => undefined);
    const started = Date.now();
    expect(await handshake(host, 300)).toMatchObject({
      result: 'unreachable',
      cause: expect.stringContaining('no answer within 0.3 s'),
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives up after the timeout behind a proxy that accepts CONNECT and never answers', async () => {
    const proxyPort = await silent();
    const env = { REGISTRY_LOGIN_CERTS_D: await dirs.make('rl-certs-'), HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` };
    const started = Date.now();
    // The registry name is only ever sent to the silent proxy: nothing leaves the machine.
    const outcome = await registryHandshake('registry.example:443', CREDS, { env, timeoutMs: 500 });
    expect(outcome).toMatchObject({ result: 'unreachable', cause: expect.stringContaining('no answer within 0.5 s') });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('gives up after the timeout on a registry that accepts the connection and never speaks TLS', async () => {
    const port = await silent();
    const started = Date.now();
    expect(await handshake(`127.0.0.1:${port}`, 500)).toMatchObject({
      result: 'unreachable',
      cause: expect.stringContaining('no answer within 0.5 s'),
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('does not send the credentials to a plain-http realm off this machine when /v2/ is https', async () => {
    const seen: (string | undefined)[] = [];
    // 0.0.0.0 reaches the local listener on Linux but is not a loopback address: it stands for a remote realm.
    const token = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"tok-123"}');
    });
    const realm = `http://0.0.0.0:${token.split(':')[1]}/token`;
    const { host, certsD } = await serveTls((_req, res) =>
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="svc"` }).end(),
    );
    const outcome = await registryHandshake(host, CREDS, { env: { REGISTRY_LOGIN_CERTS_D: certsD }, timeoutMs: 5000 });
    expect(outcome).toMatchObject({
      result: 'error',
      scheme: 'bearer',
      cause: expect.stringContaining(
        `token server ${realm} is plain http and not on this machine, so the credentials were not sent`,
      ),
    });
    expect(outcome.advice).toContain('https:// realm');
    expect(seen).toEqual([]);
  });

  it('sends the credentials to a plain-http realm on loopback', async () => {
    const seen: (string | undefined)[] = [];
    const token = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"tok-123"}');
    });
    const { host, certsD } = await serveTls((req, res) =>
      req.headers.authorization === 'Bearer tok-123'
        ? res.writeHead(200).end()
        : res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${token}/token",service="svc"` }).end(),
    );
    expect(
      await registryHandshake(host, CREDS, { env: { REGISTRY_LOGIN_CERTS_D: certsD }, timeoutMs: 5000 }),
    ).toMatchObject({ result: 'ok', scheme: 'bearer' });
    expect(seen).toEqual([BASIC]);
  });

  it('falls back to plain http for a registry whose address is loopback though its name is not (IPv4-mapped ::ffff:127.0.0.1)', async () => {
    const host = await serve((req, res) =>
      req.headers.authorization === BASIC
        ? res.writeHead(200).end()
        : res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end(),
    );
    const mapped = `[::ffff:127.0.0.1]:${host.split(':')[1]}`;
    expect(await handshake(mapped)).toMatchObject({ result: 'ok', scheme: 'basic', endpoint: `http://${mapped}/v2/` });
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
