// Secrets: a sentinel run over every command, mode and failure path (and Node's debug output): no secret, raw or
// base64, appears anywhere but the files meant to hold it and the helper's `get` answer; those files are 0600 in
// 0700 directories, even under umask 000. (Replaces test/e2e/leaks.test.ts.) And passwords drawn from every
// printable ASCII character, " and \ always in, are printed in no form (raw, escaped, encoded) by any command.
import fc from 'fast-check';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeAgentHome, triple } from '../support/agent.js';
import { secretForms, writeEchoingStore } from '../support/echoing-store.js';
import { startEcrStandIn, type EcrStandIn } from '../support/ecr-stand-in.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';
import { runTimed, type TimedRun } from './harness.js';
import { Failures, recordFigure, size } from './figures.js';

const tmp = new TempDirs();
let registry: RunningRegistry;
let standIn: EcrStandIn;

const S = {
  good: 'S3ntinel-Good-Pw-7f1c',
  wrong: 'S3ntinel-Wrong-Pw-2b8d',
  closed: 'S3ntinel-Closed-Pw-5e3a',
  awsSecret: 'S3ntinel-Aws-Secret-Key-4d8e0000000000000',
  session: 'S3ntinel-Sess10nT0ken-9a2b',
  userinfo: 'S3ntinel-Userinfo-Pw-6c1f',
  half: 'S3ntinel-Half-Pw-3a7e',
  stored: 'S3ntinel-Stored-By-Docker-Login-1d4c',
  foreign: 'S3ntinel-Foreign-Victim-8b2e',
};
const AWS_KEY = { accessKeyId: 'ASIASENTINEL00000001', secretAccessKey: S.awsSecret, sessionToken: S.session };
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

beforeAll(async () => {
  registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'alice', password: S.good }] } });
  standIn = await startEcrStandIn({ keys: [AWS_KEY] });
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  await standIn?.close();
  await tmp.cleanup();
});

function forms(secret: string): string[] {
  const b = (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '');
  return [
    secret,
    b(secret),
    Buffer.from(secret).toString('base64url'),
    b(`alice:${secret}`),
    b(`u:${secret}`),
    b(`AWS:${secret}`),
    b(`someone:${secret}`),
  ];
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile()) yield p;
  }
}

