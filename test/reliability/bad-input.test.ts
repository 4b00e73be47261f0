// Bad input, generated: arbitrary environments and arbitrary existing configs give a clear answer, the exit code the
// README's Commands table names, and never a damaged file. High-volume runs call runCli in-process with a real home on
// disk; large files go through the built CLI.
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { TempDirs } from '../support/tmp.js';
import { makeAgentHome } from '../support/agent.js';
import { FOREIGN, foreignIntact, runTimed, stateDirOf } from './harness.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: Record<string, string>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    tty: { stdout: false, stderr: false },
  });
  return { code, stdout, stderr };
}

let homes = 0;
async function freshHome(root: string, config: string | Buffer | undefined, env: Record<string, string> = {}) {
  const h = await makeAgentHome(path.join(root, `h${homes++}`), env);
  await mkdir(h.dockerConfigDir, { recursive: true, mode: 0o700 });
  if (config !== undefined) await writeFile(h.configPath, config, { mode: 0o600 });
  return h;
}

/** Every form in which a secret could leak: raw, base64 and base64url, alone or after user:. */
function leakForms(secret: string, user?: string): string[] {
  const forms = [
    secret,
    Buffer.from(secret).toString('base64').replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ];
  if (user !== undefined) forms.push(Buffer.from(`${user}:${secret}`).toString('base64').replace(/=+$/, ''));
  return forms.filter((f) => f.length >= 6);
}

// ---- generators --------------------------------------------------------------------------------------------------

const MEMBERS = ['SERVER', 'USER', 'PASSWORD', 'SESSION_TOKEN'];
const oddText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '\n', 'a\nb', 'x=y', '💥', 'ÉCR', '_', '__', 'a b', '\t', 'null', '$HOME', '../..'),
);
const prefix = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,10}$/), oddText);
const server = fc.oneof(
  fc.constantFrom(
    'ghcr.io',
    'docker.io',
    'https://index.docker.io/v1/',
    'registry.example.com:5000',
    'LOCALHOST:5000/path',
    '127.0.0.1:1',
    '[::1]:5000',
    'u:p@host',
    'http://h',
    'ftp://x',
    'a b',
    'reg.example.com:99999',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    'public.ecr.aws',
  ),
  fc.domain(),
  fc.tuple(fc.domain(), fc.integer({ min: 0, max: 70000 })).map(([d, p]) => `${d}:${p}`),
  oddText,
  fc.string({ unit: 'grapheme', minLength: 1000, maxLength: 5000 }),
);
/** Passwords carry a unique marker so that a leak check cannot pass or fail by coincidence. */
const password = fc
  .tuple(
    fc.nat(),
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom('\n', ' x ', '"\\', '\u0000'),
      fc.string({ minLength: 100_000, maxLength: 100_000 }),
    ),
  )
  .map(([n, rest]) => `Pw${n}Qz-${rest}`);
const variable = fc
  .tuple(prefix, fc.constantFrom(...MEMBERS), fc.boolean(), fc.oneof(server, password, oddText))
  .map(([p, m, lower, value]) => {
    const name = `${p}_CONTAINER_REGISTRY_${m}`;
    return [lower ? name.toLowerCase() : name, m === 'PASSWORD' || m === 'SESSION_TOKEN' ? value : value] as [
      string,
      string,
    ];
  });
// Whole logins are the common case; stray variables and odd names around them are the hard one.
const loginVars = fc.tuple(prefix, server, fc.oneof(fc.string({ maxLength: 20 }), fc.constant('AWS')), password).map(
  ([p, s, u, pw]) =>
    [
      [`${p}_CONTAINER_REGISTRY_SERVER`, s],
      [`${p}_CONTAINER_REGISTRY_USER`, u],
      [`${p}_CONTAINER_REGISTRY_PASSWORD`, pw],
    ] as [string, string][],
);
const environment = fc
  .tuple(
    fc.array(loginVars, { maxLength: 6 }),
    fc.array(variable, { maxLength: 8 }),
    fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 5 }),
  )
  .map(([ls, vs, noise]) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(noise)) if (!k.includes('=') && !k.includes('\u0000')) env[k] = v;
    for (const [k, v] of [...ls.flat(), ...vs])
      if (k !== '' && !k.includes('=') && !k.includes('\u0000')) env[k] = v.replace(/\u0000/g, '');
    return env;
  });

