import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { requireCommand } from './process.js';

export interface SelfSignedCert {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export interface SelfSignedCertOptions {
  /** Subject CN; defaults to "localhost". */
  cn?: string;
  /** Extra DNS subjectAltNames besides localhost. */
  sans?: readonly string[];
  /** File name stem, so several certs can share one directory; defaults to "cert". */
  name?: string;
  days?: number;
}

const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Creates a self-signed RSA-2048 certificate for 127.0.0.1 and localhost (plus extra DNS names) with the openssl CLI.
 */
export async function makeSelfSignedCert(dir: string, options: SelfSignedCertOptions = {}): Promise<SelfSignedCert> {
  const openssl = await requireCommand('openssl', 'openssl');
  const cn = options.cn ?? 'localhost';
  const name = options.name ?? 'cert';
  for (const san of options.sans ?? []) {
    // The names end up inside an openssl -addext argument; reject anything that could change its meaning.
    if (!DNS_NAME.test(san)) throw new Error(`makeSelfSignedCert: not a DNS name: ${JSON.stringify(san)}`);
  }
  if (!DNS_NAME.test(cn)) throw new Error(`makeSelfSignedCert: CN must be a DNS-like name: ${JSON.stringify(cn)}`);
  const sans = ['IP:127.0.0.1', 'DNS:localhost', ...(options.sans ?? []).map((s) => `DNS:${s}`)];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = path.join(dir, `${name}.key`);
  // OpenSSL 3's `req -x509` marks the cert CA:TRUE (checked on this machine), so the leaf can also be
  // its own trust anchor: docker's certs.d/ca.crt, skopeo --cert-dir and distribution's
  // rootcertbundle all accept the very same file.
  const result = await execa(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      String(options.days ?? 7),
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${sans.join(',')}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { reject: false, timeout: 30_000, stdin: 'ignore' },
  );
  if (result.exitCode !== 0) {
    throw new Error(`openssl req failed (exit ${String(result.exitCode)}): ${result.stderr}`);
  }
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { certPath, keyPath, certPem, keyPem };
}

/** Writes a docker/skopeo style certs directory (DIR/ca.crt) that trusts the given PEM certificate. */
export async function makeCaDir(dir: string, certPem: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'ca.crt'), certPem, { mode: 0o644 });
  return dir;
}
