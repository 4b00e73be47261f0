// Stages the Feature (as `npm run package` does) from the already built agent, for the Feature's tests.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the nearest folder holding devcontainer-feature.json (also from a bundled copy in build/). */
export const repoRoot = ((): string => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'devcontainer-feature.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no devcontainer-feature.json above ${fileURLToPath(import.meta.url)}`);
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
  await execa('node', [path.join(repoRoot, 'scripts', 'package-feature.mjs'), '--skip-build', '--stage-only', '--stage', stage], { cwd: repoRoot });
  return stage;
}
