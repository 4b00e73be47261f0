// Memory-mode benchmarks (run after `npm run build`): with every secret in the memory directory, a cached static
// refresh of 20 registries, a cached ECR refresh of 20 registries and the helper's get, each as a ratio to `node -e 0`
// measured interleaved in the same run (target <= 1.35x each).
// Usage: node bench/memory.mjs   (BENCH_ROUNDS to change the rounds)
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEYS, REGIONS, startBenchStandIn } from './stand-in.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'registry-login');
const helper = join(root, 'bin', 'docker-credential-registry-login');
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET = 1.35;
if (!existsSync(join(root, 'dist', 'registry-login.cjs'))) {
  console.error('bench/memory.mjs: dist/ is missing; run `npm run build` first.');
  process.exit(2);
}

const standIn = await startBenchStandIn(0);
const work = mkdtempSync(join(tmpdir(), 'rl-bench-memory-'));
// The memory directory of this run alone, on the /dev/shm tmpfs (never the user's own).
const runtime = mkdtempSync('/dev/shm/rl-bench-memory-');
chmodSync(runtime, 0o700);

function baseEnv(home) {
  return {
    PATH: `${join(root, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    XDG_RUNTIME_DIR: runtime,
    REGISTRY_LOGIN_SECRETS: 'memory',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: standIn.url,
  };
}
const staticEnv = { ...baseEnv(join(work, 'static')) };
const ecrEnv = { ...baseEnv(join(work, 'ecr')), DOCKER_CONFIG: join(work, 'ecr', 'docker') };
for (let i = 0; i < 20; i++) {
  const p = `REG${String(i).padStart(2, '0')}`;
  staticEnv[`${p}_CONTAINER_REGISTRY_SERVER`] = `registry${i}.example.com`;
  staticEnv[`${p}_CONTAINER_REGISTRY_USER`] = `user${i}`;
  staticEnv[`${p}_CONTAINER_REGISTRY_PASSWORD`] = `password-${i}`;
  const e = `ECR${String(i).padStart(2, '0')}`;
  ecrEnv[`${e}_CONTAINER_REGISTRY_SERVER`] = `${String(100000000000 + i)}.dkr.ecr.${REGIONS[i % 2]}.amazonaws.com`;
  ecrEnv[`${e}_CONTAINER_REGISTRY_USER`] = KEYS[Math.floor(i / 2) % 2].accessKeyId;
  ecrEnv[`${e}_CONTAINER_REGISTRY_PASSWORD`] = KEYS[Math.floor(i / 2) % 2].secretAccessKey;
}

// Asynchronous: the stand-in answers from this same process.
function timed(argv, env, input) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}: ${err}`));
      else resolve(ms);
    });
    child.stdin.end(input ?? '');
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
