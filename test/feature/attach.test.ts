// The attach hook through `devcontainer up`: a container made with --secrets-file, then its docker config
// rewritten with a credsStore added as an editor does when it attaches (VS Code itself cannot run here, so that
// rewrite is this test's assumption of what VS Code does), then `devcontainer up` again, which runs the
// postAttachCommand: with the secrets the login is refreshed and intact, without them it is kept.
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FeatureWorkspace, startFeatureWorkspace } from '../support/feature-workspace.js';
import { requireCommand } from '../support/process.js';
import { rootfsUser } from '../support/feature-rootfs.js';

const EDITOR_STORE = 'dev-containers-0123456789abcdef';

let ws: FeatureWorkspace | undefined;

beforeAll(async () => {
  ws = await startFeatureWorkspace({ name: 'attach', prefix: 'ATTACH', featureOptions: {} });
}, 600_000);

afterAll(async () => {
  await ws?.stop();
}, 120_000);

const up = (withSecrets: boolean) => ws!.up(withSecrets);

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
    ['-H', ws!.dockerd.host, 'exec', '-i', '-u', rootfsUser, ws!.containerId(), 'sh', '-c', command],
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
const expectedAuth = () => Buffer.from(`${ws!.robot.user}:${ws!.robot.password}`).toString('base64');

it('keeps the login through an editor rewriting the config on attach, with and without the secrets', async () => {
  if (!ws) throw new Error('setup did not complete');
  const { registry } = ws;
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
