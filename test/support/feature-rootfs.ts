// A real Debian bookworm userland for the Feature's tests: built once with debootstrap from the
// machine's apt mirror, cached outside the repository, and used through throwaway overlays.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Where built root filesystems are cached; REGISTRY_LOGIN_TEST_CACHE overrides it. */
export const rootfsCacheDir = process.env.REGISTRY_LOGIN_TEST_CACHE ?? '/var/cache/registry-login-test';

/** Added to minbase: busybox gives the install.sh tests Alpine's shell (ash) and tools. */
const extraPackages = ['busybox'];
/** Changes whenever what goes into the cached rootfs changes, so an old cache is never reused. */
const rootfsKey = `bookworm-minbase-${extraPackages.join('+')}-user1000-v1`;

/** The non-root user (uid/gid 1000) the cached rootfs has, for remoteUser. */
export const rootfsUser = 'vscode';

/** Says why the root-only tiers cannot run here, or undefined when they can. */
export function whyRootTierCannotRun(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'the Feature tier must run as root (it uses debootstrap, chroot, overlay mounts and dockerd)';
  for (const tool of ['/usr/sbin/debootstrap', '/usr/sbin/chroot', '/usr/bin/unshare']) {
    if (!existsSync(tool))
      return `${tool} is missing; install it with: apt-get install -y debootstrap util-linux coreutils`;
  }
  return undefined;
}

/** The Debian mirror URL apt uses on this machine (deb822 or one-line sources). */
export async function aptMirror(): Promise<string> {
  const files: string[] = [];
  for (const dir of ['/etc/apt/sources.list.d']) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith('.sources') || name.endsWith('.list')) files.push(path.join(dir, name));
    }
  }
  files.push('/etc/apt/sources.list');
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes('bookworm')) return uris;
    }
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text)?.[1];
    if (oneLine) return oneLine;
  }
  throw new Error('no apt source for Debian bookworm in /etc/apt/sources.list(.d); debootstrap needs a mirror');
}

