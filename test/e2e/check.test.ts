// `registry-login check` and `status` end to end: the built CLI against real registries on 127.0.0.1.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, runHelper, triple } from '../support/agent.js';
import { freePort } from '../support/ports.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { TempDirs } from '../support/tmp.js';

// Distinctive secrets, so a leak check cannot pass by accident.
const BASIC_PASSWORD = 'basic-pw-Vq8Zr2Lx';
const TOKEN_PASSWORD = 'token-pw-Kd3Wn7Ty';
const WRONG_PASSWORD = 'wrong-pw-Hs5Mb1Qe';
const SELF_SIGNED_PASSWORD = 'selfsigned-pw-Jc4Pf6Ua';
const AWS_SECRET = 'aws-secret-Zt9Xw3Rb';
const FORWARDED_PASSWORD = 'forwarded-pw-Ng2Rc8Wd';
const SECRETS = [BASIC_PASSWORD, TOKEN_PASSWORD, WRONG_PASSWORD, SELF_SIGNED_PASSWORD, AWS_SECRET, FORWARDED_PASSWORD];
const USERS = ['alice', 'bob', 'carol', 'dave', 'x'];

const dirs = new TempDirs();
let basicRegistry: RunningRegistry;
let tokenRegistry: RunningRegistry;
let selfSignedRegistry: RunningRegistry;
let certsRoot: string;
const outputs: string[] = [];

beforeAll(async () => {
  [basicRegistry, tokenRegistry, selfSignedRegistry] = await Promise.all([
    startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'alice', password: BASIC_PASSWORD }] } }),
    startRegistry({ tls: true, auth: { kind: 'token', users: [{ user: 'bob', password: TOKEN_PASSWORD }] } }),
    startRegistry({
      tls: true,
      auth: { kind: 'htpasswd', users: [{ user: 'carol', password: SELF_SIGNED_PASSWORD }] },
    }),
  ]);
  // A certs.d tree, as /etc/docker/certs.d, that trusts the token registry only.
  certsRoot = await dirs.make('rl-certs-d-');
  await mkdir(path.join(certsRoot, tokenRegistry.host));
  await writeFile(path.join(certsRoot, tokenRegistry.host, 'ca.crt'), tokenRegistry.certPem!);
}, 120_000);

afterAll(async () => {
  await Promise.all([basicRegistry?.stop(), tokenRegistry?.stop(), selfSignedRegistry?.stop()]);
  await dirs.cleanup();
});

/** A fresh home (docker config in ~/.docker), bin/ and extraPath on PATH, certs.d pointed at this file's tree. */
async function sandbox(
  secrets: Record<string, string>,
  extraPath: string[] = [],
): Promise<{ env: Record<string, string>; configFile: string }> {
  const home = await makeAgentHome(await dirs.make('rl-check-'), { REGISTRY_LOGIN_CERTS_D: certsRoot, ...secrets });
  const env = { ...home.env, PATH: [...extraPath, home.env.PATH].join(path.delimiter) };
  return { env, configFile: home.configPath };
}

/** Runs the built CLI and fails on the spot if any test secret shows in its output. */
async function run(args: string[], env: Record<string, string>) {
  const result = await runAgent(args, env);
  expectNoSecret(`${result.stdout}\n${result.stderr}`);
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function checkJson(env: Record<string, string>, keys: string[] = []) {
  const result = await run(['check', ...keys, '--json'], env);
  const parsed = JSON.parse(result.stdout) as {
    results: { key: string; prefix?: string; result: string; detail?: string }[];
    problems: unknown[];
  };
  return { ...result, parsed, byKey: (key: string) => parsed.results.find((r) => r.key === key) };
}

/** Fails when any test secret, raw or base64 (alone or as user:password), appears in text. */
function expectNoSecret(text: string): void {
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    for (const user of USERS)
      expect(text).not.toContain(Buffer.from(`${user}:${secret}`).toString('base64').replace(/=+$/, ''));
  }
}

