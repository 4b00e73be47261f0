// One version, package.json first: the real `npm version` (with the project's `version` hook) in a
// throwaway git repository holding copies of the files that state the version, and the lint check.
import { execa } from 'execa';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO } from '../support/agent.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

let repo: string;
const gitEnv = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 't@test.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 't@test.invalid',
};
const git = (...args: string[]) => execa('git', args, { cwd: repo, env: gitEnv });
const check = () => execa('node', ['scripts/feature-version.mjs', 'check'], { cwd: repo, reject: false });
const read = async (file: string) => readFile(path.join(repo, file), 'utf8');

beforeAll(async () => {
  repo = await makeTempDir('rl-version-');
  await mkdir(path.join(repo, 'scripts'));
  for (const file of ['package.json', 'devcontainer-feature.json', 'CHANGELOG.md', 'scripts/feature-version.mjs'])
    await copyFile(path.join(REPO, file), path.join(repo, file));
  await symlink(path.join(REPO, 'node_modules'), path.join(repo, 'node_modules'));
  await writeFile(path.join(repo, '.gitignore'), 'node_modules\n');
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'start');
});

afterAll(async () => {
  if (repo) await removeTempDir(repo);
});

it('passes the lint check as the repository stands', async () => {
  const result = await check();
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
});

it('npm version writes the new version into devcontainer-feature.json and CHANGELOG.md, in the version commit', async () => {
  const before = JSON.parse(await read('package.json')) as { version: string };
  const [major, minor] = before.version.split('.').map(Number) as [number, number];
  const next = `${String(major)}.${String(minor + 1)}.0`;
  const featureBefore = await read('devcontainer-feature.json');
  const unreleased = (await read('CHANGELOG.md')).split('## [Unreleased]\n')[1]!.split(/^## \[/m)[0]!;

  await execa('npm', ['version', 'minor'], { cwd: repo, env: gitEnv });

  const featureAfter = await read('devcontainer-feature.json');
  expect(JSON.parse(featureAfter)).toMatchObject({ version: next });
  // Only the version changed: every other byte of the file is as it was.
  expect(featureAfter).toBe(featureBefore.replace(`"version": "${before.version}"`, `"version": "${next}"`));
  const changelog = await read('CHANGELOG.md');
  expect(changelog).toMatch(
    new RegExp(`^## \\[Unreleased\\]\\n\\n## \\[${next.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}\\n`, 'm'),
  );
  expect(changelog.split(`## [${next}]`)[1]).toContain(unreleased.trim());
  // npm committed all three and tagged the commit.
  expect((await git('show', '--name-only', '--format=', 'HEAD')).stdout.split('\n').sort()).toEqual([
    'CHANGELOG.md',
    'devcontainer-feature.json',
    'package.json',
  ]);
  expect((await git('tag', '--points-at', 'HEAD')).stdout).toBe(`v${next}`);
  expect((await git('status', '--porcelain')).stdout).toBe('');
  expect((await check()).exitCode).toBe(0);
});

it('fails the lint check when devcontainer-feature.json states another version, and says how to fix it', async () => {
  const text = await read('devcontainer-feature.json');
  await writeFile(
    path.join(repo, 'devcontainer-feature.json'),
    text.replace(/"version": "[^"]+"/, '"version": "9.9.9"'),
  );
  const result = await check();
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toMatch(
    /devcontainer-feature\.json version "9\.9\.9" differs from package\.json version \d+\.\d+\.\d+; run `node scripts\/feature-version\.mjs sync`/,
  );
  await writeFile(path.join(repo, 'devcontainer-feature.json'), text);
});

it('fails the lint check when CHANGELOG.md has no section for the version', async () => {
  const text = await read('CHANGELOG.md');
  const { version } = JSON.parse(await read('package.json')) as { version: string };
  await writeFile(path.join(repo, 'CHANGELOG.md'), text.replace(`## [${version}]`, '## [0.0.0]'));
  const result = await check();
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain(`CHANGELOG.md has no "## [${version}]" section`);
  await writeFile(path.join(repo, 'CHANGELOG.md'), text);
});
