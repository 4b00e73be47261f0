// Runs a command in a private mount + network namespace (unshare): its own loopback, nothing else, and
// a hosts file bind-mounted over /etc/hosts there that maps the given names to 127.0.0.1. Servers
// started inside may take any port, 443 included, under any name; the machine's network configuration
// and /etc/hosts are never touched, and every mount made inside vanishes with the namespace.
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireCommand } from './process.js';

/** Says why a private network namespace cannot be made here, or undefined when it can. */
export async function whyPrivateNetworkCannotRun(): Promise<string | undefined> {
  if (process.getuid?.() !== 0)
    return 'a private network namespace (unshare --net, a bind mount over /etc/hosts) needs root';
  try {
    await Promise.all([
      requireCommand('unshare', 'util-linux'),
      requireCommand('ip', 'iproute2'),
      requireCommand('mount', 'mount'),
    ]);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

export interface PrivateNetworkRun {
  /** Where the namespace's hosts file is written. */
  dir: string;
  /** Names that resolve to 127.0.0.1 inside (localhost always does). */
  names: readonly string[];
  command: string;
  args: readonly string[];
  cwd: string;
  /** The whole environment of the command (nothing is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
}

/** Runs the command inside a fresh private namespace and returns how it ended (never throws on a non-zero exit). */
export async function runInPrivateNetwork(
  run: PrivateNetworkRun,
): Promise<{ exitCode: number | undefined; stdout: string; all: string }> {
  const hosts = path.join(run.dir, 'hosts');
  await writeFile(
    hosts,
    ['127.0.0.1 localhost', '::1 localhost', ...run.names.map((name) => `127.0.0.1 ${name}`), ''].join('\n'),
  );
  const setup = 'set -e; ip link set lo up; mount --bind "$1" /etc/hosts; shift; exec "$@"';
  const result = await execa(
    'unshare',
    ['--mount', '--net', '--propagation', 'private', 'sh', '-c', setup, 'sh', hosts, run.command, ...run.args],
    {
      cwd: run.cwd,
      env: run.env,
      extendEnv: false,
      reject: false,
      all: true,
      timeout: run.timeoutMs,
    },
  );
  return { exitCode: result.exitCode, stdout: result.stdout, all: result.all };
}