describe('registry-login check', () => {
  it('reports ok for basic auth over plain http on loopback, after refresh wrote the login', async () => {
    const { env } = await sandbox(triple('ACME', basicRegistry.host, 'alice', BASIC_PASSWORD));
    expect((await run(['refresh'], env)).exitCode).toBe(0);
    const { exitCode, parsed, byKey } = await checkJson(env);
    expect(parsed.results).toHaveLength(1);
    expect(byKey(basicRegistry.host)).toMatchObject({ result: 'ok', prefix: 'ACME' });
    expect(byKey(basicRegistry.host)!.detail).toContain(`basic auth accepted at http://${basicRegistry.host}/v2/`);
    expect(exitCode).toBe(0);
    const human = await run(['check'], env);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`ok\\s+${basicRegistry.host.replace(/\./g, '\\.')}`));
  });

  it('reports ok for token auth over TLS with the CA in the certs.d directory, asking the token server as docker login does', async () => {
    const { env } = await sandbox(triple('TOKENREG', tokenRegistry.host, 'bob', TOKEN_PASSWORD));
    expect((await run(['refresh'], env)).exitCode).toBe(0);
    const before = tokenRegistry.tokenServer!.requests.length;
    const { exitCode, byKey } = await checkJson(env);
    expect(byKey(tokenRegistry.host)).toMatchObject({ result: 'ok' });
    expect(byKey(tokenRegistry.host)!.detail).toContain(`accepted at https://${tokenRegistry.host}/v2/`);
    expect(exitCode).toBe(0);
    const asked = tokenRegistry.tokenServer!.requests.slice(before);
    expect(asked).toHaveLength(1);
    // docker login: GET with Basic credentials, the challenge's service, and no scope.
    expect(asked[0]).toMatchObject({
      method: 'GET',
      user: 'bob',
      credsMatched: true,
      service: tokenRegistry.tokenServer!.service,
      scopes: [],
    });
  });

  it('does not send the credentials to a plain-http token server off this machine when the registry itself is plain http on loopback (port-forwarded), and says why', async () => {
    // The realm names 0.0.0.0: not a loopback address, so it stands for a remote token server, yet on Linux a
    // connection to it reaches the token server listening on 127.0.0.1. Whatever would be sent is seen here, and
    // nothing can leave the machine (no name to resolve, no route out).
    const users = [{ user: 'dave', password: FORWARDED_PASSWORD }];
    const [remote, local] = await Promise.all([
      startRegistry({ auth: { kind: 'token', users, realmHost: '0.0.0.0' } }),
      startRegistry({ auth: { kind: 'token', users } }),
    ]);
    try {
      const { env } = await sandbox({
        ...triple('FORWARDED', remote.host, 'dave', FORWARDED_PASSWORD),
        ...triple('LOCAL', local.host, 'dave', FORWARDED_PASSWORD),
      });
      expect((await run(['refresh'], env)).exitCode).toBe(0);
      const { exitCode, byKey } = await checkJson(env);
      expect(exitCode).toBe(1);
      const realm = `http://0.0.0.0:${remote.tokenServer!.port}/token`;
      const refused = byKey(remote.host)!;
      expect(refused).toMatchObject({ result: 'error', prefix: 'FORWARDED' });
      expect(refused.detail).toBe(
        `${remote.host} (FORWARDED_CONTAINER_REGISTRY_*): the registry's token server ${realm} is plain http and not on this machine, so the credentials were not sent to it (they would cross the network in clear text): the registry must name an https:// realm in its Bearer challenge; tell its operator`,
      );
      expect(remote.tokenServer!.requests).toEqual([]);
      // The same registry with its realm on loopback logs in: the refusal is the realm's host, nothing else.
      expect(byKey(local.host)).toMatchObject({ result: 'ok', prefix: 'LOCAL' });
      expect(local.tokenServer!.requests).toMatchObject([{ user: 'dave', credsMatched: true }]);
      const human = await run(['check'], env);
      expect(human.exitCode).toBe(1);
      expect(human.stdout).toContain(`error  ${remote.host}`);
      expect(human.stdout).toContain(`token server ${realm} is plain http and not on this machine`);
      expect(remote.tokenServer!.requests).toEqual([]);
    } finally {
      await Promise.all([remote.stop(), local.stop()]);
    }
  });

  it('reports a wrong password as unauthorized, naming the prefix and registry and saying what to do (basic and token auth)', async () => {
    const { env } = await sandbox({
      ...triple('ACME', basicRegistry.host, 'alice', WRONG_PASSWORD),
      ...triple('BETA', tokenRegistry.host, 'bob', WRONG_PASSWORD),
    });
    await run(['refresh'], env);
    const { exitCode, byKey } = await checkJson(env);
    expect(exitCode).toBe(1);
    const basic = byKey(basicRegistry.host)!;
    expect(basic.result).toBe('unauthorized');
    expect(basic.detail).toMatch(
      new RegExp(`password of ACME_CONTAINER_REGISTRY_\\* is refused by ${basicRegistry.host.replace(/\./g, '\\.')}`),
    );
    expect(basic.detail).toContain('update the secret, then run `registry-login refresh`');
    const token = byKey(tokenRegistry.host)!;
    expect(token.result).toBe('unauthorized');
    expect(token.detail).toContain('BETA_CONTAINER_REGISTRY_*');
    expect(token.detail).toContain(`HTTP 401 from the token server ${tokenRegistry.tokenServer!.realm}`);
    const human = await run(['check'], env);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toContain('unauthorized');
    expect(human.stdout).toContain('ACME_CONTAINER_REGISTRY_*');
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    const key = `127.0.0.1:${port}`;
    const { env } = await sandbox(triple('CLOSED', key, 'alice', BASIC_PASSWORD));
    const { exitCode, byKey } = await checkJson(env);
    expect(exitCode).toBe(1);
    expect(byKey(key)).toMatchObject({ result: 'unreachable', prefix: 'CLOSED' });
    expect(byKey(key)!.detail).toContain('connection refused');
    expect(byKey(key)!.detail).toContain('CLOSED_CONTAINER_REGISTRY_SERVER');
  });

  it('reports a registry that accepts the connection but never answers as unreachable within the timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const key = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const { env } = await sandbox({
        ...triple('SILENT', key, 'alice', BASIC_PASSWORD),
        REGISTRY_LOGIN_CHECK_TIMEOUT: '1',
      });
      const started = Date.now();
      const { byKey } = await checkJson(env);
      expect(byKey(key)).toMatchObject({ result: 'unreachable' });
      expect(byKey(key)!.detail).toContain('no answer within 1 s');
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      silent.close();
    }
  });

  it('reports a self-signed registry whose CA is not trusted as tls, pointing at its certs.d directory', async () => {
    const { env } = await sandbox(triple('SELFSIGNED', selfSignedRegistry.host, 'carol', SELF_SIGNED_PASSWORD));
    await run(['refresh'], env);
    const { exitCode, byKey } = await checkJson(env);
    expect(exitCode).toBe(1);
    const result = byKey(selfSignedRegistry.host)!;
    expect(result.result).toBe('tls');
    expect(result.detail).toContain('self-signed');
    expect(result.detail).toContain(path.join(certsRoot, selfSignedRegistry.host, 'ca.crt'));
  });

  it('trusts NODE_EXTRA_CA_CERTS, also for a registry whose certs.d directory adds other CAs (added to, not replacing, the defaults)', async () => {
    const { env } = await sandbox(triple('SELFSIGNED', selfSignedRegistry.host, 'carol', SELF_SIGNED_PASSWORD));
    await run(['refresh'], env);
    const withExtra = { ...env, NODE_EXTRA_CA_CERTS: selfSignedRegistry.certPath! };
    expect((await checkJson(withExtra)).byKey(selfSignedRegistry.host)!.result).toBe('ok');
    // A certs.d directory for the host holding an unrelated CA: the extra CA must still count.
    const otherRoot = await dirs.make('rl-certs-d-other-');
    await mkdir(path.join(otherRoot, selfSignedRegistry.host));
    await writeFile(path.join(otherRoot, selfSignedRegistry.host, 'unrelated.crt'), tokenRegistry.certPem!);
    expect(
      (await checkJson({ ...withExtra, REGISTRY_LOGIN_CERTS_D: otherRoot })).byKey(selfSignedRegistry.host)!.result,
    ).toBe('ok');
    expect(
      (await checkJson({ ...env, REGISTRY_LOGIN_CERTS_D: otherRoot })).byKey(selfSignedRegistry.host)!.result,
    ).toBe('tls');
  });

  it('checks several registries in one run, only the named ones when keys are given, and says when a key has no secrets', async () => {
    const port = await freePort();
    const { env } = await sandbox({
      ...triple('ACME', basicRegistry.host, 'alice', BASIC_PASSWORD),
      ...triple('TOKENREG', tokenRegistry.host, 'bob', TOKEN_PASSWORD),
      ...triple('CLOSED', `127.0.0.1:${port}`, 'x', WRONG_PASSWORD),
    });
    await run(['refresh'], env);
    const all = await checkJson(env);
    expect(all.parsed.results.map((r) => [r.key, r.result]).sort()).toEqual(
      [
        [basicRegistry.host, 'ok'],
        [tokenRegistry.host, 'ok'],
        [`127.0.0.1:${port}`, 'unreachable'],
      ].sort(),
    );
    expect(all.exitCode).toBe(1);
    const named = await checkJson(env, [`https://${basicRegistry.host}/some/path`, tokenRegistry.host]);
    expect(named.parsed.results.map((r) => r.result)).toEqual(['ok', 'ok']);
    expect(named.exitCode).toBe(0);
    const unknown = await checkJson(env, ['registry.example.com']);
    expect(unknown.parsed.results).toEqual([
      {
        key: 'registry.example.com',
        result: 'error',
        detail: expect.stringContaining('no *_CONTAINER_REGISTRY_SERVER secret names registry.example.com'),
      },
    ]);
    expect(unknown.exitCode).toBe(1);
  });

  it('says not-effective when the secret works but docker would not use it (not written yet, another credHelper, a changed entry)', async () => {
    const otherBin = await dirs.make('rl-other-helper-');
    await writeFile(
      path.join(otherBin, 'docker-credential-other'),
      '#!/bin/sh\necho "credentials not found in native keychain"; exit 1\n',
    );
    await chmod(path.join(otherBin, 'docker-credential-other'), 0o755);
    const { env, configFile } = await sandbox(triple('ACME', basicRegistry.host, 'alice', BASIC_PASSWORD), [otherBin]);
    const key = basicRegistry.host;

    const before = await checkJson(env);
    expect(before.byKey(key)).toMatchObject({ result: 'not-effective' });
    expect(before.byKey(key)!.detail).toContain(`holds no login for ${key}; run \`registry-login refresh\``);
    expect(before.exitCode).toBe(1);

    await run(['refresh'], env);
    const config = JSON.parse(await readFile(configFile, 'utf8')) as {
      credHelpers: Record<string, string>;
      auths: Record<string, unknown>;
    };
    await writeFile(configFile, JSON.stringify({ ...config, credHelpers: { ...config.credHelpers, [key]: 'other' } }));
    const shadowed = await checkJson(env);
    expect(shadowed.byKey(key)).toMatchObject({ result: 'not-effective' });
    expect(shadowed.byKey(key)!.detail).toContain(`credHelpers sends ${key} to docker-credential-other`);

    await writeFile(
      configFile,
      JSON.stringify({
        ...config,
        auths: { ...config.auths, [key]: { auth: Buffer.from('alice:someone-else').toString('base64') } },
      }),
    );
    const changed = await checkJson(env);
    expect(changed.byKey(key)).toMatchObject({ result: 'not-effective' });
    expect(changed.byKey(key)!.detail).toContain(
      `changed outside registry-login; run \`registry-login logout ${key}\``,
    );
  });

  it('checks the login `docker login` stored through the helper when docker uses that one, and says so', async () => {
    const { env } = await sandbox(triple('ACME', basicRegistry.host, 'alice', BASIC_PASSWORD));
    await run(['refresh'], env);
    const stored = await runHelper(
      'store',
      JSON.stringify({ ServerURL: basicRegistry.host, Username: 'alice', Secret: WRONG_PASSWORD }),
      env,
    );
    expect(stored.exitCode).toBe(0);
    const { exitCode, byKey } = await checkJson(env);
    expect(exitCode).toBe(1);
    expect(byKey(basicRegistry.host)).toMatchObject({ result: 'unauthorized' });
    expect(byKey(basicRegistry.host)!.detail).toContain('docker uses the login `docker login` stored for');
    expect(byKey(basicRegistry.host)!.detail).toContain(`\`docker logout ${basicRegistry.host}\``);
  });

  it('reports an ECR login whose AWS keys cannot be swapped as error, with the resolve message', async () => {
    const deadPort = await freePort();
    const key = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const { env } = await sandbox({
      ...triple('AWSREG', key, 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET),
      AWS_ENDPOINT_URL_ECR: `http://127.0.0.1:${deadPort}`,
      AWS_MAX_ATTEMPTS: '1',
    });
    const { exitCode, byKey } = await checkJson(env);
    expect(exitCode).toBe(1);
    expect(byKey(key)).toMatchObject({ result: 'error', prefix: 'AWSREG' });
    expect(byKey(key)!.detail).toContain('AWSREG');
    expect(JSON.stringify(byKey(key))).not.toContain(AWS_SECRET);
  });
});

