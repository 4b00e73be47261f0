import { describe, expect, it } from 'vitest';
import { DOCKER_HUB_KEY, classifyLogin, keyLogins, normalizeRegistryKey } from '../../src/registry.js';

describe('normalizeRegistryKey', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['  ghcr.io  ', 'ghcr.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['HTTPS://GHCR.IO/owner/image', 'ghcr.io'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['Registry.Example.com:5000', 'registry.example.com:5000'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['[::1]:5000', '[::1]:5000'],
    ['my_registry.local', 'my_registry.local'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ['docker.io', DOCKER_HUB_KEY],
    ['index.docker.io', DOCKER_HUB_KEY],
    ['https://index.docker.io/v1/', DOCKER_HUB_KEY],
    ['registry-1.docker.io', DOCKER_HUB_KEY],
    ['https://registry.hub.docker.com/v2/', DOCKER_HUB_KEY],
    ['Docker.IO/library/alpine', DOCKER_HUB_KEY],
  ])('%s → %s', (server, key) => {
    expect(normalizeRegistryKey(server)).toEqual({ ok: true, key });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['https://', 'no host'],
    ['/path/only', 'no host'],
    ['my registry.io', 'white space'],
    ['user:hunter2@ghcr.io', 'user information'],
    ['https://user:hunter2@ghcr.io/x', 'user information'],
    ['ftp://ghcr.io', 'scheme'],
    ['ghcr.io:99999', 'port'],
    ['ghcr.io:abc', 'not a registry host'],
    ['-bad.example', 'not a registry host'],
    ['bad..example', 'not a registry host'],
    ['exa$mple.com', 'not a registry host'],
    ['ghcr.io\nevil', 'white space'],
  ])('rejects %j (%s) without echoing it', (server, reason) => {
    const result = normalizeRegistryKey(server);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain(reason);
      if (server.includes('hunter2')) expect(result.reason).not.toContain('hunter2');
    }
  });
});

describe('classifyLogin', () => {
  it.each([
    ['ghcr.io', 'octo', 'static'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'AWS', 'ecr-token'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'AKIAEXAMPLE', 'ecr-keys'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'aws', 'ecr-keys'],
    ['public.ecr.aws', 'AWS', 'ecr-token'],
    ['public.ecr.aws', 'AKIAEXAMPLE', 'ecr-public-keys'],
    ['ecr-public.aws.com', 'AKIAEXAMPLE', 'ecr-public-keys'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example', 'AKIAEXAMPLE', 'static'],
  ])('%s with user %s is %s', (key, user, kind) => {
    expect(classifyLogin(key, user).kind).toBe(kind);
  });
});

describe('keyLogins', () => {
  const triple = (prefix: string, server: string) => ({ prefix, server, user: 'u', password: 'pw-secret' });

  it('lets the byte-order first prefix win a shared key and reports the other', () => {
    const { logins, problems } = keyLogins([triple('ZED', 'https://ghcr.io'), triple('ACME', 'ghcr.io/x')]);
    expect(logins.map((l) => l.prefix)).toEqual(['ACME']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.prefix).toBe('ZED');
    expect(problems[0]!.message).toMatch(/ghcr\.io is already logged in by ACME/);
  });

  it('reports a bad SERVER naming the prefix and variable, not the value', () => {
    const { logins, problems } = keyLogins([triple('ACME', 'me:pw-secret@ghcr.io')]);
    expect(logins).toEqual([]);
    expect(problems[0]!.message).toContain('ACME_CONTAINER_REGISTRY_SERVER');
    expect(problems[0]!.message).not.toContain('pw-secret');
  });
});
