// install.sh against a real Debian bookworm userland (debootstrap + chroot over a throwaway overlay).
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachedRootfs, scratchRootfs, type ScratchRootfs, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { agentEntry, repoRoot, stageFeature } from '../support/feature-stage.js';
import {
  defaultNodeVersion,
  type NodeArchive,
  officialNode,
  packNodeArchive,
  publishNodeRelease,
  type RunningMirror,
  startNodeMirror,
  startSilentServer,
} from '../support/feature-node-mirror.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';

const metadata = JSON.parse(await readFile(path.join(repoRoot, 'devcontainer-feature.json'), 'utf8')) as Record<
  'postCreateCommand' | 'postStartCommand' | 'postAttachCommand',
  string
>;
/** The Feature's default private Node.js, which is also the Node.js the tests give images. */
const defaultVersion = await defaultNodeVersion(path.join(repoRoot, 'devcontainer-feature.json'));
const imageNode = officialNode(repoRoot, defaultVersion);
/** Another supported release, for a nodeVersion other than the default. */
const otherVersion = '22.23.5';
/** The machine's own Node.js 20, as an image that predates the Feature's minimum would have it. */
const machineNode20 = '/usr/bin/node';
const install = 'cd /tmp/feature && ./install.sh';
/** install.sh with Feature options, passed as the dev container tools do: upper-cased variables. */
const installWith = (options: string) => `cd /tmp/feature && ${options} ./install.sh`;
const triple = {
  HOME: '/home/vscode',
  TESTREG_CONTAINER_REGISTRY_SERVER: 'registry.example.test:5000',
  TESTREG_CONTAINER_REGISTRY_USER: 'robot',
  TESTREG_CONTAINER_REGISTRY_PASSWORD: 'not-a-real-password-4d1c',
};

let stage: string;
let rootfs: ScratchRootfs | undefined;

beforeAll(async () => {
  const why = whyRootTierCannotRun();
  if (why) throw new Error(`install.sh tier cannot run: ${why}`);
  const { stdout } = await execa(machineNode20, ['--version']);
  if (!stdout.startsWith('v20.'))
    throw new Error(`${machineNode20} is ${stdout}, not the Node.js 20 these tests give an image that is too old`);
  stage = await stageFeature();
  // The first use debootstraps the rootfs: here, so that no test's own time limit pays for it.
  await cachedRootfs();
}, 600_000);

afterAll(async () => {
  if (stage) await rm(path.dirname(stage), { recursive: true, force: true });
});

afterEach(async () => {
  await rootfs?.cleanup();
  rootfs = undefined;
});

/** A scratch rootfs holding the staged Feature in /tmp/feature, as the dev container tools copy it. */
async function imageWithFeature(): Promise<ScratchRootfs> {
  rootfs = await scratchRootfs();
  await rootfs.addDir(stage, '/tmp/feature');
  return rootfs;
}

/** A NODE_OPTIONS value with which every Node.js that starts appends its version to /tmp/node-runs. */
const recordNodeRuns = '--require=/opt/record/record.cjs';
async function addNodeRecorder(image: ScratchRootfs): Promise<void> {
  await writeFile(
    path.join(image.upper, 'record.cjs'),
    "require('node:fs').appendFileSync('/tmp/node-runs', process.version + '\\n');\n",
  );
  await image.addFile(path.join(image.upper, 'record.cjs'), '/opt/record/record.cjs', 0o644);
}

/** A listing of the installed files with owner and mode, to compare installs. */
const listInstall =
  'find /usr/local/share/registry-login /usr/local/bin/registry-login /usr/local/bin/docker-credential-registry-login -printf "%p %u:%g %m\\n" | sort; ' +
  'ls -a /usr/local/share /usr/local/bin; cat /usr/local/bin/registry-login /usr/local/bin/docker-credential-registry-login';

