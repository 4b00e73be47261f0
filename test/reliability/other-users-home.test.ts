// Root with another user's HOME (`sudo -E`): whatever mix of commands root runs there (refresh with a static and an ECR
// login, the helper's store and get as docker login and pull call them, status, logout), the home holds nothing that
// is not the user's afterwards, and the user's own refresh still works.
import { execa } from 'execa';
import { chmod, chown, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readableInstall, triple } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { type SystemUser, addSystemUser } from '../support/system-user.js';
import { TempDirs } from '../support/tmp.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
const NAME = `rlrel${process.pid}`;
const TRIALS = size(20, 2);
const KEYS = { accessKeyId: 'AKIAOTHERUSERSHOME01', secretAccessKey: 'other-users-home-secret-0000000000000000' };
let user: SystemUser;
let install: string;
let standIn: EcrStandIn;

beforeAll(async () => {
  user = await addSystemUser(NAME);
  install = await tmp.make('rl-rel-home-install-');
  await readableInstall(install);
  standIn = await startEcrStandIn({ keys: [KEYS] });
});
afterAll(async () => {
  await standIn?.close();
  await tmp.cleanup();
  await user?.remove();
});

async function notTheUsers(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(root)) {
    const file = path.join(root, name);
    const info = await lstat(file);
    if (info.uid !== user.uid || info.gid !== user.gid) found.push(`${file} (${info.uid}:${info.gid})`);
    if (info.isDirectory()) found.push(...(await notTheUsers(file)));
  }
  return found;
}

const STEPS = ['refresh', 'refresh --hook', 'store', 'get', 'status', 'logout'] as const;

describe("root with another user's HOME", () => {
  it(`leaves no root-owned file in the user's home over ${TRIALS} random mixes of root's commands`, async () => {
    const failures = new Failures();
    const counts: Record<string, number> = {};
    let rootOwned = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const outside = await tmp.make('rl-rel-home-');
      await chmod(outside, 0o755);
      const home = path.join(outside, 'home');
      await mkdir(home, { mode: 0o700 });
      await chown(home, user.uid, user.gid);
      const env = {
        PATH: `${install}/bin:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        LANG: 'C.UTF-8',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_ECR: standIn.url,
        AWS_REGION: 'eu-west-1',
        ...triple('A', 'registry.example.com', 'alice', `pw-${trial}`),
        ...triple('AWS', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', KEYS.accessKeyId, KEYS.secretAccessKey),
      };
      const steps = ['refresh', ...Array.from({ length: 4 }, () => STEPS[Math.floor(Math.random() * STEPS.length)]!)];
      for (const step of steps) {
        counts[step] = (counts[step] ?? 0) + 1;
        const [name, args, input] =
          step === 'store'
            ? [
                'docker-credential-registry-login',
                ['store'],
                '{"ServerURL":"typed.example","Username":"u","Secret":"s"}',
              ]
            : step === 'get'
              ? ['docker-credential-registry-login', ['get'], 'registry.example.com']
              : ['registry-login', step.split(' '), undefined];
        const r = await execa(path.join(install, 'bin', name), args, {
          env,
          extendEnv: false,
          reject: false,
          ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
        });
        // get and status may answer "not found" / "not effective" (1) after a logout; a refused file is 2.
        const ok = r.exitCode === 0 || (r.exitCode === 1 && (step === 'get' || step === 'status'));
        failures.check(
          ok && !/permission denied/i.test(r.stderr),
          () => `trial ${trial}: root's ${step} exited ${r.exitCode}: ${r.stderr.trim()}`,
        );
      }
      const bad = await notTheUsers(home);
      rootOwned += bad.length;
      failures.check(bad.length === 0, () => `trial ${trial} (${steps.join(', ')}): not the user's: ${bad.join(', ')}`);
      const own = await execa(
        'setpriv',
        [
          `--reuid=${user.uid}`,
          `--regid=${user.gid}`,
          '--init-groups',
          path.join(install, 'bin', 'registry-login'),
          'refresh',
        ],
        { env: { ...env, A_CONTAINER_REGISTRY_PASSWORD: 'pw-user' }, extendEnv: false, reject: false },
      );
      failures.check(
        own.exitCode === 0,
        () => `trial ${trial}: the user's own refresh exited ${own.exitCode}: ${own.stderr.trim()}`,
      );
    }
    recordFigure({
      id: '12-other-users-home',
      property:
        "Root with another user's HOME (sudo -E): random mixes of refresh (static and ECR), refresh --hook, the helper's store and get, status and logout run by root, then the user's own refresh",
      trials: TRIALS,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'root-owned (or other-group) files left in the home': rootOwned,
        ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [`root ran ${k}`, v])),
      },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
