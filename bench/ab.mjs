// A/B comparison of two builds of registry-login, for deciding whether a change costs start-up time.
// Usage: node bench/ab.mjs <rootA> <rootB>   where each root holds bin/ and dist/ (a copy of the repository's after
// `npm run build`). Runs `node -e 0` and both builds' cached start-up cases interleaved round by round, in alternating
// order, and prints medians as ratios: each build against `node -e 0`, and B against A. BENCH_ROUNDS sets the rounds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { median, timed } from './common.mjs';
import { KEYS, REGIONS, startBenchStandIn } from './stand-in.mjs';

const roots = process.argv.slice(2, 4).map((r) => resolve(r));
if (roots.length !== 2) {
  console.error('usage: node bench/ab.mjs <rootA> <rootB> (each with bin/ and a built dist/)');
  process.exit(2);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 60);

const standIn = await startBenchStandIn();
const work = mkdtempSync(join(tmpdir(), 'rl-bench-ab-'));

function envFor(build, kind) {
  const env = {
    // Both builds and `node -e 0` run on the Node.js running this script (`bash scripts/fetch-node.sh -- node bench/ab.mjs`).
    PATH: `${join(build, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: join(work, `${roots.indexOf(build)}-${kind}`),
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: standIn.url,
  };
  for (let i = 0; i < 20; i++) {
    const prefix = `${kind.toUpperCase()}${String(i).padStart(2, '0')}_CONTAINER_REGISTRY_`;
    if (kind === 'ecr') {
      env[`${prefix}SERVER`] = `${100000000000 + i}.dkr.ecr.${REGIONS[i % 2]}.amazonaws.com`;
      env[`${prefix}USER`] = KEYS[Math.floor(i / 2) % 2].accessKeyId;
      env[`${prefix}PASSWORD`] = KEYS[Math.floor(i / 2) % 2].secretAccessKey;
    } else {
      env[`${prefix}SERVER`] = `registry${i}.example.com`;
      env[`${prefix}USER`] = 'AWS';
      env[`${prefix}PASSWORD`] = `${'p'.repeat(1995)}${10000 + i}`;
    }
  }
  return env;
}

function casesOf(build) {
  const cli = join(build, 'bin', 'registry-login');
  const helper = join(build, 'bin', 'docker-credential-registry-login');
  const ecr = envFor(build, 'ecr');
  const stat = envFor(build, 'static');
  return [
    { name: 'refresh, 20 ECR, cached', argv: [cli, 'refresh'], env: ecr },
    { name: 'refresh, 20 static, unchanged', argv: [cli, 'refresh'], env: stat },
    {
      name: 'helper get, ECR, cached',
      argv: [helper, 'get'],
      env: ecr,
      input: `${100000000007}.dkr.ecr.${REGIONS[1]}.amazonaws.com`,
    },
    { name: 'helper get, static', argv: [helper, 'get'], env: stat, input: 'registry7.example.com' },
  ];
}

// Warm-up (asynchronous: the stand-in answers from this process) fills each build's token and code caches.
const builds = roots.map((r) => ({ root: r, cases: casesOf(r) }));
for (const b of builds) for (const c of b.cases) for (let i = 0; i < 2; i++) await timed(c.argv, c.env, c.input);
await standIn.close();

/**
 * Wall milliseconds, CPU milliseconds (user + system, in 10 ms ticks: only their mean over many rounds means anything)
 * and peak RSS (KiB) of one run. A cached run needs no stand-in, so a failure here is a cache miss.
 */
function measure(argv, env, input) {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', ...argv], { env, input: input ?? '', encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [rss, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpu: (user + sys) * 1000, rss };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const node = { ms: [], cpu: [], rss: [] };
const samples = builds.map((b) => b.cases.map(() => ({ ms: [], cpu: [], rss: [] })));
const nodeEnv = builds[0].cases[0].env;
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [1, 0] : [0, 1];
  for (let c = 0; c < builds[0].cases.length; c++) {
    const m = measure(['node', '-e', '0'], nodeEnv);
    for (const k of ['ms', 'cpu', 'rss']) node[k].push(m[k]);
    for (const i of order) {
      const { argv, env, input } = builds[i].cases[c];
      const s = measure(argv, env, input);
      for (const k of ['ms', 'cpu', 'rss']) samples[i][c][k].push(s[k]);
    }
  }
}
const base = median(node.ms);
const baseRss = median(node.rss);
console.log(
  `A = ${roots[0]}\nB = ${roots[1]}\n${rounds} interleaved rounds, node ${process.version}, node -e 0 median ${base.toFixed(1)} ms wall, mean ${mean(node.cpu).toFixed(1)} ms CPU`,
);
console.table(
  builds[0].cases.map((c, k) => {
    const a = median(samples[0][k].ms);
    const b = median(samples[1][k].ms);
    return {
      case: c.name,
      'A x node': (a / base).toFixed(3),
      'B x node': (b / base).toFixed(3),
      'B / A': (b / a).toFixed(3),
      'A CPU x node': (mean(samples[0][k].cpu) / mean(node.cpu)).toFixed(3),
      'B CPU x node': (mean(samples[1][k].cpu) / mean(node.cpu)).toFixed(3),
      'B / A CPU': (mean(samples[1][k].cpu) / mean(samples[0][k].cpu)).toFixed(3),
      'A RSS x node': (median(samples[0][k].rss) / baseRss).toFixed(2),
      'B RSS x node': (median(samples[1][k].rss) / baseRss).toFixed(2),
    };
  }),
);
rmSync(work, { recursive: true, force: true });
