// The ECR token cache is read through the same trust check as registry-login's other private files: a cache entry
// that is a symbolic link (or another user's, or writable by others) is a miss, never a token to hand to docker.
import { readdir, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple } from '../support/agent.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
let standIn: EcrStandIn;
const KEYS = { accessKeyId: 'AKIATOKENCACHELINK01', secretAccessKey: 'token-cache-link-secret-00000000000000000' };

beforeAll(async () => {
  standIn = await startEcrStandIn({ keys: [KEYS] });
});
afterAll(async () => {
  await standIn?.close();
  await tmp.cleanup();
});

describe('the ECR token cache', () => {
  it('does not follow a cache entry that is a symbolic link: the token comes from AWS again', async () => {
    const h = await makeAgentHome(await tmp.make('rl-token-link-'), {
      ...triple('AWS', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', KEYS.accessKeyId, KEYS.secretAccessKey),
      AWS_ENDPOINT_URL_ECR: standIn.url,
      AWS_REGION: 'eu-west-1',
    });
    const first = await runAgent(['refresh'], h.env);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(standIn.verifiedCalls()).toHaveLength(1);
    // A cached run asks AWS nothing...
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    expect(standIn.verifiedCalls()).toHaveLength(1);
    // ...but the same token behind a link is not trusted.
    const cache = path.join(h.home, '.cache', 'registry-login');
    const [entry] = (await readdir(cache)).filter((n) => /^ecr-.*\.json$/.test(n));
    await rename(path.join(cache, entry!), path.join(h.home, 'elsewhere.json'));
    await symlink(path.join(h.home, 'elsewhere.json'), path.join(cache, entry!));
    const linked = await runAgent(['refresh'], h.env);
    expect(linked.exitCode, linked.stderr).toBe(0);
    expect(standIn.verifiedCalls()).toHaveLength(2);
  });
});
