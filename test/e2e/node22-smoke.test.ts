// The oldest supported line, Node.js 22, runs what users run: the built CLI's refresh (a static login and an ECR one,
// so the lazily loaded AWS SDK too), the credential helper's get, and refresh --host. The Node.js 22 binary is the one
// scripts/fetch-node.sh takes from the npm registry into build/ (never committed), first on PATH as a user's would be.
import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, makeAgentHome, triple, type AgentHome } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { TempDirs } from '../support/tmp.js';

const NODE22_VERSION = '22.23.5';
const SERVER = 'registry.node22.example:5000';
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const KEY = { accessKeyId: 'AKIANODE22SMOKE00001', secretAccessKey: 'node22-smoke-secret-000000000000000000001' };
const tmp = new TempDirs();
let node22Bin: string;
let standIn: EcrStandIn;

beforeAll(async () => {
  const r = await execa('bash', [path.join(REPO, 'scripts', 'fetch-node.sh'), NODE22_VERSION], { reject: false });
  if (r.exitCode !== 0)
    throw new Error(
      `scripts/fetch-node.sh could not fetch Node.js ${NODE22_VERSION} (exit ${r.exitCode}): ${r.stderr}`,
    );
  node22Bin = r.stdout.trim();
  standIn = await startEcrStandIn({ keys: [KEY] });
}, 300_000);
afterAll(async () => {
  await standIn?.close();
});
afterEach(async () => {
  await tmp.cleanup();
});

/** A home whose PATH has the launchers, then Node.js 22 and nothing newer, so `#!/usr/bin/env node` finds it. */
async function home22(extra: Record<string, string> = {}): Promise<AgentHome> {
  const h = await makeAgentHome(await tmp.make(), {
    ...triple('ACME', SERVER, 'someone', 's3cret-node22-password'),
    ...extra,
  });
  h.env.PATH = `${BIN}:${node22Bin}:/usr/bin:/bin`;
  return h;
}

async function run(name: string, args: string[], env: Record<string, string>, input?: string) {
  const r = await execa(path.join(BIN, name), args, {
    env,
    extendEnv: false,
    reject: false,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const auth = async (h: AgentHome, key: string): Promise<string> =>
  Buffer.from(JSON.parse(await readFile(h.configPath, 'utf8')).auths[key].auth, 'base64').toString();

describe(`the launchers on Node.js ${NODE22_VERSION}`, () => {
  it('refresh logs in a static and an ECR registry, and the credential helper answers get', async () => {
    const h = await home22({
      AWS_ENDPOINT_URL_ECR: standIn.url,
      ...triple('AWSDEV', ECR, KEY.accessKeyId, KEY.secretAccessKey),
    });
    expect((await execa(path.join(node22Bin, 'node'), ['--version'])).stdout).toBe(`v${NODE22_VERSION}`);
    const refresh = await run('registry-login', ['refresh'], h.env);
    expect(refresh.exitCode, refresh.stderr).toBe(0);
    expect(refresh.stdout).toContain('2 of 2 registries logged in');
    expect(await auth(h, SERVER)).toBe('someone:s3cret-node22-password');
    const issued = standIn.verifiedCalls().find((c) => c.keyId === KEY.accessKeyId);
    expect(await auth(h, ECR)).toBe(`AWS:${issued!.password}`);
    // The compile cache is Node's own, per Node version: this one was Node.js 22's.
    const cache = await readdir(path.join(h.home, '.cache', 'registry-login', 'node-compile-cache'));
    expect(cache.some((name) => name.startsWith(`v${NODE22_VERSION}-`))).toBe(true);

    const get = await run('docker-credential-registry-login', ['get'], h.env, SERVER);
    expect(get.exitCode, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({
      ServerURL: SERVER,
      Username: 'someone',
      Secret: 's3cret-node22-password',
    });
  });

  it('refresh --host stores the login in the host’s docker config', async () => {
    const h = await home22();
    const host = await run('registry-login', ['refresh', '--host'], h.env);
    expect(host.exitCode, host.stderr).toBe(0);
    expect(host.stdout).toContain('1 of 1 registry logged in on this host');
    expect(await auth(h, SERVER)).toBe('someone:s3cret-node22-password');
  });
});
