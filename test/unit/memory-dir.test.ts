// The per-user memory directory: made 0700 on a tmpfs the user owns, and refused when it is a link or others may use it.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDirError, memoryDir } from '../../src/fs/memory-dir.js';

let runtime: string;
beforeEach(() => {
  if (!lstatSync('/dev/shm', { throwIfNoEntry: false })?.isDirectory())
    throw new Error('this test needs /dev/shm (a tmpfs) to stand in for $XDG_RUNTIME_DIR');
  runtime = mkdtempSync('/dev/shm/rl-unit-runtime-');
});
afterEach(() => rmSync(runtime, { recursive: true, force: true }));

describe('memoryDir', () => {
  it('makes $XDG_RUNTIME_DIR/registry-login 0700 when $XDG_RUNTIME_DIR is a tmpfs the user owns', () => {
    const dir = memoryDir({ XDG_RUNTIME_DIR: runtime });
    expect(dir).toBe(path.join(runtime, 'registry-login'));
    const stat = lstatSync(dir!);
    expect(stat.isDirectory()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(stat.uid).toBe(process.getuid!());
    // A second call uses what is there.
    expect(memoryDir({ XDG_RUNTIME_DIR: runtime })).toBe(dir);
  });

  it('looks without making anything when asked not to create', () => {
    expect(memoryDir({ XDG_RUNTIME_DIR: runtime }, { create: false })).toBeUndefined();
    expect(lstatSync(path.join(runtime, 'registry-login'), { throwIfNoEntry: false })).toBeUndefined();
  });

  it('refuses a link in its place, naming it', () => {
    const elsewhere = mkdtempSync(path.join(runtime, 'elsewhere-'));
    symlinkSync(elsewhere, path.join(runtime, 'registry-login'));
    expect(() => memoryDir({ XDG_RUNTIME_DIR: runtime })).toThrow(MemoryDirError);
    expect(() => memoryDir({ XDG_RUNTIME_DIR: runtime })).toThrow(`${path.join(runtime, 'registry-login')} is a link`);
  });

  it('refuses a directory other users may read or write', () => {
    mkdirSync(path.join(runtime, 'registry-login'));
    chmodSync(path.join(runtime, 'registry-login'), 0o770);
    expect(() => memoryDir({ XDG_RUNTIME_DIR: runtime })).toThrow(/can be read or written by other users \(mode 770\)/);
  });

  it('falls back to /dev/shm/registry-login-<uid> when $XDG_RUNTIME_DIR is not a tmpfs', () => {
    const disk = mkdtempSync(path.join(tmpdir(), 'rl-unit-not-tmpfs-'));
    try {
      const expected = `/dev/shm/registry-login-${process.getuid!()}`;
      // Only where the temporary directory really is on disk does this prove the fallback.
      expect(lstatSync(tmpdir()).dev).not.toBe(lstatSync('/dev/shm').dev);
      expect(memoryDir({ XDG_RUNTIME_DIR: disk })).toBe(expected);
      expect(lstatSync(expected).mode & 0o077).toBe(0);
    } finally {
      rmSync(disk, { recursive: true, force: true });
    }
  });
});
