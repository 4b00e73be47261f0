// Many `registry-login refresh` started together on one config, each traced by strace, to see who held the config's
// lock when: a run's writes (ledger before, config, ledger after) all happen under the lock, so the span from its first
// temp file to its last rename into place is a time it held the lock. Two overlapping spans are two holders at once.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requireCommand } from './process.js';
import { runTimed, type TimedRun } from '../reliability/harness.js';

/** When run number `run` wrote under the lock (strace's timestamps, seconds). */
export interface HolderSpan {
  run: number;
  start: number;
  end: number;
}

export interface SimultaneousRuns {
  runs: TimedRun[];
  spans: HolderSpan[];
  /** Pairs of runs whose spans under the lock overlap. */
  doubleHolders: [number, number][];
}

// Each run's first fsync (inside its first locked write) is held this long, so that a second holder, if the lock let
// one in, would be caught writing at the same time.
const HOLD_US = 100_000;

/**
 * Starts n refreshes, run i with envOf(i), each under strace logging its temp-file creations and renames with
 * timestamps into logDir, and lets them go at the same moment: each stops itself (SIGSTOP, injected by strace) at its
 * first mkdir, just before it goes for the lock (the home's cache directory must exist already), and all are
 * continued once all have stopped. Only files written in lockedDirs (the config's and the ledger's directories) count:
 * the launcher's code cache is saved at exit, outside any lock.
 */
export async function simultaneousRefreshes(
  n: number,
  envOf: (i: number) => Record<string, string>,
  lockedDirs: string[],
  logDir: string,
): Promise<SimultaneousRuns> {
  const strace = await requireCommand('strace', 'strace');
  const logs = Array.from({ length: n }, (_, i) => path.join(logDir, `strace-${i}.log`));
  const runs = Promise.all(
    logs.map((log, i) =>
      runTimed(['refresh'], envOf(i), {
        timeoutMs: 120_000,
        wrapper: [
          strace,
          '-f',
          '-qq',
          '-ttt',
          '-o',
          log,
          '-e',
          'trace=openat,open,creat,rename,renameat,renameat2,fsync,mkdir',
          '-e',
          'inject=mkdir:signal=SIGSTOP:when=1',
          '-e',
          `inject=fsync:delay_enter=${HOLD_US}:when=1`,
        ],
      }),
    ),
  );
  const stopped = await allStopped(logs);
  for (const pid of stopped) process.kill(pid, 'SIGCONT');
  const done = await runs;
  const spans: HolderSpan[] = [];
  for (const [i, log] of logs.entries()) {
    const span = writingSpan(await readFile(log, 'utf8'), lockedDirs);
    if (span) spans.push({ run: i, ...span });
  }
  const doubleHolders: [number, number][] = [];
  for (const a of spans)
    for (const b of spans) if (a.run < b.run && a.start < b.end && b.start < a.end) doubleHolders.push([a.run, b.run]);
  return { runs: done, spans, doubleHolders };
}

// The traced refreshes' PIDs once every one has stopped (strace logs the SIGSTOP it injected, then the stop); fails
// loudly after 60 s.
async function allStopped(logs: string[]): Promise<number[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pids = logs.map((log) => {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      const pid = /^(\d+)\s+\S+ --- SIGSTOP \{/m.exec(text)?.[1];
      return pid !== undefined && new RegExp(`^${pid}\\s+\\S+ --- stopped by SIGSTOP ---`, 'm').test(text)
        ? Number(pid)
        : undefined;
    });
    if (pids.every((pid) => pid !== undefined)) return pids as number[];
    if (Date.now() > deadline)
      throw new Error(
        `only ${pids.filter((p) => p !== undefined).length} of ${logs.length} refreshes stopped at their first mkdir within 60 s (strace's SIGSTOP injection)`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// From the first temp file a run creates to the last one it renames into place; the lock's own prepared directory
// (config.json.lock.<pid>.<hex>.tmp) is not a write under the lock.
function writingSpan(log: string, lockedDirs: string[]): { start: number; end: number } | undefined {
  let start: number | undefined;
  let end: number | undefined;
  for (const line of log.split('\n')) {
    const m = /^\d+\s+(\d+\.\d+)\s+(\w+)\((.*)$/.exec(line);
    if (!m) continue;
    const [, time, call, rest] = m as unknown as [string, string, string, string];
    const firstPath = /"([^"]*)"/.exec(rest)?.[1] ?? '';
    if (!lockedDirs.includes(path.dirname(firstPath))) continue;
    if (!firstPath.endsWith('.tmp') || firstPath.includes('.lock.') || / = -1 /.test(rest)) continue;
    if (/^open/.test(call) && rest.includes('O_EXCL')) start ??= Number(time);
    if (/^rename/.test(call)) end = Number(time);
  }
  return start !== undefined && end !== undefined ? { start, end } : undefined;
}