/** Docker-like configs: foreign logins, helpers, unknown keys of any JSON, unicode, formatted in assorted ways. */
const validConfigValue = fc
  .record({
    auths: fc.option(
      fc.dictionary(
        fc.oneof(fc.domain(), fc.string({ unit: 'grapheme', maxLength: 10 })),
        fc.record({ auth: fc.base64String({ maxLength: 40 }) }, { requiredKeys: [] }),
        { maxKeys: 6 },
      ),
      { nil: undefined },
    ),
    credHelpers: fc.option(fc.dictionary(fc.domain(), fc.string({ maxLength: 10 }), { maxKeys: 3 }), {
      nil: undefined,
    }),
    credsStore: fc.option(fc.constantFrom('desktop', 'devpod', 'dev-containers-1234', ''), { nil: undefined }),
    other: fc.dictionary(
      fc.string({ unit: 'grapheme', maxLength: 8 }).filter((k) => k !== 'auths' && k !== 'credHelpers'),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 4 },
    ),
  })
  .map(({ auths, credHelpers, credsStore, other }) => {
    const config: Record<string, unknown> = { ...other };
    if (auths !== undefined) config.auths = auths;
    if (credHelpers !== undefined) config.credHelpers = credHelpers;
    if (credsStore !== undefined) config.credsStore = credsStore;
    return config;
  });
const layout = fc.constantFrom<[string | number | undefined, string]>(
  [undefined, ''],
  ['\t', '\n'],
  [2, '\n'],
  [4, '\r\n'],
  ['\t', ''],
);
const validConfigText = fc.tuple(validConfigValue, layout).map(([value, [indent, eol]]) => {
  const text = JSON.stringify(value, null, indent);
  return (indent === undefined ? text : text.replace(/\n/g, eol === '\r\n' ? '\r\n' : '\n')) + eol;
});

const VICTIM = 'victim-Zx9Kq4Wm7Tr';
const victimAuth = Buffer.from(`someone:${VICTIM}`).toString('base64');
/** Configs registry-login must refuse, each holding a foreign credential the redactor does not know. */
const brokenConfig: fc.Arbitrary<[string, Buffer]> = fc.oneof(
  fc.tuple(validConfigValue, fc.double({ min: 0, max: 1, noNaN: true })).map(([v, at]) => {
    const text = JSON.stringify(
      { ...v, auths: { ...((v.auths as object) ?? {}), 'victim.example': { auth: victimAuth } } },
      null,
      '\t',
    );
    return ['truncated JSON', Buffer.from(text.slice(0, Math.max(1, Math.floor(at * (text.length - 1)))))] as [
      string,
      Buffer,
    ];
  }),
  validConfigText.map((t) => ['byte-order mark', Buffer.from(`\uFEFF${t}`)] as [string, Buffer]),
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map((v) => ['not an object', Buffer.from(JSON.stringify(v) ?? 'null')] as [string, Buffer]),
  fc
    .tuple(
      fc.constantFrom('auths', 'credHelpers'),
      fc.oneof(
        fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
      ),
    )
    .map(
      ([k, v]) =>
        ['wrong type', Buffer.from(JSON.stringify({ [k]: v, auths2: { x: { auth: victimAuth } } }))] as [
          string,
          Buffer,
        ],
    ),
  fc
    .constantFrom(
      `{"auths": {"a.example": {"auth": "${victimAuth}"}, "a.example": {}}}`,
      `{"credHelpers": {"a": "x"}, "credsStore": "y", "credHelpers": {"b": "z"}, "auths": {"v": {"auth": "${victimAuth}"}}}`,
      `{"auths": {"v": {"auth": "${victimAuth}"}}, "credHelpers": {"a": "x", "a": "y"}}`,
    )
    .map((t) => ['duplicate keys', Buffer.from(t)] as [string, Buffer]),
  fc
    .tuple(
      validConfigText,
      fc.nat(),
      fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]),
    )
    .map(([t, at, bad]) => {
      const withVictim = t.replace(/^\{/, `{"v": "${victimAuth}",`);
      const bytes = Buffer.from(withVictim);
      const i = 1 + (at % Math.max(1, bytes.length - 1));
      return ['not UTF-8', Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)])] as [
        string,
        Buffer,
      ];
    }),
  fc
    .uint8Array({ minLength: 1, maxLength: 200 })
    .map((b) => ['random bytes', Buffer.concat([Buffer.from(victimAuth), Buffer.from(b)])] as [string, Buffer]),
  fc
    .constantFrom(
      `${VICTIM}`,
      `{"auths": {"x": {"auth": ${victimAuth}}}}`,
      `{"auths": {"x": {"auth": "${victimAuth}" "y"}}}`,
    )
    .map((t) => ['secret in the broken spot', Buffer.from(t)] as [string, Buffer]),
);