describe('install.sh in Debian bookworm', () => {
  it('installs the agent and launchers pinned to the image Node.js, readable and runnable by every user', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');

    const result = await image.run(install);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('with Node.js');

    const listing = await image.run(listInstall);
    expect(listing.stdout).toMatch(/^\/usr\/local\/bin\/registry-login root:root 755$/m);
    expect(listing.stdout).toMatch(/^\/usr\/local\/bin\/docker-credential-registry-login root:root 755$/m);
    expect(listing.stdout).toContain(`/usr/local/share/registry-login/agent/${agentEntry} root:root 644\n`);
    expect(listing.stdout).toMatch(/^\/usr\/local\/share\/registry-login\/hooks\/refresh\.sh root:root 755$/m);
    for (const line of listing.stdout.split('\n').filter((l) => l.startsWith('/usr/local/share/registry-login'))) {
      expect(line).toMatch(/ root:root (755|644)$/);
    }
    expect(listing.stdout).toContain("pinned='/usr/local/bin/node'");

    // A non-root user with no node on PATH (a hook without a login shell) still runs both launchers.
    const asUser = await image.run(
      'PATH=/nonexistent; /usr/local/bin/registry-login refresh && /usr/bin/stat -c "%U %a" "$HOME/.docker/config.json" && ' +
        'echo registry.example.test:5000 | /usr/local/bin/docker-credential-registry-login get',
      { user: '1000:1000', env: triple },
    );
    expect(asUser.stderr).toBe('');
    expect(asUser.exitCode).toBe(0);
    expect(asUser.stdout).toMatch(/^vscode 600$/m);
    const helperAnswer = JSON.parse(asUser.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
    expect(helperAnswer).toMatchObject({
      ServerURL: 'registry.example.test:5000',
      Username: 'robot',
      Secret: triple.TESTREG_CONTAINER_REGISTRY_PASSWORD,
    });

    const config = JSON.parse(await readFile(path.join(image.upper, 'home/vscode/.docker/config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
      credHelpers: Record<string, string>;
    };
    expect(Buffer.from(config.auths['registry.example.test:5000']?.auth ?? '', 'base64').toString()).toBe(
      `robot:${triple.TESTREG_CONTAINER_REGISTRY_PASSWORD}`,
    );
    expect(config.credHelpers['registry.example.test:5000']).toBe('registry-login');
  });

  it('is harmless to run twice: same files, no leftovers, stale agent files replaced', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    expect((await image.run(install)).exitCode).toBe(0);
    const first = (await image.run(listInstall)).stdout;
    // A chunk left by an older agent version must not survive a reinstall.
    await writeFile(path.join(image.upper, 'usr/local/share/registry-login/agent/stale-OLD.cjs'), '');

    const again = await image.run(install);
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
    expect((await image.run(listInstall)).stdout).toBe(first);
    expect(first).not.toMatch(/registry-login\.(new|old)|\.new\./);
  });

  it('rejects a Node.js older than 22.12 by its minor version and names it', async () => {
    const image = await imageWithFeature();
    await writeFile(path.join(image.upper, 'old-node'), '#!/bin/sh\nprintf 22.11.0\n');
    await image.addFile(path.join(image.upper, 'old-node'), '/usr/bin/node');
    // No mirror: the private Node.js cannot be fetched either, and the failure lists what was rejected.
    const result = await image.run(installWith('NODEMIRROR=http://127.0.0.1:9/dist/'));
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain('/usr/bin/node is Node.js 22.11.0, too old (the agent needs 22.12.0 or later)');
    expect(result.stderr).toContain('/usr/bin/node is Node.js 22.11.0, too old');
  });

  it("finds the node Feature's nvm install when node is not on PATH, and pins that path", async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, `/usr/local/share/nvm/versions/node/v${defaultVersion}/bin/node`);
    await image.run(`ln -s /usr/local/share/nvm/versions/node/v${defaultVersion} /usr/local/share/nvm/current`);
    const result = await image.run(install);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect((await image.run('cat /usr/local/bin/registry-login')).stdout).toContain(
      "pinned='/usr/local/share/nvm/current/bin/node'",
    );
  });

  it('uses the nodeBinary option, and fails clearly when it names no working Node.js', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/srv/tools/node');
    const chosen = await image.run(installWith('NODEBINARY=/srv/tools/node'));
    expect(chosen.exitCode).toBe(0);
    expect((await image.run('cat /usr/local/bin/docker-credential-registry-login')).stdout).toContain(
      "pinned='/srv/tools/node'",
    );

    const wrong = await image.run(installWith('NODEBINARY=/srv/missing/node'));
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toContain("option nodeBinary is '/srv/missing/node'");
  });

  it('never pins a relative node found through "." on PATH at build time', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/tmp/feature/node');
    await image.addFile(imageNode, '/usr/local/bin/node');
    const result = await image.run(
      'cd /tmp/feature && PATH=.:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ./install.sh',
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const launcher = (await image.run('cat /usr/local/bin/registry-login')).stdout;
    expect(launcher).not.toContain('./node');
    expect(launcher).toContain("pinned='/usr/local/bin/node'");
  });

  it('writes a nodeBinary path holding shell syntax into the launchers as data, never as code', async () => {
    const image = await imageWithFeature();
    const hostile = '/opt/n$(id>&2)`id>&2`/node';
    await image.addFile(imageNode, hostile);
    const installed = await image.run(installWith(`NODEBINARY='${hostile}'`));
    expect(installed.stderr).not.toContain('uid=');
    expect(installed.exitCode, installed.stderr).toBe(0);
    // With that node gone and none on PATH, the launchers name the path and run nothing from it.
    await image.run('rm -r /opt/n*');
    for (const launcher of ['registry-login --version', 'docker-credential-registry-login list']) {
      const run = await image.run(`/usr/local/bin/${launcher}`, { user: '1000:1000' });
      expect(run.stderr).not.toContain('uid=');
      expect(run.stderr).toContain(`Node.js is no longer at ${hostile}, where the Feature found it`);
      expect(run.exitCode).toBe(127);
    }

    // A single quote in the path is quoted too, so such a path works rather than being refused.
    await image.addFile(imageNode, "/opt/it's/node");
    const quoted = await image.run(installWith(`NODEBINARY="/opt/it's/node"`));
    expect(quoted.exitCode, quoted.stderr).toBe(0);
    const run = await image.run('/usr/local/bin/registry-login --version', { user: '1000:1000' });
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('with the pinned Node.js gone, the launchers never run a node through "." or an empty PATH entry, nor a Node.js 20', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/opt/pinned/node');
    expect((await image.run(installWith('NODEBINARY=/opt/pinned/node'))).exitCode).toBe(0);
    await image.run('rm -r /opt/pinned');
    // A node in the workspace, as a repository could carry one: it records that it ran.
    await writeFile(path.join(image.upper, 'planted-node'), '#!/bin/sh\necho "$0 ran" >> /tmp/planted-node-ran\n');
    await image.addFile(path.join(image.upper, 'planted-node'), '/srv/workspace/node');
    // And an env, the one other command the launchers look up once they found a node.
    await image.addFile(path.join(image.upper, 'planted-node'), '/srv/workspace/env');
    await addNodeRecorder(image);
    const env = { HOME: '/home/vscode', NODE_OPTIONS: recordNodeRuns };

    for (const pathValue of ['.:/usr/bin:/bin', ':/usr/bin:/bin', '/usr/bin::/bin', '/usr/bin:/bin:']) {
      for (const launcher of ['registry-login --version', 'docker-credential-registry-login list']) {
        const run = await image.run(`cd /srv/workspace && PATH='${pathValue}' /usr/local/bin/${launcher}`, {
          user: '1000:1000',
          env,
        });
        expect(run.exitCode, `${launcher} with PATH=${pathValue}: ${run.stderr}`).toBe(127);
        expect(run.stderr).toContain('Node.js is no longer at /opt/pinned/node, where the Feature found it');
        expect(run.stderr).toContain('relative entries such as "." are never used');
      }
    }

    // A Node.js 20 on PATH is passed over for the first Node.js 22.12+ in an absolute directory.
    await image.addFile(machineNode20, '/opt/node20/bin/node');
    await image.addFile(imageNode, '/opt/node24/bin/node');
    const fallback = await image.run(
      "cd /srv/workspace && PATH='.::/opt/node20/bin:/opt/node24/bin:/usr/bin:/bin' && export PATH && " +
        '/usr/local/bin/registry-login refresh && echo registry.example.test:5000 | /usr/local/bin/docker-credential-registry-login get',
      { user: '1000:1000', env: { ...env, ...triple } },
    );
    expect(fallback.exitCode, fallback.stderr).toBe(0);
    expect(fallback.stdout).toContain(triple.TESTREG_CONTAINER_REGISTRY_PASSWORD);
    expect(existsSync(path.join(image.upper, 'tmp/planted-node-ran')), 'the planted ./node ran').toBe(false);
    const runs = (await readFile(path.join(image.upper, 'tmp/node-runs'), 'utf8')).trim().split('\n');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(new Set(runs)).toEqual(new Set([`v${defaultVersion}`]));
  });

  it('refuses to run as a non-root user', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    const result = await image.run(install, { user: '1000:1000' });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('must run as root');
  });
});