describe('secrets', () => {
  it('appear only in the files that hold them and in the helper get answer, across every command and failure path', async () => {
    const root = await tmp.make('rl-secrets-');
    // umask 000: every file and directory registry-login creates must still be private.
    const wrapper = path.join(root, 'umask000');
    writeFileSync(wrapper, `#!/bin/sh\numask 000\nexec "$@"\n`);
    chmodSync(wrapper, 0o755);
    const env = {
      ...triple('GOOD', registry.host, 'alice', S.good),
      ...triple('WRONG', `localhost:${registry.port}`, 'alice', S.wrong),
      ...triple('CLOSED', '127.0.0.1:9', 'u', S.closed),
      ...triple('AWSKEYS', ECR, AWS_KEY.accessKeyId, S.awsSecret),
      AWSKEYS_CONTAINER_REGISTRY_SESSION_TOKEN: S.session,
      ...triple('USERINFO', `https://u:${S.userinfo}@registry.example.com`, 'u', S.userinfo),
      HALF_CONTAINER_REGISTRY_SERVER: 'half.example.com',
      HALF_CONTAINER_REGISTRY_PASSWORD: S.half,
      AWS_ENDPOINT_URL_ECR: standIn.url,
      REGISTRY_LOGIN_CHECK_TIMEOUT: '3',
    };
    const h = await makeAgentHome(root, env);
    await mkdir(h.dockerConfigDir, { recursive: true, mode: 0o700 });
    await writeFile(
      h.configPath,
      `{\n\t"auths": {\n\t\t"victim.example": {"auth": "${Buffer.from(`someone:${S.foreign}`).toString('base64')}"}\n\t}\n}\n`,
      { mode: 0o600 },
    );
    const { rm } = await import('node:fs/promises');
    await rm(h.dockerConfigDir, { recursive: true }); // created by registry-login under umask 000 instead

    const runs: [string, TimedRun, ('stdout' | 'stderr')[]][] = [];
    const cli = async (label: string, args: string[], extra: Record<string, string> = {}) =>
      runs.push([
        label,
        await runTimed(
          [path.join(BIN, 'registry-login'), ...args],
          { ...h.env, ...extra },
          { name: path.relative(BIN, wrapper), timeoutMs: 60_000 },
        ),
        ['stdout', 'stderr'],
      ]);
    const helper = async (label: string, action: string, input: string, extra: Record<string, string> = {}) =>
      runs.push([
        label,
        await runTimed(
          [path.join(BIN, 'docker-credential-registry-login'), action],
          { ...h.env, ...extra },
          { name: path.relative(BIN, wrapper), input, timeoutMs: 60_000 },
        ),
        action === 'get' ? ['stderr'] : ['stdout', 'stderr'],
      ]);

    const DEBUG = {
      NODE_DEBUG: 'http,https,net,tls,fs,stream,child_process,module,esm,timer,http2,dns,worker',
      DEBUG: '*',
      AWS_SDK_LOGGER: 'debug',
    };
    const rounds = size(3, 1);
    for (let round = 0; round < rounds; round++) {
      const suffix = round === 0 ? '' : ` (round ${round})`;
      await cli(`refresh${suffix}`, ['refresh']);
      if (round === 0)
        await writeFile(
          h.configPath,
          (await import('node:fs'))
            .readFileSync(h.configPath, 'utf8')
            .replace(
              /"auths": \{/,
              `"auths": {\n\t\t"victim.example": {"auth": "${Buffer.from(`someone:${S.foreign}`).toString('base64')}"},`,
            ),
        );
      for (const args of [
        ['refresh', '--json'],
        ['refresh', '--hook'],
        ['refresh', '--force'],
        ['refresh', '--force', '--json'],
        ['status'],
        ['status', '--json'],
        ['check'],
        ['check', '--json'],
        ['check', registry.host],
        ['check', 'nowhere.example'],
        ['--help'],
        ['--version'],
        ['refresh', '--bogus'],
        ['nonsense'],
        ['logout', 'nowhere.example'],
      ]) {
        await cli(`${args.join(' ')}${suffix}`, args);
      }
      for (const args of [['refresh', '--force', '--json'], ['refresh', '--hook'], ['check', '--json'], ['status']])
        await cli(`${args.join(' ')} with debug output${suffix}`, args, DEBUG);
      for (const args of [['status'], ['refresh', '--force']])
        await cli(`${args.join(' ')} with harmless debug output${suffix}`, args, { NODE_DEBUG: 'module,ESM,timer' });
      for (const section of [
        'http',
        'https',
        'tls',
        'net',
        'child_process',
        '*',
        'fs,HTTP',
        'htt*',
        '*TP',
        'n*t',
        'module,*',
        ' module',
      ])
        await cli(`refresh --force with NODE_DEBUG=${section}${suffix}`, ['refresh', '--force'], {
          NODE_DEBUG: section,
        });
      await helper(
        `helper store${suffix}`,
        'store',
        JSON.stringify({ ServerURL: 'typed.example.com', Username: 'me', Secret: S.stored }),
      );
      await helper(`helper store (garbage)${suffix}`, 'store', `not json ${S.stored}`);
      await helper(
        `helper store (wrong types)${suffix}`,
        'store',
        JSON.stringify({ ServerURL: 5, Username: 'me', Secret: S.stored }),
      );
      await helper(`helper list${suffix}`, 'list', '');
      await helper(`helper get${suffix}`, 'get', registry.host);
      await helper(`helper get (stored)${suffix}`, 'get', 'typed.example.com');
      await helper(`helper get (ecr)${suffix}`, 'get', ECR);
      await helper(`helper get (unknown)${suffix}`, 'get', 'nowhere.example');
      await helper(`helper get with debug output${suffix}`, 'get', ECR, DEBUG);
      await helper(`helper version${suffix}`, 'version', '');
      await helper(`helper bogus${suffix}`, 'bogus', '');
      await helper(`helper erase${suffix}`, 'erase', 'typed.example.com');
      await helper(
        `helper store again${suffix}`,
        'store',
        JSON.stringify({ ServerURL: 'typed.example.com', Username: 'me', Secret: S.stored }),
      );
    }
    // Failure paths: an ECR endpoint that resets, then a config that cannot be read.
    await cli('refresh --force (ECR endpoint closed)', ['refresh', '--force'], {
      AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
    });
    const saved = readFileSync(h.configPath, 'utf8');
    await writeFile(
      h.configPath,
      `{"auths": {"victim.example": {"auth": "${Buffer.from(`someone:${S.foreign}`).toString('base64')}" "x"}`,
    );
    for (const args of [['refresh'], ['refresh', '--json'], ['refresh', '--hook'], ['status'], ['check'], ['logout']])
      await cli(`${args.join(' ')} (broken config)`, args);
    await helper('helper get (broken config)', 'get', 'victim.example');
    await helper('helper list (broken config)', 'list', '');
    await writeFile(h.configPath, `${S.foreign}`);
    await cli('refresh (config is a bare secret)', ['refresh']);
    await writeFile(h.configPath, saved);
    await cli('logout', ['logout']);
    await cli('refresh (fresh DOCKER_CONFIG)', ['refresh'], { DOCKER_CONFIG: path.join(root, 'fresh-docker') });

    const failures = new Failures();
    const issued = standIn.calls.flatMap((c) => (c.password ? [c.password] : []));
    const everySecret = { ...S, ...Object.fromEntries(issued.map((t, i) => [`ecr-token-${i}`, t])) };
    for (const [label, result, streams] of runs) {
      for (const stream of streams)
        for (const [name, secret] of Object.entries(everySecret))
          for (const form of forms(secret))
            failures.check(!result[stream].includes(form), () => `${label}: ${stream} holds ${name}`);
    }
    // The runs did say something useful (a leak check over silent commands proves nothing).
    const said = (label: string) => runs.find(([l]) => l === label)![1];
    failures.check(
      said('refresh').exitCode === 1 &&
        /USERINFO: USERINFO_CONTAINER_REGISTRY_SERVER contains user information/.test(said('refresh').stderr),
      () => 'refresh did not report the userinfo problem',
    );
    failures.check(
      /unauthorized/.test(said('check').stdout) && /unreachable/.test(said('check').stdout),
      () => `check did not report unauthorized and unreachable: ${said('check').stdout}`,
    );
    failures.check(said('helper get').stdout.includes(S.good), () => 'helper get did not answer with the secret');
    failures.check(
      issued.some((token) => said('helper get (ecr)').stdout.includes(token)),
      () => 'helper get did not answer with an ECR token',
    );
    failures.check(said('refresh (broken config)').exitCode === 2, () => 'refresh on a broken config did not exit 2');
    // With Node's network debug output on, a run stops and says why; with harmless sections it runs as usual.
    failures.check(
      said('refresh --force --json with debug output').exitCode === 2 &&
        /unset NODE_DEBUG/.test(said('refresh --force --json with debug output').stderr),
      () => 'NODE_DEBUG=http did not stop refresh',
    );
    failures.check(
      said('status with harmless debug output').exitCode === 0,
      () => 'NODE_DEBUG=module,ESM,timer stopped status',
    );
    for (const section of ['htt*', '*TP', 'n*t', 'module,*'])
      failures.check(
        said(`refresh --force with NODE_DEBUG=${section}`).exitCode === 2,
        () => `NODE_DEBUG=${section} did not stop refresh`,
      );

    // Files: which hold a secret, and how they are protected.
    const allowed: Record<string, RegExp> = {
      config: /\/\.docker\/config\.json$|\/fresh-docker\/config\.json$/,
      stored: /\/registry-login\/docker-logins\.json$/,
      token: /\/\.cache\/registry-login\//,
    };
    const holders: string[] = [];
    for (const file of files(root)) {
      if (file === wrapper) continue;
      const text = readFileSync(file, 'latin1');
      const held = Object.entries(everySecret)
        .filter(([, secret]) => forms(secret).some((f) => text.includes(f)))
        .map(([n]) => n);
      if (held.length === 0) continue;
      holders.push(path.relative(root, file));
      const ok = Object.values(allowed).some((re) => re.test(file));
      failures.check(ok, () => `${path.relative(root, file)} holds ${held.join(', ')}`);
      const mode = statSync(file).mode & 0o777;
      failures.check(
        mode === 0o600,
        () => `${path.relative(root, file)} (holds secrets) is ${mode.toString(8)}, not 600`,
      );
      const dirMode = statSync(path.dirname(file)).mode & 0o777;
      failures.check(
        dirMode === 0o700,
        () => `${path.dirname(path.relative(root, file))} (holds a secret file) is ${dirMode.toString(8)}, not 700`,
      );
    }
    failures.check(
      holders.some((f) => f.endsWith('.docker/config.json')) &&
        holders.some((f) => f.endsWith('docker-logins.json')) &&
        holders.some((f) => f.includes('.cache/registry-login')),
      () =>
        `expected the config, the docker-login store and the token cache to hold secrets; found ${holders.join(', ')}`,
    );

    recordFigure({
      id: '8-secrets',
      property:
        'Secrets: sentinel secrets (passwords, AWS secret key, session token, ECR tokens, a docker-login secret, a foreign credential in the config) over every command, mode, failure path and NODE_DEBUG/DEBUG output, under umask 000',
      trials: runs.length,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'command runs checked': runs.length,
        'secret values, each in 7 raw/base64 forms': Object.keys(everySecret).length,
        'files holding a secret (all 0600 in 0700 directories)': holders.join(', '),
      },
    });
    expect(failures.list).toEqual([]);
  }, 600_000);

  it('no password drawn from printable ASCII, " and \\ included, is printed in any form by refresh, status or check (human and --json, in a container and on the host) or in a helper\'s error', async () => {
    const tokenRegistry = await startRegistry({ auth: { kind: 'token', users: [] } });
    const seed = Number(process.env.RL_SEED ?? Date.now() % 2 ** 31);
    const failures = new Failures();
    const root = await tmp.make('rl-secret-chars-');
    let trials = 0;
    let runsChecked = 0;
    const lengths: number[] = [];
    const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 24 });
    // Every printable ASCII character may be drawn; a quote and a backslash are always in.
    const password = fc
      .tuple(printable, printable, printable)
      .map(([a, b, c]) => `${a}"${b}\\${c}`)
      .filter((pw) => pw.trim().length >= 8);
    try {
      await fc.assert(
        fc.asyncProperty(password, async (pw) => {
          const trial = trials++;
          lengths.push(pw.length);
          const wrong = `${pw}-wrong`;
          const at = (what: string) => `trial ${trial} (seed ${seed}, ${pw.length} characters): ${what}`;
          // Output quoted in a failure, with the password in any form replaced: figures never hold a secret.
          const show = (text: string) =>
            Object.values(secretForms(pw))
              .reduce((out, form) => out.split(form).join('<password>'), text)
              .slice(0, 300);
          tokenRegistry.tokenServer!.setUsers([{ user: 'alice', password: pw }]);
          const asked = tokenRegistry.tokenServer!.requests.length;
          const dir = path.join(root, `t${trial}`);
          const box = await makeAgentHome(path.join(dir, 'container'), {
            ...triple('PROP', tokenRegistry.host, 'alice', pw),
            ...triple('WRONG', `localhost:${tokenRegistry.port}`, 'alice', wrong),
          });
          const host = await makeAgentHome(path.join(dir, 'host'), triple('PROP', tokenRegistry.host, 'alice', pw));
          const helpers = path.join(dir, 'helpers');
          await mkdir(helpers, { recursive: true });
          const store = await writeEchoingStore(helpers, 'echo');
          await mkdir(host.dockerConfigDir, { recursive: true });
          await writeFile(host.configPath, '{"credsStore": "echo"}\n');
          const hostEnv = { ...host.env, PATH: `${helpers}:${host.env.PATH}` };

          const runs: [string, TimedRun, ('stdout' | 'stderr')[]][] = [];
          const cli = async (args: string[], env: Record<string, string>) => {
            const run = await runTimed(args, env, { timeoutMs: 60_000 });
            runs.push([args.join(' '), run, ['stdout', 'stderr']]);
            return run;
          };
          const helper = async (action: string, input: string) => {
            const run = await runTimed([action], box.env, {
              name: 'docker-credential-registry-login',
              input,
              timeoutMs: 60_000,
            });
            runs.push([`helper ${action}`, run, action === 'get' ? ['stderr'] : ['stdout', 'stderr']]);
            return run;
          };

          for (const args of [['refresh'], ['refresh', '--json'], ['status'], ['status', '--json'], ['check']])
            await cli(args, box.env);
          const checked = await cli(['check', '--json'], box.env);
          await store.failStore(true);
          const refused = await cli(['refresh', '--host'], hostEnv);
          await cli(['refresh', '--host', '--json'], hostEnv);
          await store.failStore(false);
          const stored = await cli(['refresh', '--host'], hostEnv);
          const status = await cli(['status', '--host'], hostEnv);
          await cli(['status', '--host', '--json'], hostEnv);
          await helper('store', JSON.stringify({ ServerURL: 'typed.example.com', Username: 'me', Secret: pw }));
          await helper('store', JSON.stringify({ ServerURL: 5, Username: 'me', Secret: pw }));
          await helper('store', `not json ${pw}`);
          const got = await helper('get', 'typed.example.com');
          await helper('list', '');
          await helper('erase', 'typed.example.com');

          for (const [label, run, streams] of runs) {
            runsChecked++;
            for (const stream of streams)
              for (const [name, secret] of Object.entries({ password: pw, 'wrong password': wrong }))
                for (const [form, text] of Object.entries(secretForms(secret, ['alice', 'me'])))
                  failures.check(!run[stream].includes(text), () =>
                    at(`${label}: ${stream} holds the ${name} (${form})`),
                  );
          }
          // The runs handled the password (a leak check over runs that never saw it proves nothing).
          const results = (JSON.parse(checked.stdout) as { results: { key: string; result: string }[] }).results;
          failures.check(
            results.find((r) => r.key === tokenRegistry.host)?.result === 'ok' &&
              results.find((r) => r.key === `localhost:${tokenRegistry.port}`)?.result === 'unauthorized',
            () => at(`check --json did not say ok and unauthorized: ${show(checked.stdout)}`),
          );
          failures.check(
            tokenRegistry.tokenServer!.requests.slice(asked).some((r) => r.user === 'alice' && r.credsMatched),
            () => at('the token server never received the password whole'),
          );
          failures.check(
            refused.stderr.includes('failed to store the login ("refused: {') &&
              refused.stderr.includes('"Secret":"***"}'),
            () => at(`refresh --host did not report the helper's echoed error: ${show(refused.stderr)}`),
          );
          failures.check(
            stored.exitCode === 0 && status.stdout.includes('failed to get the login ("cannot read the record {'),
            () => at(`status --host did not report the helper's echoed record: ${show(status.stdout)}`),
          );
          failures.check((JSON.parse(got.stdout || '{}') as { Secret?: string }).Secret === pw, () =>
            at('helper get did not answer with the password'),
          );
        }),
        { numRuns: size(60, 2), seed, examples: [['Rl"quote\\back<&>%2F-9f3e']] },
      );
    } finally {
      await tokenRegistry.stop();
    }
    recordFigure({
      id: '8b-secret-characters',
      property:
        "Secrets of any printable ASCII character: generated passwords, a quote and a backslash always in, through refresh, status and check (human and --json, in a container and with --host against a store helper that echoes the secret in its errors) and the helper's store, get, list and erase",
      trials,
      failures: failures.count,
      examples: failures.examples(),
      facts: {
        'fast-check seed (RL_SEED)': seed,
        'command runs checked': runsChecked,
        'password lengths': `${Math.min(...lengths)} to ${Math.max(...lengths)} characters`,
        'forms checked per secret':
          'raw, JSON-escaped (as JavaScript and as Go write it, and twice), base64, base64url, base64 of user:secret, URL-encoded',
      },
    });
    expect(failures.list).toEqual([]);
  }, 1_800_000);
});
