// Node built-in modules loaded on first use: a top-level import loads (and may compile) a module at every start,
// whether the run needs it or not. Even node:module, for createRequire, costs ~0.3 ms to load.
import { isAbsolute, join } from 'node:path';

/** Loads a Node built-in module by name (e.g. 'node:crypto'). */
export function builtin<T>(id: string): T {
  // Node 20.16 and later.
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof get === 'function') return get.call(process, id) as T;
  // Older Node 20: the launcher, a CommonJS module, is the main module and can require built-ins.
  const main = process.mainModule;
  if (!main) throw new Error(`registry-login needs Node.js 20.16 or later to load ${id} here (this is ${process.version})`);
  return main.require(id) as T;
}

/**
 * The user's home directory as docker finds it: $HOME, else (unset or empty) the account's own; undefined when that is
 * not an absolute path, so that nothing is ever written relative to the current directory.
 */
export function homeDirectory(env: NodeJS.ProcessEnv): string | undefined {
  let home = env.HOME;
  if (!home) {
    try {
      // os.homedir() answers "" for an empty HOME; userInfo() reads the account itself.
      home = builtin<typeof import('node:os')>('node:os').userInfo().homedir;
    } catch {
      return undefined; // no account entry for this uid (common in containers)
    }
  }
  return isAbsolute(home) ? home : undefined;
}

/** An XDG base directory: $name when absolute (the XDG spec says to ignore a relative one), else ~/fallback; undefined when neither is known. */
export function xdgBaseDirectory(env: NodeJS.ProcessEnv, name: 'XDG_STATE_HOME' | 'XDG_CACHE_HOME', fallback: string): string | undefined {
  const value = env[name];
  if (value && isAbsolute(value)) return value;
  const home = homeDirectory(env);
  return home === undefined ? undefined : join(home, fallback);
}
