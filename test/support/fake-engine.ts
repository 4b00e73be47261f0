import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runDocker, type DockerResult, type DockerRunOptions } from './docker-cli.js';

/** The decoded X-Registry-Auth JSON (docker's registry.AuthConfig, lower-case keys on the wire). */
export interface CapturedAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
  auth?: string;
  email?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface ImageCreateRecord {
  path: string;
  /** API version from the URL prefix ("1.41"), or undefined for an unversioned path. */
  apiVersion: string | undefined;
  fromImage: string | null;
  tag: string | null;
  headerPresent: boolean;
  /** Decoded credentials, or null when the CLI sent none (no header, or "{}" which docker sends as "e30="). */
  auth: CapturedAuth | null;
}

export interface FakeEngineOptions {
  /** What /_ping advertises; the CLI then uses min(this, its own maximum). Default 1.41 (Debian dockerd 20.10). */
  apiVersion?: string;
}

export interface FakeEngine {
  /** Value for DOCKER_HOST: "tcp://127.0.0.1:PORT". */
  readonly dockerHost: string;
  readonly port: number;
  readonly apiVersion: string;
  readonly pulls: ImageCreateRecord[];
  /** Every request as "METHOD path", to see what a CLI version needs. */
  readonly requests: string[];
  stop(): Promise<void>;
}

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

/** Decodes an X-Registry-Auth header value; null for "no credentials". */
export function decodeRegistryAuth(header: string | undefined): CapturedAuth | null {
  if (header === undefined || header === '') return null;
  // Docker sends base64url *with* padding; Node's base64 decoder accepts both alphabets.
  const json = Buffer.from(header, 'base64').toString('utf8');
  // dockerd decodes with Go's encoding/json, which matches member names whatever their case: docker-py forwards the
  // helper's "Username"/"Secret" answer as "Username"/"Password".
  const parsed = Object.fromEntries(
    Object.entries(JSON.parse(json) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]),
  ) as CapturedAuth;
  return Object.keys(parsed).length === 0 ? null : parsed;
}

/** Starts a fake Docker Engine API on 127.0.0.1 that records the credentials of each image pull. */
export async function startFakeEngine(options: FakeEngineOptions = {}): Promise<FakeEngine> {
  const apiVersion = options.apiVersion ?? '1.41';
  const pulls: ImageCreateRecord[] = [];
  const requests: string[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const versioned = VERSIONED.exec(url.pathname);
    const route = versioned?.[2] ?? url.pathname;
    requests.push(`${req.method ?? '?'} ${url.pathname}`);
    req.resume();
    const common = {
      'api-version': apiVersion,
      ostype: 'linux',
      'docker-experimental': 'false',
      'cache-control': 'no-cache, no-store, must-revalidate',
    };

    if (route === '/_ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { ...common, 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (route === '/version' && req.method === 'GET') {
      res.writeHead(200, { ...common, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          Version: '20.10.24-fake',
          ApiVersion: apiVersion,
          MinAPIVersion: '1.12',
          Os: 'linux',
          Arch: 'amd64',
          KernelVersion: 'fake',
          GoVersion: 'go-fake',
          GitCommit: 'fake',
          BuildTime: '',
          Components: [],
        }),
      );
      return;
    }
    if (route === '/info' && req.method === 'GET') {
      // What testcontainers reads before it pulls (it logs the engine's facts).
      res.writeHead(200, { ...common, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ServerVersion: '20.10.24-fake',
          OperatingSystem: 'fake',
          OSType: 'linux',
          Architecture: 'x86_64',
          NCPU: 1,
          MemTotal: 1 << 30,
          Labels: [],
          IndexServerAddress: 'https://index.docker.io/v1/',
        }),
      );
      return;
    }
    if (/^\/images\/.+\/json$/.test(route) && req.method === 'GET') {
      // No image is ever present, so a client that looks first (testcontainers) goes on to pull.
      res.writeHead(404, { ...common, 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `No such image: ${decodeURIComponent(route.slice(8, -5))}` }));
      return;
    }
    if (route === '/images/create' && req.method === 'POST') {
      const header = req.headers['x-registry-auth'];
      const raw = Array.isArray(header) ? header[0] : header;
      let auth: CapturedAuth | null;
      try {
        auth = decodeRegistryAuth(raw);
      } catch {
        res.writeHead(400, { ...common, 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'X-Registry-Auth is not base64 JSON' }));
        return;
      }
      const fromImage = url.searchParams.get('fromImage');
      const tag = url.searchParams.get('tag');
      pulls.push({
        path: url.pathname,
        apiVersion: versioned?.[1],
        fromImage,
        tag,
        headerPresent: raw !== undefined,
        auth,
      });
      res.writeHead(200, { ...common, 'content-type': 'application/json' });
      // Just enough of the progress stream for the CLI to report success.
      res.write(`${JSON.stringify({ status: `Pulling from ${fromImage ?? '?'}`, id: tag ?? 'latest' })}\n`);
      res.write(`${JSON.stringify({ status: `Digest: sha256:${'0'.repeat(64)}` })}\n`);
      res.end(
        `${JSON.stringify({ status: `Status: Downloaded newer image for ${fromImage ?? '?'}:${tag ?? 'latest'}` })}\n`,
      );
      return;
    }
    res.writeHead(404, { ...common, 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `fake engine: ${req.method ?? '?'} ${url.pathname} not implemented` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    dockerHost: `tcp://127.0.0.1:${String(port)}`,
    port,
    apiVersion,
    pulls,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface DockerPullResult extends DockerResult {
  /** False when the CLI never sent an image-create request (it failed before reaching the engine). */
  reachedEngine: boolean;
  /** The credentials the CLI resolved and sent, or null when it sent none. */
  auth: CapturedAuth | null;
  record?: ImageCreateRecord;
}

/** Runs the real `docker pull IMAGE` against the fake engine and returns the credentials the CLI sent. */
export async function dockerPull(
  image: string,
  options: DockerRunOptions & { engine: FakeEngine },
): Promise<DockerPullResult> {
  const before = options.engine.pulls.length;
  const result = await runDocker(['pull', image], {
    ...options,
    env: { ...options.env, DOCKER_HOST: options.engine.dockerHost },
  });
  // One pull at a time per engine: the record is whatever arrived during this run.
  const records = options.engine.pulls.slice(before);
  if (records.length > 1)
    throw new Error(
      `dockerPull: ${String(records.length)} image-create calls during one pull; run pulls on one engine sequentially`,
    );
  const record = records[0];
  return { ...result, reachedEngine: record !== undefined, auth: record?.auth ?? null, ...(record ? { record } : {}) };
}
