// "secrets": "memory" through `devcontainer up` (real dockerd) with the secrets from --secrets-file: the remote user's
// docker config holds only the credHelpers line, no persistent file of the container holds the password in any
// encoding, the helper serves it from memory, and after `docker restart` (the memory gone) `up` makes it again.
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FeatureWorkspace, startFeatureWorkspace } from '../support/feature-workspace.js';
import { requireCommand } from '../support/process.js';
import { rootfsUser } from '../support/feature-rootfs.js';

let ws: FeatureWorkspace | undefined;

beforeAll(async () => {
  ws = await startFeatureWorkspace({ name: 'memory', prefix: 'MEMORY', featureOptions: { secrets: 'memory' } });
}, 600_000);

afterAll(async () => {
  await ws?.stop();
}, 120_000);

const up = (withSecrets: boolean) => ws!.up(withSecrets);

async function inContainer(command: string, user = rootfsUser): Promise<string> {
  const docker = await requireCommand('docker', 'docker.io');
  const run = await execa(docker, ['-H', ws!.dockerd.host, 'exec', '-u', user, ws!.containerId(), 'sh', '-c', command]);
  return run.stdout;
}

const configPath = `/home/${rootfsUser}/.docker/config.json`;

async function expectInMemoryOnly(): Promise<void> {
  const { registry, robot } = ws!;
  const key = registry.host;
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
  if (!ws) throw new Error('setup did not complete');
  await up(true);
  await expectInMemoryOnly();
  const docker = await requireCommand('docker', 'docker.io');
  await execa(docker, ['-H', ws.dockerd.host, 'restart', ws.containerId()]);
  // The restart took the memory with it; the attach hook of the next up makes it again from the secrets.
  await up(true);
  await expectInMemoryOnly();
}, 900_000);
