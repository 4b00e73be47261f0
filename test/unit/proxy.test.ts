// Which requests go through HTTPS_PROXY / HTTP_PROXY, and which NO_PROXY or loopback sends direct.
import { describe, expect, it } from 'vitest';
import { proxyForUrl } from '../../src/proxy.js';

const API = 'https://api.ecr.us-west-2.amazonaws.com/';

describe('proxyForUrl', () => {
  it.each([
    ['no proxy variables', API, {}, undefined],
    ['HTTPS_PROXY for an https endpoint', API, { HTTPS_PROXY: 'http://proxy:3128' }, 'http://proxy:3128'],
    [
      'https_proxy wins over HTTPS_PROXY',
      API,
      { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' },
      'http://lower:1',
    ],
    ['an empty https_proxy counts as unset', API, { https_proxy: '', HTTPS_PROXY: 'http://upper:2' }, 'http://upper:2'],
    ['HTTP_PROXY is not used for https', API, { HTTP_PROXY: 'http://proxy:3128' }, undefined],
    [
      'HTTP_PROXY for an http endpoint',
      'http://10.1.2.3:4566/',
      { HTTP_PROXY: 'http://proxy:3128', HTTPS_PROXY: 'http://other:1' },
      'http://proxy:3128',
    ],
    ['ALL_PROXY as the fallback', API, { ALL_PROXY: 'http://all:8080' }, 'http://all:8080'],
    ['a proxy without scheme is http', API, { HTTPS_PROXY: 'proxy:3128' }, 'http://proxy:3128'],
    ['NO_PROXY=* sends everything direct', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }, undefined],
    ['NO_PROXY domain matches subdomains', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'amazonaws.com' }, undefined],
    ['NO_PROXY .domain matches subdomains', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.amazonaws.com' }, undefined],
    [
      'NO_PROXY *.domain matches subdomains',
      API,
      { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*.amazonaws.com' },
      undefined,
    ],
    [
      'NO_PROXY is case-insensitive',
      API,
      { HTTPS_PROXY: 'http://p:1', no_proxy: 'API.ECR.US-WEST-2.AMAZONAWS.COM' },
      undefined,
    ],
    ['NO_PROXY list with spaces', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'localhost, amazonaws.com' }, undefined],
    ['NO_PROXY suffix must be a whole label', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'naws.com' }, 'http://p:1'],
    ['NO_PROXY with the right port', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'amazonaws.com:443' }, undefined],
    ['NO_PROXY with another port', API, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'amazonaws.com:8443' }, 'http://p:1'],
    ['NO_PROXY IP', 'http://10.1.2.3:4566/', { HTTP_PROXY: 'http://p:1', NO_PROXY: '10.1.2.3' }, undefined],
    [
      'NO_PROXY CIDR not containing the host',
      'http://10.1.2.3:4566/',
      { HTTP_PROXY: 'http://p:1', NO_PROXY: '127.0.0.0/8' },
      'http://p:1',
    ],
    ['NO_PROXY CIDR', 'http://10.1.2.3:4566/', { HTTP_PROXY: 'http://p:1', NO_PROXY: '10.0.0.0/8' }, undefined],
    [
      'loopback is never proxied (as Go does): the proxy would see the signed request',
      'http://127.0.0.1:4566/',
      { HTTP_PROXY: 'http://p:1' },
      undefined,
    ],
    ['all of 127.0.0.0/8 is loopback', 'https://127.9.8.7:4566/', { HTTPS_PROXY: 'http://p:1' }, undefined],
    ['localhost is loopback', 'http://localhost:4566/', { HTTP_PROXY: 'http://p:1' }, undefined],
    ['::1 is loopback', 'http://[::1]:4566/', { HTTP_PROXY: 'http://p:1' }, undefined],
    ['IPv4-mapped 127.0.0.1 is loopback', 'http://[::ffff:127.0.0.1]:4566/', { HTTP_PROXY: 'http://p:1' }, undefined],
    ['0.0.0.0 is not loopback', 'http://0.0.0.0:4566/', { HTTP_PROXY: 'http://p:1' }, 'http://p:1'],
    ['a name is not resolved to decide', 'http://localhost.example:4566/', { HTTP_PROXY: 'http://p:1' }, 'http://p:1'],
    [
      'IPv6 literal in NO_PROXY',
      'http://[2001:db8::1]:4566/',
      { HTTP_PROXY: 'http://p:1', NO_PROXY: '[2001:db8::1]' },
      undefined,
    ],
    [
      'IPv6 literal not in NO_PROXY',
      'http://[2001:db8::1]:4566/',
      { HTTP_PROXY: 'http://p:1', NO_PROXY: '[2001:db8::2]' },
      'http://p:1',
    ],
  ])('%s', (_name, url, env, expected) => {
    expect(proxyForUrl(new URL(url), env as NodeJS.ProcessEnv)).toBe(expected);
  });
});
