// The one way to run a docker credential helper (docker-credential-<name>), as docker-credential-helpers' client/ does:
// every action goes through runHelper, which passes the input on stdin, reads stdout and stderr, and ends a call on the
// helper's exit or its deadline, never on the end of its output (a child it left behind may hold the pipes open).
import { isAbsolute } from 'node:path';
import { isBareName } from '../programs.js';

/** What a helper says when it holds no login for the server (docker-credential-helpers' errCredentialsNotFound). */
export const NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

export type HelperAction = 'get' | 'store' | 'erase' | 'list';

/** How long an action may take: reads are quick; a store or erase may wait for the user (a keychain's dialog). */
export const HELPER_DEADLINES: Readonly<Record<HelperAction, number>> = {
  get: 10_000,
  list: 10_000,
  store: 120_000,
  erase: 120_000,
};

/** The most a helper may print (stdout and stderr together) before the call is stopped as broken. */
export const HELPER_OUTPUT_LIMIT = 1024 * 1024;

// What the helper wrote before it exited is already in the pipes; this is how long to let it drain when something the
// helper started keeps the pipes open after it.
const DRAIN_AFTER_EXIT_MS = 200;

// Anything named like a login's variables: wider than discover's members, so a misspelt or future member holding a
// secret never reaches a helper either. REGISTRY_LOGIN_* settings hold no secret; AWS_* stays, as docker passes it
// and docker-credential-ecr-login needs it.
const REGISTRY_VARIABLE = /^.+_CONTAINER_REGISTRY_/i;

/** Where docker-credential-<name> is: an absolute path found on PATH, not there, or a name no helper can have. */
export type HelperProgram = { kind: 'found'; path: string } | { kind: 'missing' } | { kind: 'bad-name' };

/** The outcome of one call; `exited` carries what the helper printed, decoded as UTF-8. */
export type HelperAnswer =
  | { kind: 'exited'; ok: boolean; stdout: string; stderr: string }
  | { kind: 'timed-out'; deadlineMs: number }
  | { kind: 'too-much-output' }
  | { kind: 'unrunnable'; reason: string };

/** Whether name is one a helper may have: not empty, no "/", "\" or ".." (docker would not run it either). */
export function isHelperName(name: string): boolean {
  return name !== '' && isBareName(name);
}

/** Finds docker-credential-<name> with a PATH finder (programFinder), which looks in absolute directories only. */
export function findHelper(name: string, find: (program: string) => string | undefined): HelperProgram {
  if (!isHelperName(name)) return { kind: 'bad-name' };
  const path = find(`docker-credential-${name}`);
  return path === undefined ? { kind: 'missing' } : { kind: 'found', path };
}

/** The environment a helper gets: the caller's, without any registry login's variables. */
export function helperEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([variable]) => !REGISTRY_VARIABLE.test(variable)));
}

/** Whether a failed call is the protocol's "no login for this server". */
export function saysNotFound(answer: HelperAnswer): boolean {
  return answer.kind === 'exited' && `${answer.stdout}\n${answer.stderr}`.includes(NOT_FOUND_MESSAGE);
}

/**
 * Runs `program action` with input on stdin. At the deadline, or when it prints more than HELPER_OUTPUT_LIMIT, the
 * helper's process group is killed (it runs in a group of its own, so a script's children go with it).
 */
export function runHelper(
  program: string,
  action: HelperAction,
  input: string,
  env: NodeJS.ProcessEnv,
  deadlineMs = HELPER_DEADLINES[action],
): Promise<HelperAnswer> {
  if (!isAbsolute(program))
    return Promise.resolve({ kind: 'unrunnable', reason: `${program} is not an absolute path` });
  return new Promise((resolve) => {
    // Loaded on first use: node:child_process brings much of Node's stream and net code, which the helper's own
    // `get` (it runs no other helper) and most refreshes never need.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(program, [action], {
      env: helperEnvironment(env),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let printed = 0;
    let exitCode: number | null = null;
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      killGroup(child.pid);
      settle({ kind: 'timed-out', deadlineMs });
    }, deadlineMs);
    function settle(answer: HelperAnswer): void {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(drain);
      for (const stream of [child.stdin, child.stdout, child.stderr]) stream.destroy();
      child.unref();
      resolve(answer);
    }
    const answered = () =>
      settle({
        kind: 'exited',
        ok: exitCode === 0,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      printed += chunk.length;
      if (printed <= HELPER_OUTPUT_LIMIT) return void into.push(chunk);
      killGroup(child.pid);
      settle({ kind: 'too-much-output' });
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.once('error', (error: NodeJS.ErrnoException) =>
      settle({ kind: 'unrunnable', reason: error.code ?? error.message }),
    );
    child.once('exit', (code) => {
      exitCode = code;
      if (!settled) drain = setTimeout(answered, DRAIN_AFTER_EXIT_MS);
    });
    // Both pipes closed after the exit: the usual end, with nothing left to drain.
    child.once('close', answered);
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
