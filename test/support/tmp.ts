import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Creates a fresh private directory under os.tmpdir(); the caller removes it. */
export async function makeTempDir(prefix = 'rl-test-'): Promise<string> {
  // mkdtemp creates the directory 0700, which matters: fixtures write credentials here.
  return await mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a directory tree, ignoring one that is already gone. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A set of temp dirs that are removed together, for use with afterEach/afterAll. */
export class TempDirs {
  private readonly dirs: string[] = [];

  /** Creates a temp dir that cleanup() will remove. */
  async make(prefix?: string): Promise<string> {
    const dir = await makeTempDir(prefix);
    this.dirs.push(dir);
    return dir;
  }

  /** Removes every dir made so far. */
  async cleanup(): Promise<void> {
    const dirs = this.dirs.splice(0);
    await Promise.all(dirs.map((d) => removeTempDir(d)));
  }
}

/** Runs fn with a temp dir that is removed afterwards, whether fn succeeds or throws. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}
