// The attach hook through `devcontainer up`: a container made with --secrets-file, then its docker config
// rewritten with a credsStore added as an editor does when it attaches (VS Code itself cannot run here, so that
// rewrite is this test's assumption of what VS Code does), then `devcontainer up` again, which runs the
// postAttachCommand: with the secrets the login is refreshed and intact, without them it is kept.
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

const baseImage = 'registry-login-test/bookworm-node-attach:latest';
const robot = { user: 'attach-robot', password: `pw-${randomBytes(12).toString('hex')}` };
const EDITOR_STORE = 'dev-containers-0123456789abcdef';

let dockerd: Dockerd | undefined;
let registry: RunningRegistry | undefined;
let project: string | undefined;
let workspace = '';
let secretsFile = '';
let containerId = '';

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun();
  if (why) throw new Error(`the Feature's container tier cannot run: ${why}`);
  project = await mkdtemp(path.join(os.tmpdir(), 'registry-login-attach-test-'));
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
      { image: baseImage, remoteUser: rootfsUser, runArgs: ['--network=host'], features: { './registry-login': {} } },
      null,
      2,
    ),
  );
  secretsFile = path.join(project, 'secrets.json');
  await writeFile(
    secretsFile,
    JSON.stringify({
      ATTACH_CONTAINER_REGISTRY_SERVER: registry.host,
      ATTACH_CONTAINER_REGISTRY_USER: robot.user,
      ATTACH_CONTAINER_REGISTRY_PASSWORD: robot.password,
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

/** The part of the log a Feature hook printed. */
function hookOutput(output: string, hook: string): string | undefined {
  const parts = output.split(new RegExp(`Running the ${hook} from Feature '[^']*registry-login'`));
  return parts.length < 2
    ? undefined
    : (parts[parts.length - 1]!.split(/Running the |Launched container|\{"outcome"/)[0] ?? '');
}

async function inContainer(command: string, input?: string): Promise<string> {
  const docker = await requireCommand('docker', 'docker.io');
  const run = await execa(
    docker,
    ['-H', dockerd!.host, 'exec', '-i', '-u', rootfsUser, containerId, 'sh', '-c', command],
    { ...(input !== undefined ? { input } : {}) },
  );
  return run.stdout;
}

const configPath = `/home/${rootfsUser}/.docker/config.json`;
async function dockerConfig(): Promise<{
  auths?: Record<string, { auth?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}> {
  return JSON.parse(await inContainer(`cat ${configPath}`)) as never;
}
const expectedAuth = () => Buffer.from(`${robot.user}:${robot.password}`).toString('base64');

it('keeps the login through an editor rewriting the config on attach, with and without the secrets', async () => {
  if (!dockerd || !registry) throw new Error('setup did not complete');
  const key = registry.host;
  const first = await up(true);
  // The CLI masks every --secrets-file value in its log, the server included: the prefix names the login.
  expect(hookOutput(first, 'postAttachCommand'), 'the Feature declares a postAttachCommand that runs on up').toMatch(
    /1 of 1 registry logged in[^]*ok\s+ATTACH/,
  );
  expect((await dockerConfig()).auths?.[key]?.auth).toBe(expectedAuth());

  // The editor's rewrite on attach (assumed, as VS Code does): its own credsStore, whose helper is not on PATH
  // outside the editor's terminals, and the entries it found kept.
  const edited = { ...(await dockerConfig()), credsStore: EDITOR_STORE };
  await inContainer(`cat > ${configPath}`, JSON.stringify(edited, null, '\t'));

  // The attach with the secrets refreshes: the login is intact and still reached through credHelpers.
  const second = await up(true);
  expect(hookOutput(second, 'postAttachCommand')).toMatch(/1 of 1 registry logged in[^]*ok\s+ATTACH/);
  const afterSecond = await dockerConfig();
  expect(afterSecond.auths?.[key]?.auth).toBe(expectedAuth());
  expect(afterSecond.credHelpers?.[key]).toBe('registry-login');
  expect(afterSecond.credsStore, "registry-login does not edit the editor's credsStore").toBe(EDITOR_STORE);
  const status = JSON.parse(await inContainer('registry-login status --json')) as {
    logins: { key: string; effective: boolean }[];
    store?: { store: string; health: string };
  };
  expect(status.logins).toEqual([expect.objectContaining({ key, effective: true })]);
  expect(status.store).toMatchObject({ store: EDITOR_STORE, health: 'missing' });

  // An attach from a tool that does not deliver the secrets keeps the logins, and says so.
  const third = await up(false);
  const hook = hookOutput(third, 'postAttachCommand');
  expect(hook).toBeDefined();
  expect(hook).toMatch(
    /no \*_CONTAINER_REGISTRY_\* variables are set in this environment, so the login made earlier \([^)]*\) was kept/,
  );
  const afterThird = await dockerConfig();
  expect(afterThird.auths?.[key]?.auth).toBe(expectedAuth());
  expect(afterThird.credHelpers?.[key]).toBe('registry-login');
}, 900_000);
