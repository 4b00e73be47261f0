// Filesystem faults: read-only directories, a config that is a directory, dangling and looping symlinks, a full disk.
// Mounts happen only inside a private mount namespace (`unshare -m --propagation private`) that dies with the command.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAgentHome, REPO } from '../support/agent.js';
import { requireCommand } from '../support/process.js';
import { TempDirs } from '../support/tmp.js';
import { FOREIGN, logins, stateDirOf } from './harness.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const REPEATS = size(10, 1);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Runs a bash script in a private mount namespace with env; the script's last line runs the CLI. */
async function inPrivateMounts(
  script: string,
  env: Record<string, string>,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const unshare = await requireCommand('unshare', 'util-linux');
  const r = await execa(unshare, ['-m', '--propagation', 'private', 'bash', '-euo', 'pipefail', '-c', script], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  // (bash may complain about the machine's bashrc; that is not registry-login's output)
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/^\/etc\/bash\.bashrc:.*\n?/gm, '') };
}

const CLI = path.join(REPO, 'bin', 'registry-login');

interface Case {
  name: string;
  /** Prepares the home; returns the file whose bytes must not change, if any. */
  setup(h: Awaited<ReturnType<typeof makeAgentHome>>, root: string): Promise<void>;
  /** Bash: mounts (inside the namespace), then `run` runs the CLI and records its exit code and the files' state. */
  script(h: Awaited<ReturnType<typeof makeAgentHome>>): string;
  expectExit: number;
  /** Words the error must hold (the file and what to do). */
  says: RegExp[];
}

// The script prints "exit=N", then sha256 and listing of the config directory as seen inside the namespace.
const run = (h: { dockerConfigDir: string; configPath: string }) =>
  `set +e; ${CLI} refresh >/tmp/rl-out.$$ 2>/tmp/rl-err.$$; code=$?; set -e; cat /tmp/rl-err.$$ >&2; rm -f /tmp/rl-out.$$ /tmp/rl-err.$$; echo "exit=$code"; ` +
  `(sha256sum ${h.configPath} 2>/dev/null || echo "none -") | cut -d' ' -f1 | sed 's/^/sha=/'; echo "files=$(ls -A ${h.dockerConfigDir} 2>/dev/null | tr '\\n' ' ')"`;

const fill = (dir: string) => `dd if=/dev/zero of=${dir}/.filler bs=1k 2>/dev/null || true; rm -f ${dir}/.filler.keep`;

const CASES: Case[] = [
  {
    name: 'read-only config directory (ro bind mount)',
    setup: async () => undefined,
    script: (h) =>
      `mount --bind ${h.dockerConfigDir} ${h.dockerConfigDir}; mount -o remount,bind,ro ${h.dockerConfigDir}; ${run(h)}`,
    expectExit: 2,
    says: [/read-only/, /changed nothing/, /writable/],
  },
  {
    name: 'read-only state directory (ledger cannot be written)',
    setup: async (h) => mkdir(stateDirOf(h.home), { recursive: true, mode: 0o700 }).then(() => undefined),
    script: (h) =>
      `mount --bind ${stateDirOf(h.home)} ${stateDirOf(h.home)}; mount -o remount,bind,ro ${stateDirOf(h.home)}; ${run(h)}`,
    expectExit: 2,
    says: [/read-only/, /writable/, /registry-login refresh/],
  },
  {
    name: 'read-only home without a docker directory',
    setup: async (h) => {
      const { rm } = await import('node:fs/promises');
      await rm(h.dockerConfigDir, { recursive: true });
    },
    script: (h) => `mount --bind ${h.home} ${h.home}; mount -o remount,bind,ro ${h.home}; ${run(h)}`,
    expectExit: 2,
    says: [/read-only/, /writable/],
  },
  {
    name: 'full disk under the config (tmpfs of 64 KiB, filled)',
    setup: async () => undefined,
    script: (h) =>
      `cp -a ${h.dockerConfigDir} /tmp/rl-save.$$; mount -t tmpfs -o size=64k,mode=700 tmpfs ${h.dockerConfigDir}; cp -a /tmp/rl-save.$$/. ${h.dockerConfigDir}/; rm -rf /tmp/rl-save.$$; ` +
      `${fill(h.dockerConfigDir)}; ${run(h)}`,
    expectExit: 2,
    says: [/no space left/, /Free some space/],
  },
  {
    name: 'full disk under the state directory (tmpfs, filled)',
    setup: async (h) => mkdir(stateDirOf(h.home), { recursive: true, mode: 0o700 }).then(() => undefined),
    script: (h) =>
      `mount -t tmpfs -o size=16k,mode=700 tmpfs ${stateDirOf(h.home)}; ${fill(stateDirOf(h.home))}; ${run(h)}`,
    expectExit: 2,
    says: [/no space left/, /Free some space/],
  },
  {
    name: 'config.json is a directory',
    setup: async (h) => {
      const { rm } = await import('node:fs/promises');
      await rm(h.configPath);
      await mkdir(h.configPath);
      await writeFile(path.join(h.configPath, 'keep'), 'x');
    },
    script: (h) => run(h),
    expectExit: 2,
    says: [/is a directory/, /move it away/],
  },
  {
    name: 'config.json is a loop of symbolic links',
    setup: async (h) => {
      const { rm } = await import('node:fs/promises');
      await rm(h.configPath);
      await symlink('loop-b.json', h.configPath);
      await symlink('config.json', path.join(h.dockerConfigDir, 'loop-b.json'));
    },
    script: (h) => run(h),
    expectExit: 2,
    says: [/loop of symbolic links/, /remove it/],
  },
  {
    name: 'DOCKER_CONFIG below a regular file',
    setup: async (h) => writeFile(path.join(h.home, 'not-a-dir'), 'x'),
    script: (h) => `export DOCKER_CONFIG=${h.home}/not-a-dir/docker; ${run(h)}`,
    expectExit: 2,
    says: [/not-a-dir/, /not a directory/, /registry-login refresh/],
  },
];

