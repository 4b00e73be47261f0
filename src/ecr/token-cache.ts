// ECR tokens kept between runs, per user: one 0600 file per swap identity in a 0700 directory, named by a hash.
// Synchronous on purpose, as in src/fs/: a few small files, no thread pool or fs/promises at start-up.
import { join } from 'node:path';
import { fingerprint64 } from '../fingerprint.js';
import { isFresh } from './half-life.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { loadPrivateFile, tightenPrivateDirectory } from '../fs/read-file.js';

export { isFresh };

/** A token as cached: the registry password and its lifetime. */
export interface CachedToken {
  password: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Where tokens are kept between runs (the file cache, or nothing at all). */
export interface TokenCache {
  get(key: string): CachedToken | undefined;
  set(key: string, token: CachedToken): void;
}

/**
 * What one GetAuthorizationToken call depends on; two logins with equal identities share one call and one cache entry.
 */
export interface SwapIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  /** ecr or ecr-public, with -fips / -dualstack. */
  flavour: string;
  endpointUrl?: string;
  /** The role the keys assume first (README, Roles). */
  roleArn?: string;
  externalId?: string;
}

/**
 * The cache key of a swap identity: a fingerprint of who asks where (access key ID, region, endpoint), never of a
 * secret. AWS binds one secret key to an access key ID for its whole life (a rotated key gets a new ID; temporary
 * credentials have an ID of their own per session), so the secret adds nothing to the key, and leaving it out means
 * nothing on disk is derived from a secret and no run hashes one. A wrong secret beside a cached access key ID is
 * noticed at the next renewal or with `refresh --force`.
 */
export function tokenCacheKey(identity: SwapIdentity): string {
  const parts = [identity.accessKeyId, identity.region, identity.flavour, identity.endpointUrl ?? ''];
  // A role's token is the role's: the ARN (not a secret) is part of who asks. The external ID is a secret, so it is
  // left out like the secret key, and a wrong one shows at the next renewal, when the role is assumed again.
  if (identity.roleArn !== undefined) parts.push('role', identity.roleArn);
  return fingerprint64(`registry-login ecr token v2\0${parts.join('\0')}`);
}

/**
 * Everything a swap identity is, as one string (for grouping logins in memory, never written): equal strings, equal
 * identities.
 */
export function identityText(identity: SwapIdentity): string {
  const parts = [
    identity.accessKeyId,
    identity.secretAccessKey,
    identity.sessionToken ?? '',
    identity.region,
    identity.flavour,
    identity.endpointUrl ?? '',
    identity.roleArn ?? '',
    identity.externalId ?? '',
  ];
  return parts.join('\0');
}

/** The token cache in the per-user cache directory (none without one: never one relative to the current directory). */
export function openTokenCache(dir: string | undefined): TokenCache {
  return dir === undefined ? new NullTokenCache() : new FileTokenCache(dir);
}

/** Tokens in files: <dir>/ecr-<hash>.json, mode 0600, dir 0700, written atomically; an unreadable entry is a miss. */
export class FileTokenCache implements TokenCache {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, `ecr-${key}.json`);
  }

  get(key: string): CachedToken | undefined {
    try {
      // Another user's (or a world-writable) file, a link or a special file is not trusted to hold this user's token.
      const { text } = loadPrivateFile(this.path(key));
      if (text === undefined) return undefined;
      const value = JSON.parse(text) as {
        version?: unknown;
        password?: unknown;
        issuedAt?: unknown;
        expiresAt?: unknown;
      };
      if (
        value.version !== 1 ||
        typeof value.password !== 'string' ||
        typeof value.issuedAt !== 'string' ||
        typeof value.expiresAt !== 'string'
      )
        return undefined;
      const token = {
        password: value.password,
        issuedAt: new Date(value.issuedAt),
        expiresAt: new Date(value.expiresAt),
      };
      return Number.isNaN(token.issuedAt.getTime()) || Number.isNaN(token.expiresAt.getTime()) ? undefined : token;
    } catch {
      return undefined;
    }
  }

  set(key: string, token: CachedToken): void {
    try {
      // The directory may predate us with another mode; it is ours, so make it 0700 (a missing one is made so).
      tightenPrivateDirectory(this.dir);
      const text = `${JSON.stringify({ version: 1, password: token.password, issuedAt: token.issuedAt.toISOString(), expiresAt: token.expiresAt.toISOString() })}\n`;
      writeFileAtomic(this.path(key), text);
    } catch {
      // A cache that cannot be written (read-only home) costs one AWS call next time, nothing more.
    }
  }
}

/** A cache that keeps nothing (e.g. when a caller wants every token fresh from AWS). */
export class NullTokenCache implements TokenCache {
  get(): undefined {
    return undefined;
  }

  set(): void {}
}
