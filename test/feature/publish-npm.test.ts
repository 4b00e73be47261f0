// What the release workflow's `npm publish` would upload, listed offline by `npm pack --dry-run` (publish
// packs with the same code, then uploads): the launchers and the built agent, none of the tests, sources
// or tooling, and one version everywhere it is stated.
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { REPO } from '../support/agent.js';

interface PackResult {
  name: string;
  version: string;
  files: { path: string }[];
}

let packed: PackResult;
let paths: string[];
let version: string;

beforeAll(async () => {
  ({ version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string });
  // --ignore-scripts: the suite has built dist/ already; a prepack rebuild would pull it out from under other tests.
  const pack = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO,
    env: { npm_config_loglevel: 'error' },
  });
  packed = (JSON.parse(pack.stdout) as PackResult[])[0]!;
  paths = packed.files.map((file) => file.path).sort();
});

it('is the scoped package (the unscoped name belongs to a stranger)', () => {
  expect(packed.name).toBe('@registry-login/registry-login');
});

it('holds the launchers, the built agent, and the README', () => {
  for (const needed of [
    'package.json',
    'README.md',
    'bin/registry-login',
    'bin/docker-credential-registry-login',
    'dist/registry-login.cjs',
  ]) {
    expect(paths, `the tarball lacks ${needed}`).toContain(needed);
  }
});

it('holds no tests, TypeScript sources, workflows, benchmarks or build tooling', () => {
  const unwanted = paths.filter(
    (file) =>
      /^(test|src|bench|scripts|\.github|\.ci|node_modules|build|docs)\//.test(file) ||
      (/\.ts$/.test(file) && !file.endsWith('.d.ts')),
  );
  expect(unwanted).toEqual([]);
});

it('states one version: the tarball, package.json, devcontainer-feature.json and the agent it carries', async () => {
  expect(packed.version).toBe(version);
  const feature = JSON.parse(await readFile(path.join(REPO, 'devcontainer-feature.json'), 'utf8')) as {
    version: string;
  };
  expect(feature.version).toBe(version);
  const cli = await execa(process.execPath, [path.join(REPO, 'bin', 'registry-login'), '--version'], {
    env: { HOME: REPO },
  });
  expect(cli.stdout.trim()).toBe(`registry-login ${version}`);
});

it('names the repository the Feature documents, which npm requires to match the build for provenance', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
    repository?: string | { url?: string };
  };
  const url = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
  const feature = JSON.parse(await readFile(path.join(REPO, 'devcontainer-feature.json'), 'utf8')) as {
    documentationURL: string;
  };
  // The release workflow checks the same against the repository it runs in, before publishing anything.
  expect(url.replace(/^git\+/, '').replace(/\.git$/, '')).toBe(
    new URL(feature.documentationURL).href.replace(/#.*$/, ''),
  );
});
