// The tests' SigV4-verifying ECR stand-in, bundled for plain Node, with the two key pairs and regions the benchmarks
// use.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { root } from './common.mjs';

export const KEYS = [
  { accessKeyId: 'AKIABENCHKEY00000001', secretAccessKey: 'bench-secret-0000000000000000000000000001' },
  { accessKeyId: 'AKIABENCHKEY00000002', secretAccessKey: 'bench-secret-0000000000000000000000000002' },
];
export const REGIONS = ['us-west-2', 'eu-central-1'];
/** Two roles in two accounts that KEYS[0] may assume (bench/roles.mjs). */
export const ROLES = [
  { roleArn: 'arn:aws:iam::111111111111:role/bench-pull', trusted: [KEYS[0].accessKeyId] },
  { roleArn: 'arn:aws:iam::222222222222:role/bench-pull', trusted: [KEYS[0].accessKeyId] },
];

/** Starts the stand-in, knowing KEYS and ROLES, answering after delayMs. */
export async function startBenchStandIn(delayMs = 0) {
  const standInFile = join(root, '.bench', 'ecr-stand-in.mjs');
  await build({
    entryPoints: [join(root, 'test/support/ecr-stand-in.ts')],
    outfile: standInFile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const { startEcrStandIn } = await import(pathToFileURL(standInFile).href);
  return startEcrStandIn({ keys: KEYS, roles: ROLES, delayMs });
}
