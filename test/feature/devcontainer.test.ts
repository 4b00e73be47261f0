// The whole Feature through `devcontainer features test`, against a private dockerd: a container with
// a non-root remote user and a registry triple gets the login in that user's docker config at the
// Codespaces moment, and the docker CLI inside pulls a private image with it.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Dockerd, startDockerd, whyDockerdCannotRun } from '../support/feature-dockerd.js';
import { pushTestImage } from '../support/oci-image.js';
import { requireCommand } from '../support/process.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';
import { importRootfsImage, rootfsUser, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { repoRoot, stageFeature } from '../support/feature-stage.js';

const scenarioName = 'login-as-remote-user';
const baseImage = 'registry-login-test/bookworm-node:latest';
const robot = { user: 'feature-robot', password: `pw-${randomBytes(12).toString('hex')}` };
const image = { repo: 'feature-test/hello', tag: 'v1' };

let dockerd: Dockerd | undefined;
let registry: RunningRegistry | undefined;
let manifestDigest: string | undefined;
let project: string | undefined;

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the Feature's container tier cannot run: ${why}`);

  project = await mkdtemp(path.join(os.tmpdir(), 'registry-login-features-test-'));
  const stage = await stageFeature();
  const featureDir = path.join(project, 'src', 'registry-login');
  await cp(stage, featureDir, { recursive: true });
  await rm(path.dirname(stage), { recursive: true, force: true });
  // Offline, the CLI cannot fetch the metadata of the Features named in installsAfter; this test copy
  // drops them (their ordering role is covered by the metadata test).
  const metadata = JSON.parse(await readFile(path.join(featureDir, 'devcontainer-feature.json'), 'utf8')) as Record<string, unknown>;
  delete metadata.installsAfter;
  await writeFile(path.join(featureDir, 'devcontainer-feature.json'), JSON.stringify(metadata, null, 2));

  [dockerd, registry] = await Promise.all([startDockerd(), startRegistry({ auth: { kind: 'htpasswd', users: [robot] } })]);
  manifestDigest = await pushTestImage(registry.host, image.repo, image.tag, { creds: robot });
  // The base image: debootstrapped bookworm with a non-root user, the host's Node.js, and the host's
  // docker CLI as the client that pulls inside the container (both run there: the host is bookworm too).
  await importRootfsImage(dockerd.host, baseImage, [
    { source: process.execPath, target: '/usr/local/bin/node' },
    { source: await requireCommand('docker', 'docker.io'), target: '/usr/bin/docker' },
  ]);

  const testDir = path.join(project, 'test', 'registry-login');
  await mkdir(testDir, { recursive: true });
  await mkdir(path.join(project, 'tmp'));
  await cp(path.join(repoRoot, 'test', 'feature', 'scenario', `${scenarioName}.sh`), path.join(testDir, `${scenarioName}.sh`));
  const scenarios = {
    [scenarioName]: {
      image: baseImage,
      remoteUser: rootfsUser,
      runArgs: ['--network=host'],
      mounts: [{ type: 'bind', source: dockerd.socket, target: '/var/run/docker.sock' }],
      // The server is not secret: containerEnv, as an image or Codespaces would set it. The credentials
      // arrive as remoteEnv, as VS Code's ${localEnv:...} would pass them.
      containerEnv: { FEATURETEST_CONTAINER_REGISTRY_SERVER: registry.host },
      remoteEnv: {
        FEATURETEST_CONTAINER_REGISTRY_USER: robot.user,
        FEATURETEST_CONTAINER_REGISTRY_PASSWORD: robot.password,
        REGISTRY_ADDRESS: registry.host,
        IMAGE: `${image.repo}:${image.tag}`,
        EXPECTED_REPO_DIGEST: `${registry.host}/${image.repo}@${manifestDigest}`,
      },
      // The user's own postCreateCommand runs after the Feature's: it must already find the login.
      postCreateCommand: `grep -q '"${registry.host}"' "$HOME/.docker/config.json" && echo 'login present' > "$HOME/user-post-create.txt" || echo 'login absent' > "$HOME/user-post-create.txt"`,
      features: { 'registry-login': {} },
    },
  };
  await writeFile(path.join(testDir, 'scenarios.json'), JSON.stringify(scenarios, null, 2));
}, 600_000);

afterAll(async () => {
  // The CLI removes the scenario's container; stopping the daemon would stop any it left.
  await registry?.stop();
  await dockerd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
}, 120_000);

it('logs the non-root remote user in at creation and on start, and docker pull works with it', async () => {
  if (!dockerd || !registry || !project || !manifestDigest) throw new Error('setup did not complete');
  const run = await execa(
    'npx',
    ['--no-install', 'devcontainer', 'features', 'test', '--project-folder', project, '--features', 'registry-login', '--skip-autogenerated', '--skip-duplicated', '--log-level', 'info'],
    // TMPDIR keeps the CLI's generated workspace and build contexts inside the project, removed afterwards.
    { cwd: repoRoot, env: { DOCKER_HOST: dockerd.host, TMPDIR: path.join(project, 'tmp') }, all: true, reject: false },
  );
  const output = run.all ?? '';
  const summary = `devcontainer features test exited ${run.exitCode}; output (last 6000 characters):\n${output.slice(-6000)}`;
  expect(run.exitCode, summary).toBe(0);
  expect(output, summary).toMatch(/Passed 'with the login, docker pull succeeds'/);
  expect(output, summary).not.toMatch(/check failed/);
  // The Feature's hooks ran at both moments, each logging in to the registry.
  const hookOutput = (hook: string) => output.split(new RegExp(`Running the ${hook} from Feature '[^']*registry-login'`))[1]?.split(/Running the |Launched container/)[0] ?? '';
  expect(hookOutput('postCreateCommand'), summary).toContain(registry.host);
  expect(hookOutput('postStartCommand'), summary).toContain(registry.host);

  // The password may appear only where the CLI itself echoes the scenario's remoteEnv.
  const leaks = output.split('\n').filter((line) => line.includes(robot.password) && !line.includes('FEATURETEST_CONTAINER_REGISTRY_PASSWORD'));
  expect(leaks, 'lines that print the registry password').toEqual([]);

  // The daemon now holds the image, pulled by the client inside the container.
  const inspect = await execa('docker', ['-H', dockerd.host, 'image', 'inspect', '--format', '{{json .RepoDigests}}', `${registry.host}/${image.repo}:${image.tag}`]);
  expect(JSON.parse(inspect.stdout)).toEqual([`${registry.host}/${image.repo}@${manifestDigest}`]);
}, 600_000);
