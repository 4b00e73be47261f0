// Runs the built registry-login launchers as a user would, in a sealed environment.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest folder above this file (or its bundled copy in build/) with the project's
 * package.json.
 */
export const REPO = findRepo(path.dirname(fileURLToPath(import.meta.url)));
export const BIN = path.join(REPO, 'bin');
/** The folder of the Node.js that runs the tests: the launchers (`#!/usr/bin/env node`) run on it too. */
export const NODE_DIR = path.dirname(process.execPath);

/**
 * A copy of the launchers, the build and the Node.js that runs the tests in `dir` (made 0755), for runs as another
 * user: the checkout may sit in a 0700 folder. Its bin/ (holding `node` too) goes first on that user's PATH.
 */
export async function readableInstall(dir: string): Promise<string> {
  await chmod(dir, 0o755);
  await cp(BIN, path.join(dir, 'bin'), { recursive: true });
  await cp(path.join(REPO, 'dist'), path.join(dir, 'dist'), { recursive: true });
  await cp(process.execPath, path.join(dir, 'bin', 'node'));
  return path.join(dir, 'bin');
}

/** A user's world for one test: a home, its docker config directory and an environment. */
export interface AgentHome {
  home: string;
  dockerConfigDir: string;
  configPath: string;
  env: Record<string, string>;
}

/**
 * Makes a home under dir with PATH holding bin/ (so docker finds the helper) and no ambient registry or AWS settings.
 */
export async function makeAgentHome(dir: string, extra: Record<string, string> = {}): Promise<AgentHome> {
  if (!existsSync(path.join(REPO, 'dist', 'registry-login.cjs')))
    throw new Error('dist/registry-login.cjs is missing: run `npm run build` before the end-to-end tests');
  const home = path.join(dir, 'home');
  const dockerConfigDir = path.join(home, '.docker');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const env = {
    PATH: `${BIN}:${NODE_DIR}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: home,
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
  return { home, dockerConfigDir, configPath: path.join(dockerConfigDir, 'config.json'), env };
}

/** The three variables of a login, as Codespaces secrets would set them. */
export function triple(prefix: string, server: string, user: string, password: string): Record<string, string> {
  return {
    [`${prefix}_CONTAINER_REGISTRY_SERVER`]: server,
    [`${prefix}_CONTAINER_REGISTRY_USER`]: user,
    [`${prefix}_CONTAINER_REGISTRY_PASSWORD`]: password,
  };
}

export interface AgentResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `registry-login ARGS` with exactly the given environment (in cwd when given, as a hook runs in a workspace). */
export async function runAgent(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<AgentResult> {
  return run(path.join(BIN, 'registry-login'), args, env, options);
}

/** Runs `docker-credential-registry-login ACTION` with input on stdin, as docker does. */
export async function runHelper(action: string, input: string, env: Record<string, string>): Promise<AgentResult> {
  return run(path.join(BIN, 'docker-credential-registry-login'), [action], env, { input });
}

function findRepo(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@registry-login/registry-login'
    )
      return dir;
    if (path.dirname(dir) === dir) throw new Error(`no registry-login package.json above ${from}`);
  }
}

async function run(
  file: string,
  args: string[],
  env: Record<string, string>,
  options: { input?: string; timeoutMs?: number; cwd?: string },
): Promise<AgentResult> {
  const result = await execa(file, args, {
    env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
