// A refresh that stalls inside its locked read-plan-write cycle (a hung disk, a stopped process) for longer than the
// lock's staleness: a write made meanwhile by another program (docker login saves config.json without our lock) is
// kept.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '../support/tmp.js';
import { foreignHome, foreignIntact, leftovers, logins, runTimed, stateDirOf } from './harness.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const TRIALS = size(6, 1);
const STALL_MS = 4500; // past the lock's 4 s staleness
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the launcher under strace, which holds the second rename the refresh makes (the first, uncontended, puts the
 * lock in place; the second is a save inside its locked cycle, the ledger) for stallMs before letting it through: a
 * hung disk, as the process sees it.
 */
function stalledInsideLock(stallMs: number): string[] {
  const calls = 'rename,renameat,renameat2';
  return [
    'strace',
    '-f',
    '-qq',
    '-o',
    '/dev/null',
    '-e',
    `trace=${calls}`,
    '-e',
    `inject=${calls}:delay_enter=${stallMs * 1000}:when=2`,
  ];
}

describe('slow writer', () => {
  it('keeps a foreign write made while a refresh stalls inside its lock past the staleness', async () => {
    const failures = new Failures();
    for (let trial = 0; trial < TRIALS; trial++) {
      const h = await foreignHome(await tmp.make('rl-slow-'), {});
      expect((await runTimed(['refresh'], { ...h.env, ...logins(3, 'a') })).exitCode).toBe(0);
      const env = { ...h.env, ...logins(3, 'b') };
      const run = runTimed(['refresh'], env, { timeoutMs: 60_000, wrapper: stalledInsideLock(STALL_MS) });
      const lockDir = `${h.configPath}.lock`;
      for (let waited = 0; !existsSync(lockDir) && waited < 20_000; waited += 5) await sleep(5);
      expect(existsSync(lockDir), 'the refresh never took the lock').toBe(true);
      await sleep(100);
      // Meanwhile `docker login` saves the config (temp file + rename, no lock), adding a login of its own.
      const during = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths: Record<string, unknown> };
      during.auths['typed-by-hand.example'] = { auth: 'aGFuZDp0eXBlZA==' };
      await writeFile(`${h.configPath}.docker-tmp`, JSON.stringify(during, null, '\t'));
      await rename(`${h.configPath}.docker-tmp`, h.configPath);
      const result = await run;
      failures.check(
        result.ms >= STALL_MS,
        () => `trial ${trial}: the refresh was not held (${result.ms} ms): strace did not delay its rename`,
      );

      const label = `trial ${trial}`;
      failures.check(
        result.exitCode === 0,
        () => `${label}: refresh exited ${result.exitCode}: ${result.stderr.trim()}`,
      );
      const text = await readFile(h.configPath, 'utf8');
      const config = JSON.parse(text) as { auths: Record<string, { auth: string }> };
      failures.check(
        config.auths['typed-by-hand.example']?.auth === 'aGFuZDp0eXBlZA==',
        () => `${label}: the login docker saved during the stalled refresh was lost`,
      );
      failures.check(
        config.auths['registry1.example.com:5000']?.auth === Buffer.from('user1:pw-b-1-Xq7').toString('base64'),
        () => `${label}: the refresh's own update is missing`,
      );
      const lost = foreignIntact(text);
      failures.check(lost === undefined, () => `${label}: ${lost}`);
      const left = [leftovers(h.dockerConfigDir), leftovers(stateDirOf(h.home))].flatMap((l) => [
        ...l.temps,
        ...l.locks,
      ]);
      failures.check(left.length === 0, () => `${label}: left behind ${left.join(', ')}`);
    }
    recordFigure({
      id: '3-slow-writer',
      property: `Slow writer: a refresh stalled ${STALL_MS} ms inside its lock (past the 4 s staleness) while docker login saves the config`,
      trials: TRIALS,
      failures: failures.count,
      examples: failures.examples(),
      facts: { 'stall (ms)': STALL_MS },
    });
    expect(failures.list).toEqual([]);
  }, 600_000);
});
