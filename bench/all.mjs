// Runs every benchmark script in turn (after `npm run build`), each with its own tables, and exits 1 when any of them
// missed a target: a figure over budget in one script does not hide the others' figures.
// Usage: node bench/all.mjs   (each script's own variables, e.g. BENCH_ROUNDS, apply)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './common.mjs';

const SCRIPTS = ['run.mjs', 'ecr.mjs', 'roles.mjs', 'memory.mjs', 'host.mjs'];
const missed = [];
for (const script of SCRIPTS) {
  const run = spawnSync(process.execPath, [join(root, 'bench', script)], { stdio: 'inherit' });
  if (run.status !== 0) missed.push(`bench/${script} (${run.signal ?? `exit ${String(run.status)}`})`);
}
console.log(
  missed.length === 0
    ? `all ${SCRIPTS.length} benchmark scripts met their targets`
    : `${missed.length} of ${SCRIPTS.length} benchmark scripts missed a target or failed: ${missed.join(', ')}`,
);
if (missed.length > 0) process.exitCode = 1;
