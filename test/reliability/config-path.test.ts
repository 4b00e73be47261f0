// Property: whatever the config path resolves to, the agent edits exactly the file docker reads, or refuses (exit 2)
// and changes nothing. Random chains of absolute and relative symlinks for ~/.docker and config.json (to regular files,
// dangling, into missing directories, to directories, FIFOs and devices made here, loops) are built twice: the real
// docker CLI logs in on one copy (the oracle), registry-login refreshes the other, and the kernel reads the result.
import { execa } from 'execa';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
} from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, NODE_DIR, triple } from '../support/agent.js';
import { dockerCli } from '../support/docker-cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
let registry: RunningRegistry;
beforeAll(async () => {
  registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'bob', password: 'pw-docker-1' }] } });
});
afterAll(async () => {
  await registry?.stop();
  await tmp.cleanup();
});

const TRIALS = size(400, 30);
const FOREIGN = '{\n\t"auths": {\n\t\t"foreign.example": {"auth": "Zm9yZWlnbjp4"}\n\t}\n}\n';
const AGENT_KEY = 'reg.example.com';
type Final = 'regular' | 'absent' | 'dangling' | 'dangling-into-missing-dir' | 'directory' | 'fifo' | 'device' | 'loop';
type DockerDir =
  'real' | 'missing' | 'relative-link' | 'relative-link-via-alias' | 'absolute-link' | 'dangling-link' | 'loop';

interface Scenario {
  dockerDir: DockerDir;
  final: Final;
  /** Where each link of the config.json chain lives (by index into PLACES) and whether its text is absolute. */
  hops: { place: number; absolute: boolean }[];
  /** Where the final file of a chain lives. */
  finalPlace: number;
}

// Real directories under the trial root a link or the final file may live in ('' is the config's own directory).
const PLACES = ['', 'home/dotfiles/shared', 'd1', 'd2/sub', 'home/dotfiles/docker'];

function randomScenario(random: () => number): Scenario {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const dockerDir = pick<DockerDir>([
    'real',
    'missing',
    'relative-link',
    'relative-link',
    'relative-link-via-alias',
    'absolute-link',
    'dangling-link',
    'loop',
  ]);
  // Without a real ~/.docker there is no config.json to link: only the directory's own fate is tried.
  if (dockerDir === 'missing' || dockerDir === 'dangling-link' || dockerDir === 'loop')
    return { dockerDir, final: 'absent', hops: [], finalPlace: 0 };
  const final = pick<Final>([
    'regular',
    'regular',
    'absent',
    'dangling',
    'dangling',
    'dangling-into-missing-dir',
    'directory',
    'fifo',
    'device',
    'loop',
  ]);
  const links =
    final === 'absent'
      ? 0
      : final === 'regular' || final === 'directory' || final === 'fifo' || final === 'device'
        ? Math.floor(random() * 4)
        : 1 + Math.floor(random() * 3);
  const hops = Array.from({ length: links }, () => ({
    place: Math.floor(random() * PLACES.length),
    absolute: random() < 0.4,
  }));
  return { dockerDir, final, hops, finalPlace: Math.floor(random() * PLACES.length) };
}

