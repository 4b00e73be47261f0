import { readFile, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dockerCli, dockerClisOn, dockerLogin, dockerLogout, newestDockerCli } from '../support/docker-cli.js';
import { dockerPull, startFakeEngine, type FakeEngine } from '../support/fake-engine.js';
import { pushTestImage } from '../support/oci-image.js';
import { freePort } from '../support/ports.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { skopeoInspect } from '../support/skopeo.js';
import { TempDirs } from '../support/tmp.js';

// Real servers and CLIs: seconds, not milliseconds. Set here so no shared vitest config is needed.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const tmp = new TempDirs();
afterEach(async () => {
  await tmp.cleanup();
});

function get(
  url: string,
  opts: { auth?: string; ca?: string; accept?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const headers: Record<string, string> = {};
    if (opts.auth !== undefined) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    if (opts.accept !== undefined) headers.accept = opts.accept;
    const req = mod.get(url, { headers, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', reject);
  });
}

function authEntry(user: string, password: string): { auth: string } {
  return { auth: Buffer.from(`${user}:${password}`).toString('base64') };
}

async function writeDockerConfig(dir: string, config: unknown): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
}

describe('fixture building blocks', () => {
  it('freePort returns a bindable port on 127.0.0.1', async () => {
    const port = await freePort();
    expect(Number.isInteger(port) && port > 0 && port < 65536, String(port)).toBe(true);
    const server = http.createServer();
    const bound = await new Promise<unknown>((resolve) => {
      server.once('error', (error) => resolve(error));
      server.listen(port, '127.0.0.1', () => resolve(server.address()));
    });
    try {
      expect(bound).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    } finally {
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails (never skips) with the Debian package to install when docker-registry is missing', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRegistry()).rejects.toThrow(/apt-get install -y docker-registry/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('fails loudly with the registry output when it cannot start', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startRegistry({ port })).rejects.toThrow(/docker-registry exited[\s\S]*address already in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('uses docker CLI 28 even when an older one comes first on PATH', async () => {
    expect((await dockerCli()).major).toBeGreaterThanOrEqual(28);
    // Debian's docker.io (20.10, /usr/bin) first, the newer CLI later: the fixtures still pick the newer one.
    const olderFirst = '/usr/bin:/bin:/usr/local/bin';
    const onPath = await dockerClisOn(olderFirst);
    expect(onPath[0]?.major, 'this test needs an older docker CLI in /usr/bin (Debian docker.io)').toBeLessThan(28);
    expect((await newestDockerCli(olderFirst))?.major).toBeGreaterThanOrEqual(28);
  });
});

describe('htpasswd registry (plain http)', () => {
  const user = 'alice';
  const password = 'correct horse battery staple';
  let registry: RunningRegistry;
  let digest: string;

  beforeAll(async () => {
    registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user, password }] } });
    digest = await pushTestImage(registry.host, 'team/app', 'v1', { creds: { user, password } });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('listens on 127.0.0.1 and answers /v2/ with 401 Basic, then 200 with credentials', async () => {
    expect(registry.host).toBe(`127.0.0.1:${String(registry.port)}`);
    const anon = await get(`${registry.url}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect((await get(`${registry.url}/v2/`, { auth: `${user}:${password}` })).status).toBe(200);
    expect((await get(`${registry.url}/v2/`, { auth: `${user}:${password}x` })).status).toBe(401);
  });

  it('pushTestImage pushed an OCI manifest that the registry serves by tag', async () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // distribution 2.8 answers 404 MANIFEST_UNKNOWN for an OCI manifest unless the client accepts that type.
    const head = await get(`${registry.url}/v2/team/app/manifests/v1`, {
      auth: `${user}:${password}`,
      accept: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(head.status).toBe(200);
    expect(head.headers['docker-content-digest']).toBe(digest);
  });

  it('skopeo inspect succeeds with the config written by the real `docker login --password-stdin`', async () => {
    const configDir = await tmp.make('rl-dc-');
    const login = await dockerLogin(registry.host, user, password, { dockerConfigDir: configDir });
    expect(login.stderr).not.toContain(password);
    expect(login.ok, login.stderr).toBe(true);
    const written = JSON.parse(await readFile(path.join(configDir, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(written.auths[registry.host]).toEqual(authEntry(user, password));

    const inspected = await skopeoInspect(`${registry.host}/team/app:v1`, { dockerConfigDir: configDir });
    expect(inspected.ok, inspected.stderr).toBe(true);
    expect(inspected.json?.Digest).toBe(digest);

    const logout = await dockerLogout(registry.host, { dockerConfigDir: configDir });
    expect(logout.ok, logout.stderr).toBe(true);
    const after = await skopeoInspect(`${registry.host}/team/app:v1`, { dockerConfigDir: configDir });
    expect(after.ok).toBe(false);
  });

  it('skopeo inspect fails with a wrong password, and docker login refuses it', async () => {
    const configDir = await tmp.make('rl-dc-');
    const login = await dockerLogin(registry.host, user, `${password}!`, { dockerConfigDir: configDir });
    expect(login.ok).toBe(false);

    await writeDockerConfig(configDir, { auths: { [registry.host]: authEntry(user, `${password}!`) } });
    const inspected = await skopeoInspect(`${registry.host}/team/app:v1`, { dockerConfigDir: configDir });
    expect(inspected.ok).toBe(false);
    expect(inspected.stderr).toMatch(/unauthorized|authentication required/i);
  });

  it('refuses htpasswd passwords that bcrypt would truncate', async () => {
    await expect(
      startRegistry({ auth: { kind: 'htpasswd', users: [{ user, password: 'x'.repeat(73) }] } }),
    ).rejects.toThrow(/token/);
  });
});

describe('token-auth registry over TLS', () => {
  // ECR tokens are about 2,000 characters; the server must compare every one of them.
  const longPassword = `eyJ${'A'.repeat(1990)}Zz9`;
  const wrongLast = `${longPassword.slice(0, -1)}8`;
  let registry: RunningRegistry;
  let digest: string;

  beforeAll(async () => {
    expect(longPassword).toHaveLength(1996);
    registry = await startRegistry({
      tls: true,
      auth: { kind: 'token', users: [{ user: 'AWS', password: longPassword }] },
    });
    digest = await pushTestImage(registry.host, 'ecr/app', 'latest', {
      creds: { user: 'AWS', password: longPassword },
      certDir: registry.certDir!,
    });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('serves TLS with the self-signed cert and asks for a Bearer token', async () => {
    expect(registry.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const anon = await get(`${registry.url}/v2/`, { ca: registry.certPem! });
    expect(anon.status).toBe(401);
    const challenge = anon.headers['www-authenticate'] ?? '';
    expect(challenge).toContain(`Bearer realm="${registry.tokenServer!.realm}"`);
    expect(challenge).toContain(`service="${registry.tokenServer!.service}"`);
  });

  it('accepts the whole 2,000-character password via docker login and skopeo', async () => {
    const ts = registry.tokenServer!;
    const configDir = await tmp.make('rl-dc-');
    const before = ts.requests.length;
    const login = await dockerLogin(registry.host, 'AWS', longPassword, { dockerConfigDir: configDir });
    expect(login.ok, login.stderr).toBe(true);
    expect(
      ts.requests
        .slice(before)
        .some((r) => r.user === 'AWS' && r.credsMatched && r.passwordLength === longPassword.length),
    ).toBe(true);

    const inspected = await skopeoInspect(`${registry.host}/ecr/app:latest`, {
      dockerConfigDir: configDir,
      certDir: registry.certDir!,
    });
    expect(inspected.ok, inspected.stderr).toBe(true);
    expect(inspected.json?.Digest).toBe(digest);
    const last = ts.requests.at(-1);
    expect(last).toMatchObject({ user: 'AWS', credsMatched: true, status: 200 });
    expect(last?.granted).toEqual([{ type: 'repository', name: 'ecr/app', actions: ['pull'] }]);
  });

  it('rejects the same password with its last character changed', async () => {
    const ts = registry.tokenServer!;
    const configDir = await tmp.make('rl-dc-');
    const login = await dockerLogin(registry.host, 'AWS', wrongLast, { dockerConfigDir: configDir });
    expect(login.ok).toBe(false);
    expect(ts.requests.at(-1)).toMatchObject({
      user: 'AWS',
      credsMatched: false,
      status: 401,
      passwordLength: longPassword.length,
    });

    await writeDockerConfig(configDir, { auths: { [registry.host]: authEntry('AWS', wrongLast) } });
    const inspected = await skopeoInspect(`${registry.host}/ecr/app:latest`, {
      dockerConfigDir: configDir,
      certDir: registry.certDir!,
    });
    expect(inspected.ok).toBe(false);
    expect(ts.requests.at(-1)).toMatchObject({ credsMatched: false, status: 401 });
  });

  it('skopeo without the CA refuses the self-signed cert', async () => {
    const configDir = await tmp.make('rl-dc-');
    await writeDockerConfig(configDir, { auths: { [registry.host]: authEntry('AWS', longPassword) } });
    const inspected = await skopeoInspect(`${registry.host}/ecr/app:latest`, {
      dockerConfigDir: configDir,
      tlsVerify: true,
    });
    expect(inspected.ok).toBe(false);
    expect(inspected.stderr).toMatch(/x509|certificate/i);
  });

  it('lets a test add a user at runtime (token-as-password arrives later)', async () => {
    const ts = registry.tokenServer!;
    const configDir = await tmp.make('rl-dc-');
    const later = `later-${'t'.repeat(1500)}`;
    await writeDockerConfig(configDir, { auths: { [registry.host]: authEntry('AWS', later) } });
    expect(
      (
        await skopeoInspect(`${registry.host}/ecr/app:latest`, {
          dockerConfigDir: configDir,
          certDir: registry.certDir!,
        })
      ).ok,
    ).toBe(false);
    ts.setUsers([{ user: 'AWS', password: later }]);
    try {
      const ok = await skopeoInspect(`${registry.host}/ecr/app:latest`, {
        dockerConfigDir: configDir,
        certDir: registry.certDir!,
      });
      expect(ok.ok, ok.stderr).toBe(true);
    } finally {
      ts.setUsers([{ user: 'AWS', password: longPassword }]);
    }
  });
});

describe('fake engine', () => {
  let engine: FakeEngine;
  let registry: RunningRegistry;

  beforeAll(async () => {
    engine = await startFakeEngine();
    registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'bob', password: 'pull-secret' }] } });
  });
  afterAll(async () => {
    await engine?.stop();
    await registry?.stop();
  });

  it('captures the credentials the docker CLI resolves from a config written by docker login', async () => {
    const configDir = await tmp.make('rl-dc-');
    const login = await dockerLogin(registry.host, 'bob', 'pull-secret', { dockerConfigDir: configDir });
    expect(login.ok, login.stderr).toBe(true);

    const pulled = await dockerPull(`${registry.host}/team/app:v1`, { engine, dockerConfigDir: configDir });
    expect(pulled.ok, pulled.stderr).toBe(true);
    expect(pulled.reachedEngine).toBe(true);
    expect(pulled.auth).toEqual({ username: 'bob', password: 'pull-secret', serveraddress: registry.host });
    expect(pulled.record).toMatchObject({ apiVersion: '1.41', fromImage: `${registry.host}/team/app`, tag: 'v1' });
    expect(engine.requests).toContain('HEAD /_ping');
  });

  it('reports no credentials for a registry the config does not know', async () => {
    const configDir = await tmp.make('rl-dc-');
    await writeDockerConfig(configDir, { auths: { [registry.host]: authEntry('bob', 'pull-secret') } });
    const pulled = await dockerPull('127.0.0.1:1/other/app', { engine, dockerConfigDir: configDir });
    expect(pulled.ok, pulled.stderr).toBe(true);
    expect(pulled.reachedEngine).toBe(true);
    expect(pulled.record?.headerPresent).toBe(true);
    expect(pulled.auth).toBeNull();
    expect(pulled.record?.tag).toBe('latest');
  });

  it('ignores DOCKER_AUTH_CONFIG and DOCKER_HOST from the caller environment', async () => {
    const configDir = await tmp.make('rl-dc-');
    await writeDockerConfig(configDir, {});
    const saved = { a: process.env.DOCKER_AUTH_CONFIG, h: process.env.DOCKER_HOST };
    process.env.DOCKER_AUTH_CONFIG = JSON.stringify({ auths: { [registry.host]: authEntry('leak', 'leak') } });
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const pulled = await dockerPull(`${registry.host}/team/app:v1`, { engine, dockerConfigDir: configDir });
      expect(pulled.ok, pulled.stderr).toBe(true);
      expect(pulled.auth).toBeNull();
    } finally {
      if (saved.a === undefined) delete process.env.DOCKER_AUTH_CONFIG;
      else process.env.DOCKER_AUTH_CONFIG = saved.a;
      if (saved.h === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved.h;
    }
  });
});
