// The whole Feature through `devcontainer up`, on an image without Node.js: the image build downloads
// the private Node.js from a mirror on the host's loopback, and the remote user is logged in with it.
//
// The image build reaches loopback servers here only through the host network: a Dockerfile-based
// config with "build": { "options": ["--network=host"] } and `devcontainer up --buildkit never`
// (verified by these tests: the CLI passes the options to the build that runs the Feature's install.sh,
// and without them that build reaches neither the mirror nor the Debian package mirror).
// The base image is debootstrapped Debian bookworm (amd64) without Node.js, curl or xz, so install.sh
// also installs curl and xz-utils with apt-get from the machine's Debian mirror during the build.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Dockerd, startDockerd, whyDockerdCannotRun } from '../support/feature-dockerd.js';
import {
  packNodeArchive,
  publishNodeRelease,
  type RunningMirror,
  startNodeMirror,
} from '../support/feature-node-mirror.js';
import { importRootfsImage, rootfsUser, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { repoRoot, stageFeature } from '../support/feature-stage.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';

const baseImage = 'registry-login-test/bookworm-without-node:latest';
const robot = { user: 'private-node-robot', password: `pw-${randomBytes(12).toString('hex')}` };
/** The machine's own Node.js, published on the mirror under its own version. */
const testVersion = process.versions.node;

let dockerd: Dockerd | undefined;
let registry: RunningRegistry | undefined;
let mirror: RunningMirror | undefined;
let project: string | undefined;
let workspace: string;
let offlineWorkspace: string;

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the Feature's container tier cannot run: ${why}`);

  project = await mkdtemp(path.join(os.tmpdir(), 'registry-login-private-node-'));
  workspace = path.join(project, 'workspace');
  const devcontainerDir = path.join(workspace, '.devcontainer');
  const featureDir = path.join(devcontainerDir, 'registry-login');
  await mkdir(devcontainerDir, { recursive: true });
  const stage = await stageFeature();
  await cp(stage, featureDir, { recursive: true });
  await rm(path.dirname(stage), { recursive: true, force: true });
  // Offline, the CLI cannot fetch the metadata of the Features named in installsAfter.
  const metadata = JSON.parse(await readFile(path.join(featureDir, 'devcontainer-feature.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete metadata.installsAfter;
  await writeFile(path.join(featureDir, 'devcontainer-feature.json'), JSON.stringify(metadata, null, 2));

  const mirrorRoot = path.join(project, 'mirror');
  await mkdir(mirrorRoot);
  await publishNodeRelease(mirrorRoot, [await packNodeArchive(mirrorRoot, testVersion, process.execPath)]);
  [dockerd, registry, mirror] = await Promise.all([
    startDockerd(),
    startRegistry({ auth: { kind: 'htpasswd', users: [robot] } }),
    startNodeMirror(mirrorRoot),
  ]);
  await importRootfsImage(dockerd.host, baseImage, []);

  await writeFile(path.join(devcontainerDir, 'Dockerfile'), `FROM ${baseImage}\n`);
  const config = {
    build: { dockerfile: 'Dockerfile', options: ['--network=host'] },
    features: { './registry-login': { nodeMirror: mirror.url, nodeVersion: testVersion } },
    remoteUser: rootfsUser,
    runArgs: ['--network=host'],
    containerEnv: { PRIVNODE_CONTAINER_REGISTRY_SERVER: registry.host },
    remoteEnv: { PRIVNODE_CONTAINER_REGISTRY_USER: robot.user, PRIVNODE_CONTAINER_REGISTRY_PASSWORD: robot.password },
  };
  await writeFile(path.join(devcontainerDir, 'devcontainer.json'), JSON.stringify(config, null, 2));

  // The same project without build.options: its image build has no network at all here.
  offlineWorkspace = path.join(project, 'offline-workspace');
  await cp(workspace, offlineWorkspace, { recursive: true });
  await writeFile(
    path.join(offlineWorkspace, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({ ...config, build: { dockerfile: 'Dockerfile' } }, null, 2),
  );
}, 600_000);

afterAll(async () => {
  await mirror?.stop();
  await registry?.stop();
  // Stopping the daemon stops the dev container.
  await dockerd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
}, 120_000);

const devcontainer = (args: string[]) =>
  execa('npx', ['--no-install', 'devcontainer', ...args], {
    cwd: repoRoot,
    env: { DOCKER_HOST: dockerd?.host ?? '', TMPDIR: project ?? '' },
    all: true,
    reject: false,
  });

it('devcontainer up on an image without Node.js builds with a private Node.js from the mirror, and the remote user is logged in; node stays off PATH', async () => {
  if (!dockerd || !registry || !mirror || !project) throw new Error('setup did not complete');
  const up = await devcontainer(['up', '--workspace-folder', workspace, '--buildkit', 'never', '--log-level', 'info']);
  const upOutput = up.all ?? '';
  const summary = `devcontainer up exited ${up.exitCode}; output (last 6000 characters):\n${upOutput.slice(-6000)}`;
  expect(up.exitCode, summary).toBe(0);
  expect(upOutput, summary).toContain(
    `downloading a private Node.js ${testVersion} for the agent from ${mirror.url}v${testVersion}/node-v${testVersion}-linux-x64.tar.xz`,
  );
  expect(mirror.requests, summary).toContain(`/dist/v${testVersion}/node-v${testVersion}-linux-x64.tar.xz`);
  // The postCreateCommand hook logged the remote user in with the launchers pinned to that Node.js.
  expect(upOutput, summary).toContain(registry.host);

  const inside = await devcontainer([
    'exec',
    '--workspace-folder',
    workspace,
    'sh',
    '-c',
    'id -un; command -v node || echo "no node on PATH"; grep -h pinned= /usr/local/bin/registry-login; registry-login check',
  ]);
  const insideOutput = inside.all ?? '';
  expect(inside.exitCode, insideOutput).toBe(0);
  expect(insideOutput).toContain(rootfsUser);
  expect(insideOutput).toContain('no node on PATH');
  expect(insideOutput).toContain("pinned='/usr/local/share/registry-login-node/bin/node'");
  expect(insideOutput).toContain(registry.host);

  const leaks = `${upOutput}\n${insideOutput}`
    .split('\n')
    .filter((line) => line.includes(robot.password) && !line.includes('PRIVNODE_CONTAINER_REGISTRY_PASSWORD'));
  expect(leaks, 'lines that print the registry password').toEqual([]);
}, 900_000);

it('without the host network the build cannot download: it stops naming the packages to add and the ways out', async () => {
  if (!dockerd || !mirror || !offlineWorkspace) throw new Error('setup did not complete');
  // --build-no-cache: the Feature's layer from the test above would otherwise be reused.
  const up = await devcontainer([
    'up',
    '--workspace-folder',
    offlineWorkspace,
    '--buildkit',
    'never',
    '--build-no-cache',
    '--log-level',
    'info',
  ]);
  const output = up.all ?? '';
  const summary = `devcontainer up exited ${up.exitCode}; output (last 6000 characters):\n${output.slice(-6000)}`;
  expect(up.exitCode, summary).not.toBe(0);
  expect(output, summary).toContain('RUN apt-get update && apt-get install -y --no-install-recommends curl xz-utils');
  expect(output, summary).toContain('"nodeMirror" option');
  expect(output, summary).toContain('"ghcr.io/devcontainers/features/node:1": { "version": "lts" }');
}, 900_000);
