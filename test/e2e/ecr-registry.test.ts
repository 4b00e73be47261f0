// End to end with real clients: the token registry-login gets for AWS keys is accepted by a real docker-registry
// under a real ECR hostname, and skopeo pulls with only the docker config registry-login wrote.
// Everything runs in a private mount + network namespace (unshare) with its own loopback and a hosts file
// bind-mounted over /etc/hosts there: the machine's network configuration is never touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from '../support/agent.js';
import { requireCommand } from '../support/process.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

const ECR_HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
let work: string;

interface Report {
  refresh: { exitCode: number; stderr: string; logins: { key: string; kind: string; status: string }[] };
  awsCalls: { keyId: string; region: string; service: string; verified: boolean }[];
  issuedPasswordLength: number;
  pushed?: string;
  pushError?: string;
  inspect: { ok: boolean; digest?: string; stderr: string };
  withoutConfig: { ok: boolean; stderr: string };
  tokenRequests: { user?: string; credsMatched: boolean; passwordLength?: number; status: number }[];
}
let report: Report;

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist/registry-login.cjs')))
    throw new Error('dist/registry-login.cjs is missing: run `npm run build` first (npm test does).');
  if (process.getuid?.() !== 0)
    throw new Error(
      'this test needs root for `unshare --mount --net` (a private network namespace with its own loopback and port 443)',
    );
  const unshare = await requireCommand('unshare', 'util-linux');
  await requireCommand('ip', 'iproute2');
  await requireCommand('mount', 'mount');
  await requireCommand('docker-registry', 'docker-registry');
  await requireCommand('skopeo', 'skopeo');
  await requireCommand('openssl', 'openssl');
  work = await makeTempDir('ecr-registry-');
  const hosts = join(work, 'hosts');
  await writeFile(hosts, `127.0.0.1 localhost\n::1 localhost\n127.0.0.1 ${ECR_HOST}\n`);
  // Inside the namespace: bring its loopback up, show it the hosts file, then run the scenario (which starts and stops
  // its servers by PID).
  const script = 'set -e; ip link set lo up; mount --bind "$1" /etc/hosts; shift; exec "$@"';
  const result = await execa(
    unshare,
    [
      '--mount',
      '--net',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      hosts,
      process.execPath,
      join(REPO, 'scripts/run-ts.mjs'),
      'test/e2e/ecr-registry.scenario.ts',
      work,
    ],
    {
      cwd: REPO,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: work, LANG: 'C.UTF-8' },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    },
  );
  if (result.exitCode !== 0)
    throw new Error(
      `the namespaced scenario failed (exit ${String(result.exitCode)}):\n${result.stderr}\n${result.stdout}`,
    );
  report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Report;
}, 180_000);

afterAll(async () => {
  if (work) await removeTempDir(work);
});

describe('an ECR token from AWS keys, used by a real registry client', () => {
  it("refresh swapped the triple's keys at the stand-in for the registry's region", () => {
    expect(report.refresh.stderr).toBe('');
    expect(report.refresh.exitCode).toBe(0);
    expect(report.refresh.logins).toMatchObject([{ key: ECR_HOST, kind: 'ecr-keys', status: 'ok' }]);
    expect(report.awsCalls).toEqual([
      { keyId: 'AKIAREGISTRYE2E00001', region: 'us-west-2', service: 'ecr', verified: true },
    ]);
  });

  it('skopeo pushes and inspects with only the written config, and the token server saw the whole 2,000-character password', () => {
    expect(report.pushError).toBeUndefined();
    expect(report.pushed).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(report.inspect.stderr === '' || report.inspect.ok).toBe(true);
    expect(report.inspect).toMatchObject({ ok: true, digest: report.pushed });
    expect(report.issuedPasswordLength).toBe(2000);
    const authenticated = report.tokenRequests.filter((r) => r.user !== undefined);
    expect(authenticated.length).toBeGreaterThanOrEqual(2);
    for (const request of authenticated)
      expect(request).toMatchObject({ user: 'AWS', credsMatched: true, passwordLength: 2000, status: 200 });
  });

  it('is refused without that config (the registry really checks)', () => {
    expect(report.withoutConfig.ok).toBe(false);
    expect(report.withoutConfig.stderr).toMatch(/unauthorized|authentication required|401/i);
  });
});