// The image has no Node.js 22.12+: install.sh brings a private one from a mirror on 127.0.0.1 (the chroot
// shares the host's network namespace). The rootfs is Debian minbase, which has neither curl, wget
// nor xz: install.sh installs them with apt-get from the machine's Debian mirror, as in a real image.
// Only Debian on amd64 runs here; the arm64, Ubuntu and RHEL paths of install.sh are untested.
describe('a private Node.js when the image has none, or one older than 22.12', () => {
  const noNodeAnywhere = 'command -v node || echo "no node on PATH"; ls /usr/local/share /usr/local/bin; ls -A /tmp';
  const robot = { user: 'private-node-robot', password: 'pw-private-node-5e0a1c' };
  const sha256 = async (file: string) =>
    createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  let mirrorRoot: string;
  let good: RunningMirror;
  let tampered: RunningMirror;
  let swapped: RunningMirror;
  let other: RunningMirror;
  let otherArchive: NodeArchive;
  let registry: RunningRegistry;
  let image: ScratchRootfs | undefined;

  beforeAll(async () => {
    mirrorRoot = await mkdtemp(path.join(os.tmpdir(), 'registry-login-node-mirror-'));
    const roots = {
      good: path.join(mirrorRoot, 'good'),
      tampered: path.join(mirrorRoot, 'tampered'),
      swapped: path.join(mirrorRoot, 'swapped'),
      other: path.join(mirrorRoot, 'other'),
    };
    // The official binary of the default version: the bin/node hash install.sh carries accepts it.
    const archive = await packNodeArchive(mirrorRoot, defaultVersion, imageNode);
    await publishNodeRelease(roots.good, [archive, await packNodeArchive(mirrorRoot, defaultVersion, imageNode, 'gz')]);
    // Same name and SHASUMS256.txt line, but bytes changed in the middle of the archive.
    const flipped = path.join(mirrorRoot, `flipped-${archive.name}`);
    await copyFile(archive.file, flipped);
    const handle = await open(flipped, 'r+');
    await handle.write(Buffer.from('tampered'), 0, 8, 4_000_000);
    await handle.close();
    await publishNodeRelease(roots.tampered, [{ ...archive, file: flipped, sha256: archive.sha256 }]);
    // The default version, with a consistent SHASUMS256.txt but another binary: only the hash that
    // install.sh carries for bin/node can catch this.
    await publishNodeRelease(roots.swapped, [await packNodeArchive(mirrorRoot, defaultVersion, machineNode20)]);
    // Another release, with a SHASUMS256.txt that agrees with it: the mirror alone must not be enough.
    otherArchive = await packNodeArchive(mirrorRoot, otherVersion, officialNode(repoRoot, otherVersion));
    await publishNodeRelease(roots.other, [otherArchive]);
    [good, tampered, swapped, other, registry] = await Promise.all([
      startNodeMirror(roots.good),
      startNodeMirror(roots.tampered),
      startNodeMirror(roots.swapped),
      startNodeMirror(roots.other),
      startRegistry({ auth: { kind: 'htpasswd', users: [robot] } }),
    ]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([
      good?.stop(),
      tampered?.stop(),
      swapped?.stop(),
      other?.stop(),
      registry?.stop(),
      image?.cleanup(),
    ]);
    if (mirrorRoot) await rm(mirrorRoot, { recursive: true, force: true });
  });

  describe('from a working mirror', () => {
    it('beside an image Node.js 20: installs curl and xz with apt, downloads and verifies Node.js, pins the launchers to it, a user logs in with it; the image node is unchanged and never runs the agent', async () => {
      image = await scratchRootfs();
      await image.addDir(stage, '/tmp/feature');
      await image.addFile(machineNode20, '/usr/bin/node');
      const result = await image.run(installWith(`NODEMIRROR=${good.url}`));
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('/usr/bin/node is Node.js 20.');
      expect(result.stdout).toContain(
        `downloading a private Node.js ${defaultVersion} for the agent from ${good.url}v${defaultVersion}/node-v${defaultVersion}-linux-x64.tar.xz`,
      );
      expect(good.requests).toEqual([
        `/dist/v${defaultVersion}/SHASUMS256.txt`,
        `/dist/v${defaultVersion}/node-v${defaultVersion}-linux-x64.tar.xz`,
      ]);

      const state = await image.run(
        'ls /usr/local/share/registry-login-node /usr/local/share/registry-login-node/bin; cat /usr/local/bin/registry-login; ls -A /var/lib/apt/lists; ' +
          'command -v node; node --version; ls -A /tmp',
      );
      expect(state.stdout).toMatch(/^LICENSE\nbin\n/m);
      expect(state.stdout).toContain("pinned='/usr/local/share/registry-login-node/bin/node'");
      expect(state.stdout).toMatch(/^\/usr\/bin\/node\nv20\./m);
      expect(state.stdout).not.toMatch(/^tmp\./m);
      expect(state.stdout, 'apt lists cleaned after installing curl').not.toMatch(/_Packages/);
      expect(await sha256(path.join(image.upper, 'usr/bin/node'))).toBe(await sha256(machineNode20));

      await addNodeRecorder(image);
      const asUser = await image.run('registry-login refresh && registry-login check', {
        user: '1000:1000',
        env: {
          HOME: '/home/vscode',
          NODE_OPTIONS: recordNodeRuns,
          PRIVNODE_CONTAINER_REGISTRY_SERVER: registry.host,
          PRIVNODE_CONTAINER_REGISTRY_USER: robot.user,
          PRIVNODE_CONTAINER_REGISTRY_PASSWORD: robot.password,
        },
      });
      expect(asUser.exitCode, asUser.stdout + asUser.stderr).toBe(0);
      expect(asUser.stdout).toContain(registry.host);
      const runs = (await readFile(path.join(image.upper, 'tmp/node-runs'), 'utf8')).trim().split('\n');
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect(new Set(runs)).toEqual(new Set([`v${defaultVersion}`]));
      const config = JSON.parse(await readFile(path.join(image.upper, 'home/vscode/.docker/config.json'), 'utf8')) as {
        auths: Record<string, { auth: string }>;
      };
      expect(Buffer.from(config.auths[registry.host]?.auth ?? '', 'base64').toString()).toBe(
        `${robot.user}:${robot.password}`,
      );
    }, 300_000);

    it('installing again keeps it without downloading; once the image has its own Node.js 22.12+, a reinstall uses that and removes the private one', async () => {
      if (!image) throw new Error('the previous test did not leave an image');
      const before = good.requests.length;
      const again = await image.run(installWith(`NODEMIRROR=${good.url}`));
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toContain(`keeping the private Node.js ${defaultVersion}`);
      expect(good.requests.length).toBe(before);
      expect((await image.run('registry-login --version', { user: '1000:1000' })).exitCode).toBe(0);

      await image.addFile(imageNode, '/usr/local/bin/node');
      const withImageNode = await image.run(installWith(`NODEMIRROR=${good.url}`));
      expect(withImageNode.exitCode, withImageNode.stderr).toBe(0);
      expect(withImageNode.stdout).toContain('removed the private Node.js');
      const state = await image.run('cat /usr/local/bin/registry-login; ls /usr/local/share');
      expect(state.stdout).toContain("pinned='/usr/local/bin/node'");
      expect(state.stdout).not.toContain('registry-login-node');
    }, 120_000);

    it('takes the .tar.gz when the image has no xz', async () => {
      if (!image) throw new Error('the previous test did not leave an image');
      await image.run('rm /usr/local/bin/node /usr/bin/xz');
      const result = await image.run(installWith(`NODEMIRROR=${good.url}`));
      expect(result.exitCode, result.stderr).toBe(0);
      expect(good.requests.at(-1)).toBe(`/dist/v${defaultVersion}/node-v${defaultVersion}-linux-x64.tar.gz`);
      expect((await image.run('registry-login --version', { user: '1000:1000' })).exitCode).toBe(0);
    }, 120_000);
  });

  describe('another nodeVersion, which only the nodeSha256 option can vouch for', () => {
    let otherImage: ScratchRootfs | undefined;
    afterAll(async () => {
      await otherImage?.cleanup();
    });

    it('without nodeSha256: refused before any download, saying how to get the value; nothing is left behind', async () => {
      otherImage = await scratchRootfs();
      await otherImage.addDir(stage, '/tmp/feature');
      const result = await otherImage.run(installWith(`NODEMIRROR=${other.url} NODEVERSION=${otherVersion}`));
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(`refusing option nodeVersion ${otherVersion} without option nodeSha256`);
      expect(result.stderr).toContain(`https://nodejs.org/dist/v${otherVersion}/SHASUMS256.txt and SHASUMS256.txt.sig`);
      expect(result.stderr).toContain('gpg --verify SHASUMS256.txt.sig SHASUMS256.txt');
      expect(result.stderr).toContain(`node-v${otherVersion}-linux-x64.tar.xz`);
      expect(result.stderr).toContain(`"nodeVersion": "${otherVersion}", "nodeSha256": `);
      expect(other.requests).toEqual([]);
      // Not even curl was installed for it.
      const state = await otherImage.run(`${noNodeAnywhere}; command -v curl || echo "no curl"`);
      expect(state.stdout).toContain('no node on PATH');
      expect(state.stdout).toContain('no curl');
      expect(state.stdout).not.toContain('registry-login');
      expect(state.stdout).not.toMatch(/^tmp\./m);
    }, 120_000);

    it('with a wrong nodeSha256: refused before unpacking, nothing installed', async () => {
      if (!otherImage) throw new Error('the previous test did not leave an image');
      const wrong = `${'0'.repeat(63)}1`;
      const result = await otherImage.run(
        installWith(`NODEMIRROR=${other.url} NODEVERSION=${otherVersion} NODESHA256=${wrong}`),
      );
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(
        `refusing ${other.url}v${otherVersion}/node-v${otherVersion}-linux-x64.tar.xz: its SHA-256 is ${otherArchive.sha256}, which is not the option nodeSha256 ('${wrong}')`,
      );
      // The mirror's SHASUMS256.txt agrees with the archive, and is not even asked.
      expect(other.requests).toEqual([`/dist/v${otherVersion}/node-v${otherVersion}-linux-x64.tar.xz`]);
      const state = await otherImage.run(noNodeAnywhere);
      expect(state.stdout).not.toContain('registry-login');
      expect(state.stdout).not.toMatch(/^tmp\./m);
    }, 300_000);

    it('with the right nodeSha256 (among others, e.g. for arm64): installed and used', async () => {
      if (!otherImage) throw new Error('the previous test did not leave an image');
      const result = await otherImage.run(
        installWith(
          `NODEMIRROR=${other.url} NODEVERSION=v${otherVersion} NODESHA256=${'a'.repeat(64)},${otherArchive.sha256.toUpperCase()}`,
        ),
      );
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain(`with Node.js ${otherVersion} at /usr/local/share/registry-login-node/bin/node`);
      const run = await otherImage.run(
        'registry-login --version && /usr/local/share/registry-login-node/bin/node --version',
        { user: '1000:1000' },
      );
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toContain(`v${otherVersion}`);
    }, 120_000);
  });

  describe('when the download cannot be trusted or made, nothing is installed', () => {
    let failing: ScratchRootfs | undefined;
    const expectNothingInstalled = async (rootfs: ScratchRootfs) => {
      const state = await rootfs.run(noNodeAnywhere);
      expect(state.stdout).toContain('no node on PATH');
      expect(state.stdout).not.toContain('registry-login');
      expect(state.stdout, 'temporary files left in /tmp').not.toMatch(/^tmp\./m);
    };
    const expectWaysOut = (stderr: string, mirror: string) => {
      expect(stderr).toContain(`"nodeMirror" option`);
      expect(stderr).toContain(`(now '${mirror}')`);
      expect(stderr).toContain('"ghcr.io/devcontainers/features/node:1": { "version": "lts" }');
      expect(stderr).toContain('"nodeBinary"');
    };

    afterAll(async () => {
      await failing?.cleanup();
    });

    it('no mirror reachable: says which file could not be downloaded and the ways out, within bounded time (a closed port, then a silent server)', async () => {
      failing = await scratchRootfs();
      await failing.addDir(stage, '/tmp/feature');
      const closed = 'http://127.0.0.1:9/dist';
      const refused = await failing.run(installWith(`NODEMIRROR=${closed}`));
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain(`could not download ${closed}/v${defaultVersion}/SHASUMS256.txt`);
      expectWaysOut(refused.stderr, closed);
      await expectNothingInstalled(failing);

      // A proxy's URL may carry a password: messages show the mirror without it.
      const withPassword = await failing.run(
        installWith(`NODEMIRROR=http://mirror-user:s3cret-mirror-pw@127.0.0.1:9/dist/`),
      );
      expect(withPassword.exitCode).not.toBe(0);
      expect(withPassword.stdout + withPassword.stderr).not.toContain('s3cret-mirror-pw');
      expect(withPassword.stderr).toContain(
        `could not download http://***@127.0.0.1:9/dist/v${defaultVersion}/SHASUMS256.txt`,
      );
      expectWaysOut(withPassword.stderr, 'http://***@127.0.0.1:9/dist/');

      const silent = await startSilentServer();
      try {
        const started = Date.now();
        const stalled = await failing.run(installWith(`NODEMIRROR=${silent.url}`));
        expect(Date.now() - started, 'a silent mirror must not hang the build').toBeLessThan(120_000);
        expect(stalled.exitCode).not.toBe(0);
        expect(stalled.stderr).toContain(`could not download ${silent.url}v${defaultVersion}/SHASUMS256.txt`);
        expectWaysOut(stalled.stderr, silent.url);
      } finally {
        await silent.stop();
      }
      await expectNothingInstalled(failing);
    }, 300_000);

    it('a plain http:// mirror that is not loopback is refused before any download, whatever the network would deliver', async () => {
      if (!failing) throw new Error('the previous test did not leave an image');
      // The working mirror also answers as an http proxy: through it, the download would succeed.
      const proxy = new URL(good.url).origin;
      const before = good.requests.length;
      const result = await failing.run(
        `cd /tmp/feature && http_proxy=${proxy} HTTP_PROXY=${proxy} NODEMIRROR=http://nodejs-mirror.example.test/dist/ ./install.sh`,
      );
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(
        "refusing option nodeMirror 'http://nodejs-mirror.example.test/dist/': plain http",
      );
      expect(result.stderr).toContain('Use an https:// mirror');
      expect(good.requests.length, 'requests that reached the mirror through the proxy').toBe(before);
      await expectNothingInstalled(failing);
    }, 120_000);

    it('an archive whose bytes do not match SHASUMS256.txt is refused before unpacking', async () => {
      if (!failing) throw new Error('the previous test did not leave an image');
      const result = await failing.run(installWith(`NODEMIRROR=${tampered.url}`));
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(
        `refusing ${tampered.url}v${defaultVersion}/node-v${defaultVersion}-linux-x64.tar.xz: its SHA-256 is`,
      );
      expect(result.stderr).toContain('corrupt or was tampered with; nothing was installed');
      expectWaysOut(result.stderr, tampered.url);
      await expectNothingInstalled(failing);
    }, 120_000);

    it('for the default version, a node binary other than the official one is refused even when SHASUMS256.txt agrees', async () => {
      if (!failing) throw new Error('the previous test did not leave an image');
      const result = await failing.run(installWith(`NODEMIRROR=${swapped.url}`));
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain('not the');
      expect(result.stderr).toContain('that this Feature carries');
      expectWaysOut(result.stderr, swapped.url);
      await expectNothingInstalled(failing);
    }, 120_000);
  });
});

describe('the lifecycle hook', () => {
  const hook = '/usr/local/share/registry-login/hooks/refresh.sh postCreateCommand';
  const incomplete = { HOME: '/home/vscode', BROKEN_CONTAINER_REGISTRY_SERVER: 'registry.example.test' };

  it("the metadata's commands run the installed hook: create logs in, attach keeps the logins without the secrets, start without them removes them", async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    expect((await image.run(install)).exitCode).toBe(0);
    const configFile = path.join(image.upper, 'home/vscode/.docker/config.json');
    const managed = async () =>
      Object.keys((JSON.parse(await readFile(configFile, 'utf8')) as { auths?: object }).auths ?? {});
    const noSecrets = { HOME: '/home/vscode' };

    const created = await image.run(metadata.postCreateCommand, { user: '1000:1000', env: triple });
    expect(created.exitCode, created.stderr).toBe(0);
    expect(await managed()).toEqual(['registry.example.test:5000']);
    const attached = await image.run(metadata.postAttachCommand, { user: '1000:1000', env: noSecrets });
    expect(attached.exitCode, attached.stderr).toBe(0);
    expect(await managed()).toEqual(['registry.example.test:5000']);
    const started = await image.run(metadata.postStartCommand, { user: '1000:1000', env: noSecrets });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(await managed()).toEqual([]);
  });

  it('with secrets "memory": hooks and a terminal keep the secret in memory only, the config holds only credHelpers', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    expect((await image.run(installWith('SECRETS=memory'))).exitCode).toBe(0);
    const configFile = path.join(image.upper, 'home/vscode/.docker/config.json');
    const created = await image.run(metadata.postCreateCommand, { user: '1000:1000', env: triple });
    expect(created.exitCode, created.stderr).toBe(0);
    const only = { credHelpers: { 'registry.example.test:5000': 'registry-login' } };
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual(only);
    // A terminal's refresh, without REGISTRY_LOGIN_SECRETS, finds the recorded choice; the helper serves from memory
    // (each run here is a fresh mount namespace, so a fresh /dev/shm: as after a restart, the refresh makes it again).
    const terminal = await image.run(
      'registry-login refresh && echo registry.example.test:5000 | docker-credential-registry-login get',
      { user: '1000:1000', env: triple },
    );
    expect(terminal.exitCode, terminal.stderr).toBe(0);
    expect(terminal.stdout).toContain(triple.TESTREG_CONTAINER_REGISTRY_PASSWORD);
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual(only);
    const scan = await image.run(
      `grep -rl -e ${triple.TESTREG_CONTAINER_REGISTRY_PASSWORD} -e ${Buffer.from(`robot:${triple.TESTREG_CONTAINER_REGISTRY_PASSWORD}`).toString('base64')} /home /tmp /var /etc /usr/local; echo "grep=$?"`,
    );
    expect(scan.stdout.trim()).toBe('grep=1');
  });

  it('refuses a secrets option other than config or memory', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    const run = await image.run(installWith('SECRETS=disk'));
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('option secrets must be "config"');
  });

  it('turns a failed login into a warning by default, so container creation goes on', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    expect((await image.run(install)).exitCode).toBe(0);
    const result = await image.run(`${hook}; echo "exit=$?"`, { user: '1000:1000', env: incomplete });
    expect(result.stdout).toContain('exit=0');
    expect(result.stdout + result.stderr).toContain('BROKEN');
  });

  it('fails the lifecycle step when failOnError is set', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    expect((await image.run(installWith('FAILONERROR=true'))).exitCode).toBe(0);
    const result = await image.run(`${hook}; echo "exit=$?"`, { user: '1000:1000', env: incomplete });
    expect(result.stdout).toContain('exit=1');
  });

  it('warns and still exits 0 when the agent cannot start at all', async () => {
    const image = await imageWithFeature();
    await image.addFile(imageNode, '/usr/local/bin/node');
    expect((await image.run(install)).exitCode).toBe(0);
    const result = await image.run(`rm /usr/local/bin/node && su -s /bin/sh vscode -c '${hook}; echo "exit=$?"'`);
    expect(result.stdout).toContain('exit=0');
    expect(result.stderr).toContain('Node.js is no longer at /usr/local/bin/node');
    expect(result.stderr).toContain("Run 'registry-login refresh' in a terminal");
  });
});

