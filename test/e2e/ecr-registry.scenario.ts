// Runs inside the private mount + network namespace that ecr-registry.test.ts makes with unshare, where
// /etc/hosts maps an ECR hostname to 127.0.0.1: a real docker-registry (TLS on 443, token auth whose token
// server compares the whole password) accepts the ~2,000-character token that registry-login swapped AWS keys
// for at the stand-in, and skopeo pushes and inspects with nothing but the docker config registry-login wrote.
// Prints one JSON report on stdout; it holds no secret.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, NODE_DIR, makeAgentHome, runAgent, triple } from '../support/agent.js';
import { startEcrStandIn, longPassword } from '../support/ecr-stand-in.js';
import { pushTestImage } from '../support/oci-image.js';
import { startRegistry } from '../support/registry.js';
import { skopeoInspect } from '../support/skopeo.js';

export const ECR_HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const KEY = { accessKeyId: 'AKIAREGISTRYE2E00001', secretAccessKey: 'registry-e2e-secret-00000000000000000001' };

async function main(): Promise<void> {
  const work = process.argv[2];
  if (!work) throw new Error('usage: ecr-registry.scenario.ts WORKDIR');
  // skopeo runs the credential helper named in credHelpers, found on an absolute PATH (Go refuses relative entries).
  process.env.PATH = `${BIN}:${NODE_DIR}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`;
  const password = longPassword(2000);
  const standIn = await startEcrStandIn({ keys: [KEY], reply: () => ({ kind: 'token', password }) });
  const registry = await startRegistry({
    tls: true,
    port: 443,
    tlsSans: [ECR_HOST],
    dir: join(work, 'registry'),
    auth: { kind: 'token', users: [{ user: 'AWS', password }] },
  });
  try {
    const agent = await makeAgentHome(join(work, 'agent'), {
      AWS_ENDPOINT_URL_ECR: standIn.url,
      XDG_CACHE_HOME: join(work, 'agent', 'cache'),
      ...triple('ECR', `https://${ECR_HOST}`, KEY.accessKeyId, KEY.secretAccessKey),
    });
    const refresh = await runAgent(['refresh', '--json'], agent.env);
    let pushed: string | undefined;
    let pushError: string | undefined;
    try {
      pushed = await pushTestImage(ECR_HOST, 'team/app', 'v1', {
        dockerConfigDir: agent.dockerConfigDir,
        certDir: registry.certDir!,
      });
    } catch (error) {
      pushError = (error as Error).message.split('\n').slice(-3).join(' ');
    }
    const inspect = await skopeoInspect(`${ECR_HOST}/team/app:v1`, {
      dockerConfigDir: agent.dockerConfigDir,
      certDir: registry.certDir!,
    });
    const empty = join(work, 'empty-docker-config');
    await mkdir(empty, { recursive: true });
    const without = await skopeoInspect(`${ECR_HOST}/team/app:v1`, {
      dockerConfigDir: empty,
      certDir: registry.certDir!,
    });
    const report = {
      refresh: {
        exitCode: refresh.exitCode,
        stderr: refresh.stderr,
        logins: (JSON.parse(refresh.stdout || '{}') as { logins?: unknown }).logins,
      },
      awsCalls: standIn.calls.map((c) => ({
        keyId: c.keyId,
        region: c.region,
        service: c.service,
        verified: c.verified,
      })),
      issuedPasswordLength: password.length,
      pushed,
      pushError,
      inspect: { ok: inspect.ok, digest: inspect.json?.Digest, stderr: inspect.stderr.slice(-500) },
      withoutConfig: { ok: without.ok, stderr: without.stderr.slice(-300) },
      tokenRequests: (registry.tokenServer?.requests ?? []).map((r) => ({
        user: r.user,
        credsMatched: r.credsMatched,
        passwordLength: r.passwordLength,
        status: r.status,
      })),
    };
    const text = JSON.stringify(report);
    if (text.includes(password) || text.includes(KEY.secretAccessKey))
      throw new Error('the report would hold a secret');
    process.stdout.write(`${text}\n`);
  } finally {
    await registry.stop();
    await standIn.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ecr-registry scenario failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
