// "secrets": "memory" through `devcontainer up` (real dockerd) with the secrets from --secrets-file: the remote user's
// docker config holds only the credHelpers line, no persistent file of the container holds the password in any
// encoding, the helper serves it from memory, and after `docker restart` (the memory gone) `up` makes it again.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Dockerd, startDockerd, whyDockerdCannotRun } from '../support/feature-dockerd.js';
import { requireCommand } from '../support/process.js';
import { defaultOfficialNode } from '../support/feature-node-mirror.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';
import { importRootfsImage, rootfsUser, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { repoRoot, stageFeatureOffline } from '../support/feature-stage.js';

const baseImage = 'registry-login-test/bookworm-node-memory:latest';
const robot = { user: 'memory-robot', password: `pw-${randomBytes(12).toString('hex')}` };

let dockerd: Dockerd | undefined;
let registry: RunningRegistry | undefined;
let project: string | undefined;
let workspace = '';
let secretsFile = '';
let containerId = '';

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the Feature's container tier cannot run: ${why}`);
  project = await mkdtemp(path.join(os.tmpdir(), 'registry-login-memory-test-'));
  workspace = path.join(project, 'workspace');
  await mkdir(path.join(workspace, '.devcontainer'), { recursive: true });
  await stageFeatureOffline(path.join(workspace, '.devcontainer', 'registry-login'));

  [dockerd, registry] = await Promise.all([
    startDockerd(),
    startRegistry({ auth: { kind: 'htpasswd', users: [robot] } }),
  ]);
  await importRootfsImage(dockerd.host, baseImage, [
    { source: await defaultOfficialNode(repoRoot), target: '/usr/local/bin/node' },
  ]);
  await writeFile(
    path.join(workspace, '.devcontainer', 'devcontainer.json'),
    JSON.stringify(
      {
        image: baseImage,
        remoteUser: rootfsUser,
        runArgs: ['--network=host'],
        features: { './registry-login': { secrets: 'memory' } },
      },
      null,
      2,
    ),
  );
  secretsFile = path.join(project, 'secrets.json');
  await writeFile(
    secretsFile,
    JSON.stringify({
      MEMORY_CONTAINER_REGISTRY_SERVER: registry.host,
      MEMORY_CONTAINER_REGISTRY_USER: robot.user,
      MEMORY_CONTAINER_REGISTRY_PASSWORD: robot.password,
    }),
    { mode: 0o600 },
  );
  await mkdir(path.join(project, 'tmp'));
}, 600_000);

afterAll(async () => {
  // `devcontainer up` leaves its container running: stopping the daemon stops it.
  await dockerd?.stop();
  await registry?.stop();
  if (project) await rm(project, { recursive: true, force: true });
}, 120_000);

/** Runs `devcontainer up` on the workspace, with or without the secrets file; returns its log. */
async function up(withSecrets: boolean): Promise<string> {
  const args = [
    '--no-install',
    'devcontainer',
    'up',
    '--workspace-folder',
    workspace,
    '--log-level',
    'info',
    '--log-format',
    'text',
  ];
  if (withSecrets) args.push('--secrets-file', secretsFile);
  const run = await execa('npx', args, {
    cwd: repoRoot,
    env: { DOCKER_HOST: dockerd!.host, TMPDIR: path.join(project!, 'tmp') },
    all: true,
    reject: false,
  });
  const output = run.all ?? '';
  expect(run.exitCode, `devcontainer up exited ${run.exitCode}:\n${output.slice(-6000)}`).toBe(0);
  const result = /\{"outcome":"success".*\}/.exec(run.stdout)?.[0];
  containerId = (JSON.parse(result ?? '{}') as { containerId?: string }).containerId ?? containerId;
  const leaks = output.split('\n').filter((line) => line.includes(robot.password));
  expect(leaks, 'lines that print the registry password').toEqual([]);
  return output;
}

async function inContainer(command: string, user = rootfsUser): Promise<string> {
  const docker = await requireCommand('docker', 'docker.io');
  const run = await execa(docker, ['-H', dockerd!.host, 'exec', '-u', user, containerId, 'sh', '-c', command]);
  return run.stdout;
}

const configPath = `/home/${rootfsUser}/.docker/config.json`;

async function expectInMemoryOnly(): Promise<void> {
  const key = registry!.host;
  expect(JSON.parse(await inContainer(`cat ${configPath}`))).toEqual({ credHelpers: { [key]: 'registry-login' } });
  const answer = JSON.parse(await inContainer(`echo ${key} | docker-credential-registry-login get`)) as {
    Username?: string;
    Secret?: string;
  };
  expect(answer).toMatchObject({ Username: robot.user, Secret: robot.password });
  const needles = [
    robot.password,
    Buffer.from(`${robot.user}:${robot.password}`).toString('base64'),
    Buffer.from(robot.password).toString('base64'),
  ];
  // grep exits 1 when no file matches: the container's persistent file system holds the password nowhere.
  const scan = await inContainer(
    `grep -rl ${needles.map((n) => `-e ${n}`).join(' ')} /home /root /tmp /var /etc /usr/local /opt; echo "grep=$?"`,
    'root',
  );
  expect(scan.trim()).toBe('grep=1');
}

it('keeps the secret in memory only, through create, restart and up again', async () => {
  if (!dockerd || !registry) throw new Error('setup did not complete');
  await up(true);
  await expectInMemoryOnly();
  const docker = await requireCommand('docker', 'docker.io');
  await execa(docker, ['-H', dockerd.host, 'restart', containerId]);
  // The restart took the memory with it; the attach hook of the next up makes it again from the secrets.
  await up(true);
  await expectInMemoryOnly();
}, 900_000);
