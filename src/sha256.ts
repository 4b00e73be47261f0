// SHA-256 for fingerprints and cache keys. node:crypto costs ~3.5 ms to load, and a refresh that changes nothing
// needs no hash at all, so the module is loaded on first use.
import { builtin } from './builtin.js';

let crypto: typeof import('node:crypto') | undefined;

/** The hex SHA-256 of a string. */
export function sha256Hex(text: string): string {
  crypto ??= builtin<typeof import('node:crypto')>('node:crypto');
  return crypto.createHash('sha256').update(text).digest('hex');
}
