// The launcher's branch for Node 22.1 and later (module.enableCompileCache), run under an official Node 22 binary that
// scripts/fetch-node22.sh takes from the npm registry into build/node-22 (never committed).
import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, makeAgentHome, triple } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const NODE22 = path.join(REPO, 'build', 'node-22', 'bin', 'node');
const tmp = new TempDirs();
afterEach(async () => {
  await tmp.cleanup();
});

beforeAll(async () => {
  const r = await execa('bash', [path.join(REPO, 'scripts', 'fetch-node22.sh')], { reject: false });
  if (r.exitCode !== 0)
    throw new Error(
      `scripts/fetch-node22.sh could not fetch a Node 22 binary from the npm registry (exit ${r.exitCode}): ${r.stderr}`,
    );
}, 300_000);

/** Runs bin/registry-login under Node 22 with exactly the given environment. */
async function run22(args: string[], env: Record<string, string>) {
  const r = await execa(NODE22, [path.join(BIN, 'registry-login'), ...args], {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const files = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String).sort();

describe('the launcher under Node 22', () => {
  it('runs the agent with Node’s compile cache in the registry-login cache directory, and the next run uses it', async () => {
    const h = await makeAgentHome(
      await tmp.make(),
      triple('ACME', 'registry.node22.example:5000', 'someone', 's3cret-node22-password'),
    );
    expect((await execa(NODE22, ['--version'])).stdout).toMatch(/^v22\./);
    const cacheDir = path.join(h.home, '.cache', 'registry-login');

    const first = await run22(['refresh'], h.env);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toContain('1 of 1 registry logged in');
    expect(JSON.parse(await readFile(h.configPath, 'utf8')).auths['registry.node22.example:5000'].auth).toBe(
      Buffer.from('someone:s3cret-node22-password').toString('base64'),
    );
    const entries = await files(path.join(cacheDir, 'node-compile-cache'));
    expect(entries.length).toBeGreaterThan(1);
    // Node's cache replaces the launcher's own: no v8-*.bin file.
    expect((await readdir(cacheDir)).filter((f) => f.startsWith('v8-'))).toEqual([]);

    // Node reports, when asked, that it compiled the agent from the cache.
    const second = await run22(['status'], { ...h.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toContain('registry.node22.example:5000');
    expect(second.stderr).toContain(`cache for ${path.join(REPO, 'dist', 'agent.cjs')} was accepted`);
    expect(await files(path.join(cacheDir, 'node-compile-cache'))).toEqual(entries);
  });

  it('uses no cache with REGISTRY_LOGIN_CODE_CACHE=0', async () => {
    const h = await makeAgentHome(await tmp.make(), {
      ...triple('ACME', 'registry.node22.example:5000', 'someone', 's3cret-node22-password'),
      REGISTRY_LOGIN_CODE_CACHE: '0',
    });
    const r = await run22(['refresh'], h.env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await files(path.join(h.home, '.cache', 'registry-login'))).toEqual([]);
  });
});
