// Config writes that fail deterministically, also for root: the CLI runs in a private mount namespace where the
// config file is bind-mounted onto itself, so the rename that replaces it fails (EBUSY) after the lock and the
// ledger were taken and written. The mount dies with the namespace; nothing outside the test sees it.
import { execa } from 'execa';
import path from 'node:path';
import { BIN, type AgentResult } from './agent.js';
import { requireCommand } from './process.js';

/**
 * Runs `registry-login ARGS` with exactly env while the config file at configPath (which must exist) cannot be
 * replaced.
 */
export async function runAgentWithConfigPinned(
  args: string[],
  env: Record<string, string>,
  configPath: string,
): Promise<AgentResult> {
  const unshare = await requireCommand('unshare', 'util-linux');
  const script =
    'mount --bind "$1" "$1" || { echo "config-faults: cannot bind-mount $1 (needs root or CAP_SYS_ADMIN)" >&2; exit 97; }; shift; exec "$@"';
  const r = await execa(
    unshare,
    [
      '-m',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      script,
      'sh',
      configPath,
      path.join(BIN, 'registry-login'),
      ...args,
    ],
    {
      env,
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    },
  );
  if (r.exitCode === 97 || /unshare: /.test(r.stderr))
    throw new Error(
      `cannot pin ${configPath} for a failing config write: ${r.stderr.trim()} (these tests need root or CAP_SYS_ADMIN for a private mount namespace)`,
    );
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