// ---- properties ----------------------------------------------------------------------------------------------------

describe('bad input', () => {
  it('arbitrary environments: refresh exits 0 or 1, writes every login whole, keeps foreign entries, prints no secret, and logout gives the config back', async () => {
    const root = await tmp.make('rl-env-');
    const failures = new Failures();
    const seed = Number(process.env.RL_SEED ?? Date.now() % 2 ** 31);
    let runs = 0;
    let loginsWritten = 0;
    await fc.assert(
      fc.asyncProperty(environment, async (vars) => {
        runs++;
        const h = await freshHome(root, FOREIGN, vars);
        const label = `env ${JSON.stringify(Object.keys(vars)).slice(0, 300)}`;
        const first = await cli(['refresh', '--json'], h.env);
        failures.check(
          first.code === 0 || first.code === 1,
          () => `${label}: refresh exited ${first.code}: ${first.stderr.slice(0, 300)}`,
        );
        failures.check(!/unexpected failure/.test(first.stderr), () => `${label}: ${first.stderr.slice(0, 300)}`);
        // Secrets as discovery defines them (SPEC, Discovery): a variable named <PREFIX>_CONTAINER_REGISTRY_PASSWORD,
        // any case, a non-empty prefix without a line break (the pattern's `.`). A name with one is no registry
        // variable: its value is never read, and may equal words the output holds anyway ("e.g. ghcr.io").
        const passwords = Object.entries(vars)
          .filter(([k]) => /^.+_CONTAINER_REGISTRY_(PASSWORD|SESSION_TOKEN)$/i.test(k))
          .map(([, v]) => v);
        for (const secret of passwords) {
          for (const form of leakForms(secret)) {
            const out = first.stdout + first.stderr;
            const at = out.indexOf(form);
            failures.check(
              at === -1,
              () =>
                `refresh printed a password (${form === secret ? 'raw' : 'base64'}) ${JSON.stringify(secret.slice(0, 40))} in ${JSON.stringify(out.slice(Math.max(0, at - 150), at + form.length + 50))}; ${label}`,
            );
          }
        }
        const text = await readFile(h.configPath, 'utf8');
        const lost = foreignIntact(text);
        failures.check(lost === undefined, () => `${label}: ${lost}`);
        if (first.code !== 0 && first.code !== 1) return;
        const report = JSON.parse(first.stdout) as { logins: { prefix: string; key: string; status: string }[] };
        const config = JSON.parse(text) as {
          auths: Record<string, { auth: string }>;
          credHelpers: Record<string, string>;
        };
        // A generated password may equal text in a prefix or key (a stray PASSWORD of "docker.io"): the report then
        // masks it there, rightly, and such a login cannot be looked up by the report's words.
        for (const login of report.logins.filter(
          (l) => l.status === 'ok' && !l.key.includes('***') && !l.prefix.includes('***'),
        )) {
          loginsWritten++;
          const decoded = Buffer.from(config.auths[login.key]?.auth ?? '', 'base64').toString('utf8');
          const pw = Object.entries(vars).find(
            ([k, v]) => k.toUpperCase() === `${login.prefix}_CONTAINER_REGISTRY_PASSWORD` && v.trim() !== '',
          )?.[1];
          // What reaches the agent: the environment is UTF-8, so a lone surrogate arrives as U+FFFD.
          const sent = pw === undefined ? undefined : Buffer.from(pw, 'utf8').toString('utf8');
          failures.check(
            sent !== undefined && decoded.endsWith(`:${sent}`),
            () => `${label}: ${login.prefix} written without its whole password`,
          );
          failures.check(
            config.credHelpers[login.key] === 'registry-login',
            () => `${label}: no credHelpers entry for ${login.key}`,
          );
        }
        const again = await cli(['refresh'], h.env);
        failures.check(
          again.code === first.code && (await readFile(h.configPath, 'utf8')) === text,
          () => `${label}: a second refresh changed the file or the exit code`,
        );
        const logout = await cli(['logout'], h.env);
        failures.check(
          logout.code === 0,
          () => `${label}: logout exited ${logout.code}: ${logout.stderr.slice(0, 300)}`,
        );
        failures.check(
          isDeepStrictEqual(JSON.parse(await readFile(h.configPath, 'utf8')), JSON.parse(FOREIGN)),
          () => `${label}: logout did not give back the original config`,
        );
      }),
      { numRuns: size(600, 60), seed },
    );

    // Thousands of variables: noise, hundreds of logins, odd names; one refresh handles them in bounded time.
    const many: Record<string, string> = {};
    for (let i = 0; i < 4000; i++) many[`NOISE_${i}_${'x'.repeat(i % 50)}`] = `v${i}\n${'é'.repeat(i % 30)}`;
    for (let i = 0; i < 500; i++)
      Object.assign(many, {
        [`L${i}_CONTAINER_REGISTRY_SERVER`]: `r${i}.example.com`,
        [`l${i}_container_registry_user`]: `u${i}`,
        [`L${i}_CONTAINER_REGISTRY_PASSWORD`]: `Pw${i}Qz-many-${'p'.repeat(i)}`,
      });
    for (let i = 0; i < 200; i++) many[`HALF${i}_CONTAINER_REGISTRY_SERVER`] = `h${i}.example.com`;
    const h = await freshHome(root, FOREIGN, many);
    const started = performance.now();
    const big = await runTimed(['refresh', '--json'], h.env);
    const bigMs = performance.now() - started;
    const report = JSON.parse(big.stdout || '{"logins":[],"problems":[]}') as {
      logins: { status: string }[];
      problems: unknown[];
    };
    failures.check(
      big.exitCode === 1 &&
        report.logins.filter((l) => l.status === 'ok').length === 500 &&
        report.problems.length === 200,
      () => `4,700 variables: exit ${big.exitCode}, ${report.logins.length} logins, ${report.problems.length} problems`,
    );
    failures.check(
      foreignIntact(await readFile(h.configPath, 'utf8')) === undefined,
      () => '4,700 variables: foreign entries lost',
    );
    runs++;

    recordFigure({
      id: '4-bad-environments',
      property:
        'Bad input: arbitrary environments (odd and unicode prefixes, any case, newlines, NUL-free binary, 100 kB values, stray members, thousands of variables)',
      trials: runs,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'fast-check seed (RL_SEED)': seed,
        'logins written and verified': loginsWritten,
        '4,700 variables (500 logins, 200 incomplete): refresh wall time (ms)': Math.round(bigMs),
      },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);

  it('arbitrary existing configs: a broken one is refused with exit 2 and left byte for byte; a valid one keeps every foreign byte', async () => {
    const root = await tmp.make('rl-cfg-');
    const failures = new Failures();
    const env = {
      R_CONTAINER_REGISTRY_SERVER: 'registry.example.com',
      R_CONTAINER_REGISTRY_USER: 'u',
      R_CONTAINER_REGISTRY_PASSWORD: 'Pw-cfg-Qz81',
    };
    const kinds: Record<string, number> = {};
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(brokenConfig, async ([kind, bytes]) => {
        runs++;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        const h = await freshHome(root, bytes, env);
        const label = `${kind} ${JSON.stringify(bytes.toString('latin1').slice(0, 120))}`;
        for (const argv of [['refresh'], ['refresh', '--json'], ['refresh', '--hook'], ['logout']]) {
          const r = await cli(argv, h.env);
          // A duplicate key is refused only when the file must be edited; a logout with nothing to remove writes
          // nothing.
          if (kind === 'duplicate keys' && argv[0] === 'logout' && r.code === 0) continue;
          const want = argv.includes('--hook') ? 0 : 2;
          failures.check(r.code === want, () => `${label}: ${argv.join(' ')} exited ${r.code}, not ${want}`);
          failures.check(
            r.stderr.includes(h.configPath) &&
              /changed nothing/.test(r.stderr) &&
              /Fix or move the file/.test(r.stderr),
            () => `${label}: ${argv.join(' ')} said ${JSON.stringify(r.stderr.slice(0, 300))}`,
          );
          const out = r.stdout + r.stderr;
          const windows = Array.from({ length: victimAuth.length - 7 }, (_, i) => victimAuth.slice(i, i + 8));
          failures.check(
            !out.includes(VICTIM.slice(0, 8)) && !windows.some((w) => out.includes(w)),
            () => `${label}: ${argv.join(' ')} quoted a credential from the file`,
          );
        }
        failures.check(Buffer.compare(await readFile(h.configPath), bytes) === 0, () => `${label}: the file changed`);
        failures.check(
          isDeepStrictEqual(readdirSync(h.dockerConfigDir), ['config.json']),
          () => `${label}: files appeared beside the config: ${readdirSync(h.dockerConfigDir).join(', ')}`,
        );
        failures.check(!existsSync(stateDirOf(h.home)), () => `${label}: a ledger was written`);
      }),
      { numRuns: size(1500, 150) },
    );

    let validRuns = 0;
    await fc.assert(
      fc.asyncProperty(validConfigText, async (text) => {
        validRuns++;
        const h = await freshHome(root, text, env);
        const label = `valid ${JSON.stringify(text.slice(0, 200))}`;
        const r = await cli(['refresh'], h.env);
        failures.check(r.code === 0, () => `${label}: refresh exited ${r.code}: ${r.stderr.slice(0, 300)}`);
        const before = JSON.parse(text) as Record<string, unknown>;
        const after = JSON.parse(await readFile(h.configPath, 'utf8')) as Record<
          string,
          Record<string, { auth?: string }>
        >;
        for (const [key, value] of Object.entries(before)) {
          if (key !== 'auths' && key !== 'credHelpers')
            failures.check(isDeepStrictEqual(after[key], value), () => `${label}: ${key} changed`);
          else
            for (const [k, v] of Object.entries(value as object))
              if (k !== 'registry.example.com')
                failures.check(isDeepStrictEqual(after[key]?.[k], v), () => `${label}: ${key}[${k}] changed`);
        }
        failures.check(
          after.auths?.['registry.example.com']?.auth === Buffer.from('u:Pw-cfg-Qz81').toString('base64'),
          () => `${label}: the login was not written`,
        );
        const logout = await cli(['logout'], h.env);
        failures.check(
          logout.code === 0 && isDeepStrictEqual(JSON.parse(await readFile(h.configPath, 'utf8')), before),
          () => `${label}: logout did not give back the original config`,
        );
      }),
      { numRuns: size(800, 80) },
    );

    // Very large files, through the built CLI: a 30 MB valid config is edited in place; the same file cut short is
    // refused.
    const entries = Array.from(
      { length: 150_000 },
      (_, i) => `\t\t"host-${i}.example.com": {"auth": "${Buffer.from(`u${i}:p${i}`).toString('base64')}"}`,
    );
    const large = `{\n\t"auths": {\n${entries.join(',\n')}\n\t},\n\t"credsStore": "desktop"\n}\n`;
    const hl = await freshHome(root, large, env);
    const largeRun = await runTimed(['refresh'], hl.env, { timeoutMs: 120_000 });
    const largeAfter = await readFile(hl.configPath, 'utf8');
    failures.check(
      largeRun.exitCode === 0,
      () => `large valid config: refresh exited ${largeRun.exitCode}: ${largeRun.stderr.slice(0, 300)}`,
    );
    failures.check(
      largeAfter.startsWith(large.slice(0, large.lastIndexOf('\n\t},'))),
      () => 'large valid config: bytes before the new entry changed',
    );
    const cut = large.slice(0, Math.floor(large.length * 0.7));
    const hc = await freshHome(root, cut, env);
    const cutRun = await runTimed(['refresh'], hc.env, { timeoutMs: 120_000 });
    const cutKept = (await readFile(hc.configPath, 'utf8')) === cut;
    failures.check(
      cutRun.exitCode === 2 && cutKept,
      () => `large truncated config: exit ${cutRun.exitCode}, file ${cutKept ? 'kept' : 'CHANGED'}`,
    );
    runs += 2;

    recordFigure({
      id: '5-bad-configs',
      property:
        'Bad input: arbitrary existing configs (truncated JSON, BOM, non-objects, wrong types, duplicate keys, non-UTF-8 bytes, random bytes, very large files) and valid docker-like ones',
      trials: runs + validRuns,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        ...Object.fromEntries(Object.entries(kinds).map(([k, n]) => [`broken: ${k}`, n])),
        'valid configs (foreign entries kept, logout restores)': validRuns,
        [`large valid config (${(large.length / 1e6).toFixed(0)} MB): refresh wall time (ms)`]: Math.round(largeRun.ms),
        'large truncated config: refresh wall time (ms)': Math.round(cutRun.ms),
      },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
