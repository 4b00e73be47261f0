// The npm package as a host installs it: `npm pack` → `npm install -g --prefix` (offline: the package needs nothing
// from the registry) → a working registry-login with nothing but Node.js, and `npx --package=<tarball>` likewise.
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO, triple } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
let dir: string;
let tarball: string;
let files: string[];
const manifest = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;

/** Only Node.js and the basic system tools: no repository bin/, no node_modules. */
function hostEnv(home: string): Record<string, string> {
  return {
    PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    npm_config_cache: path.join(dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
}

beforeAll(async () => {
  dir = await tmp.make('rl-npm-package-');
  // dist/ is built already (the test command builds first): prepack would rebuild it under tests running in parallel.
  const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO });
  const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(dir, packed!.filename);
  files = packed!.files.map((f) => f.path).sort();
}, 120_000);
afterAll(() => tmp.cleanup());

it('is the scoped, public package that builds itself on prepack and needs no dependency at run time', () => {
  expect(manifest.name).toBe('@registry-login/registry-login');
  expect(manifest.private).toBeUndefined();
  expect(manifest.dependencies ?? {}).toEqual({});
  expect((manifest.scripts as Record<string, string>).prepack).toBe('npm run build');
  expect(manifest.engines).toEqual({ node: '>=22.12' });
  expect(manifest.bin).toEqual({
    'registry-login': 'bin/registry-login',
    'docker-credential-registry-login': 'bin/docker-credential-registry-login',
  });
  expect(files.filter((f) => !/^(bin\/|dist\/|package\.json$|README\.md$|LICENSE)/.test(f))).toEqual([]);
  expect(files).toEqual(
    expect.arrayContaining([
      'bin/registry-login',
      'bin/docker-credential-registry-login',
      'bin/package.json',
      'dist/registry-login.cjs',
      'dist/agent.cjs',
      'dist/ecr-swap.cjs',
    ]),
  );
});

it('installs offline with npm install -g --prefix and runs --version and refresh --host from that prefix', async () => {
  const prefix = path.join(dir, 'prefix');
  const home = await tmp.make('rl-npm-home-');
  const install = await execa('npm', ['install', '-g', '--offline', '--prefix', prefix, tarball], {
    cwd: dir,
    env: hostEnv(home),
    extendEnv: false,
    reject: false,
    all: true,
  });
  expect(install.exitCode, install.all).toBe(0);
  const bin = path.join(prefix, 'bin', 'registry-login');
  const version = await execa(bin, ['--version'], { cwd: home, env: hostEnv(home), extendEnv: false });
  expect(version.stdout).toBe(`registry-login ${String(manifest.version)}`);

  const env = { ...hostEnv(home), ...triple('ACME', 'registry.example.com', 'robot', 'npm-package-secret') };
  const refresh = await execa(bin, ['refresh', '--host'], { cwd: home, env, extendEnv: false, reject: false });
  expect(refresh.stderr).toBe('');
  expect(refresh.exitCode).toBe(0);
  const config = JSON.parse(await readFile(path.join(home, '.docker', 'config.json'), 'utf8')) as unknown;
  expect(config).toEqual({
    auths: { 'registry.example.com': { auth: Buffer.from('robot:npm-package-secret').toString('base64') } },
  });
}, 120_000);

it('runs with npx --package=<tarball>', async () => {
  const home = await tmp.make('rl-npx-home-');
  const run = await execa('npx', ['--yes', '--offline', `--package=${tarball}`, 'registry-login', '--version'], {
    cwd: home,
    env: hostEnv(home),
    extendEnv: false,
    reject: false,
    all: true,
  });
  expect(run.exitCode, run.all).toBe(0);
  expect(run.stdout).toBe(`registry-login ${String(manifest.version)}`);
}, 120_000);
