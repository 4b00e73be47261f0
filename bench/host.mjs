// refresh --host benchmarks (run after `npm run build`): the cost of an initializeCommand on every open of a dev
// container when nothing changed (20 static logins and ECR logins whose tokens are cached), in the config file and
// in a credential store, as ratios against `node -e 0` interleaved in one environment, with the store and AWS calls
// counted; and the same ECR logins the usual way on a host, 20 x (aws ecr get-login-password | docker login).
// Usage: node bench/host.mjs   (BENCH_ROUNDS, BENCH_AWS_ROUNDS to change the rounds)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CLI_PATH,
  cli,
  cliEnv,
  ecrTriple,
  median,
  requireBuild,
  startLoopbackRegistries,
  timed,
  usualWayCommand,
  usualWayEnv,
} from './common.mjs';
import { KEYS, REGIONS, startBenchStandIn } from './stand-in.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const awsRounds = Number(process.env.BENCH_AWS_ROUNDS ?? 2);
requireBuild('bench/host.mjs');

const standIn = await startBenchStandIn();
const work = mkdtempSync(join(tmpdir(), 'rl-bench-host-'));
// $XDG_RUNTIME_DIR (a tmpfs of the user's) holds the key that a static login kept in a store is fingerprinted with.
const runtime = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/rl-bench-runtime-') : undefined;

// A credential store that keeps logins in files and logs every call: what a keychain does, minus the keychain.
const storeBin = join(work, 'store-bin');
const storeLog = join(work, 'store-calls.log');
mkdirSync(storeBin);
writeFileSync(
  join(storeBin, 'docker-credential-benchstore'),
  `#!/bin/sh
echo "$1" >> '${storeLog}'
dir='${join(work, 'store')}'; mkdir -p "$dir"
case "$1" in
  store) input=$(cat); key=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/' | tr '/:' '__'); printf '%s' "$input" > "$dir/$key";;
  get) key=$(cat | tr '/:' '__'); if [ -f "$dir/$key" ]; then cat "$dir/$key"; else echo "credentials not found in native keychain"; exit 1; fi;;
  erase) key=$(cat | tr '/:' '__'); rm -f "$dir/$key";;
  list) echo '{}';;
esac
`,
);
chmodSync(join(storeBin, 'docker-credential-benchstore'), 0o755);
const storeCalls = () => (existsSync(storeLog) ? readFileSync(storeLog, 'utf8').split('\n').filter(Boolean).length : 0);

function hostEnv(home, withStore) {
  const env = cliEnv(home, standIn.url, {
    ...(withStore ? { PATH: `${storeBin}:${CLI_PATH}` } : {}),
    ...(runtime ? { XDG_RUNTIME_DIR: runtime } : {}),
  });
  for (let i = 0; i < 20; i++) {
    env[`STATIC${i}_CONTAINER_REGISTRY_SERVER`] = `registry${i}.example.com:5000`;
    env[`STATIC${i}_CONTAINER_REGISTRY_USER`] = `user${i}`;
    env[`STATIC${i}_CONTAINER_REGISTRY_PASSWORD`] = `password-${i}-${'x'.repeat(40)}`;
  }
  ecrRegistries(4).forEach((r) => Object.assign(env, ecrTriple(r)));
  if (withStore) {
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker', 'config.json'), '{\n\t"credsStore": "benchstore"\n}\n');
  }
  return env;
}

function ecrRegistries(n) {
  return Array.from({ length: n }, (_, i) => ({
    prefix: `ECR${i}`,
    host: `${200000000000 + i}.dkr.ecr.${REGIONS[i % 2]}.amazonaws.com`,
    region: REGIONS[i % 2],
    key: KEYS[Math.floor(i / 2) % 2],
  }));
}

// Every run here has no stdin and reports the last 800 characters of its stderr; with shell, argv is a command line.
const run = (argv, env, shell = false) => timed(argv, env, undefined, { shell, stdin: 'ignore', stderrTail: 800 });

console.log(`registry-login refresh --host benchmarks: node ${process.version}, ${rounds * 2} interleaved rounds`);
const rows = [];
let failed = false;