describe('registry-login status: the effective column', () => {
  it('marks a login not effective, with the reason, when docker would not use it', async () => {
    const helpers = await dirs.make('rl-helpers-');
    await writeFile(
      path.join(helpers, 'docker-credential-devpod'),
      '#!/bin/sh\necho "credentials not found in native keychain"; exit 1\n',
    );
    await chmod(path.join(helpers, 'docker-credential-devpod'), 0o755);
    const { env, configFile } = await sandbox(triple('ACME', basicRegistry.host, 'alice', BASIC_PASSWORD), [helpers]);
    const key = basicRegistry.host;
    await run(['refresh'], env);
    const written = JSON.parse(await readFile(configFile, 'utf8')) as {
      credHelpers: Record<string, string>;
      auths: Record<string, unknown>;
    };
    const status = async () => {
      const result = await run(['status', '--json'], env);
      expect(result.exitCode).toBe(0);
      return (
        JSON.parse(result.stdout) as { logins: { key: string; effective: boolean; reason?: string }[] }
      ).logins.find((l) => l.key === key)!;
    };

    expect(await status()).toMatchObject({ effective: true });
    expect((await status()).reason).toBeUndefined();

    // A credsStore (as DevPod writes) with no credHelpers entry for the key shadows auths.
    await writeFile(configFile, JSON.stringify({ auths: written.auths, credsStore: 'devpod' }));
    expect(await status()).toMatchObject({
      effective: false,
      reason: expect.stringContaining('credsStore helper docker-credential-devpod'),
    });

    // The same credsStore with its binary missing from PATH: docker falls back to auths.
    await writeFile(configFile, JSON.stringify({ auths: written.auths, credsStore: 'missing-store' }));
    expect(await status()).toMatchObject({
      effective: true,
      reason: expect.stringContaining('docker-credential-missing-store'),
    });

    // A credHelpers entry for the key that points elsewhere.
    await writeFile(configFile, JSON.stringify({ auths: written.auths, credHelpers: { [key]: 'devpod' } }));
    expect(await status()).toMatchObject({
      effective: false,
      reason: expect.stringContaining(`credHelpers sends ${key} to docker-credential-devpod`),
    });

    // The auths entry changed behind registry-login's back, then gone.
    await writeFile(
      configFile,
      JSON.stringify({
        auths: { [key]: { auth: Buffer.from('alice:other').toString('base64') } },
        credHelpers: written.credHelpers,
      }),
    );
    expect(await status()).toMatchObject({
      effective: false,
      reason: expect.stringContaining('changed outside registry-login'),
    });
    await writeFile(configFile, JSON.stringify({ auths: {}, credHelpers: written.credHelpers }));
    expect(await status()).toMatchObject({
      effective: false,
      reason: expect.stringContaining('the auths entry is gone'),
    });

    const human = await run(['status'], env);
    expect(human.stdout).toContain('NOT effective');
    expect(human.stdout).toContain('the auths entry is gone');
  });
});

