// Convergence: any interleaving of refreshes with changing, removed and returning
// passwords, config writes that fail, lost or damaged ledgers, and a foreign writer (a script saving the config as
// `docker login` and `docker logout` do) converges to the secrets' current values. Each trial is a generated sequence
// of steps on a fresh home run with the built CLI, checked against a model after every step; the sequence ends with
// a refresh whose writes succeed.
//
// What "converges" means here, precisely. Call an entry the user's when the foreign writer saved it after
// registry-login last wrote or claimed that key, and registry-login's ledger still remembers the key (it was not lost,
// damaged, or forgotten by a removal). Then after every refresh whose config write succeeds (exit 0):
//   - auths[key] of a login whose secrets are set and that is not the user's holds exactly
//     {"auth": base64(user:current password)}, its credHelpers line is "registry-login", and `refresh --json`
//     reports it "ok";
//   - auths[key] of a login that is the user's holds exactly what the foreign writer saved, and `refresh --json`
//     reports it "kept" with a reason (its secrets set) or keeps it with a warning (its secrets gone);
//   - a login whose secrets are gone and that registry-login remembers is removed: auths[key] holds no password
//     registry-login ever wrote (it is gone, or what was there before registry-login came), and its credHelpers line
//     is gone; one it no longer remembers (ledger lost) is left as it is;
//   - every foreign entry and top-level key of the starting config is still there.
// A refresh whose config write fails exits 2 and leaves the config byte for byte (or exits 0 if it had nothing to
// write). A lost ledger makes registry-login claim the entries again (their credHelpers line is registry-login's own);
// so does a ledger saved by a refresh whose config write then failed (it must still know the config's entry it wrote before the failed write).
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAgent, triple, type AgentHome, type AgentResult } from '../support/agent.js';
import { runAgentWithConfigPinned } from '../support/config-faults.js';
import { TempDirs } from '../support/tmp.js';
import { FOREIGN, foreignHome, foreignIntact, stateDirOf } from './harness.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const TRIALS = size(200, 8);
// Groups of steps (a rotation and a failed write count as one).
const MAX_STEPS = 12;
// Two logins: registry0 starts with a foreign entry that registry-login displaces; registry1 starts absent.
const KEYS = ['registry0.example.com:5000', 'registry1.example.com:5000'] as const;
const BOTH = [0, 1] as const;
const INITIAL: unknown[] = [(JSON.parse(FOREIGN) as { auths: Record<string, unknown> }).auths[KEYS[0]], undefined];

type Step =
  | { t: 'new password'; k: 0 | 1 }
  | { t: 'secrets removed'; k: 0 | 1 }
  | { t: 'refresh' }
  | { t: 'refresh, config write fails' }
  | { t: 'docker login'; k: 0 | 1 }
  | { t: 'docker logout'; k: 0 | 1 }
  | { t: 'ledger lost' }
  | { t: 'ledger damaged' };

const key = fc.constantFrom<0 | 1>(0, 1);
// Weighted towards the orders that once lost a login or a user's entry: a password rotated before each of several
// failed writes, and a lost ledger followed by a refresh and then by removed secrets.
const step: fc.Arbitrary<Step[]> = fc.oneof(
  { weight: 2, arbitrary: key.map((k): Step[] => [{ t: 'new password', k }]) },
  { weight: 3, arbitrary: key.map((k): Step[] => [{ t: 'new password', k }, { t: 'refresh, config write fails' }]) },
  { weight: 2, arbitrary: key.map((k): Step[] => [{ t: 'secrets removed', k }]) },
  { weight: 3, arbitrary: fc.constant<Step[]>([{ t: 'refresh' }]) },
  { weight: 1, arbitrary: fc.constant<Step[]>([{ t: 'refresh, config write fails' }]) },
  { weight: 2, arbitrary: key.map((k): Step[] => [{ t: 'docker login', k }]) },
  { weight: 1, arbitrary: key.map((k): Step[] => [{ t: 'docker logout', k }]) },
  { weight: 2, arbitrary: fc.constant<Step[]>([{ t: 'ledger lost' }]) },
  { weight: 1, arbitrary: fc.constant<Step[]>([{ t: 'ledger damaged' }]) },
);

