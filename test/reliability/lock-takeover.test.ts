// Stale-lock takeover under many simultaneous writers: refreshes released at one moment on a lock whose holder died a
// minute ago all finish, and no two ever write under the lock at once (each traced by strace, test/support/lock-holders.ts).
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAgentHome } from '../support/agent.js';
import { simultaneousRefreshes } from '../support/lock-holders.js';
import { TempDirs } from '../support/tmp.js';
import { FOREIGN, logins, stateDirOf } from './harness.js';
import { Failures, percentile, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const TRIALS = size(30, 2);
const WRITERS = size(24, 12);

// A lock as a holder killed a minute ago leaves it: an owner record naming a finished process, a minute old.
async function deadHoldersLock(configPath: string): Promise<void> {
  const finished = spawnSync('true');
  if (!finished.pid || finished.status !== 0)
    throw new Error('could not run `true` to get the PID of a finished process');
  const lock = `${configPath}.lock`;
  await mkdir(lock, { mode: 0o700 });
  const owner = {
    pid: finished.pid,
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    pidNamespace: readlinkSync('/proc/self/ns/pid'),
  };
  await writeFile(path.join(lock, 'owner'), JSON.stringify(owner));
  const aMinuteAgo = new Date(Date.now() - 60_000);
  await utimes(path.join(lock, 'owner'), aMinuteAgo, aMinuteAgo);
  await utimes(lock, aMinuteAgo, aMinuteAgo);
}

describe('stale-lock takeover', () => {
  it(`lets ${WRITERS} refreshes released together on a dead holder's lock all finish, one holder at a time`, async () => {
    const failures = new Failures();
    let exitTwo = 0;
    let doubleHolders = 0;
    const wallMs: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const h = await makeAgentHome(await tmp.make('rl-takeover-'));
      await mkdir(h.dockerConfigDir, { mode: 0o700 });
      await writeFile(h.configPath, FOREIGN, { mode: 0o600 });
      await mkdir(path.join(h.home, '.cache', 'registry-login'), { recursive: true, mode: 0o700 });
      await deadHoldersLock(h.configPath);
      const result = await simultaneousRefreshes(
        WRITERS,
        (i) => ({ ...h.env, ...logins(6, `t${trial}w${i}`) }),
        [h.dockerConfigDir, stateDirOf(h.home)],
        await tmp.make('rl-takeover-trace-'),
      );
      wallMs.push(Math.max(...result.runs.map((r) => r.ms)));
      for (const [i, run] of result.runs.entries()) {
        if (run.exitCode === 2) exitTwo++;
        failures.check(
          run.exitCode === 0,
          () => `trial ${trial}: run ${i} exited ${run.exitCode}: ${run.stderr.trim()}`,
        );
      }
      doubleHolders += result.doubleHolders.length;
      failures.check(
        result.doubleHolders.length === 0,
        () =>
          `trial ${trial}: held by two at once: runs ${result.doubleHolders.map((p) => p.join(' and ')).join(', ')}`,
      );
      failures.check(
        result.spans.length === WRITERS,
        () => `trial ${trial}: ${result.spans.length} of ${WRITERS} runs were seen writing`,
      );
      const left = (await readdir(h.dockerConfigDir)).filter((n) => n !== 'config.json');
      failures.check(left.length === 0, () => `trial ${trial}: left behind ${left.join(', ')}`);
    }
    recordFigure({
      id: '10-lock-takeover',
      property: `Stale-lock takeover: ${WRITERS} refreshes released at one moment on a lock whose holder died a minute ago, each writing its own secrets, traced`,
      trials: TRIALS,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'writers per trial': WRITERS,
        'refresh runs': TRIALS * WRITERS,
        'runs that exited 2': exitTwo,
        'double holders (two runs writing under the lock at once)': doubleHolders,
        'all writers done, p50 / max (ms, under strace, each holding the lock 100 ms longer)': `${Math.round(percentile(wallMs, 50))} / ${Math.round(Math.max(...wallMs))}`,
      },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
