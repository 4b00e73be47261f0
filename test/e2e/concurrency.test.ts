// Many registry-login processes on one config at once, and processes killed mid-write: the file stays whole.
import { execa } from 'execa';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, makeAgentHome, runAgent, runHelper, triple } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const FOREIGN = `{\n\t"auths": {\n\t\t"foreign.example": {"auth": "Zm9yZWlnbjp4"}\n\t},\n\t"credsStore": "devpod",\n\t"x-unknown": [1, {"a": null}]\n}\n`;

function logins(n: number): Record<string, string> {
  return Object.assign({}, ...Array.from({ length: n }, (_, i) => triple(`R${i}`, `registry${i}.example.com:5000`, `user${i}`, `password-${i}-secret`)));
}

describe('concurrency', () => {
  it('keeps the file valid and complete under parallel refresh and helper get processes', async () => {
    const h = await makeAgentHome(await tmp.make('rl-conc-'), logins(8));
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, FOREIGN);
    const runs = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 2 ? runHelper('get', `registry${i % 8}.example.com:5000`, h.env) : runAgent(['refresh'], h.env),
    );
    const results = await Promise.all(runs);
    for (const [i, r] of results.entries()) {
      if (i % 3 === 2) expect([0, 1]).toContain(r.exitCode);
      else expect(r.exitCode, r.stderr).toBe(0);
    }
    const config = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths: Record<string, unknown>; credHelpers: Record<string, string>; credsStore: string; 'x-unknown': unknown };
    expect(config.credsStore).toBe('devpod');
    expect(config['x-unknown']).toEqual([1, { a: null }]);
    expect(config.auths['foreign.example']).toEqual({ auth: 'Zm9yZWlnbjp4' });
    for (let i = 0; i < 8; i++) {
      expect(config.auths[`registry${i}.example.com:5000`]).toEqual({ auth: Buffer.from(`user${i}:password-${i}-secret`).toString('base64') });
      expect(config.credHelpers[`registry${i}.example.com:5000`]).toBe('registry-login');
    }
    // Every get after the dust settles answers.
    const get = await runHelper('get', 'registry3.example.com:5000', h.env);
    expect(JSON.parse(get.stdout)).toMatchObject({ Username: 'user3', Secret: 'password-3-secret' });
    expect((await readdir(h.dockerConfigDir)).sort()).toEqual(['config.json']);
  });
});

describe('crash safety', () => {
  it('leaves the complete old or the complete new file when refresh is killed at random moments', async () => {
    const h = await makeAgentHome(await tmp.make('rl-crash-'), logins(6));
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, FOREIGN);
    // The file a finished refresh writes, computed once in a twin home.
    const twin = await makeAgentHome(await tmp.make('rl-crash-twin-'), logins(6));
    await mkdir(twin.dockerConfigDir, { recursive: true });
    await writeFile(twin.configPath, FOREIGN);
    expect((await runAgent(['refresh'], twin.env)).exitCode).toBe(0);
    const complete = await readFile(twin.configPath, 'utf8');

    const trials = Number(process.env.RL_CRASH_TRIALS ?? 25);
    let killedMidway = 0;
    for (let trial = 0; trial < trials; trial++) {
      await writeFile(h.configPath, FOREIGN);
      const child = execa(path.join(BIN, 'registry-login'), ['refresh'], { env: h.env, extendEnv: false, reject: false, stdin: 'ignore' });
      await new Promise((r) => setTimeout(r, Math.random() * 80));
      child.kill('SIGKILL');
      const result = await child;
      if (result.signal === 'SIGKILL') killedMidway++;
      const text = await readFile(h.configPath, 'utf8');
      expect([FOREIGN, complete]).toContain(text);
      // A dead holder never keeps the lock: the next refresh gets through and completes the file.
      const next = await runAgent(['refresh'], h.env, { timeoutMs: 20_000 });
      expect(next.exitCode, next.stderr).toBe(0);
      expect(await readFile(h.configPath, 'utf8')).toBe(complete);
      expect((await readdir(h.dockerConfigDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
    expect(killedMidway).toBeGreaterThan(0);
  });
});
