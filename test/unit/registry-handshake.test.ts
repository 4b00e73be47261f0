// The pure parts of the /v2/ handshake: challenge parsing, error sorting, loopback and proxy rules, certs.d reading.
// The handshake itself, against in-process registries, is in test/integration/registry-handshake.test.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { parseChallenges, registryHost } from '../../src/registry-handshake.js';
import { classifyNetworkError, dockerAllowsPlainHttp, loadRegistryTrust } from '../../src/registry-transport.js';
import { isLoopbackHost, proxyForUrl } from '../../src/proxy.js';
import { TempDirs } from '../support/tmp.js';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

describe('parseChallenges', () => {
  it.each([
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:a/b:pull',
          },
        },
      ],
    ],
    ['Bearer realm="a\\"b" , service=bare', [{ scheme: 'bearer', params: { realm: 'a"b', service: 'bare' } }]],
    [
      'Bearer realm="x", Basic realm="y"',
      [
        { scheme: 'bearer', params: { realm: 'x' } },
        { scheme: 'basic', params: { realm: 'y' } },
      ],
    ],
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
    ['[::ffff:7f00:1]', true],
    ['0.0.0.0', false],
  ])('%s loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('honours HTTPS_PROXY and NO_PROXY of the given environment, and never proxies loopback', () => {
    const env = { HTTPS_PROXY: 'http://proxy.example:3128', NO_PROXY: 'internal.example,.corp.example' };
    expect(proxyForUrl(new URL('https://ghcr.io/v2/'), env)).toBe('http://proxy.example:3128');
    expect(proxyForUrl(new URL('https://internal.example/v2/'), env)).toBeUndefined();
    expect(proxyForUrl(new URL('https://reg.corp.example/v2/'), env)).toBeUndefined();
    expect(proxyForUrl(new URL('https://127.0.0.1:5000/v2/'), env)).toBeUndefined();
    expect(proxyForUrl(new URL('http://localhost:5000/v2/'), env)).toBeUndefined();
    expect(proxyForUrl(new URL('http://ghcr.io/v2/'), env)).toBeUndefined();
  });
});

describe('dockerAllowsPlainHttp (moby: any resolved address in 127.0.0.0/8 or ::1/128)', () => {
  it.each([
    ['127.0.0.1', true, 'an IPv4 loopback literal'],
    ['127.200.0.9', true, 'anywhere in 127.0.0.0/8'],
    ['[::1]', true, 'the IPv6 loopback literal'],
    ['[::ffff:7f00:1]', true, 'IPv4-mapped 127.0.0.1, as Go matches it'],
    ['localhost', true, 'a name that resolves to loopback'],
    ['0.0.0.0', false, 'unspecified is not loopback'],
    ['192.0.2.10', false, 'another address'],
    ['registry.invalid', false, 'a name that does not resolve is not insecure'],
  ])('%s → %s (%s)', async (host, expected) => {
    expect(await dockerAllowsPlainHttp(host, AbortSignal.timeout(5000))).toBe(expected);
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
    const trust = await loadRegistryTrust('reg.example:5000', {
      REGISTRY_LOGIN_CERTS_D: root,
      NODE_EXTRA_CA_CERTS: extra,
    });
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
