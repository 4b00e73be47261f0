import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/** Thrown when a tool the fixtures need is not installed; tests must fail, never skip, on it. */
export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

/** Returns every executable named `name` on PATH, in PATH order. */
export async function findOnPath(name: string, searchPath = process.env.PATH ?? ''): Promise<string[]> {
  const found: string[] = [];
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if (!found.includes(candidate)) found.push(candidate);
    } catch {
      // not here; keep looking
    }
  }
  return found;
}

/** Resolves a command on PATH or throws a MissingToolError naming the Debian package that provides it. */
export async function requireCommand(name: string, debianPackage: string): Promise<string> {
  const [first] = await findOnPath(name);
  if (first === undefined) {
    throw new MissingToolError(
      `The end-to-end tests need the \`${name}\` command, which is not on PATH. ` +
        `Install it with: apt-get update && apt-get install -y ${debianPackage}`,
    );
  }
  return first;
}

/** A long-running child process that the test owns and must stop. */
export interface TrackedChild {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the child wrote to stdout+stderr so far (servers here log to stderr). */
  output(): string;
  /** Resolves with the exit code/signal once the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // If a test worker dies without running afterAll, its server children would otherwise
  // outlive it and keep ports and temp dirs busy. 'exit' handlers must be synchronous.
  process.on('exit', () => {
    for (const pid of live.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

const MAX_CAPTURE = 256 * 1024;

/** Spawns a server child with captured output and registers it so it is killed if the test process exits. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): TrackedChild {
  installExitHook();
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let captured = '';
  const append = (chunk: Buffer): void => {
    captured += chunk.toString('utf8');
    // Keep the tail: a chatty registry must not grow memory without bound in long suites.
    if (captured.length > MAX_CAPTURE) captured = captured.slice(-MAX_CAPTURE);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (err) => {
      done = true;
      reject(err);
    });
    child.once('exit', (code, signal) => {
      done = true;
      if (child.pid !== undefined) live.delete(child.pid);
      resolve({ code, signal });
    });
  });
  // Callers that only stop() must not see an unhandled rejection for a spawn error.
  exited.catch(() => undefined);
  if (child.pid === undefined) {
    throw new Error(`could not spawn ${command}`);
  }
  live.set(child.pid, child);
  return {
    pid: child.pid,
    child,
    output: () => captured,
    exited,
    hasExited: () => done,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a tracked child by PID: SIGTERM, then SIGKILL if it has not exited within graceMs. */
export async function stopTracked(tracked: TrackedChild, graceMs = 3000): Promise<void> {
  if (tracked.hasExited()) return;
  try {
    process.kill(tracked.pid, 'SIGTERM');
  } catch {
    return;
  }
  const winner = await Promise.race([
    tracked.exited.then(
      () => 'exited' as const,
      () => 'exited' as const,
    ),
    sleep(graceMs).then(() => 'timeout' as const),
  ]);
  if (winner === 'timeout' && alive(tracked.pid)) {
    try {
      process.kill(tracked.pid, 'SIGKILL');
    } catch {
      // raced with a normal exit
    }
    await Promise.race([tracked.exited.catch(() => undefined), sleep(graceMs)]);
  }
  live.delete(tracked.pid);
}