/** What the config should hold, per the definition above; per key. */
interface Model {
  /** The current password; undefined while the login's secrets are gone. */
  passwords: (string | undefined)[];
  /** Every password the login ever had (registry-login may have written any of them). */
  history: string[][];
  /** auths[key] as the file holds it (undefined: absent). */
  config: unknown[];
  /** The foreign writer saved the entry after registry-login last wrote or claimed it. */
  foreignSince: boolean[];
  /** registry-login's ledger remembers the key (a refresh saved it, and it was not lost or removed since). */
  ledgerKnows: boolean[];
  /** credHelpers[key] is registry-login's (a refresh whose config write succeeded wrote it, and it was not removed). */
  helpers: boolean[];
}

const agentEntry = (k: number, password: string) => ({ auth: Buffer.from(`user${k}:${password}`).toString('base64') });
const envOf = (m: Model) =>
  Object.assign(
    {},
    ...BOTH.map((k) => (m.passwords[k] === undefined ? {} : triple(`R${k}`, KEYS[k], `user${k}`, m.passwords[k]))),
  ) as Record<string, string>;
const present = (m: Model, k: number) => m.passwords[k] !== undefined;

/** A login is the user's when the foreign writer saved it since and the ledger remembers the key. */
const usersOwn = (m: Model, k: number) => m.ledgerKnows[k]! && m.foreignSince[k]!;
/** What auths[key] holds after a successful refresh of a login whose secrets are set. */
const wanted = (m: Model, k: number) => (usersOwn(m, k) ? m.config[k] : agentEntry(k, m.passwords[k]!));

/** Saves the config as docker does: the whole file re-serialised with tabs, through a temp file and a rename. */
async function dockerSaves(h: AgentHome, edit: (auths: Record<string, unknown>) => void): Promise<void> {
  const config = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths?: Record<string, unknown> };
  config.auths ??= {};
  edit(config.auths);
  await writeFile(`${h.configPath}.docker-tmp`, JSON.stringify(config, null, '\t'), { mode: 0o600 });
  await rename(`${h.configPath}.docker-tmp`, h.configPath);
}

