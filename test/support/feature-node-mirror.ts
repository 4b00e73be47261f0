// A Node.js download mirror on 127.0.0.1 in the official layout, for the Feature's private Node.js:
// `v<version>/node-v<version>-linux-<arch>.tar.xz` (and `.tar.gz`) plus `v<version>/SHASUMS256.txt`,
// built from a real Node.js binary. Also a server that accepts connections and never answers.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export interface NodeArchive {
  version: string;
  /** The archive's file name inside `v<version>/`. */
  name: string;
  /** Its path on the host. */
  file: string;
  sha256: string;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Packs `nodeBinary` as the official `node-v<version>-linux-x64.tar.<compression>` (top folder
 * `node-v<version>-linux-x64/` holding `bin/node` and `LICENSE`) into `dir`.
 */
export async function packNodeArchive(
  dir: string,
  version: string,
  nodeBinary: string,
  compression: 'xz' | 'gz' = 'xz',
): Promise<NodeArchive> {
  const top = `node-v${version}-linux-x64`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'registry-login-node-archive-'));
  try {
    await mkdir(path.join(work, top, 'bin'), { recursive: true });
    await copyFile(nodeBinary, path.join(work, top, 'bin', 'node'));
    await writeFile(path.join(work, top, 'LICENSE'), 'Node.js is licensed for use as follows: (test copy)\n');
    const name = `${top}.tar.${compression}`;
    const file = path.join(dir, name);
    // Fast compression levels: the test needs the format, not the size.
    const compressor = compression === 'xz' ? 'xz -0 -T2' : 'gzip -1';
    await execa('sh', ['-c', `tar -C "$WORK" -c --owner=0 --group=0 "$TOP" | ${compressor} > "$OUT"`], {
      env: { WORK: work, TOP: top, OUT: file },
    });
    return { version, name, file, sha256: await sha256File(file) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes `root/v<version>/` with the archives and a SHASUMS256.txt listing `sums` (default: their real hashes). */
export async function publishNodeRelease(
  root: string,
  archives: NodeArchive[],
  sums?: Record<string, string>,
): Promise<void> {
  const version = archives[0]?.version;
  if (!version) throw new Error('publishNodeRelease needs at least one archive');
  const dir = path.join(root, `v${version}`);
  await mkdir(dir, { recursive: true });
  for (const archive of archives) {
    if (path.dirname(archive.file) !== dir) await copyFile(archive.file, path.join(dir, archive.name));
  }
  // The official file lists other platforms too; the Feature must pick its own line.
  const lines = [`${'0'.repeat(64)}  node-v${version}-darwin-arm64.tar.gz`];
  for (const archive of archives) lines.push(`${sums?.[archive.name] ?? archive.sha256}  ${archive.name}`);
  await writeFile(path.join(dir, 'SHASUMS256.txt'), `${lines.join('\n')}\n`);
}

/** Starts `server` on a free port of 127.0.0.1 and returns the port. */
async function listenOnLoopback(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

export interface RunningMirror {
  /** The mirror's base URL, ending in `/dist/` as the official one does. */
  url: string;
  /** Paths requested so far. */
  requests: string[];
  stop(): Promise<void>;
}

/** Serves the files under `root` at `http://127.0.0.1:<port>/dist/`. */
export async function startNodeMirror(root: string): Promise<RunningMirror> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://mirror').pathname);
    requests.push(urlPath);
    const relative = urlPath.replace(/^\/dist\//, '');
    const file = path.join(root, relative);
    if (!urlPath.startsWith('/dist/') || !file.startsWith(root + path.sep)) {
      response.writeHead(404).end();
      return;
    }
    stat(file).then(
      (info) => {
        if (!info.isFile()) return void response.writeHead(404).end();
        response.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream' });
        createReadStream(file).pipe(response);
      },
      () => void response.writeHead(404).end('not found\n'),
    );
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/dist/`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server on 127.0.0.1 that accepts connections and never sends a byte (a stalled mirror or proxy). */
export async function startSilentServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/dist/`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The default nodeVersion in devcontainer-feature.json (what the dev container tools pass to install.sh). */
export async function defaultNodeVersion(metadataFile: string): Promise<string> {
  const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as {
    options?: { nodeVersion?: { default?: unknown } };
  };
  const version = metadata.options?.nodeVersion?.default;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`${metadataFile} has no X.Y.Z default for nodeVersion`);
  return version;
}

/**
 * The official Node.js `version` for this machine, as the setup fetches it (scripts/fetch-node.sh: the npm registry's
 * node-linux-<arch> package, at build/node-<version>/bin/node), fetched now if it is not there yet. A fetch that fails
 * is an error saying why: the tests that need it fail, never skip.
 */
export function officialNode(repoRoot: string, version: string): string {
  const script = path.join(repoRoot, 'scripts', 'fetch-node.sh');
  const run = spawnSync('bash', [script, version], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0)
    throw new Error(
      `${script} ${version} could not fetch the official Node.js ${version} (exit ${run.status}): ${run.stderr}`,
    );
  const file = path.join(run.stdout.trim(), 'node');
  if (!existsSync(file)) throw new Error(`${script} ${version} printed ${run.stdout.trim()}, which holds no node`);
  return file;
}

/** The official Node.js of the Feature's default nodeVersion: what the tests give an image that has a Node.js. */
export async function defaultOfficialNode(repoRoot: string): Promise<string> {
  return officialNode(repoRoot, await defaultNodeVersion(path.join(repoRoot, 'devcontainer-feature.json')));
}