/** Builds a scenario under root; returns the home. Deterministic, so two roots hold the same tree. */
async function build(root: string, s: Scenario): Promise<string> {
  const home = path.join(root, 'home');
  for (const dir of ['home/dotfiles/docker', 'home/dotfiles/shared', 'd1', 'd2/sub'])
    await mkdir(path.join(root, dir), { recursive: true });
  const dotDocker = path.join(home, '.docker');
  // The real directory config.json lives in (undefined when ~/.docker leads nowhere).
  let configDir: string | undefined;
  switch (s.dockerDir) {
    case 'real':
      configDir = dotDocker;
      await mkdir(configDir);
      break;
    case 'missing':
      configDir = dotDocker; // created by whoever writes first
      break;
    case 'relative-link':
      configDir = path.join(home, 'dotfiles', 'docker');
      await symlink('dotfiles/docker', dotDocker);
      break;
    case 'relative-link-via-alias':
      configDir = path.join(home, 'dotfiles', 'docker');
      await symlink('dotfiles', path.join(home, 'alias'));
      await symlink('alias/docker', dotDocker);
      break;
    case 'absolute-link':
      configDir = path.join(root, 'd1');
      await symlink(configDir, dotDocker);
      break;
    case 'dangling-link':
      await symlink('nowhere/docker', dotDocker);
      break;
    case 'loop':
      await symlink('.docker-b', dotDocker);
      await symlink('.docker', path.join(home, '.docker-b'));
      break;
  }
  if (configDir === undefined || s.final === 'absent') return home;
  const placeOf = (i: number) => (PLACES[i] === '' ? configDir : path.join(root, PLACES[i]!));
  // The chain: config.json -> link1 -> ... -> final. Each link's text is absolute, or relative to its real directory.
  const names = s.hops.map((_, i) =>
    i === 0 ? path.join(configDir, 'config.json') : path.join(placeOf(s.hops[i]!.place), `link${i}`),
  );
  let finalPath = path.join(placeOf(s.finalPlace), 'final.json');
  if (s.final === 'dangling-into-missing-dir')
    finalPath = path.join(placeOf(s.finalPlace), 'missing-dir', 'final.json');
  if (names.length === 0) finalPath = path.join(configDir, 'config.json');
  if (names.includes(finalPath)) finalPath = path.join(path.dirname(finalPath), 'final2.json');
  await mkdir(path.dirname(names[0] ?? finalPath), { recursive: true });
  for (let i = 0; i < names.length; i++) {
    const target = s.final === 'loop' && i === names.length - 1 ? names[0]! : (names[i + 1] ?? finalPath);
    const text = s.hops[i]!.absolute ? target : path.relative(path.dirname(names[i]!), target) || '.';
    await symlink(text, names[i]!);
  }
  switch (s.final) {
    case 'regular':
      await writeFile(finalPath, FOREIGN, { mode: 0o600 });
      break;
    case 'directory':
      await mkdir(finalPath);
      break;
    case 'fifo':
      await execa('mkfifo', [finalPath]);
      break;
    case 'device':
      // A device of our own, never the system's: the tests run as root.
      await execa('mknod', ['-m', '666', finalPath, 'c', '1', '3']);
      break;
  }
  return home;
}