describe('install.sh under BusyBox ash and applets with an Alpine os-release (Alpine userland stand-in)', () => {
  // Not a real Alpine image (none can be built offline here, and the host's glibc Node.js would not
  // run on musl): it proves install.sh needs nothing beyond what Alpine's BusyBox provides, and that
  // the advice for Alpine is the right one.
  const alpineRelease = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n';
  const busyboxInstall =
    'mkdir -p /opt/bb && /bin/busybox --install -s /opt/bb && cd /tmp/feature && PATH=/opt/bb /bin/busybox sh ./install.sh';

  async function alpineLike(): Promise<ScratchRootfs> {
    const image = await imageWithFeature();
    await writeFile(path.join(image.upper, 'alpine-os-release'), alpineRelease);
    await image.run('rm /etc/os-release /usr/lib/os-release && mv /alpine-os-release /etc/os-release');
    return image;
  }

  it('installs with only BusyBox tools on PATH', async () => {
    const image = await alpineLike();
    await image.addFile(imageNode, '/usr/local/bin/node');
    const result = await image.run(busyboxInstall);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('installing for alpine');
    const run = await image.run('PATH=/opt/bb /bin/busybox sh /usr/local/bin/registry-login --version', {
      user: '1000:1000',
    });
    expect(run.exitCode).toBe(0);
  });

  it('without Node.js tells Alpine users to apk add nodejs', async () => {
    const image = await alpineLike();
    const result = await image.run(busyboxInstall);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('RUN apk add --no-cache nodejs');
    expect(result.stderr).toContain('from Alpine 3.22 on');
    expect(result.stderr).toContain('(this image: Alpine Linux v3.20)');
  });
});
