// The dev container's own image on a password-protected registry, with real parts: a private dockerd, Debian's
// docker-registry on 127.0.0.1, the devcontainer CLI, and the initializeCommand the README documents. The container
// comes up when the triple is in the environment the CLI is started with, and fails without it (each negative
// control runs first, so the image is never cached); the same for a Dockerfile whose FROM is that image. Afterwards a
// plain docker pull works with registry-login not on PATH: the host's docker does not depend on it.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, triple } from '../support/agent.js';
import { type Dockerd, startDockerd, whyDockerdCannotRun } from '../support/feature-dockerd.js';
import { importRootfsImage, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { requireCommand } from '../support/process.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';

const INITIALIZE = 'registry-login refresh --host --hook || echo registry-login is not installed: see README';
const robot = { user: 'image-robot', password: `pw-${randomBytes(12).toString('hex')}` };
const label = `registry-login-host-test=${randomBytes(6).toString('hex')}`;
const AUTH_FAILURE = /no basic auth credentials|unauthorized|authentication required/i;
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

let dockerd: Dockerd;
let registry: RunningRegistry;
let image: string;
const tmp = new TempDirs();
let work: string;

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the host-side dev container test cannot run: ${why}`);
  const skopeo = await requireCommand('skopeo', 'skopeo');
  work = await tmp.make('rl-host-devcontainer-');
  [dockerd, registry] = await Promise.all([
    startDockerd(),
    startRegistry({ auth: { kind: 'htpasswd', users: [robot] } }),
  ]);
  // A runnable image (debootstrapped bookworm) that exists only on the private registry.
  const local = 'registry-login-test/host-base:local';
  image = `${registry.host}/private/devcontainer-base:1`;
  const marker = path.join(work, 'marker');
  await writeFile(marker, 'a dev container image that lives only on a private registry\n');
  await importRootfsImage(dockerd.host, local, [
    { source: marker, target: '/usr/local/share/registry-login-test-image' },
  ]);
  const authfile = path.join(work, 'push-auth.json');
  await writeFile(
    authfile,
    JSON.stringify({
      auths: { [registry.host]: { auth: Buffer.from(`${robot.user}:${robot.password}`).toString('base64') } },
    }),
    { mode: 0o600 },
  );
  await execa(
    skopeo,
    [
      '--insecure-policy',
      'copy',
      '--src-daemon-host',
      dockerd.host,
      '--dest-tls-verify=false',
      '--dest-authfile',
      authfile,
      `docker-daemon:${local}`,
      `docker://${image}`,
    ],
    { env: { PATH: SYSTEM_PATH, HOME: work }, extendEnv: false },
  );
  await execa('docker', ['-H', dockerd.host, 'rmi', local]);
}, 600_000);

afterAll(async () => {
  if (dockerd) {
    const ids = await execa('docker', ['-H', dockerd.host, 'ps', '-aq', '--filter', `label=${label}`], {
      reject: false,
    });
    if (ids.stdout.trim())
      await execa('docker', ['-H', dockerd.host, 'rm', '-f', ...ids.stdout.trim().split('\n')], { reject: false });
  }
  await registry?.stop();
  await dockerd?.stop();
  await tmp.cleanup();
}, 120_000);

/** A host user's world for one flow: a home with its own docker config, as a developer's machine has. */
async function hostUser(name: string): Promise<{ home: string; env: Record<string, string>; configPath: string }> {
  const home = path.join(work, name);
  await mkdir(home, { recursive: true, mode: 0o700 });
  // TMPDIR keeps the CLI's build contexts inside the test's directory.
  await mkdir(path.join(home, 'tmp'));
  const env = {
    PATH: `${BIN}:${path.dirname(process.execPath)}:${SYSTEM_PATH}`,
    HOME: home,
    LANG: 'C.UTF-8',
    DOCKER_HOST: dockerd.host,
    TMPDIR: path.join(home, 'tmp'),
    DOCKER_CLI_HINTS: 'false',
  };
  return { home, env, configPath: path.join(home, '.docker', 'config.json') };
}

async function workspace(name: string, config: Record<string, unknown>, dockerfile?: string): Promise<string> {
  const folder = path.join(work, name);
  await mkdir(path.join(folder, '.devcontainer'), { recursive: true });
  await writeFile(
    path.join(folder, '.devcontainer', 'devcontainer.json'),
    JSON.stringify(
      {
        initializeCommand: INITIALIZE,
        runArgs: ['--network=host'],
        userEnvProbe: 'none',
        updateRemoteUserUID: false,
        ...config,
      },
      null,
      2,
    ),
  );
  if (dockerfile !== undefined) await writeFile(path.join(folder, '.devcontainer', 'Dockerfile'), dockerfile);
  return folder;
}

