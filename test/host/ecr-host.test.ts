// refresh --host for ECR: AWS keys swapped through the SigV4-verifying stand-in, the token cached, the host's login
// AWS:<token>, and a refresh within the token's half-life makes no AWS call (and no store write).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { TempDirs } from '../support/tmp.js';

const KEY = { accessKeyId: 'AKIAHOSTTEST00000001', secretAccessKey: 'host-test-secret-key-0000000000000000001' };
const REGISTRY = '123456789012.dkr.ecr.us-west-2.amazonaws.com';

let standIn: EcrStandIn;
const tmp = new TempDirs();

beforeAll(async () => {
  standIn = await startEcrStandIn({ keys: [KEY] });
});
afterAll(async () => {
  await standIn?.close();
});
afterEach(() => tmp.cleanup());

it('stores AWS:<token> for the host and asks AWS again only when the cached token is past half-life (or --force)', async () => {
  const h = await makeAgentHome(await tmp.make('rl-host-ecr-'), {
    AWS_ENDPOINT_URL_ECR: standIn.url,
    ...triple('TEAM', REGISTRY, KEY.accessKeyId, KEY.secretAccessKey),
  });
  const before = standIn.calls.length;
  const first = await runAgent(['refresh', '--host', '--json'], h.env);
  expect(first.stderr).toBe('');
  expect(first.exitCode).toBe(0);
  const calls = standIn.calls.slice(before);
  expect(calls.map((c) => [c.keyId, c.region, c.verified])).toEqual([[KEY.accessKeyId, 'us-west-2', true]]);
  const token = calls[0]!.password!;
  const config = JSON.parse(await readFile(h.configPath, 'utf8')) as {
    auths: Record<string, { auth: string }>;
    credHelpers?: unknown;
  };
  expect(Buffer.from(config.auths[REGISTRY]!.auth, 'base64').toString()).toBe(`AWS:${token}`);
  expect(config.credHelpers).toBeUndefined();
  const login = JSON.parse(first.stdout).logins[0];
  expect(login).toMatchObject({ key: REGISTRY, kind: 'ecr-keys', status: 'ok', store: 'file', changed: true });
  expect(Date.parse(login.expiresAt)).toBeGreaterThan(Date.now());

  const configText = await readFile(h.configPath, 'utf8');
  const again = await runAgent(['refresh', '--host', '--json'], h.env);
  expect(again.exitCode).toBe(0);
  expect(standIn.calls.length).toBe(before + 1);
  expect(JSON.parse(again.stdout).logins[0]).toMatchObject({ status: 'ok', changed: false });
  expect(await readFile(h.configPath, 'utf8')).toBe(configText);

  // The cached token as it would be 7 of its 12 hours later: past half-life, so the next refresh renews it.
  const cacheDir = path.join(h.home, '.cache', 'registry-login');
  const [cacheFile] = (await readdir(cacheDir)).filter((name) => name.startsWith('ecr-'));
  const cached = JSON.parse(await readFile(path.join(cacheDir, cacheFile!), 'utf8')) as Record<string, string>;
  const hour = 3_600_000;
  await writeFile(
    path.join(cacheDir, cacheFile!),
    JSON.stringify({
      ...cached,
      issuedAt: new Date(Date.now() - 7 * hour).toISOString(),
      expiresAt: new Date(Date.now() + 5 * hour).toISOString(),
    }),
    { mode: 0o600 },
  );
  const stale = await runAgent(['refresh', '--host', '--json'], h.env);
  expect(stale.exitCode).toBe(0);
  expect(standIn.calls.length).toBe(before + 2);
  expect(JSON.parse(stale.stdout).logins[0]).toMatchObject({ status: 'ok', changed: true });

  const forced = await runAgent(['refresh', '--host', '--force', '--json'], h.env);
  expect(forced.exitCode).toBe(0);
  expect(standIn.calls.length).toBe(before + 3);
  const renewed = standIn.calls.at(-1)!.password!;
  expect(renewed).not.toBe(token);
  const after = JSON.parse(await readFile(h.configPath, 'utf8')) as { auths: Record<string, { auth: string }> };
  expect(Buffer.from(after.auths[REGISTRY]!.auth, 'base64').toString()).toBe(`AWS:${renewed}`);
  for (const output of [first, again, stale, forced]) {
    for (const secret of [KEY.secretAccessKey, token, renewed, standIn.calls.at(-2)!.password!])
      expect(output.stdout + output.stderr).not.toContain(secret);
  }
});
