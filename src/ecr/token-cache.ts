// ECR tokens kept between runs, per user: one 0600 file per swap identity in a 0700 directory, named by a hash.
// Synchronous on purpose, as in docker-config/file.ts: a few small files, no thread pool or fs/promises at start-up.
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { xdgBaseDirectory } from '../builtin.js';
import { join } from 'node:path';
import { sha256Hex } from '../sha256.js';
import { isFresh } from './half-life.js';

export { isFresh };
import { writeFileAtomic } from '../docker-config/file.js';

/** A token as cached: the registry password and its lifetime. */
export interface CachedToken {
  password: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Where tokens are kept between runs (the file cache, or nothing at all). */
export interface TokenCache {
  get(key: string): Promise<CachedToken | undefined>;
  set(key: string, token: CachedToken): Promise<void>;
}

/** What one GetAuthorizationToken call depends on; two logins with equal identities share one call and one cache entry. */
export interface SwapIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  /** ecr or ecr-public, with -fips / -dualstack. */
  flavour: string;
  endpointUrl?: string;
}

/** The cache key of a swap identity: the SHA-256 of all of it, so no secret is ever a file name or guessable from one. */
export function tokenCacheKey(identity: SwapIdentity): string {
  return sha256Hex(identityText(identity));
}

/** Everything a swap identity is, as one string: equal strings, equal identities (and cache keys). */
function identityText(identity: SwapIdentity): string {
  const parts = [identity.accessKeyId, identity.secretAccessKey, identity.sessionToken ?? '', identity.region, identity.flavour, identity.endpointUrl ?? ''];
  return `registry-login ecr token v1\0${parts.join('\0')}`;
}

/** The per-user cache directory: $XDG_CACHE_HOME/registry-login, else ~/.cache/registry-login; undefined when no home is known. */
export function tokenCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = xdgBaseDirectory(env, 'XDG_CACHE_HOME', '.cache');
  return base === undefined ? undefined : join(base, 'registry-login');
}

/** The token cache for a user's environment (none without a home: never one relative to the current directory). */
export function openTokenCache(env: NodeJS.ProcessEnv): TokenCache {
  const dir = tokenCacheDir(env);
  return dir === undefined ? new NullTokenCache() : new FileTokenCache(dir);
}

/** Tokens in files: <dir>/ecr-<hash>.json, mode 0600, dir 0700, written atomically; an unreadable entry is a miss. */
export class FileTokenCache implements TokenCache {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, `ecr-${key}.json`);
  }

  async get(key: string): Promise<CachedToken | undefined> {
    try {
      const path = this.path(key);
      const info = statSync(path);
      // Another user's (or a world-writable) file is not trusted to hold this user's token.
      if ((process.getuid && info.uid !== process.getuid()) || (info.mode & 0o022) !== 0) return undefined;
      const value = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; password?: unknown; issuedAt?: unknown; expiresAt?: unknown };
      if (value.version !== 1 || typeof value.password !== 'string' || typeof value.issuedAt !== 'string' || typeof value.expiresAt !== 'string') return undefined;
      const token = { password: value.password, issuedAt: new Date(value.issuedAt), expiresAt: new Date(value.expiresAt) };
      return Number.isNaN(token.issuedAt.getTime()) || Number.isNaN(token.expiresAt.getTime()) ? undefined : token;
    } catch {
      return undefined;
    }
  }

  async set(key: string, token: CachedToken): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      // The directory may predate us with a looser mode; it is ours, so tighten it.
      if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
      const text = `${JSON.stringify({ version: 1, password: token.password, issuedAt: token.issuedAt.toISOString(), expiresAt: token.expiresAt.toISOString() })}\n`;
      await writeFileAtomic(this.path(key), text);
    } catch {
      // A cache that cannot be written (read-only home) costs one AWS call next time, nothing more.
    }
  }
}

/** A cache that keeps nothing (e.g. when a caller wants every token fresh from AWS). */
export class NullTokenCache implements TokenCache {
  async get(): Promise<undefined> {
    return undefined;
  }

  async set(): Promise<void> {}
}
