// A refresh that stalls inside its locked read-plan-write cycle (a hung disk, a stopped process) for longer than the
// lock's staleness: a write made meanwhile by another program (docker login saves config.json without our lock) is kept.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, writeSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '../support/tmp.js';
import { foreignHome, foreignIntact, ledgerText, leftovers, logins, runTimed, stateDirOf } from './harness.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const TRIALS = size(6, 1);
const STALL_MS = 4500; // past the lock's 4 s staleness
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hands text to the next reader of a FIFO, waiting up to timeoutMs for one to open it; false when none came. */
async function feedFifo(fifo: string, text: string, timeoutMs: number): Promise<boolean> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(5)) {
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENXIO') continue; // no reader yet
      return false;
    }
    try {
      if (!fstatSync(fd).isFIFO()) return false; // replaced by the ledger's new file: nobody reads the FIFO any more
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    await sleep(20); // let that reader see EOF before the next one opens
    return true;
  }
  return false;
}

describe('slow writer', () => {
  it('keeps a foreign write made while a refresh stalls inside its lock past the staleness', async () => {
    const failures = new Failures();
    for (let trial = 0; trial < TRIALS; trial++) {
      const h = await foreignHome(await tmp.make('rl-slow-'), {});
      expect((await runTimed(['refresh'], { ...h.env, ...logins(3, 'a') })).exitCode).toBe(0);
      // The ledger becomes a FIFO: the refresh blocks reading it, holding the config's lock, until the test feeds it.
      const stateDir = stateDirOf(h.home);
      const ledgerName = readdirSync(stateDir).find((n) => n.startsWith('ledger-'))!;
      const ledgerFile = path.join(stateDir, ledgerName);
      const ledger = ledgerText(h.home)!;
      await rm(ledgerFile);
      execFileSync('mkfifo', ['-m', '600', ledgerFile]);

      const env = { ...h.env, ...logins(3, 'b') };
      const run = runTimed(['refresh'], env, { timeoutMs: 60_000 });
      // Feed the unlocked reads (refresh reads the config and ledger before it locks) until the lock is taken.
      const lockDir = `${h.configPath}.lock`;
      for (let feeds = 0; !existsSync(lockDir) && feeds < 10; feeds++) {
        await feedFifo(ledgerFile, ledger, 5000);
        for (let waited = 0; !existsSync(lockDir) && waited < 500; waited += 10) await sleep(10);
      }
      expect(existsSync(lockDir), 'the refresh never took the lock').toBe(true);
      await sleep(100);
      // Meanwhile `docker login` saves the config (temp file + rename, no lock), adding a login of its own.
      const during = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths: Record<string, unknown> };
      during.auths['typed-by-hand.example'] = { auth: 'aGFuZDp0eXBlZA==' };
      await writeFile(`${h.configPath}.docker-tmp`, JSON.stringify(during, null, '\t'));
      await rename(`${h.configPath}.docker-tmp`, h.configPath);
      await sleep(STALL_MS);
      // The locked read, then whatever reads of the ledger come before it is replaced: the refresh goes on.
      for (let feeds = 0; feeds < 10 && (await feedFifo(ledgerFile, ledger, 1000)); feeds++);
      const result = await run;

      const label = `trial ${trial}`;
      failures.check(result.exitCode === 0, () => `${label}: refresh exited ${result.exitCode}: ${result.stderr.trim()}`);
      const text = await readFile(h.configPath, 'utf8');
      const config = JSON.parse(text) as { auths: Record<string, { auth: string }> };
      failures.check(config.auths['typed-by-hand.example']?.auth === 'aGFuZDp0eXBlZA==', () => `${label}: the login docker saved during the stalled refresh was lost`);
      failures.check(config.auths['registry1.example.com:5000']?.auth === Buffer.from('user1:pw-b-1-Xq7').toString('base64'), () => `${label}: the refresh's own update is missing`);
      const lost = foreignIntact(text);
      failures.check(lost === undefined, () => `${label}: ${lost}`);
      const left = [leftovers(h.dockerConfigDir), leftovers(stateDir)].flatMap((l) => [...l.temps, ...l.locks]);
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