/** `devcontainer up` with exactly env (the CLI's own environment, which initializeCommand inherits). */
async function up(
  folder: string,
  env: Record<string, string>,
): Promise<{ ok: boolean; output: string; containerId?: string }> {
  const run = await execa(
    path.join(REPO, 'node_modules', '.bin', 'devcontainer'),
    [
      'up',
      '--workspace-folder',
      folder,
      '--id-label',
      label,
      '--id-label',
      `folder=${path.basename(folder)}`,
      '--log-level',
      'info',
    ],
    {
      env,
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 480_000,
    },
  );
  // The CLI runs initializeCommand under a pseudo-terminal: its output carries colour and carriage returns.
  const output = (run.all ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const result = /^\{"outcome".*\}$/m.exec(run.stdout)?.[0];
  const parsed = result ? (JSON.parse(result) as { outcome: string; containerId?: string }) : undefined;
  return {
    ok: run.exitCode === 0 && parsed?.outcome === 'success',
    output,
    ...(parsed?.containerId ? { containerId: parsed.containerId } : {}),
  };
}

async function removeImage(): Promise<void> {
  await execa('docker', ['-H', dockerd.host, 'rmi', '-f', image], { reject: false });
}

function expectNoSecretIn(output: string): void {
  expect(output.split('\n').filter((line) => line.includes(robot.password))).toEqual([]);
}

describe('devcontainer.json "image" on a private registry', () => {
  it('fails without the secrets (also where registry-login is not installed) and comes up with them', async () => {
    const folder = await workspace('ws-image', { image });

    // Negative control 1: registry-login installed, no secrets in the CLI's environment.
    const noSecrets = await hostUser('user-image');
    const denied = await up(folder, noSecrets.env);
    expect(denied.ok, denied.output.slice(-3000)).toBe(false);
    expect(denied.output).toContain(`Command failed: docker pull ${image}`);
    // The CLI does not show docker's reason; docker itself, in the same environment, says it is the missing login.
    const direct = await execa('docker', ['pull', image], {
      env: noSecrets.env,
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(direct.all).toMatch(AUTH_FAILURE);

    // Negative control 2: a teammate without registry-login: the documented line does not stop anything itself.
    const notInstalled = await up(folder, {
      ...noSecrets.env,
      PATH: `${path.dirname(process.execPath)}:${SYSTEM_PATH}`,
    });
    expect(notInstalled.ok).toBe(false);
    expect(notInstalled.output).toContain('registry-login is not installed: see README');
    expect(notInstalled.output).toContain(`Command failed: docker pull ${image}`);

    // With the triple in the environment the CLI was started from.
    const withSecrets = { ...noSecrets.env, ...triple('TEAM', registry.host, robot.user, robot.password) };
    const opened = await up(folder, withSecrets);
    expect(opened.ok, opened.output.slice(-4000)).toBe(true);
    expect(opened.output).toContain(registry.host);
    expectNoSecretIn(opened.output);
    const config = await readFile(noSecrets.configPath, 'utf8');
    expect(config).not.toContain('credHelpers');
    await execa('docker', ['-H', dockerd.host, 'rm', '-f', opened.containerId!]);
    await removeImage();

    // The host's docker keeps working without registry-login on PATH.
    const pull = await execa('docker', ['pull', image], {
      env: { ...noSecrets.env, PATH: SYSTEM_PATH },
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(pull.exitCode, pull.all).toBe(0);
    await removeImage();
  }, 900_000);
});

describe('a Dockerfile whose FROM is on a private registry', () => {
  it('fails to build without the secrets and builds and comes up with them', async () => {
    const folder = await workspace(
      'ws-build',
      { build: { dockerfile: 'Dockerfile' } },
      `FROM ${image}\nLABEL org.example.built-by=registry-login-host-test\n`,
    );
    const user = await hostUser('user-build');
    await removeImage();
    const denied = await up(folder, user.env);
    expect(denied.ok, denied.output.slice(-3000)).toBe(false);
    // The CLI pulls the FROM image itself (for its metadata) before it builds.
    expect(denied.output).toContain(`Command failed: docker pull ${image}`);

    const opened = await up(folder, { ...user.env, ...triple('TEAM', registry.host, robot.user, robot.password) });
    expect(opened.ok, opened.output.slice(-4000)).toBe(true);
    expectNoSecretIn(opened.output);
    await execa('docker', ['-H', dockerd.host, 'rm', '-f', opened.containerId!]);
  }, 900_000);
});
