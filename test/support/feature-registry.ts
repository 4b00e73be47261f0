// A password-protected Debian docker-registry on 127.0.0.1 holding one tiny image pushed with skopeo,
// for the Feature's container test.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface TestRegistry {
  /** host:port, the registry key docker uses. */
  address: string;
  user: string;
  password: string;
  /** The repository:tag pushed, without the address. */
  image: string;
  /** The content of /hello.txt in the pushed image. */
  helloText: string;
  /** The pushed image's config digest: the image ID docker shows after pulling it. */
  imageId: string;
  stop(): Promise<void>;
}

/** Says why the registry fixture cannot run here, or undefined when it can. */
export function whyRegistryCannotRun(): string | undefined {
  for (const [tool, pkg] of [['/usr/bin/docker-registry', 'docker-registry'], ['/usr/bin/htpasswd', 'apache2-utils'], ['/usr/bin/skopeo', 'skopeo']] as const) {
    if (!existsSync(tool)) return `${tool} is missing; install it with: apt-get install -y ${pkg}`;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A one-file tar archive (ustar), enough for an image layer. */
function tarWithFile(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

/** Writes an OCI image layout holding one image whose only file is /hello.txt. */
async function writeOciLayout(dir: string, tag: string, helloText: string): Promise<string> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob = async (data: Buffer | string) => {
    const digest = sha256(data);
    await writeFile(path.join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const tar = tarWithFile('hello.txt', helloText);
  const layer = await putBlob(gzipSync(tar));
  const config = await putBlob(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
    }),
  );
  const manifest = await putBlob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return config.digest;
}

/** Starts docker-registry with htpasswd auth on a free 127.0.0.1 port and pushes the test image to it. */
export async function startTestRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'registry-login-registry-'));
  const user = 'feature-robot';
  const password = `pw-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const htpasswd = await execa('htpasswd', ['-Bbn', user, password]);
  await writeFile(path.join(dir, 'htpasswd'), `${htpasswd.stdout.trim()}\n`);
  await writeFile(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} } }`,
      `http: { addr: "${address}", secret: feature-test-secret }`,
      `auth: { htpasswd: { realm: feature-test, path: ${path.join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  const logFile = await open(path.join(dir, 'registry.log'), 'w');
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', logFile.fd, logFile.fd] });
  await logFile.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let attempt = 0; ; attempt++) {
      const status = await fetch(`http://${address}/v2/`).then((r) => r.status, () => 0);
      if (status === 401) break;
      if (child.exitCode !== null || attempt > 100) {
        throw new Error(`docker-registry did not start:\n${await readFile(path.join(dir, 'registry.log'), 'utf8')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const image = 'feature-test/hello:v1';
    const helloText = `hello from the registry-login Feature test ${port}\n`;
    const imageId = await writeOciLayout(path.join(dir, 'oci'), 'v1', helloText);
    // skopeo reads credentials only from this file here; the password is passed by file, not argv.
    const authFile = path.join(dir, 'push-auth.json');
    await writeFile(authFile, JSON.stringify({ auths: { [address]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }), { mode: 0o600 });
    await execa('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-authfile', authFile, `oci:${path.join(dir, 'oci')}:v1`, `docker://${address}/${image}`], {
      env: { XDG_RUNTIME_DIR: '' },
    });
    return { address, user, password, image, helloText, imageId, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
