import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { requireCommand } from './process.js';
import { withTempDir } from './tmp.js';

export interface SkopeoResult {
  ok: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface SkopeoInspectResult extends SkopeoResult {
  /** Parsed `skopeo inspect` output when ok. */
  json?: { Digest?: string; Name?: string; [k: string]: unknown };
}

export interface SkopeoInspectOptions {
  /** The docker config directory skopeo must use (as $DOCKER_CONFIG); nothing else is read. */
  dockerConfigDir: string;
  /** Verify TLS; default: true when certDir is given, else false (plain-http test registries). */
  tlsVerify?: boolean;
  /** Directory with ca.crt for a self-signed registry. */
  certDir?: string;
  /** Extra environment, e.g. a PATH that holds a docker-credential-* helper under test. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

// Verified with strace against skopeo 1.9.3: it looks for credentials, in order, in $REGISTRY_AUTH_FILE
// (the --authfile default), else $XDG_RUNTIME_DIR/containers/auth.json (or /run/containers/$UID/auth.json
// when the variable is UNSET), then $XDG_CONFIG_HOME/containers/auth.json (default ~/.config), then
// $DOCKER_CONFIG/config.json (default ~/.docker/config.json), then ~/.dockercfg. Pointing HOME,
// XDG_RUNTIME_DIR and XDG_CONFIG_HOME at an empty scratch dir closes every other path, including the
// system-wide /run/containers one that merely unsetting XDG_RUNTIME_DIR would open.
/** Builds an environment in which skopeo reads credentials only from $DOCKER_CONFIG/config.json. */
export async function hermeticSkopeoEnv(
  scratchDir: string,
  dockerConfigDir: string | undefined,
  extra: Record<string, string | undefined> = {},
): Promise<Record<string, string>> {
  const home = path.join(scratchDir, 'home');
  const runtime = path.join(scratchDir, 'run');
  await mkdir(home, { recursive: true, mode: 0o700 });
  await mkdir(runtime, { recursive: true, mode: 0o700 });
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    DOCKER_CONFIG: dockerConfigDir ?? path.join(home, '.docker'),
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Returns the skopeo TLS flags for one side ("" for inspect, "dest-"/"src-" for copy). */
export function skopeoTlsArgs(
  prefix: '' | 'dest-' | 'src-',
  tlsVerify: boolean | undefined,
  certDir: string | undefined,
): string[] {
  const verify = tlsVerify ?? certDir !== undefined;
  return [
    `--${prefix}tls-verify=${String(verify)}`,
    ...(certDir !== undefined ? [`--${prefix}cert-dir`, certDir] : []),
  ];
}

function dockerRef(ref: string): string {
  return ref.startsWith('docker://') ? ref : `docker://${ref}`;
}

/**
 * Runs `skopeo inspect docker://REF` reading credentials only from the given docker config, as a user's skopeo would.
 */
export async function skopeoInspect(ref: string, options: SkopeoInspectOptions): Promise<SkopeoInspectResult> {
  const skopeo = await requireCommand('skopeo', 'skopeo');
  return await withTempDir(async (scratch) => {
    const env = await hermeticSkopeoEnv(scratch, options.dockerConfigDir, options.env);
    const result = await execa(
      skopeo,
      ['inspect', ...skopeoTlsArgs('', options.tlsVerify, options.certDir), dockerRef(ref)],
      { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: options.timeoutMs ?? 60_000 },
    );
    const exitCode = result.exitCode ?? -1;
    const out: SkopeoInspectResult = { ok: exitCode === 0, exitCode, stdout: result.stdout, stderr: result.stderr };
    if (out.ok) out.json = JSON.parse(result.stdout) as SkopeoInspectResult['json'];
    return out;
  }, 'rl-skopeo-');
}
