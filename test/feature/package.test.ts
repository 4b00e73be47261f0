// The Feature archive that `npm run package` produces with `devcontainer features package`.
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { agentEntry, repoRoot, stageFeature } from '../support/feature-stage.js';

const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

it('packs metadata, install.sh, the hook, NOTES.md and the whole built agent into the archive', async () => {
  const stage = await stageFeature();
  temps.push(path.dirname(stage));
  const out = await mkdtemp(path.join(os.tmpdir(), 'registry-login-archive-'));
  temps.push(out);
  await execa(
    'node',
    [path.join(repoRoot, 'scripts', 'package-feature.mjs'), '--skip-build', '--stage', stage, '--out', out],
    { cwd: repoRoot },
  );

  const archive = path.join(out, 'devcontainer-feature-registry-login.tgz');
  const listing = (await execa('tar', ['-tvf', archive])).stdout;
  const entries = listing.split('\n').map((line) => line.split(/\s+/).at(-1)?.replace(/^\.\//, ''));
  expect(entries).toEqual(
    expect.arrayContaining([
      'devcontainer-feature.json',
      'install.sh',
      'NOTES.md',
      'hooks/refresh.sh',
      `agent/${agentEntry}`,
    ]),
  );
  expect(listing).toMatch(/^-rwxr-xr-x .* \.\/install\.sh$/m);
  expect(listing).toMatch(/^-rwxr-xr-x .* \.\/hooks\/refresh\.sh$/m);

  const distFiles = (await execa('find', ['.', '-type', 'f'], { cwd: path.join(repoRoot, 'dist') })).stdout
    .split('\n')
    .map((f) => `agent/${f.replace(/^\.\//, '')}`);
  expect(entries).toEqual(expect.arrayContaining(distFiles));

  const packed = JSON.parse((await execa('tar', ['-xOf', archive, './devcontainer-feature.json'])).stdout) as unknown;
  expect(packed).toEqual(JSON.parse(await readFile(path.join(repoRoot, 'devcontainer-feature.json'), 'utf8')));
  const collection = JSON.parse(await readFile(path.join(out, 'devcontainer-collection.json'), 'utf8')) as {
    features: { id: string }[];
  };
  expect(collection.features.map((f) => f.id)).toEqual(['registry-login']);
});
