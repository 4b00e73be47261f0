// Role benchmarks (run after `npm run build`): 20 ECR registries reached through 2 roles in 2 accounts, against the
// stand-in answering after 200 ms: with an empty cache exactly 2 AssumeRole and 4 GetAuthorizationToken calls and a
// wall time near one role registry's; with every token cached no call and a start-up near `node -e 0`. Ratios are
// measured interleaved in one run and one environment.
// Usage: node bench/roles.mjs   (BENCH_ROUNDS to change the rounds)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checks, cli, cliEnv, ecrTriple, helper, median, requireBuild, timed } from './common.mjs';
import { KEYS, REGIONS, ROLES, startBenchStandIn } from './stand-in.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 11);
const DELAY_MS = 200;
requireBuild('bench/roles.mjs', 'assume-role.cjs');

const standIn = await startBenchStandIn(DELAY_MS);
const work = mkdtempSync(join(tmpdir(), 'rl-bench-roles-'));
// Twenty registries in twenty accounts whose repository policies let the two roles pull: 2 roles x 2 regions, all
// reached with KEYS[0], which may assume both roles.
const registries = Array.from({ length: 20 }, (_, i) => ({
  prefix: `ROLE${String(i).padStart(2, '0')}`,
  host: `${String(300000000000 + i)}.dkr.ecr.${REGIONS[i % 2]}.amazonaws.com`,
  key: KEYS[0],
  role: ROLES[Math.floor(i / 2) % 2].roleArn,
}));

function env(home, list, withRole = true) {
  const out = cliEnv(home, standIn.url, { AWS_ENDPOINT_URL_STS: standIn.url });
  for (const r of list) {
    Object.assign(out, ecrTriple(r));
    if (withRole) out[`${r.prefix}_CONTAINER_REGISTRY_ROLE_ARN`] = r.role;
  }
  return out;
}

const rows = [];
const { check, failed } = checks();
const kinds = (calls) => ({
  assume: calls.filter((c) => c.target === 'STS.AssumeRole').length,
  ecr: calls.filter((c) => c.target !== 'STS.AssumeRole').length,
});

console.log(
  `registry-login role benchmarks: node ${process.version}, stand-in answers after ${DELAY_MS} ms, ${rounds} interleaved rounds`,
);

// 1. Cold: 20 role registries vs one role registry vs one registry without a role, each with an empty cache.
{
  const homes = { twenty: join(work, 'twenty'), one: join(work, 'one'), plain: join(work, 'plain') };
  const envs = {
    twenty: env(homes.twenty, registries),
    one: env(homes.one, registries.slice(0, 1)),
    plain: env(homes.plain, registries.slice(0, 1), false),
  };
  const times = { twenty: [], one: [], plain: [] };
  const counts = [];
  for (let i = 0; i < rounds; i++) {
    for (const name of ['plain', 'one', 'twenty']) {
      rmSync(homes[name], { recursive: true, force: true });
      const before = standIn.calls.length;
      times[name].push(await timed([cli, 'refresh'], envs[name]));
      if (name === 'twenty') counts.push(kinds(standIn.calls.slice(before)));
    }
  }
  const exact = counts.every((c) => c.assume === 2 && c.ecr === 4);
  check(exact, `20 role registries made ${JSON.stringify(counts[0])} calls per refresh, not 2 AssumeRole + 4 ECR`);
  const ratio = median(times.twenty) / median(times.one);
  check(ratio <= 1.5, `20 role registries take ${ratio.toFixed(2)}x one role registry (target <= 1.5x)`);
  const base = median(times.one);
  rows.push({
    case: 'refresh, 1 ECR registry without a role, empty cache',
    'median ms': median(times.plain).toFixed(1),
    ratio: (median(times.plain) / base).toFixed(2),
    calls: '0 + 1',
    target: 'for comparison',
  });
  rows.push({
    case: 'refresh, 1 ECR registry through a role, empty cache',
    'median ms': base.toFixed(1),
    ratio: '1.00 (base)',
    calls: '1 + 1',
    target: '',
  });
  rows.push({
    case: 'refresh, 20 registries over 2 roles x 2 regions, empty cache',
    'median ms': median(times.twenty).toFixed(1),
    ratio: ratio.toFixed(2),
    calls: exact ? '2 + 4' : JSON.stringify(counts),
    target: '<= 1.5x',
  });
}

// 2. Cached: the same 20 role registries and the helper's get, vs node -e 0 in the same environment.
{
  const home = join(work, 'cached');
  const cachedEnv = env(home, registries);
  // The same registries without roles: what the cached run costs anyway, so the role's share is visible.
  const plainEnv = env(join(work, 'cached-plain'), registries, false);
  await timed([cli, 'refresh'], cachedEnv);
  await timed([cli, 'refresh'], plainEnv);
  const before = standIn.calls.length;
  const samples = { node: [], refresh: [], get: [], plain: [] };
  for (let i = 0; i < rounds * 2; i++) {
    samples.node.push(await timed(['node', '-e', '0'], cachedEnv));
    samples.refresh.push(await timed([cli, 'refresh'], cachedEnv));
    samples.get.push(await timed([helper, 'get'], cachedEnv, registries[7].host));
    samples.plain.push(await timed([cli, 'refresh'], plainEnv));
  }
  const made = standIn.calls.length - before;
  check(made === 0, `cached runs made ${made} calls`);
  const base = median(samples.node);
  rows.push({
    case: 'node -e 0 (same environment)',
    'median ms': base.toFixed(1),
    ratio: '1.00 (base)',
    calls: 0,
    target: '',
  });
  for (const [name, key, target] of [
    ['refresh, 20 role registries, all cached', 'refresh', true],
    ['  same, 20 registries without a role', 'plain', false],
    ['helper get, role registry, cached', 'get', true],
  ]) {
    const ratio = median(samples[key]) / base;
    if (target) check(ratio <= 1.35, `${name} is ${ratio.toFixed(2)}x node -e 0 (target <= 1.35x)`);
    rows.push({
      case: name,
      'median ms': median(samples[key]).toFixed(1),
      ratio: ratio.toFixed(2),
      calls: made,
      target: target ? '<= 1.35x node -e 0' : 'for comparison',
    });
  }
}

console.table(rows);
await standIn.close();
rmSync(work, { recursive: true, force: true });
if (failed()) process.exitCode = 1;
