import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort } from './ports.js';
import { requireCommand, spawnTracked, stopTracked, type TrackedChild } from './process.js';
import { makeCaDir, makeSelfSignedCert } from './tls.js';
import { makeTempDir, removeTempDir } from './tmp.js';
import { startTokenServer, type TokenServer, type TokenUser } from './token-server.js';

export interface RegistryUser {
  user: string;
  password: string;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: readonly RegistryUser[] }
  | {
      kind: 'token';
      users: readonly TokenUser[];
      service?: string;
      issuer?: string;
      expiresInSeconds?: number;
      allowAnonymous?: boolean;
      /** The host the registry's challenge names in its realm, instead of the 127.0.0.1 the token server listens on. */
      realmHost?: string;
    };

export interface StartRegistryOptions {
  auth?: RegistryAuth;
  /** Serve HTTPS with a fresh self-signed cert for 127.0.0.1/localhost. */
  tls?: boolean;
  /** Extra DNS names for the TLS cert. */
  tlsSans?: readonly string[];
  /** Fixed port; default: a free one (retried if another process grabs it first). */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  addr?: string;
  /** Working directory (config, storage, certs); default: a temp dir removed by stop(). */
  dir?: string;
  readyTimeoutMs?: number;
}

export interface RunningRegistry {
  /** "127.0.0.1:PORT" — the registry key docker would use. */
  readonly host: string;
  readonly port: number;
  /** "http(s)://127.0.0.1:PORT". */
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** Server cert (PEM path) when tls is on. */
  readonly certPath?: string;
  readonly certPem?: string;
  /** A directory holding ca.crt for skopeo --cert-dir / docker certs.d, when tls is on. */
  readonly certDir?: string;
  /** The in-process token server when auth.kind is "token". */
  readonly tokenServer?: TokenServer;
  /** The registry's log output so far (for failure messages; holds no passwords). */
  output(): string;
  stop(): Promise<void>;
}

/** The bcrypt limit: distribution (like htpasswd) silently ignores bytes past the 72nd. */
const BCRYPT_MAX_BYTES = 72;

/** Builds htpasswd file content with bcrypt hashes, without putting passwords in any argv. */
export function htpasswdContent(users: readonly RegistryUser[]): string {
  return users
    .map(({ user, password }) => {
      if (user === '' || /[:\r\n]/.test(user))
        throw new Error(`htpasswd user name not allowed: ${JSON.stringify(user)}`);
      if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
        // A test using such a password would pass even if the tool truncated it; refuse instead.
        throw new Error(
          `htpasswd auth compares only the first ${String(BCRYPT_MAX_BYTES)} bytes of a password ` +
            `(user ${user}); use auth kind "token" for long passwords such as ECR tokens`,
        );
      }
      // Cost 6 keeps startup fast; the registry accepts any bcrypt cost >= 4.
      return `${user}:${bcrypt.hashSync(password, 6)}\n`;
    })
    .join('');
}

function realmWithHost(realm: string, host: string | undefined): string {
  if (host === undefined) return realm;
  const url = new URL(realm);
  url.hostname = host;
  return url.href;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function probe(url: string, ca: string | undefined): Promise<number | undefined> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(`${url}/v2/`, { timeout: 1000, ...(ca !== undefined ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function waitReady(
  child: TrackedChild,
  url: string,
  ca: string | undefined,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited()) return 'exited';
    const status = await probe(url, ca);
    // 401 is "up and asking for auth", which is as ready as 200.
    if (status === 200 || status === 401) return 'ready';
    await sleep(50);
  }
  return 'timeout';
}

/** Starts Debian's docker-registry (distribution 2.8) as a child process on 127.0.0.1 and waits until /v2/ answers. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const binary = await requireCommand('docker-registry', 'docker-registry');
  const auth = options.auth ?? { kind: 'none' };
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await makeTempDir('rl-registry-'));
  let tokenServer: TokenServer | undefined;
  try {
    await mkdir(path.join(dir, 'storage'), { recursive: true, mode: 0o700 });
    const addr = options.addr ?? '127.0.0.1';

    const cert = options.tls
      ? await makeSelfSignedCert(path.join(dir, 'tls'), { sans: options.tlsSans ?? [] })
      : undefined;
    const certDir = cert ? await makeCaDir(path.join(dir, 'certs.d'), cert.certPem) : undefined;

    let authConfig: Record<string, unknown> | undefined;
    if (auth.kind === 'htpasswd') {
      const htpasswdPath = path.join(dir, 'htpasswd');
      await writeFile(htpasswdPath, htpasswdContent(auth.users), { mode: 0o600 });
      authConfig = { htpasswd: { realm: 'registry-login-test', path: htpasswdPath } };
    } else if (auth.kind === 'token') {
      tokenServer = await startTokenServer({
        dir: path.join(dir, 'token'),
        users: auth.users,
        ...(auth.service !== undefined ? { service: auth.service } : {}),
        ...(auth.issuer !== undefined ? { issuer: auth.issuer } : {}),
        ...(auth.expiresInSeconds !== undefined ? { expiresInSeconds: auth.expiresInSeconds } : {}),
        ...(auth.allowAnonymous !== undefined ? { allowAnonymous: auth.allowAnonymous } : {}),
      });
      authConfig = {
        token: {
          realm: realmWithHost(tokenServer.realm, auth.realmHost),
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.certPath,
        },
      };
    }

    const attempts = options.port === undefined ? 3 : 1;
    let lastFailure = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = options.port ?? (await freePort());
      const config = {
        version: '0.1',
        log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
        storage: { filesystem: { rootdirectory: path.join(dir, 'storage') }, delete: { enabled: true } },
        http: {
          addr: `${addr}:${String(port)}`,
          secret: 'registry-login-test-secret',
          ...(cert ? { tls: { certificate: cert.certPath, key: cert.keyPath } } : {}),
        },
        health: { storagedriver: { enabled: false } },
        ...(authConfig ? { auth: authConfig } : {}),
      };
      // JSON is valid YAML, and sidesteps quoting rules for paths.
      const configPath = path.join(dir, 'config.yml');
      await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });

      // A clean environment: distribution lets REGISTRY_* variables override the config file.
      const child = spawnTracked(binary, ['serve', configPath], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      });
      const probeHost = addr === '0.0.0.0' ? '127.0.0.1' : addr;
      const url = `${cert ? 'https' : 'http'}://${probeHost}:${String(port)}`;
      const state = await waitReady(child, url, cert?.certPem, options.readyTimeoutMs ?? 10_000);
      if (state === 'ready') {
        const host = `${probeHost}:${String(port)}`;
        const ts = tokenServer;
        return {
          host,
          port,
          url,
          dir,
          pid: child.pid,
          ...(cert ? { certPath: cert.certPath, certPem: cert.certPem } : {}),
          ...(certDir !== undefined ? { certDir } : {}),
          ...(ts ? { tokenServer: ts } : {}),
          output: () => child.output(),
          async stop() {
            await stopTracked(child);
            await ts?.stop();
            if (ownDir) await removeTempDir(dir);
          },
        };
      }
      await stopTracked(child);
      lastFailure = `docker-registry ${state === 'exited' ? 'exited' : `did not answer GET ${url}/v2/ within ${String(options.readyTimeoutMs ?? 10_000)} ms`}. Its output:\n${child.output()}`;
      if (!/address already in use/i.test(child.output())) break;
    }
    throw new Error(lastFailure);
  } catch (err) {
    await tokenServer?.stop();
    if (ownDir) await removeTempDir(dir);
    throw err;
  }
}
