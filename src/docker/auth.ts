// The auths entry's `auth` field: base64 of "user:secret" (docker/cli configfile encodeAuth and decodeAuth).
import type { Credentials } from '../types.js';

/** The auth field docker writes for a user name and secret. */
export function encodeAuth(username: string, secret: string): string {
  return Buffer.from(`${username}:${secret}`, 'utf8').toString('base64');
}

/**
 * The user name and secret in an auths entry's auth field, split at the first ':' as docker does (the secret may
 * hold more); undefined when the entry holds none or no user name.
 */
export function decodeAuthsEntry(entry: unknown): Credentials | undefined {
  const auth = typeof entry === 'object' && entry !== null ? (entry as { auth?: unknown }).auth : undefined;
  if (typeof auth !== 'string') return undefined;
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) } : undefined;
}