describe('filesystem faults', () => {
  it('refuses with exit 2, says which file and what to do, and leaves the config byte for byte', async () => {
    const failures = new Failures();
    let trials = 0;
    const perCase: Record<string, string> = {};
    const timings: Record<string, number> = {};
    const BOUND_MS = 5000; // a fault is reported at once, not after the lock's patience runs out
    for (const c of CASES) {
      for (let i = 0; i < REPEATS; i++) {
        trials++;
        const root = await tmp.make('rl-fs-');
        const h = await makeAgentHome(root, logins(3, `fs${i}`));
        await mkdir(h.dockerConfigDir, { recursive: true, mode: 0o700 });
        // A config near 40 KiB, so that on the 64 KiB disk the temp copy cannot fit.
        const padding = `,\n\t"x-padding": "${'p'.repeat(i % 2 === 0 ? 40_000 : 100)}"\n}\n`;
        const config = FOREIGN.replace(/\n}\n$/, padding);
        await writeFile(h.configPath, config, { mode: 0o600 });
        await c.setup(h, root);
        const started = performance.now();
        const r = await inPrivateMounts(c.script(h), h.env);
        timings[c.name] = Math.max(timings[c.name] ?? 0, performance.now() - started);
        const label = `${c.name} #${i}`;
        failures.check(
          timings[c.name]! < BOUND_MS,
          () => `${label}: took ${Math.round(timings[c.name]!)} ms to report the fault`,
        );
        const exit = /exit=(\d+)/.exec(r.stdout)?.[1];
        failures.check(
          exit === String(c.expectExit),
          () =>
            `${label}: exit ${exit ?? `? (script exit ${r.exitCode}: ${r.stderr.slice(0, 300)})`}, not ${c.expectExit}`,
        );
        for (const word of c.says)
          failures.check(
            word.test(r.stderr),
            () => `${label}: the error does not say ${word}: ${JSON.stringify(r.stderr.slice(0, 400))}`,
          );
        const shaInside = /sha=(\S+)/.exec(r.stdout)?.[1];
        const files = (/files=(.*)/.exec(r.stdout)?.[1] ?? '')
          .trim()
          .split(/\s+/)
          .filter((f) => f !== '' && f !== '.filler');
        if (c.name.includes('directory') && c.name.startsWith('config.json')) {
          failures.check(
            (await readFile(path.join(h.configPath, 'keep'), 'utf8')) === 'x',
            () => `${label}: the directory changed`,
          );
        } else if (c.name.startsWith('read-only home')) {
          failures.check(shaInside === 'none', () => `${label}: a config appeared`);
        } else if (c.name.includes('loop')) {
          failures.check((await readlink(h.configPath)) === 'loop-b.json', () => `${label}: the symlink changed`);
        } else {
          failures.check(shaInside === sha(config), () => `${label}: the config changed (inside the namespace)`);
          failures.check(
            (await readFile(h.configPath, 'utf8')) === config || c.name.startsWith('full disk under the config'),
            () => `${label}: the config changed`,
          );
          failures.check(
            files.every((f) => f === 'config.json'),
            () => `${label}: left beside the config: ${files.join(' ')}`,
          );
        }
        perCase[c.name] = r.stderr.trim().split('\n')[0]!.replaceAll(root, '<tmp>').slice(0, 220);
      }
    }

    // A dangling symlink is followed (as docker does): the target is created, the link kept.
    for (let i = 0; i < REPEATS; i++) {
      trials++;
      const root = await tmp.make('rl-fs-dangling-');
      const h = await makeAgentHome(root, logins(2, 'dangling'));
      await mkdir(h.dockerConfigDir, { recursive: true, mode: 0o700 });
      await mkdir(path.join(root, 'dotfiles'), { mode: 0o700 });
      await symlink('../../dotfiles/docker.json', h.configPath);
      const r = await inPrivateMounts(run(h), h.env);
      failures.check(/exit=0/.test(r.stdout), () => `dangling symlink: ${r.stdout} ${r.stderr.slice(0, 300)}`);
      failures.check(
        (await readlink(h.configPath)) === '../../dotfiles/docker.json',
        () => 'dangling symlink: the link was replaced',
      );
      const target = JSON.parse(await readFile(path.join(root, 'dotfiles', 'docker.json'), 'utf8')) as {
        auths: object;
      };
      failures.check(
        Object.keys(target.auths).length === 2,
        () => 'dangling symlink: the target does not hold the logins',
      );
    }

    recordFigure({
      id: '6-fs-faults',
      property:
        'Filesystem faults (private mount namespaces): read-only directories, full disks, config is a directory, symlink loop, path through a file, dangling symlink',
      trials,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'repeats per fault': REPEATS,
        ...Object.fromEntries(Object.entries(perCase).map(([k, v]) => [`${k}: says`, v])),
        ...Object.fromEntries(Object.entries(timings).map(([k, v]) => [`${k}: slowest run (ms)`, Math.round(v)])),
      },
    });
    expect(failures.list).toEqual([]);
  }, 600_000);
});
