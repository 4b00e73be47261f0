// Memory-mode benchmarks (run after `npm run build`): with every secret in the memory directory, a cached static
// refresh of 20 registries, a cached ECR refresh of 20 registries and the helper's get, each as a ratio to `node -e 0`
// measured interleaved in the same run (target <= 1.35x each).
// Usage: node bench/memory.mjs   (BENCH_ROUNDS to change the rounds)
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliEnv, ecrTriple, helper, median, requireBuild, timed } from './common.mjs';
import { KEYS, REGIONS, startBenchStandIn } from './stand-in.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET = 1.35;
requireBuild('bench/memory.mjs');

const standIn = await startBenchStandIn(0);
const work = mkdtempSync(join(tmpdir(), 'rl-bench-memory-'));
// The memory directory of this run alone, on the /dev/shm tmpfs (never the user's own).
const runtime = mkdtempSync('/dev/shm/rl-bench-memory-');
chmodSync(runtime, 0o700);

const baseEnv = (home) => cliEnv(home, standIn.url, { XDG_RUNTIME_DIR: runtime, REGISTRY_LOGIN_SECRETS: 'memory' });
const staticEnv = { ...baseEnv(join(work, 'static')) };
const ecrEnv = { ...baseEnv(join(work, 'ecr')), DOCKER_CONFIG: join(work, 'ecr', 'docker') };
for (let i = 0; i < 20; i++) {
  const p = `REG${String(i).padStart(2, '0')}`;
  staticEnv[`${p}_CONTAINER_REGISTRY_SERVER`] = `registry${i}.example.com`;
  staticEnv[`${p}_CONTAINER_REGISTRY_USER`] = `user${i}`;
  staticEnv[`${p}_CONTAINER_REGISTRY_PASSWORD`] = `password-${i}`;
  const host = `${String(100000000000 + i)}.dkr.ecr.${REGIONS[i % 2]}.amazonaws.com`;
  const key = KEYS[Math.floor(i / 2) % 2];
  Object.assign(ecrEnv, ecrTriple({ prefix: `ECR${String(i).padStart(2, '0')}`, host, key }));
}

let failed = false;
try {
  // Warm: the first runs log in (and swap), the measured ones find everything cached in memory.
  await timed([cli, 'refresh'], staticEnv);
  await timed([cli, 'refresh'], ecrEnv);
  const cases = {
    'node -e 0': [process.execPath, '-e', '0'],
    'refresh, 20 static registries, memory mode': [cli, 'refresh'],
    'refresh, 20 ECR registries, tokens cached in memory': [cli, 'refresh'],
    'helper get, memory mode': [helper, 'get'],
  };
  const envs = [staticEnv, staticEnv, ecrEnv, staticEnv];
  const inputs = [undefined, undefined, undefined, 'registry7.example.com'];
  const times = Object.keys(cases).map(() => []);
  const names = Object.keys(cases);
  for (let r = 0; r < rounds; r++)
    for (const [i, name] of names.entries()) times[i].push(await timed(cases[name], envs[i], inputs[i]));
  const base = median(times[0]);
  const rows = names.map((name, i) => {
    const ratio = median(times[i]) / base;
    if (i > 0 && ratio > TARGET) {
      failed = true;
      console.error(`FAILED: ${name} is ${ratio.toFixed(2)}x node -e 0 (target <= ${TARGET}x)`);
    }
    return {
      case: name,
      'median ms': median(times[i]).toFixed(1),
      ratio: i === 0 ? '1.00 (base)' : ratio.toFixed(2),
      target: i === 0 ? '' : `<= ${TARGET}`,
    };
  });
  console.log(`registry-login memory-mode benchmarks: node ${process.version}, ${rounds} interleaved rounds`);
  console.table(rows);
} finally {
  await standIn.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(runtime, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
