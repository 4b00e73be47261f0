// Node built-in modules loaded on first use: a top-level import loads (and may compile) a module at every start,
// whether the run needs it or not. Even node:module, for createRequire, costs ~0.3 ms to load.

/** Loads a Node built-in module by name (e.g. 'node:crypto'). */
export function builtin<T>(id: string): T {
  // Node 20.16 and later.
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof get === 'function') return get.call(process, id) as T;
  // Older Node 20: the launcher, a CommonJS module, is the main module and can require built-ins.
  const main = process.mainModule;
  if (!main)
    throw new Error(`registry-login needs Node.js 20.16 or later to load ${id} here (this is ${process.version})`);
  return main.require(id) as T;
}
