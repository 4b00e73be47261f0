// Stages the Feature (as `npm run package` does) from the already built agent, for the Feature's tests.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the nearest folder holding devcontainer-feature.json (also from a bundled copy in build/). */
export const repoRoot = ((): string => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'devcontainer-feature.json'))) return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`no devcontainer-feature.json above ${fileURLToPath(import.meta.url)}`);
  }
})();

/** The built agent's entry file in dist/ (and in the Feature's agent/). */
export const agentEntry = 'registry-login.cjs';

/**
 * Stages the Feature into a new temporary directory and returns it. Uses dist/ as built by
 * `npm run build` (the test command builds first); rebuilding here would pull dist/ out from under
 * tests running in parallel.
 */
export async function stageFeature(): Promise<string> {
  if (!existsSync(path.join(repoRoot, 'dist', agentEntry))) {
    throw new Error(`dist/${agentEntry} is missing: run \`npm run build\` before the Feature tests`);
  }
  const stage = path.join(await mkdtemp(path.join(os.tmpdir(), 'registry-login-feature-')), 'registry-login');
  await execa(
    'node',
    [path.join(repoRoot, 'scripts', 'package-feature.mjs'), '--skip-build', '--stage-only', '--stage', stage],
    { cwd: repoRoot },
  );
  return stage;
}

/**
 * Stages the Feature into featureDir for a test that runs offline: the CLI cannot fetch the metadata of the
 * Features named in installsAfter, so this copy drops them (their ordering role is covered by the metadata test).
 */
export async function stageFeatureOffline(featureDir: string): Promise<void> {
  const stage = await stageFeature();
  await cp(stage, featureDir, { recursive: true });
  await rm(path.dirname(stage), { recursive: true, force: true });
  const metadataPath = path.join(featureDir, 'devcontainer-feature.json');
  const metadata = JSON.parse(await readFile(metadataPath, 'utf8')) as Record<string, unknown>;
  delete metadata.installsAfter;
  await writeFile(metadataPath, JSON.stringify(metadata, null, 2));
}
