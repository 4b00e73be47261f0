// refresh --host benchmarks (run after `npm run build`): the cost of an initializeCommand on every open of a dev
// container when nothing changed (20 static logins and ECR logins whose tokens are cached), in the config file and
// in a credential store, as ratios against `node -e 0` interleaved in one environment, with the store and AWS calls
// counted; and the same ECR logins the usual way on a host, 20 x (aws ecr get-login-password | docker login).
// Usage: node bench/host.mjs   (BENCH_ROUNDS, BENCH_AWS_ROUNDS to change the rounds)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEYS, REGIONS, startBenchStandIn } from './stand-in.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'registry-login');
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const awsRounds = Number(process.env.BENCH_AWS_ROUNDS ?? 2);
if (!existsSync(join(root, 'dist', 'registry-login.cjs'))) {
  console.error('bench/host.mjs: dist/ is missing; run `npm run build` first.');
  process.exit(2);
}

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
  const env = {
    PATH: `${withStore ? `${storeBin}:` : ''}${join(root, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: standIn.url,
    ...(runtime ? { XDG_RUNTIME_DIR: runtime } : {}),
  };
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
function ecrTriple(r) {
  return {
    [`${r.prefix}_CONTAINER_REGISTRY_SERVER`]: r.host,
    [`${r.prefix}_CONTAINER_REGISTRY_USER`]: r.key.accessKeyId,
    [`${r.prefix}_CONTAINER_REGISTRY_PASSWORD`]: r.key.secretAccessKey,
  };
}

// Asynchronous: the stand-in answers from this same process.
function run(argv, env, shell = false) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = shell
      ? spawn('/bin/bash', ['-o', 'pipefail', '-c', argv], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - start) / 1e6)
        : reject(new Error(`${shell ? argv : argv.join(' ')} exited ${code}: ${err.slice(-800)}`)),
    );
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
    // docker login checks the password at the registry: loopback registries that accept AWS:<token> from the stand-in.
    const servers = [];
    for (let i = 0; i < 20; i++) {
      const server = createServer((req, res) => {
        const [user, ...rest] = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
          .toString('utf8')
          .split(':');
        const ok = user === 'AWS' && standIn.calls.some((c) => c.password === rest.join(':'));
        res
          .writeHead(ok ? 200 : 401, {
            'docker-distribution-api-version': 'registry/2.0',
            ...(ok ? {} : { 'www-authenticate': 'Basic realm="bench"' }),
          })
          .end(ok ? '{}' : '');
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
    }
    const ecrEnv = (home) => {
      const env = {
        PATH: `${join(root, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        LANG: 'C.UTF-8',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_ENDPOINT_URL_ECR: standIn.url,
      };
      registries.forEach((r) => Object.assign(env, ecrTriple(r)));
      return env;
    };
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
        const env = {
          PATH: '/usr/bin:/bin',
          HOME: home,
          DOCKER_CONFIG: join(home, '.docker'),
          AWS_ACCESS_KEY_ID: r.key.accessKeyId,
          AWS_SECRET_ACCESS_KEY: r.key.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
        };
        total += await run(
          `"${aws}" ecr get-login-password --region ${r.region} --endpoint-url ${standIn.url} | "${docker}" login 127.0.0.1:${servers[i].address().port} --username AWS --password-stdin`,
          env,
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
    for (const s of servers) s.close();
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