describe('registry-login check in a shell without the secrets', () => {
  // A `devcontainer exec` shell after --secrets-file: the hooks logged in, the shell has no registry variable.
  const without = (env: Record<string, string>) =>
    Object.fromEntries(Object.entries(env).filter(([name]) => !name.includes('_CONTAINER_REGISTRY_')));

  it('checks the logins recorded in the config, by the credentials docker would send', async () => {
    const { env } = await sandbox({
      ...triple('ACME', basicRegistry.host, 'alice', BASIC_PASSWORD),
      ...triple('TOKENREG', tokenRegistry.host, 'bob', TOKEN_PASSWORD),
    });
    expect((await run(['refresh'], env)).exitCode).toBe(0);
    const shell = without(env);
    const { exitCode, parsed, byKey } = await checkJson(shell);
    expect(parsed.results).toHaveLength(2);
    expect(byKey(basicRegistry.host)).toMatchObject({ result: 'ok', prefix: 'ACME' });
    expect(byKey(basicRegistry.host)!.detail).toContain('accepts the login the ACME_CONTAINER_REGISTRY_* secrets made');
    expect(byKey(tokenRegistry.host)).toMatchObject({ result: 'ok', prefix: 'TOKENREG' });
    expect(exitCode).toBe(0);
    const human = await run(['check'], shell);
    expect(human.stdout).toContain(
      'No *_CONTAINER_REGISTRY_* variables in this shell: checking the logins recorded in',
    );
    expect(human.stdout).not.toContain('nothing to check');
    const one = await checkJson(shell, [basicRegistry.host]);
    expect(one.parsed.results).toEqual([expect.objectContaining({ key: basicRegistry.host, result: 'ok' })]);
  });

  it('says when the recorded login is refused, or docker no longer sends it', async () => {
    const { env, configFile } = await sandbox({
      ...triple('ACME', basicRegistry.host, 'alice', WRONG_PASSWORD),
      ...triple('BETA', tokenRegistry.host, 'bob', TOKEN_PASSWORD),
    });
    await run(['refresh'], env);
    const written = JSON.parse(await readFile(configFile, 'utf8')) as {
      auths: Record<string, unknown>;
      credHelpers: Record<string, string>;
    };
    const other = { auth: Buffer.from('bob:changed-by-hand').toString('base64') };
    await writeFile(
      configFile,
      JSON.stringify({ ...written, auths: { ...written.auths, [tokenRegistry.host]: other } }),
    );
    await chmod(configFile, 0o600);
    const { exitCode, byKey } = await checkJson(without(env));
    expect(byKey(basicRegistry.host)).toMatchObject({ result: 'unauthorized', prefix: 'ACME' });
    expect(byKey(basicRegistry.host)!.detail).toContain('ACME_CONTAINER_REGISTRY_*');
    expect(byKey(tokenRegistry.host)).toMatchObject({ result: 'not-effective' });
    expect(byKey(tokenRegistry.host)!.detail).toContain(
      `the auths entry for ${tokenRegistry.host} was changed outside registry-login`,
    );
    expect(exitCode).toBe(1);
  });

  it('with no recorded login either, there is nothing to check', async () => {
    const { env } = await sandbox({});
    const human = await run(['check'], env);
    expect(human.stdout).toContain('nothing to check');
    expect(human.exitCode).toBe(0);
  });
});

describe('no secret in any output', () => {
  it('printed no password, raw or base64, to stdout or stderr, human or JSON, in any run of this file (each run is also checked as it happens)', () => {
    expect(outputs.length).toBeGreaterThan(0);
    expectNoSecret(outputs.join('\n'));
  });
});