async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'));
      let alive = true;
      try {
        if (Number.isInteger(owner)) process.kill(owner, 0);
      } catch {
        alive = false;
      }
      if (!alive) await rm(lockDir, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  await writeFile(path.join(lockDir, 'pid'), String(process.pid));
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

let cached: Promise<string> | undefined;

/** The cached minbase rootfs (debootstrapped on first use, ≈ 30 s); treat it as read-only. */
export function cachedRootfs(): Promise<string> {
  cached ??= buildOrReuseRootfs();
  return cached;
}

async function buildOrReuseRootfs(): Promise<string> {
  const dir = path.join(rootfsCacheDir, rootfsKey);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  await mkdir(rootfsCacheDir, { recursive: true });
  return withLock(path.join(rootfsCacheDir, `${rootfsKey}.lock`), async () => {
    if (existsSync(path.join(dir, '.complete'))) return dir;
    const building = `${dir}.building`;
    await rm(building, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    const mirror = await aptMirror();
    await execa(
      'debootstrap',
      ['--variant=minbase', `--include=${extraPackages.join(',')}`, 'bookworm', building, mirror],
      { all: true },
    ).catch((error: { all?: string }) => {
      throw new Error(`debootstrap of bookworm from ${mirror} failed:\n${(error.all ?? '').slice(-3000)}`);
    });
    await execa('chroot', [
      building,
      'useradd',
      '--create-home',
      '--uid',
      '1000',
      '--user-group',
      '--shell',
      '/bin/bash',
      rootfsUser,
    ]);
    await execa('chroot', [building, 'apt-get', 'clean']);
    await rm(path.join(building, 'var/lib/apt/lists'), { recursive: true, force: true });
    await mkdir(path.join(building, 'var/lib/apt/lists/partial'), { recursive: true });
    await writeFile(path.join(building, '.complete'), `${rootfsKey}\n`);
    await rename(building, dir);
    return dir;
  });
}

/** A throwaway view of the cached rootfs: an overlay whose changes go to a temporary upper layer. */
export interface ScratchRootfs {
  /** The upper layer: files written here (before a run) appear in the rootfs. */
  upper: string;
  /** Copies a host file into the rootfs at an absolute path inside it. */
  addFile(source: string, target: string, mode?: number): Promise<void>;
  /** Copies a host directory into the rootfs at an absolute path inside it. */
  addDir(source: string, target: string): Promise<void>;
  /** Runs a shell script inside the rootfs (chroot, private mount namespace, /proc mounted). */
  run(
    script: string,
    options?: { user?: string; env?: Record<string, string> },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Removes the upper layer. */
  cleanup(): Promise<void>;
}

/** Creates a throwaway rootfs over the cached one. */
export async function scratchRootfs(): Promise<ScratchRootfs> {
  const lower = await cachedRootfs();
  const base = await mkdtemp(path.join(os.tmpdir(), 'registry-login-rootfs-'));
  const upper = path.join(base, 'upper');
  const work = path.join(base, 'work');
  const merged = path.join(base, 'merged');
  await Promise.all([mkdir(upper), mkdir(work), mkdir(merged)]);
  const inUpper = (target: string) => path.join(upper, target.replace(/^\/+/, ''));
  // Folders made in the upper layer take the mode the lower one has (e.g. /tmp's 1777), or 0755.
  const mkdirInUpper = async (target: string) => {
    let current = '/';
    for (const part of target.split('/').filter(Boolean)) {
      current = path.join(current, part);
      if (existsSync(inUpper(current))) continue;
      await mkdir(inUpper(current));
      const lowerMode = await stat(path.join(lower, current)).then(
        (info) => info.mode & 0o7777,
        () => 0o755,
      );
      await chmod(inUpper(current), lowerMode);
    }
  };
  return {
    upper,
    async addFile(source, target, mode = 0o755) {
      await mkdirInUpper(path.dirname(target));
      await copyFile(source, inUpper(target));
      await execa('chmod', [mode.toString(8), inUpper(target)]);
    },
    async addDir(source, target) {
      await mkdirInUpper(path.dirname(target));
      await execa('cp', ['-a', source, inUpper(target)]);
    },
    async run(script, options = {}) {
      // The mounts live in a private mount namespace, so they vanish with the process, whatever happens.
      const setup = [
        'set -e',
        `mount -t overlay overlay -o lowerdir="$LOWER",upperdir="$UPPER",workdir="$WORK" "$MERGED"`,
        'mount -t proc proc "$MERGED/proc"',
        'mount -t tmpfs tmpfs "$MERGED/dev/shm" 2>/dev/null || true',
        options.user
          ? 'exec chroot --userspec="$RUN_AS" "$MERGED" /usr/bin/env -i HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin $RUN_ENV /bin/sh -c "$SCRIPT"'
          : 'exec chroot "$MERGED" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin $RUN_ENV /bin/sh -c "$SCRIPT"',
      ].join('\n');
      const runEnv = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
      if (runEnv.some((entry) => /\s/.test(entry)))
        throw new Error('scratch rootfs env values must not contain whitespace');
      const result = await execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', setup], {
        env: {
          LOWER: lower,
          UPPER: upper,
          WORK: work,
          MERGED: merged,
          SCRIPT: script,
          RUN_AS: options.user ?? '',
          RUN_ENV: runEnv.join(' '),
        },
        extendEnv: true,
        reject: false,
      });
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    async cleanup() {
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * Imports the cached rootfs plus the given host files (e.g. node) into a docker daemon as an image.
 * Only the files themselves are added (their directories already exist in Debian): docker import
 * refuses an archive that names a path twice.
 */
export async function importRootfsImage(
  dockerHost: string,
  tag: string,
  extraFiles: { source: string; target: string }[],
): Promise<void> {
  const lower = await cachedRootfs();
  const extra = await mkdtemp(path.join(os.tmpdir(), 'registry-login-image-'));
  try {
    for (const { source, target } of extraFiles) {
      const inExtra = path.join(extra, target.replace(/^\/+/, ''));
      await mkdir(path.dirname(inExtra), { recursive: true });
      await copyFile(source, inExtra);
      await execa('chmod', ['0755', inExtra]);
    }
    const files = extraFiles.map(({ target }) => `.${target}`);
    // tar refuses a trailing -C with no file after it: the extra part only when there are files.
    const extraPart = files.length > 0 ? ' -C "$EXTRA" --no-recursion "$@"' : '';
    await execa(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `tar -C "$LOWER" -c --exclude=./.complete .${extraPart} | docker -H "$DOCKER" import - "$TAG"`,
        'import',
        ...files,
      ],
      {
        env: { LOWER: lower, EXTRA: extra, DOCKER: dockerHost, TAG: tag },
      },
    );
  } finally {
    await rm(extra, { recursive: true, force: true });
  }
}
