// Load: dozens of concurrent `refresh` and credential-helper `get` processes on one config.
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '../support/tmp.js';
import { foreignHome, foreignIntact, leftovers, logins, runTimed, stateDirOf, type TimedRun } from './harness.js';
import { Failures, percentile, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
const runtimes: string[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((dir) => rm(dir, { recursive: true, force: true })));
  await tmp.cleanup();
});

// Memory mode: a memory directory of the round's own (a fresh XDG_RUNTIME_DIR on the /dev/shm tmpfs).
async function modeEnv(mode: 'config' | 'memory'): Promise<Record<string, string>> {
  if (mode === 'config') return {};
  const runtime = await mkdtemp('/dev/shm/rl-load-');
  await chmod(runtime, 0o700);
  runtimes.push(runtime);
  return { REGISTRY_LOGIN_SECRETS: 'memory', XDG_RUNTIME_DIR: runtime };
}

const ROUNDS = size(8, 2);
const PROCESSES = 60; // per round: half refresh, half get
const LOGINS = 8;
const NOT_FOUND = 'credentials not found in native keychain';

describe.each(['config', 'memory'] as const)('load, secrets in %s', (mode) => {
  it(`keeps one config valid and complete under ${ROUNDS} round(s) of ${PROCESSES} concurrent refresh and helper get processes`, async () => {
    // Even rounds: every refresh has the same secrets. Odd rounds: two sets of secrets compete (a secret rotated
    // while refreshes run), so the end state is either set's complete file and every get answers one of them.
    const env = logins(LOGINS, 'load');
    const rotated = logins(LOGINS, 'rotated');
    const complete: Record<string, string> = {};
    for (const [name, secrets] of [
      ['load', env],
      ['rotated', rotated],
    ] as const) {
      const twin = await foreignHome(await tmp.make('rl-load-twin-'), { ...secrets, ...(await modeEnv(mode)) });
      expect((await runTimed(['refresh'], twin.env)).exitCode).toBe(0);
      complete[name] = await readFile(twin.configPath, 'utf8');
    }

    const failures = new Failures();
    const wall: number[] = [];
    const each: number[] = [];
    let getsAnswered = 0;
    let getsNotFoundYet = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const competing = round % 2 === 1;
      const memory = await modeEnv(mode);
      const h = await foreignHome(await tmp.make('rl-load-'), { ...env, ...memory });
      const envOf = (i: number) => (competing && i % 4 === 2 ? { ...h.env, ...rotated } : h.env);
      const started = performance.now();
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, (_, i): Promise<[string, number, TimedRun]> => {
          const n = i % LOGINS;
          return i % 2 === 0
            ? runTimed(['refresh'], envOf(i), { timeoutMs: 120_000 }).then((r) => ['refresh', n, r])
            : runTimed(['get'], envOf(i), {
                name: 'docker-credential-registry-login',
                input: `registry${n}.example.com:5000`,
                timeoutMs: 120_000,
              }).then((r) => ['get', n, r]);
        }),
      );
      wall.push(performance.now() - started);
      for (const [kind, n, r] of runs) {
        each.push(r.ms);
        const label = `round ${round} ${kind} #${n}`;
        failures.check(
          r.signal === null,
          () => `${label}: ended by ${r.signal} after ${r.ms.toFixed(0)} ms (deadlock?)`,
        );
        if (kind === 'refresh') {
          failures.check(r.exitCode === 0, () => `${label}: exited ${r.exitCode}: ${r.stderr.trim()}`);
        } else if (r.exitCode === 0) {
          getsAnswered++;
          let answer: { Username?: string; Secret?: string } = {};
          try {
            answer = JSON.parse(r.stdout) as typeof answer;
          } catch {
            // counted below
          }
          failures.check(
            answer.Username === `user${n}` &&
              (answer.Secret === `pw-load-${n}-Xq7` || (competing && answer.Secret === `pw-rotated-${n}-Xq7`)),
            () => `${label}: answered with other credentials than the secret's`,
          );
        } else {
          // Before the first refresh has written, a get rightly finds nothing; anything else is a failure.
          getsNotFoundYet++;
          failures.check(
            r.exitCode === 1 && r.stdout.trim() === NOT_FOUND && r.stderr === '',
            () => `${label}: exited ${r.exitCode} with ${JSON.stringify((r.stdout + r.stderr).slice(0, 200))}`,
          );
        }
      }
      const text = await readFile(h.configPath, 'utf8');
      failures.check(
        text === complete.load || (competing && text === complete.rotated),
        () => `round ${round}: the config differs from the one a single refresh writes`,
      );
      const lost = foreignIntact(text);
      failures.check(lost === undefined, () => `round ${round}: ${lost}`);
      const status = await runTimed(['status', '--json'], h.env);
      const managed = (JSON.parse(status.stdout || '{"logins":[]}') as { logins: { effective: boolean }[] }).logins;
      failures.check(
        managed.length === LOGINS && managed.every((l) => l.effective),
        () =>
          `round ${round}: status lists ${managed.length} logins, ${managed.filter((l) => l.effective).length} effective`,
      );
      const stateDir = memory.XDG_RUNTIME_DIR
        ? path.join(memory.XDG_RUNTIME_DIR, 'registry-login', 'state')
        : stateDirOf(h.home);
      if (memory.XDG_RUNTIME_DIR) {
        const written = Array.from({ length: LOGINS }, (_, n) =>
          ['load', 'rotated'].map((set) => Buffer.from(`user${n}:pw-${set}-${n}-Xq7`).toString('base64')),
        ).flat();
        failures.check(
          !written.some((auth) => text.includes(auth)),
          () => `round ${round}: the config holds a password in memory mode`,
        );
      }
      const left = [leftovers(h.dockerConfigDir), leftovers(stateDir)].flatMap((l) => [...l.temps, ...l.locks]);
      failures.check(left.length === 0, () => `round ${round}: left behind ${left.join(', ')}`);
    }
    recordFigure({
      id: mode === 'config' ? '2-load' : '2-load-memory',
      property: `Load${mode === 'memory' ? ' (secrets in memory)' : ''}: ${PROCESSES} concurrent processes (${PROCESSES / 2} refresh, ${PROCESSES / 2} helper get) on one config with ${LOGINS} logins and foreign entries; every other round with two competing sets of secrets`,
      trials: ROUNDS * PROCESSES,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        rounds: ROUNDS,
        'wall time per round, p50 / max (ms)': `${Math.round(percentile(wall, 50))} / ${Math.round(Math.max(...wall))}`,
        'one process under load, p50 / p95 / max (ms)': `${Math.round(percentile(each, 50))} / ${Math.round(percentile(each, 95))} / ${Math.round(Math.max(...each))}`,
        'helper get answered with the right credentials': getsAnswered,
        'helper get before the first write (not found, as it should)': getsNotFoundYet,
      },
    });
    expect(failures.list).toEqual([]);
    expect(Math.max(...wall)).toBeLessThan(60_000);
  }, 1_800_000);
});
