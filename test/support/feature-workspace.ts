// A workspace for `devcontainer up` with the Feature staged offline, on a private dockerd, with a private registry
// that one robot account logs in to, its login in a --secrets-file (as a user passes Codespaces-style secrets to the
// devcontainer CLI), and an image with the official Node.js: the setup the Feature's `devcontainer up` tests share.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { type Dockerd, startDockerd, whyDockerdCannotRun } from './feature-dockerd.js';
import { defaultOfficialNode } from './feature-node-mirror.js';
import { type RunningRegistry, startRegistry } from './registry.js';
import { importRootfsImage, rootfsUser, whyRootTierCannotRun } from './feature-rootfs.js';
import { repoRoot, stageFeatureOffline } from './feature-stage.js';

export interface FeatureWorkspace {
  dockerd: Dockerd;
  registry: RunningRegistry;
  robot: { user: string; password: string };
  /** The id of the container the last `up` reported. */
  containerId(): string;
  /** Runs `devcontainer up`, with or without the secrets file; fails the test on a non-zero exit or a leak. */
  up(withSecrets: boolean): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Makes the workspace: `name` names the image and the robot, `prefix` the login's variables (PREFIX_CONTAINER_REGISTRY_*),
 * `featureOptions` the Feature's options in devcontainer.json. Throws, saying why, where the container tier cannot run.
 */
export async function startFeatureWorkspace(options: {
  name: string;
  prefix: string;
  featureOptions: Record<string, unknown>;
}): Promise<FeatureWorkspace> {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the Feature's container tier cannot run: ${why}`);
  const robot = { user: `${options.name}-robot`, password: `pw-${randomBytes(12).toString('hex')}` };
  const baseImage = `registry-login-test/bookworm-node-${options.name}:latest`;
  const project = await mkdtemp(path.join(os.tmpdir(), `registry-login-${options.name}-test-`));
  const workspace = path.join(project, 'workspace');
  await mkdir(path.join(workspace, '.devcontainer'), { recursive: true });
  await stageFeatureOffline(path.join(workspace, '.devcontainer', 'registry-login'));

  const [dockerd, registry] = await Promise.all([
    startDockerd(),
    startRegistry({ auth: { kind: 'htpasswd', users: [robot] } }),
  ]);
  const stop = async () => {
    // `devcontainer up` leaves its container running: stopping the daemon stops it.
    await dockerd.stop();
    await registry.stop();
    await rm(project, { recursive: true, force: true });
  };
  const secretsFile = path.join(project, 'secrets.json');
  try {
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
          features: { './registry-login': options.featureOptions },
        },
        null,
        2,
      ),
    );
    await writeFile(
      secretsFile,
      JSON.stringify({
        [`${options.prefix}_CONTAINER_REGISTRY_SERVER`]: registry.host,
        [`${options.prefix}_CONTAINER_REGISTRY_USER`]: robot.user,
        [`${options.prefix}_CONTAINER_REGISTRY_PASSWORD`]: robot.password,
      }),
      { mode: 0o600 },
    );
    await mkdir(path.join(project, 'tmp'));
  } catch (error) {
    await stop();
    throw error;
  }

  let containerId = '';
  return {
    dockerd,
    registry,
    robot,
    containerId: () => containerId,
    async up(withSecrets) {
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
        env: { DOCKER_HOST: dockerd.host, TMPDIR: path.join(project, 'tmp') },
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
    },
    stop,
  };
}
