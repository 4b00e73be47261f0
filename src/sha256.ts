// SHA-256 for fingerprints and cache keys. node:crypto costs ~2.5 MB of RSS and a few ms to load, and a refresh
// without ECR logins that changes nothing needs no hash at all, so the module is loaded on first use. (A JavaScript
// SHA-256 costs more: hashing 20 identities makes V8 optimise its loop, ~5 MB of RSS.)

let crypto: typeof import('node:crypto') | undefined;

/** The hex SHA-256 of a string. */
export function sha256Hex(text: string): string {
  crypto ??= process.getBuiltinModule('node:crypto');
  return crypto.createHash('sha256').update(text).digest('hex');
}
