// The whole Feature through `devcontainer up`, on an image whose Node.js is 20 (too old): the image build
// downloads the private Node.js from a mirror on the host's loopback, and the remote user is logged in with
// it; on an image with a Node.js 24, that one is used and nothing is downloaded.
//
// The image build reaches loopback servers here only through the host network: a Dockerfile-based
// config with "build": { "options": ["--network=host"] } and `devcontainer up --buildkit never`
// (verified by these tests: the CLI passes the options to the build that runs the Feature's install.sh,
// and without them that build reaches neither the mirror nor the Debian package mirror).
// The base image is debootstrapped Debian bookworm (amd64) with the machine's Node.js 20 at /usr/local/bin/node
// and without curl or xz, so install.sh also installs curl and xz-utils with apt-get from the machine's Debian
// mirror during the build. The mirror serves the official Node.js 24 binary packed by the test in the official
// layout: not nodejs.org's archive, so its SHA-256 is given as nodeSha256.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Dockerd, startDockerd, whyDockerdCannotRun } from '../support/feature-dockerd.js';
import {
  defaultNodeVersion,
  officialNode,
  packNodeArchive,
  publishNodeRelease,
  type RunningMirror,
  startNodeMirror,
} from '../support/feature-node-mirror.js';
import { importRootfsImage, rootfsUser, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { repoRoot, stageFeature } from '../support/feature-stage.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';

const baseImage = 'registry-login-test/bookworm-node20:latest';
const node24Image = 'registry-login-test/bookworm-node24:latest';
const robot = { user: 'private-node-robot', password: `pw-${randomBytes(12).toString('hex')}` };
/** The Feature's default private Node.js, published on the mirror. */
const testVersion = await defaultNodeVersion(path.join(repoRoot, 'devcontainer-feature.json'));
const node24 = officialNode(repoRoot, testVersion);
/** The machine's own Node.js 20: the image's, too old for the agent. */
const machineNode20 = '/usr/bin/node';
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

let dockerd: Dockerd | undefined;
let registry: RunningRegistry | undefined;
let mirror: RunningMirror | undefined;
let project: string | undefined;
let workspace: string;
let offlineWorkspace: string;
let node24Workspace: string;

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the Feature's container tier cannot run: ${why}`);
  const { stdout: machineVersion } = await execa(machineNode20, ['--version']);
  if (!machineVersion.startsWith('v20.')) throw new Error(`${machineNode20} is ${machineVersion}, not Node.js 20`);

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
  const archive = await packNodeArchive(mirrorRoot, testVersion, node24);
  await publishNodeRelease(mirrorRoot, [archive]);
  [dockerd, registry, mirror] = await Promise.all([
    startDockerd(),
    startRegistry({ auth: { kind: 'htpasswd', users: [robot] } }),
    startNodeMirror(mirrorRoot),
  ]);
  await importRootfsImage(dockerd.host, baseImage, [{ source: machineNode20, target: '/usr/local/bin/node' }]);
  await importRootfsImage(dockerd.host, node24Image, [{ source: node24, target: '/usr/local/bin/node' }]);

  await writeFile(path.join(devcontainerDir, 'Dockerfile'), `FROM ${baseImage}\n`);
  const config = {
    build: { dockerfile: 'Dockerfile', options: ['--network=host'] },
    features: { './registry-login': { nodeMirror: mirror.url, nodeVersion: testVersion, nodeSha256: archive.sha256 } },
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

  // The same project on an image whose Node.js is 24: the Feature must use it and download nothing.
  node24Workspace = path.join(project, 'node24-workspace');
  await cp(workspace, node24Workspace, { recursive: true });
  await writeFile(path.join(node24Workspace, '.devcontainer', 'Dockerfile'), `FROM ${node24Image}\n`);
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

/** `devcontainer up` on a workspace without BuildKit, with its output and a summary for failure messages. */
async function up(workspaceFolder: string, ...extra: string[]) {
  const result = await devcontainer([
    'up',
    '--workspace-folder',
    workspaceFolder,
    '--buildkit',
    'never',
    ...extra,
    '--log-level',
    'info',
  ]);
  const output = result.all ?? '';
  const summary = `devcontainer up exited ${result.exitCode}; output (last 6000 characters):\n${output.slice(-6000)}`;
  return { exitCode: result.exitCode, output, summary };
}

it("devcontainer up on an image with Node.js 20 builds with a private Node.js from the mirror, the remote user is logged in, and the image's node is unchanged and never runs the agent", async () => {
  if (!dockerd || !registry || !mirror || !project) throw new Error('setup did not complete');
  const { exitCode, output: upOutput, summary } = await up(workspace);
  expect(exitCode, summary).toBe(0);
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
    // Every Node.js started with this NODE_OPTIONS says its version on stderr.
    'id -un; command -v node; node --version; sha256sum /usr/local/bin/node; grep -h pinned= /usr/local/bin/registry-login; ' +
      "echo 'process.stderr.write(`node-run ${process.version}\\n`)' > /tmp/record.cjs; " +
      'NODE_OPTIONS=--require=/tmp/record.cjs registry-login check',
  ]);
  const insideOutput = inside.all ?? '';
  expect(inside.exitCode, insideOutput).toBe(0);
  expect(insideOutput).toContain(rootfsUser);
  expect(insideOutput).toMatch(/^\/usr\/local\/bin\/node\nv20\./m);
  expect(insideOutput).toContain(`${await sha256(machineNode20)}  /usr/local/bin/node`);
  expect(new Set(insideOutput.match(/node-run v\S+/g))).toEqual(new Set([`node-run v${testVersion}`]));
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
  const { exitCode, output, summary } = await up(offlineWorkspace, '--build-no-cache');
  expect(exitCode, summary).not.toBe(0);
  expect(output, summary).toContain('RUN apt-get update && apt-get install -y --no-install-recommends curl xz-utils');
  expect(output, summary).toContain('"nodeMirror" option');
  expect(output, summary).toContain('"ghcr.io/devcontainers/features/node:1": { "version": "lts" }');
}, 900_000);

it('devcontainer up on an image with Node.js 24 uses that Node.js and downloads nothing', async () => {
  if (!dockerd || !registry || !mirror || !node24Workspace) throw new Error('setup did not complete');
  const before = mirror.requests.length;
  const { exitCode, output: upOutput, summary } = await up(node24Workspace);
  expect(exitCode, summary).toBe(0);
  expect(upOutput, summary).toContain(`with Node.js ${testVersion} at /usr/local/bin/node`);
  expect(mirror.requests.slice(before), summary).toEqual([]);
  expect(upOutput, summary).toContain(registry.host);

  const inside = await devcontainer([
    'exec',
    '--workspace-folder',
    node24Workspace,
    'sh',
    '-c',
    'grep -h pinned= /usr/local/bin/registry-login; ls /usr/local/share; registry-login check',
  ]);
  const insideOutput = inside.all ?? '';
  expect(inside.exitCode, insideOutput).toBe(0);
  expect(insideOutput).toContain("pinned='/usr/local/bin/node'");
  expect(insideOutput).not.toContain('registry-login-node');
  expect(insideOutput).toContain(registry.host);
}, 900_000);
