import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { requireCommand } from './process.js';
import { hermeticSkopeoEnv, skopeoTlsArgs } from './skopeo.js';
import { withTempDir } from './tmp.js';

export interface PushTestImageOptions {
  /** Credentials for the push; written to a 0600 authfile, never put in argv. */
  creds?: { user: string; password: string };
  /** An existing auth file (containers auth.json or docker config.json format) for --dest-authfile. */
  authfile?: string;
  /** Push with whatever this docker config directory grants, the way a user's skopeo would. */
  dockerConfigDir?: string;
  /** Verify TLS; default: true when certDir is given, else false (plain http). */
  tlsVerify?: boolean;
  certDir?: string;
  /** Content of the one file in the layer; default derives from repo and tag so images differ. */
  content?: string;
  timeoutMs?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width-1 octal digits then NUL, the classic ustar numeric field.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Makes a one-file ustar archive by hand so the layer bytes (and digests) are reproducible. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error('tarOneFile: name too long for a plain ustar header');
  const header = Buffer.alloc(BLOCK, 0);
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(content.length, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii');
  header.write('        ', 148, 'ascii'); // checksum is computed with its own field as spaces
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  header.write('root', 265, 'ascii');
  header.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148, 'ascii');
  const padding = Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK, 0);
  return Buffer.concat([header, content, padding, Buffer.alloc(2 * BLOCK, 0)]);
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface OciLayout {
  dir: string;
  manifestDigest: string;
}

/** Writes a minimal OCI image layout (one gzipped layer, config, manifest, index.json) into dir. */
export async function writeOciLayout(dir: string, tag: string, content: string): Promise<OciLayout> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob = async (data: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(data);
    await writeFile(path.join(blobs, digest.slice('sha256:'.length)), data);
    return { digest, size: data.length };
  };
  const tar = tarOneFile('hello.txt', Buffer.from(content, 'utf8'));
  // Node writes gzip headers with mtime 0, so the compressed layer is stable too.
  const layer = await putBlob(gzipSync(tar));
  const config = await putBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      }),
    ),
  );
  const manifest = await putBlob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { dir, manifestDigest: manifest.digest };
}

/** Pushes a tiny hand-built OCI image to HOST/repo:tag with skopeo and returns the manifest digest. */
export async function pushTestImage(
  registryHost: string,
  repo: string,
  tag: string,
  options: PushTestImageOptions = {},
): Promise<string> {
  const skopeo = await requireCommand('skopeo', 'skopeo');
  const given = [options.creds, options.authfile, options.dockerConfigDir].filter((x) => x !== undefined).length;
  if (given > 1) throw new Error('pushTestImage: pass at most one of creds, authfile, dockerConfigDir');
  return await withTempDir(async (scratch) => {
    const layout = await writeOciLayout(
      path.join(scratch, 'layout'),
      tag,
      options.content ?? `registry-login test image ${repo}:${tag}\n`,
    );
    const env = await hermeticSkopeoEnv(scratch, options.dockerConfigDir);
    const authArgs: string[] = [];
    if (options.creds) {
      const { user, password } = options.creds;
      const authfile = path.join(scratch, 'auth.json');
      const auth = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
      await writeFile(authfile, JSON.stringify({ auths: { [registryHost]: { auth } } }), { mode: 0o600 });
      authArgs.push('--dest-authfile', authfile);
    } else if (options.authfile !== undefined) {
      authArgs.push('--dest-authfile', options.authfile);
    }
    const digestFile = path.join(scratch, 'digest');
    const result = await execa(
      skopeo,
      [
        // The image is built right here; the machine's signature policy has nothing to say about it.
        '--insecure-policy',
        'copy',
        '--retry-times',
        '0',
        ...skopeoTlsArgs('dest-', options.tlsVerify, options.certDir),
        ...authArgs,
        '--digestfile',
        digestFile,
        `oci:${layout.dir}:${tag}`,
        `docker://${registryHost}/${repo}:${tag}`,
      ],
      { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: options.timeoutMs ?? 60_000 },
    );
    if (result.exitCode !== 0) {
      throw new Error(
        `skopeo copy to ${registryHost}/${repo}:${tag} failed (exit ${String(result.exitCode)}):\n${result.stderr}`,
      );
    }
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    if (pushed !== layout.manifestDigest) {
      // skopeo would only rewrite the manifest if the registry refused OCI; say so rather than hide it.
      throw new Error(`skopeo pushed manifest ${pushed}, expected the layout's ${layout.manifestDigest}`);
    }
    return pushed;
  }, 'rl-push-');
}
