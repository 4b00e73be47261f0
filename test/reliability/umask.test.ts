// Under any umask, every directory a run creates is 0700 and every file it saves is readable and writable by its user:
// a write-protecting umask (0222) once left ~/.docker and ~/.cache 0500, the run failed and left them so.
import { spawn } from 'node:child_process';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeAgentHome, runAgent, runHelper, triple } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { TempDirs } from '../support/tmp.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
let standIn: EcrStandIn;
const KEYS = { accessKeyId: 'AKIAUMASKSWEEP000001', secretAccessKey: 'umask-sweep-secret-0000000000000000000000' };
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

beforeAll(async () => {
  standIn = await startEcrStandIn({ keys: [KEYS] });
});
afterAll(async () => {
  await standIn?.close();
  await tmp.cleanup();
});

// Each bit pattern that matters for the owner (none, write, read, execute, all) and for group and others.
const UMASKS = [
  0o000, 0o002, 0o007, 0o022, 0o027, 0o077, 0o177, 0o222, 0o277, 0o377, 0o477, 0o577, 0o700, 0o707, 0o777,
];
// Where the home stands before the run: nothing of ours yet, or the parents there and ours missing.
const STARTS = size(2, 1);

async function refreshUnder(umask: number, env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'sh',
      ['-c', `umask ${umask.toString(8).padStart(4, '0')} && exec "$0" refresh`, path.join(BIN, 'registry-login')],
      {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, err }));
  });
}

// Every directory under root with a mode other than 0700, and every file registry-login saved that its user cannot
// read and write, compiled code included.
async function unusable(root: string, made: Set<string>): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(root)) {
    const file = path.join(root, name);
    const info = await lstat(file);
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    if (info.isDirectory()) {
      if (!made.has(file) && (info.mode & 0o777) !== 0o700) found.push(`${file} (directory, ${mode})`);
      found.push(...(await unusable(file, made)));
    } else if ((info.mode & 0o600) !== 0o600) found.push(`${file} (file, ${mode})`);
  }
  return found;
}

describe('umask sweep', () => {
  it(`leaves no unusable directory or file under ${UMASKS.length} umasks`, async () => {
    const failures = new Failures();
    let runs = 0;
    for (const umask of UMASKS) {
      for (let start = 0; start < STARTS; start++) {
        const label = `umask ${umask.toString(8).padStart(4, '0')}${start ? ' (parents there)' : ''}`;
        const h = await makeAgentHome(await tmp.make('rl-umask-'), {
          ...triple('STATIC', 'registry.example.com', 'alice', 'pw-umask-1'),
          ...triple('AWS', ECR, KEYS.accessKeyId, KEYS.secretAccessKey),
          AWS_ENDPOINT_URL_ECR: standIn.url,
          AWS_REGION: 'eu-west-1',
        });
        // Directories the test made itself, whatever their mode.
        const made = new Set<string>();
        if (start) {
          for (const dir of ['.local', '.cache']) {
            await mkdir(path.join(h.home, dir), { mode: 0o755 });
            made.add(path.join(h.home, dir));
          }
        }
        const first = await refreshUnder(umask, h.env);
        const second = await refreshUnder(umask, { ...h.env, STATIC_CONTAINER_REGISTRY_PASSWORD: 'pw-umask-2' });
        runs += 2;
        failures.check(first.code === 0, () => `${label}: the first refresh exited ${first.code}: ${first.err.trim()}`);
        failures.check(
          second.code === 0,
          () => `${label}: the second refresh exited ${second.code}: ${second.err.trim()}`,
        );
        const bad = await unusable(h.home, made);
        failures.check(bad.length === 0, () => `${label}: ${bad.join(', ')}`);
        // And the user's own tools still read what was saved, under an ordinary umask.
        const get = await runHelper('get', 'registry.example.com', h.env);
        failures.check(
          get.exitCode === 0 && get.stdout.includes('pw-umask-2'),
          () => `${label}: the helper's get answered ${get.exitCode}: ${get.stderr.trim()}`,
        );
        const status = await runAgent(['status'], h.env);
        failures.check(
          status.exitCode === 0,
          () => `${label}: status exited ${status.exitCode}: ${status.stderr.trim()}`,
        );
      }
    }
    recordFigure({
      id: '11-umask',
      property: `Umask sweep: refresh (a static and an ECR login) twice under each of ${UMASKS.length} umasks from 0000 to 0777, from an empty home and from one with ~/.local and ~/.cache; every directory created 0700, every saved file usable`,
      trials: UMASKS.length * STARTS,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        umasks: UMASKS.map((u) => u.toString(8).padStart(4, '0')).join(' '),
        'refresh runs': runs,
        'unusable directories or files': failures.list.filter((f) => f.includes('(directory') || f.includes('(file'))
          .length,
      },
    });
    expect(failures.list).toEqual([]);
  }, 600_000);
});