// 1. Unchanged: 20 static logins and 4 ECR logins (2 keys x 2 regions) with cached tokens, in the file and in a store.
{
  const fileEnv = hostEnv(join(work, 'file'), false);
  const storeEnv = hostEnv(join(work, 'store-home'), true);
  const [firstStart, firstAws] = [storeCalls(), standIn.calls.length];
  const firstMs = await run([cli, 'refresh', '--host'], storeEnv);
  const [firstCalls, firstAwsCalls] = [storeCalls() - firstStart, standIn.calls.length - firstAws];
  await run([cli, 'refresh', '--host'], fileEnv);
  const [callsBefore, awsBefore] = [storeCalls(), standIn.calls.length];
  const samples = { node: [], file: [], store: [] };
  for (let i = 0; i < rounds * 2; i++) {
    samples.node.push(await run(['node', '-e', '0'], fileEnv));
    samples.file.push(await run([cli, 'refresh', '--host'], fileEnv));
    samples.store.push(await run([cli, 'refresh', '--host'], storeEnv));
  }
  const [stores, aws] = [storeCalls() - callsBefore, standIn.calls.length - awsBefore];
  const base = median(samples.node);
  rows.push({
    case: 'node -e 0 (same environment)',
    'median ms': base.toFixed(1),
    'x node -e 0': '1.00',
    'store calls': '',
    'AWS calls': '',
    target: '',
  });
  for (const [name, key] of [
    ['refresh --host, 24 unchanged (20 static + 4 ECR cached), config file', 'file'],
    ['refresh --host, the same in a credsStore helper', 'store'],
  ]) {
    const ratio = median(samples[key]) / base;
    if (ratio > 1.35) failed = true;
    rows.push({
      case: name,
      'median ms': median(samples[key]).toFixed(1),
      'x node -e 0': ratio.toFixed(2),
      'store calls': key === 'store' ? stores : 0,
      'AWS calls': aws,
      target: '<= 1.35x, 0 calls',
    });
  }
  if (stores !== 0 || aws !== 0) failed = true;
  // A restart empties the memory directory: the first run checks each static login in the store once.
  if (runtime) {
    rmSync(join(runtime, 'registry-login'), { recursive: true, force: true });
    const before = storeCalls();
    const ms = await run([cli, 'refresh', '--host'], storeEnv);
    const calls = storeCalls() - before;
    const next = storeCalls();
    await run([cli, 'refresh', '--host'], storeEnv);
    rows.push({
      case: '  first refresh --host after a restart (memory key gone), store',
      'median ms': ms.toFixed(1),
      'x node -e 0': (ms / base).toFixed(2),
      'store calls': `${calls}, then ${storeCalls() - next}`,
      'AWS calls': '',
      target: 'one get per static login, then 0',
    });
    if (storeCalls() - next !== 0) failed = true;
  }
  rows.push({
    case: '  first refresh --host into the store (for scale)',
    'median ms': firstMs.toFixed(1),
    'x node -e 0': (firstMs / base).toFixed(2),
    'store calls': firstCalls,
    'AWS calls': firstAwsCalls,
    target: 'one get + one store per login',
  });
}

// 2. The usual way on a host for ECR: 20 x (aws ecr get-login-password | docker login) vs refresh --host, cached and
// not.
{
  const aws = '/usr/bin/aws';
  const docker = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
  if (!existsSync(aws) || !docker) {
    console.log('\nSKIPPED the usual-way comparison: it needs Debian awscli (/usr/bin/aws) and the docker CLI.');
  } else {
    const registries = ecrRegistries(20);
    const loopback = await startLoopbackRegistries(20, standIn);
    const ecrEnv = (home) => Object.assign(cliEnv(home, standIn.url), ...registries.map(ecrTriple));
    const usual = [];
    const cold = [];
    const warm = [];
    const coldCalls = [];
    const warmCalls = [];
    for (let round = 0; round < awsRounds; round++) {
      const home = join(work, `usual-${round}`);
      mkdirSync(join(home, '.docker'), { recursive: true });
      let total = 0;
      for (const [i, r] of registries.entries()) {
        total += await run(
          usualWayCommand(aws, docker, r.region, standIn.url, loopback.ports[i]),
          usualWayEnv(home, r.key),
          true,
        );
      }
      usual.push(total);
      const ours = join(work, `ours-${round}`);
      let before = standIn.calls.length;
      cold.push(await run([cli, 'refresh', '--host'], ecrEnv(ours)));
      coldCalls.push(standIn.calls.length - before);
      before = standIn.calls.length;
      warm.push(await run([cli, 'refresh', '--host'], ecrEnv(ours)));
      warmCalls.push(standIn.calls.length - before);
    }
    loopback.close();
    const awsVersion =
      (/aws-cli\/(\S+)/.exec(
        spawnSync(aws, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: work } }).stdout,
      ) ?? [])[1] ?? '?';
    rows.push({
      case: `20 ECR registries: 20 x (aws ${awsVersion} ecr get-login-password | docker login)`,
      'median ms': median(usual).toFixed(0),
      'x node -e 0': '',
      'store calls': '',
      'AWS calls': 20,
      target: 'report',
    });
    rows.push({
      case: '  refresh --host, same 20, empty token cache',
      'median ms': median(cold).toFixed(0),
      'x node -e 0': `usual way is ${(median(usual) / median(cold)).toFixed(1)}x this`,
      'store calls': 0,
      'AWS calls': coldCalls.join('/'),
      target: 'report',
    });
    rows.push({
      case: '  refresh --host, same 20, unchanged',
      'median ms': median(warm).toFixed(0),
      'x node -e 0': `usual way is ${(median(usual) / median(warm)).toFixed(0)}x this`,
      'store calls': 0,
      'AWS calls': warmCalls.join('/'),
      target: 'report',
    });
    if (warmCalls.some((n) => n !== 0)) failed = true;
  }
}

console.table(rows);
await standIn.close();
rmSync(work, { recursive: true, force: true });
if (runtime) rmSync(runtime, { recursive: true, force: true });
if (failed) {
  console.error('FAILED: an unchanged refresh --host went over 1.35x node -e 0, or made a store or AWS call.');
  process.exitCode = 1;
}
