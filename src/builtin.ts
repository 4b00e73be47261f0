// Node built-in modules loaded on first use: a top-level import loads (and may compile) a module at every start,
// whether the run needs it or not.
import { createRequire } from 'node:module';

let load: NodeJS.Require | undefined;

/** Loads a Node built-in module by name (e.g. 'node:crypto'). */
export function builtin<T>(id: string): T {
  load ??= createRequire('/registry-login.js');
  return load(id) as T;
}

/** The user's home directory: $HOME, else the one the system knows (node:os, loaded only then). */
export function homeDirectory(env: NodeJS.ProcessEnv): string {
  return env.HOME || builtin<typeof import('node:os')>('node:os').homedir();
}
