// The per-user ECR token cache: file modes, keys that hold no secret, the half-life rule.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileTokenCache,
  NullTokenCache,
  isFresh,
  openTokenCache,
  tokenCacheKey,
  type SwapIdentity,
} from '../../src/ecr/token-cache.js';

const identity: SwapIdentity = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEXAMPLESESSION',
  region: 'us-west-2',
  flavour: 'ecr',
};
const token = {
  password: 'eyJwYXlsb2FkIjoi-registry-password',
  issuedAt: new Date('2026-01-01T00:00:00Z'),
  expiresAt: new Date('2026-01-01T12:00:00Z'),
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecr-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tokenCacheKey', () => {
  it('is a fingerprint that holds none of the identity in clear and is derived from no secret', () => {
    const key = tokenCacheKey(identity);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    for (const part of [identity.accessKeyId, identity.secretAccessKey, identity.sessionToken!])
      expect(key).not.toContain(part);
    // The secret key and the session token are not part of it: AWS binds them to the access key ID.
    expect(tokenCacheKey({ ...identity, secretAccessKey: 'another secret', sessionToken: 'another session' })).toBe(
      key,
    );
  });

  it.each([
    ['access key', { accessKeyId: 'AKIAOTHER' }],
    ['region', { region: 'us-east-1' }],
    ['flavour', { flavour: 'ecr-fips' }],
    ['endpoint URL', { endpointUrl: 'http://127.0.0.1:1' }],
  ])('changes with the %s', (_name, change) => {
    expect(tokenCacheKey({ ...identity, ...change } as SwapIdentity)).not.toBe(tokenCacheKey(identity));
  });
});

describe('isFresh', () => {
  it.each([
    ['just issued', '2026-01-01T00:00:01Z', true],
    ['before half-life', '2026-01-01T05:59:59Z', true],
    ['at half-life', '2026-01-01T06:00:00Z', false],
    ['past half-life', '2026-01-01T09:00:00Z', false],
    ['expired', '2026-01-01T13:00:00Z', false],
  ])('%s', (_name, now, fresh) => {
    expect(isFresh(token, new Date(now))).toBe(fresh);
  });

  it('is false for a token whose expiry is not after its issue', () => {
    expect(isFresh({ issuedAt: token.expiresAt, expiresAt: token.issuedAt }, new Date('2025-01-01T00:00:00Z'))).toBe(
      false,
    );
  });
});

describe('FileTokenCache', () => {
  it('writes one 0600 file in a 0700 directory and reads it back', async () => {
    const cache = new FileTokenCache(join(dir, 'nested', 'registry-login'));
    const key = tokenCacheKey(identity);
    cache.set(key, token);
    expect(cache.get(key)).toEqual(token);
    const files = await readdir(cache.dir);
    expect(files).toEqual([`ecr-${key}.json`]);
    expect((await stat(cache.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(cache.dir, files[0]!))).mode & 0o777).toBe(0o600);
    const text = await readFile(join(cache.dir, files[0]!), 'utf8');
    for (const secret of [identity.secretAccessKey, identity.sessionToken!, identity.accessKeyId])
      expect(text).not.toContain(secret);
  });

  it('tightens a cache directory that was left group- or world-readable', async () => {
    const cacheDir = join(dir, 'loose');
    await mkdir(cacheDir, { mode: 0o755 });
    await chmod(cacheDir, 0o755);
    new FileTokenCache(cacheDir).set('k', token);
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
  });

  it('treats a missing, damaged or group-writable entry as a miss', async () => {
    const cache = new FileTokenCache(dir);
    expect(cache.get('absent')).toBeUndefined();
    await writeFile(join(dir, 'ecr-damaged.json'), '{not json', { mode: 0o600 });
    expect(cache.get('damaged')).toBeUndefined();
    cache.set('loose', token);
    await chmod(join(dir, 'ecr-loose.json'), 0o666);
    expect(cache.get('loose')).toBeUndefined();
  });

  it('replaces an entry atomically, leaving no temp files', async () => {
    const cache = new FileTokenCache(dir);
    cache.set('k', token);
    const newer = { ...token, password: 'newer-password', expiresAt: new Date('2026-01-02T00:00:00Z') };
    cache.set('k', newer);
    expect(cache.get('k')).toEqual(newer);
    expect(await readdir(dir)).toEqual(['ecr-k.json']);
  });

  it('swallows a write it cannot make (read-only cache costs a call, not a login)', async () => {
    await writeFile(join(dir, 'file'), '');
    const cache = new FileTokenCache(join(dir, 'file', 'sub'));
    expect(() => cache.set('k', token)).not.toThrow();
    expect(cache.get('k')).toBeUndefined();
    expect(await readdir(dir)).toEqual(['file']);
  });
});

// NullTokenCache has no test of its own: both its methods are constants, so a test of them could not fail. What matters
// is that it is what a run without a cache directory gets, never a cache relative to the current directory (below).
describe('openTokenCache', () => {
  it('opens the file cache in the cache directory, and one that keeps nothing without one', async () => {
    const file = openTokenCache(join(dir, 'registry-login'));
    expect(file).toBeInstanceOf(FileTokenCache);
    expect((file as FileTokenCache).dir).toBe(join(dir, 'registry-login'));
    file.set('k', token);
    expect(openTokenCache(join(dir, 'registry-login')).get('k')).toEqual(token);
    expect(openTokenCache(undefined)).toBeInstanceOf(NullTokenCache);
  });
});