describe('convergence', () => {
  it(`converges to the current secrets through ${TRIALS} generated interleavings of refresh, failed writes, lost ledgers and docker login`, async () => {
    const root = await tmp.make('rl-converge-');
    const failures = new Failures();
    const seed = Number(process.env.RL_SEED ?? Date.now() % 2 ** 31);
    const counts: Record<string, number> = {};
    let trials = 0;
    let refreshesChecked = 0;
    let keptChecked = 0;
    let removalsChecked = 0;
    let unique = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: MAX_STEPS }), async (groups) => {
        const steps = groups.flat();
        const h = await foreignHome(path.join(root, `t${trials++}`), {});
        const m: Model = {
          passwords: ['pw-0-start', 'pw-1-start'],
          history: [['pw-0-start'], ['pw-1-start']],
          config: [...INITIAL],
          foreignSince: [false, false],
          ledgerKnows: [false, false],
          helpers: [false, false],
        };
        const done: string[] = [];
        const label = () => `seed ${seed}, steps ${done.join(' → ')}`;
        const check = (ok: boolean, what: () => string): boolean => {
          failures.check(ok, () => `${label()}: ${what()}`);
          return ok;
        };

        /** Checks a successful refresh against the model and moves the model on; false when the trial cannot go on. */
        const refreshed = async (run: AgentResult): Promise<boolean> => {
          refreshesChecked++;
          if (!check(run.exitCode === 0, () => `refresh exited ${run.exitCode}: ${run.stderr.trim().slice(0, 300)}`))
            return false;
          const text = await readFile(h.configPath, 'utf8');
          const config = JSON.parse(text) as { auths?: Record<string, unknown>; credHelpers?: Record<string, unknown> };
          const report = JSON.parse(run.stdout) as {
            logins: { key: string; status: string; reason?: string }[];
            removed: string[];
          };
          let ok = check(foreignIntact(text) === undefined, () => `${foreignIntact(text)}`);
          for (const k of BOTH) {
            const server = KEYS[k];
            const got = config.auths?.[server];
            const helper = config.credHelpers?.[server];
            const status = report.logins.find((l) => l.key === server);
            const kept = usersOwn(m, k);
            if (kept) keptChecked++;
            if (present(m, k)) {
              const want = wanted(m, k);
              ok =
                check(
                  isDeepStrictEqual(got, want),
                  () =>
                    `auths["${server}"] holds ${JSON.stringify(got)}, expected ${kept ? "the foreign writer's" : 'the current password'} ${JSON.stringify(want)}`,
                ) && ok;
              ok =
                check(
                  status?.status === (kept ? 'kept' : 'ok') &&
                    (!kept || /changed outside registry-login/.test(status.reason ?? '')),
                  () => `${server} reported ${JSON.stringify(status)}, expected ${kept ? 'kept with a reason' : 'ok'}`,
                ) && ok;
              // (A login the user owns keeps its credHelpers line as it is: none if registry-login never wrote one.)
              ok =
                check(
                  kept || helper === 'registry-login',
                  () => `credHelpers["${server}"] is ${JSON.stringify(helper)}`,
                ) && ok;
              if (!kept) {
                m.foreignSince[k] = false;
                m.helpers[k] = true;
                m.config[k] = want;
              }
              m.ledgerKnows[k] = true;
            } else if (m.ledgerKnows[k]) {
              // Secrets gone: the user's entry stays; registry-login's own goes, and no password it wrote comes back.
              const removed = report.removed.includes(server);
              if (kept) {
                ok =
                  check(
                    isDeepStrictEqual(got, m.config[k]) && !removed,
                    () =>
                      `auths["${server}"] (the user's) holds ${JSON.stringify(got)}, expected ${JSON.stringify(m.config[k])} kept`,
                  ) && ok;
              } else {
                removalsChecked++;
                const resurrected = m.history[k]!.find((p) => isDeepStrictEqual(got, agentEntry(k, p)));
                ok =
                  check(
                    removed && resurrected === undefined && helper !== 'registry-login',
                    () =>
                      `after its secrets went, auths["${server}"] holds ${resurrected === undefined ? JSON.stringify(got) : `the password "${resurrected}" registry-login once wrote`}, credHelpers ${JSON.stringify(helper)}, reported removed: ${removed}`,
                  ) && ok;
                m.config[k] = got;
                m.helpers[k] = false;
              }
              m.foreignSince[k] = false;
              m.ledgerKnows[k] = false;
            } else {
              ok =
                check(
                  isDeepStrictEqual(got, m.config[k]),
                  () =>
                    `auths["${server}"], which registry-login no longer remembers, changed to ${JSON.stringify(got)}`,
                ) && ok;
            }
          }
          return ok;
        };

        for (const s of [...steps, { t: 'refresh' } as const]) {
          done.push('k' in s ? `${s.t} ${s.k}` : s.t);
          counts[s.t] = (counts[s.t] ?? 0) + 1;
          switch (s.t) {
            case 'new password': {
              const password = `pw-${s.k}-${++unique}-Qz`;
              m.passwords[s.k] = password;
              m.history[s.k]!.push(password);
              break;
            }
            case 'secrets removed':
              m.passwords[s.k] = undefined;
              break;
            case 'docker login': {
              const saved = { auth: Buffer.from(`someone:foreign-${++unique}`).toString('base64') };
              await dockerSaves(h, (auths) => (auths[KEYS[s.k]] = saved));
              m.config[s.k] = saved;
              m.foreignSince[s.k] = true;
              break;
            }
            case 'docker logout':
              await dockerSaves(h, (auths) => delete auths[KEYS[s.k]]);
              m.config[s.k] = undefined;
              m.foreignSince[s.k] = false;
              break;
            case 'ledger lost':
              await rm(path.join(h.home, '.local', 'state'), { recursive: true, force: true });
              m.ledgerKnows = [false, false];
              break;
            case 'ledger damaged': {
              const dir = stateDirOf(h.home);
              const ledgers = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('ledger-'));
              for (const name of ledgers) await writeFile(path.join(dir, name), '{"version": 1, "entr');
              m.ledgerKnows = [false, false];
              break;
            }
            case 'refresh': {
              // A lifecycle hook sees every secret; without --hook, a shell that sees none keeps the logins.
              const hook = BOTH.every((k) => !present(m, k));
              if (
                !(await refreshed(
                  await runAgent(['refresh', '--json', ...(hook ? ['--hook'] : [])], { ...h.env, ...envOf(m) }),
                ))
              )
                return;
              break;
            }
            case 'refresh, config write fails': {
              const before = await readFile(h.configPath);
              const hook = BOTH.every((k) => !present(m, k));
              const run = await runAgentWithConfigPinned(
                ['refresh', '--json', ...(hook ? ['--hook', '--strict'] : [])],
                { ...h.env, ...envOf(m) },
                h.configPath,
              );
              // With every login set, the model knows whether anything had to be written; removals it leaves open.
              const needsWrite = BOTH.some(
                (k) =>
                  present(m, k) && !usersOwn(m, k) && (!m.helpers[k] || !isDeepStrictEqual(m.config[k], wanted(m, k))),
              );
              const removing = BOTH.some((k) => !present(m, k) && m.ledgerKnows[k]);
              check(
                needsWrite
                  ? run.exitCode === 2
                  : removing
                    ? run.exitCode === 0 || run.exitCode === 2
                    : run.exitCode === 0,
                () =>
                  `refresh with a failing config write exited ${run.exitCode} (a write was ${needsWrite ? '' : 'not '}needed): ${run.stderr.trim().slice(0, 300)}`,
              );
              check(
                before.equals(await readFile(h.configPath)),
                () => 'a refresh whose config write failed changed the config',
              );
              // Nothing to write in the config: the refresh succeeded, ledger included.
              if (run.exitCode === 0) {
                if (!(await refreshed(run))) return;
                break;
              }
              check(
                /cannot write .*config\.json/.test(run.stderr),
                () => `the failed write was not reported: ${run.stderr.trim().slice(0, 300)}`,
              );
              // Its ledger was saved before the write: a key it did not know is now claimed (never the user's).
              for (const k of BOTH) {
                if (!present(m, k)) continue;
                if (!m.ledgerKnows[k]) m.foreignSince[k] = false;
                m.ledgerKnows[k] = true;
              }
              break;
            }
          }
        }
      }),
      { numRuns: TRIALS, seed, endOnFailure: true },
    );

    recordFigure({
      id: '9-convergence',
      property:
        'Convergence: any interleaving of refresh, changing and removed passwords, failed config writes, lost or damaged ledgers and a foreign writer (docker login/logout) ends with the current secrets, or the foreign entry reported kept',
      trials,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'fast-check seed (RL_SEED)': seed,
        'steps per trial': `1 to ${MAX_STEPS * 2}, then a refresh whose writes succeed`,
        'refreshes checked against the model': refreshesChecked,
        "logins checked as kept (the foreign writer's entry)": keptChecked,
        'removals checked (secrets gone)': removalsChecked,
        ...Object.fromEntries(Object.entries(counts).map(([t, n]) => [`steps: ${t}`, n])),
        'failed config writes made by':
          'config.json bind-mounted onto itself in a private mount namespace (rename fails with EBUSY)',
      },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
