import { execa } from 'execa';
import { findOnPath, MissingToolError } from './process.js';

export interface DockerCliInfo {
  path: string;
  version: string;
  major: number;
}

export interface DockerRunOptions {
  /** Directory used as $DOCKER_CONFIG; the CLI reads and writes config.json there. */
  dockerConfigDir: string;
  /** Extra variables (or undefined to drop one), e.g. PATH with a credential helper, DOCKER_HOST. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export interface DockerResult {
  ok: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Overrides the docker CLI the fixtures run (absolute path). */
export const DOCKER_CLI_ENV = 'RL_TEST_DOCKER_CLI';

let cached: Promise<DockerCliInfo> | undefined;

async function probe(path: string): Promise<DockerCliInfo | undefined> {
  const r = await execa(path, ['--version'], {
    reject: false,
    timeout: 10_000,
    stdin: 'ignore',
    env: { DOCKER_CONFIG: '/nonexistent' },
    extendEnv: false,
  });
  const m = /Docker version (\d+)\.(\d+)\.(\d+)\S*/.exec(r.stdout);
  if (r.exitCode !== 0 || !m?.[1]) return undefined;
  return { path, version: m[0].replace('Docker version ', '').replace(/,$/, ''), major: Number(m[1]) };
}

// This machine has two CLIs: Debian's docker.io puts 20.10 in /usr/bin, and 28.2.2 lives in
// /usr/local/bin, so "first on PATH" would make results depend on the caller's PATH order.
/** Finds the docker CLI to test against: $RL_TEST_DOCKER_CLI, else the newest `docker` on PATH or in /usr/local/bin. */
export async function dockerCli(): Promise<DockerCliInfo> {
  cached ??= (async () => {
    const explicit = process.env[DOCKER_CLI_ENV];
    const best = explicit ? await probe(explicit) : await newestDockerCli(process.env.PATH ?? '');
    if (best === undefined) {
      throw new MissingToolError(
        explicit
          ? `${DOCKER_CLI_ENV}=${explicit} is not a working docker CLI`
          : "The end-to-end tests need the docker CLI (client only). Install Docker's docker-ce-cli " +
              "(or, older, Debian's docker.io: apt-get update && apt-get install -y docker.io)",
      );
    }
    return best;
  })();
  return await cached;
}

/** Every working `docker` on searchPath, then in /usr/local/bin and /usr/bin, in that order. */
export async function dockerClisOn(searchPath: string): Promise<DockerCliInfo[]> {
  const candidates = [
    ...new Set([
      ...(await findOnPath('docker', searchPath)),
      ...(await findOnPath('docker', '/usr/local/bin:/usr/bin')),
    ]),
  ];
  return (await Promise.all(candidates.map(probe))).filter((x): x is DockerCliInfo => x !== undefined);
}

/** The newest working `docker` on searchPath or in the usual folders, whatever order they come in. */
export async function newestDockerCli(searchPath: string): Promise<DockerCliInfo | undefined> {
  return (await dockerClisOn(searchPath)).sort((a, b) => compareVersions(b.version, a.version))[0];
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// Starting from nothing matters: docker 28 also honours DOCKER_AUTH_CONFIG, DOCKER_HOST, DOCKER_CONTEXT
// and friends, any of which in the developer's shell would change what the test observes.
/** Builds the environment of a docker CLI run: PATH, HOME and DOCKER_CONFIG plus what the test passes. */
export function dockerEnv(options: DockerRunOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // Credential helpers inherit this; keep them away from the real user's home.
    HOME: options.dockerConfigDir,
    DOCKER_CONFIG: options.dockerConfigDir,
    // Hints and the update check are noise in captured output.
    DOCKER_CLI_HINTS: 'false',
    ...options.env,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs the real docker CLI with the given DOCKER_CONFIG; input goes to stdin so secrets stay out of argv. */
export async function runDocker(
  args: readonly string[],
  options: DockerRunOptions & { input?: string },
): Promise<DockerResult> {
  const cli = await dockerCli();
  const result = await execa(cli.path, args, {
    env: dockerEnv(options),
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  const exitCode = result.exitCode ?? -1;
  return { ok: exitCode === 0, exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `docker login HOST -u USER --password-stdin` (the password never appears in argv). */
export async function dockerLogin(
  host: string,
  user: string,
  password: string,
  options: DockerRunOptions,
): Promise<DockerResult> {
  return await runDocker(['login', host, '--username', user, '--password-stdin'], { ...options, input: password });
}

/** Runs `docker logout HOST`. */
export async function dockerLogout(host: string, options: DockerRunOptions): Promise<DockerResult> {
  return await runDocker(['logout', host], options);
}
