// A real credential store for host-side tests: Debian's docker-credential-pass, unpacked into build/ (never installed
// system-wide: with it on PATH, docker on this machine would pick `pass` as its default store for every test), and a
// `pass` password store with a throwaway GPG key in a test's own home.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from './agent.js';
import { requireCommand } from './process.js';

/** The directory holding docker-credential-pass (and -secretservice), unpacked once per checkout. */
export async function credentialHelpersDir(): Promise<string> {
  const dir = path.join(REPO, 'build', 'docker-credential-helpers');
  const bin = path.join(dir, 'usr', 'bin');
  if (existsSync(path.join(bin, 'docker-credential-pass'))) return bin;
  await requireCommand('dpkg-deb', 'dpkg');
  await requireCommand('apt-get', 'apt');
  await mkdir(path.dirname(dir), { recursive: true });
  const scratch = await mkdtemp(`${dir}.`);
  try {
    const fetchDeb = () =>
      execa('apt-get', ['download', 'golang-docker-credential-helpers'], { cwd: scratch, reject: false, all: true });
    let download = await fetchDeb();
    // A machine whose package lists were never fetched (or were cleaned) knows no such package yet.
    if (download.exitCode !== 0 && process.getuid?.() === 0) {
      await execa('apt-get', ['update', '-q'], { reject: false });
      download = await fetchDeb();
    }
    const deb = (await readdir(scratch)).find((name) => name.endsWith('.deb'));
    if (download.exitCode !== 0 || deb === undefined) {
      throw new Error(
        `apt-get download golang-docker-credential-helpers failed; check the apt sources (as root: apt-get update), then run the tests again:\n${download.all ?? ''}`,
      );
    }
    await execa('dpkg-deb', ['-x', path.join(scratch, deb), path.join(scratch, 'root')]);
    // Another test file may have unpacked it meanwhile: the first rename wins, the same files either way.
    await rename(path.join(scratch, 'root'), dir).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(path.join(bin, 'docker-credential-pass'))) throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return bin;
}

/** A pass store initialised with a new passphrase-less GPG key, in home. */
export interface PassHome {
  /** GNUPGHOME and PASSWORD_STORE_DIR for the environment of everything that uses the store. */
  env: Record<string, string>;
  /** Stops the gpg-agent the store started. */
  stop(): Promise<void>;
}

/** Creates a GPG key and runs `pass init` for it under home. */
export async function initPassStore(home: string, pathValue: string): Promise<PassHome> {
  await requireCommand('pass', 'pass');
  await requireCommand('gpg', 'gnupg');
  const gnupg = path.join(home, '.gnupg');
  await mkdir(gnupg, { recursive: true, mode: 0o700 });
  await chmod(gnupg, 0o700);
  const env = { HOME: home, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: path.join(home, '.password-store'), PATH: pathValue };
  await execa(
    'gpg',
    [
      '--batch',
      '--passphrase',
      '',
      '--quick-gen-key',
      'registry-login test <test@test.invalid>',
      'default',
      'default',
      'never',
    ],
    { env, extendEnv: false },
  );
  const listed = await execa('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env, extendEnv: false });
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)?.[1];
  if (!fingerprint) throw new Error(`no fingerprint in gpg's key list:\n${listed.stdout}`);
  await execa('pass', ['init', fingerprint], { env, extendEnv: false });
  return {
    env,
    async stop() {
      await execa('gpgconf', ['--kill', 'all'], { env, extendEnv: false, reject: false });
    },
  };
}

/**
 * Writes an executable wrapper for docker-credential-<name> into dir that logs each action to log, then runs the real
 * one.
 */
export async function countingWrapper(dir: string, name: string, real: string, log: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `docker-credential-${name}`);
  await writeFile(file, `#!/bin/sh\necho "$1" >> '${log}'\nexec '${real}' "$@"\n`);
  await chmod(file, 0o755);
}
