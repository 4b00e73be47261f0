// PATH lookups as exec does them since Go 1.19 (exec.ErrDot): the first executable regular file of that name in an
// absolute directory of PATH, each name looked up once per run. A relative entry (".", "bin", "node_modules/.bin")
// would run whatever the current folder holds, so it is skipped.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Finds programs on env.PATH as exec would: the first executable regular file of that name. */
export function programFinder(env: NodeJS.ProcessEnv): (name: string) => string | undefined {
  const found = new Map<string, string | undefined>();
  return (name) => {
    if (!found.has(name)) found.set(name, findProgram(name, env));
    return found.get(name);
  };
}

/** Whether name can only mean a file in a PATH directory: no "/", "\" or "..", which would lead out of it. */
export function isBareName(name: string): boolean {
  return !/[/\\]|\.\./.test(name);
}

function findProgram(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name === '' || !isBareName(name)) return undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