/** Every entry under root (not following links): type, link text or file content; the agent's own state excluded. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      if (rel === 'home/.cache' || rel === 'home/.local') continue;
      const info = lstatSync(full);
      if (info.isSymbolicLink()) out.set(rel, `link ${readlinkSync(full)}`);
      else if (info.isDirectory()) {
        out.set(rel, 'dir');
        walk(full);
      } else if (info.isFile()) out.set(rel, `file ${readFileSync(full, 'utf8')}`);
      else out.set(rel, `special ${info.mode.toString(8)} ${info.rdev}`);
    }
  };
  walk(root);
  return out;
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)).sort();
}

/** What the kernel gives a reader of path: the text of a regular file, or why not (never blocking on a FIFO). */
function kernelRead(file: string): { text?: string; real?: string; problem?: string } {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return { problem: 'not a regular file' };
    return { text: readFileSync(fd, 'utf8'), real: realpathSync(file) };
  } catch (error) {
    return { problem: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function describeScenario(s: Scenario): string {
  return `~/.docker ${s.dockerDir}, config.json ${s.final} via [${s.hops.map((h) => `${PLACES[h.place] || '.'}${h.absolute ? ' (abs)' : ''}`).join(' -> ')}] to ${PLACES[s.finalPlace] || '.'}`;
}

describe('config path resolution', () => {
  it(`edits exactly the file docker reads, or refuses and changes nothing, over ${TRIALS} random symlink layouts`, async () => {
    const docker = await dockerCli();
    let seed = Number(process.env.RL_SEED ?? Date.now() % 2 ** 31);
    const firstSeed = seed;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const failures = new Failures();
    const outcomes: Record<string, number> = {};
    const count = (what: string) => (outcomes[what] = (outcomes[what] ?? 0) + 1);
    for (let trial = 0; trial < TRIALS; trial++) {
      const s = randomScenario(random);
      const label = `trial ${trial} (${describeScenario(s)})`;
      const special = s.final === 'fifo' || s.final === 'device' || s.final === 'directory' || s.final === 'loop';
      // The oracle: docker login on a twin tree (not for FIFOs, where docker 28 blocks for ever, nor devices, which it
      // replaces).
      let dockerWrote: string | undefined;
      if (s.final !== 'fifo' && s.final !== 'device') {
        const twin = await tmp.make('rl-path-docker-');
        const twinHome = await build(twin, s);
        const before = snapshot(twin);
        const login = await execa(docker.path, ['login', registry.host, '-u', 'bob', '--password-stdin'], {
          input: 'pw-docker-1',
          env: { HOME: twinHome, PATH: '/nonexistent', DOCKER_CLI_HINTS: 'false' },
          extendEnv: false,
          reject: false,
          timeout: 20_000,
        });
        const read = kernelRead(path.join(twinHome, '.docker', 'config.json'));
        const readsBack =
          read.text !== undefined &&
          (JSON.parse(read.text) as { auths?: Record<string, unknown> }).auths?.[registry.host] !== undefined;
        const files = changed(before, snapshot(twin)).filter(
          (k) => before.get(k) !== undefined || snapshot(twin).get(k)?.startsWith('file'),
        );
        if (login.exitCode === 0 && readsBack && s.final !== 'loop') dockerWrote = path.relative(twin, read.real!);
        if (login.exitCode !== 0) count(`docker: failed (~/.docker ${s.dockerDir}, config.json ${s.final})`);
        else if (!readsBack) count(`docker: saved a file it does not read back (${files.join(', ')})`);
        else
          count(
            s.final === 'loop' ? 'docker: replaced a link of the loop with a file' : 'docker: saved the file it reads',
          );
      }

      const root = await tmp.make('rl-path-agent-');
      const home = await build(root, s);
      const before = snapshot(root);
      const run = await execa(path.join(BIN, 'registry-login'), ['refresh'], {
        env: {
          PATH: `${BIN}:${NODE_DIR}:/usr/bin:/bin`,
          HOME: home,
          LANG: 'C.UTF-8',
          ...triple('A', AGENT_KEY, 'alice', 'pw-agent-1'),
        },
        extendEnv: false,
        reject: false,
        timeout: 20_000,
      });
      const after = snapshot(root);
      const diff = changed(before, after);
      const read = kernelRead(path.join(home, '.docker', 'config.json'));
      const agentReadsBack =
        read.text !== undefined &&
        (JSON.parse(read.text) as { auths?: Record<string, unknown> }).auths?.[AGENT_KEY] !== undefined;
      const leftovers = [...after.keys()].filter((k) => k.endsWith('.lock') || k.endsWith('.tmp'));
      failures.check(leftovers.length === 0, () => `${label}: left ${leftovers.join(', ')}`);
      if (run.exitCode === 0) {
        count('agent: wrote');
        const wrote = read.real === undefined ? undefined : path.relative(root, read.real);
        failures.check(!special, () => `${label}: wrote although the config leads to a ${s.final}`);
        failures.check(
          agentReadsBack,
          () =>
            `${label}: exit 0, but the file the kernel opens for ~/.docker/config.json (${read.real ?? read.problem}) does not hold the login`,
        );
        failures.check(
          dockerWrote === undefined || wrote === dockerWrote,
          () => `${label}: wrote ${wrote}, docker writes and reads ${dockerWrote}`,
        );
        const otherFiles = diff.filter((k) => k !== wrote && after.get(k) !== 'dir');
        failures.check(otherFiles.length === 0, () => `${label}: also changed ${otherFiles.join(', ')}`);
        if (s.final === 'regular')
          failures.check(
            read.text?.includes('"foreign.example": {"auth": "Zm9yZWlnbjp4"}') === true,
            () => `${label}: the foreign entry was not kept byte for byte`,
          );
      } else {
        count('agent: refused');
        failures.check(
          run.exitCode === 2,
          () => `${label}: exited ${run.exitCode} (want 0 or 2): ${run.stderr.trim()}`,
        );
        failures.check(diff.length === 0, () => `${label}: refused but changed ${diff.join(', ')}`);
        // On a loop docker 28 replaces the first link with a file; refusing keeps the user's links (a deliberate
        // difference).
        failures.check(
          special || dockerWrote === undefined,
          () => `${label}: refused where docker saves and reads ${dockerWrote}: ${run.stderr.trim()}`,
        );
        failures.check(
          /changed nothing|then run/.test(run.stderr),
          () => `${label}: the refusal does not say what to do: ${run.stderr.trim()}`,
        );
      }
      if (special) count(`${s.final}: ${run.exitCode === 2 ? 'refused' : 'NOT refused'}`);
      await tmp.cleanup();
    }
    recordFigure({
      id: '9-config-path',
      property:
        'Config path: random chains of absolute and relative symlinks for ~/.docker and config.json (dangling, into missing directories, to directories, FIFOs, devices, loops), compared with the real docker CLI',
      trials: TRIALS,
      failures: failures.count,
      examples: failures.examples(),
      facts: { 'seed (RL_SEED)': firstSeed, ...Object.fromEntries(Object.entries(outcomes).sort()) },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
