// PATH lookups as exec does them: the first executable regular file of that name, each name looked up once per run.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds programs on env.PATH as exec would: the first executable regular file of that name. */
export function programFinder(env: NodeJS.ProcessEnv): (name: string) => string | undefined {
  const found = new Map<string, string | undefined>();
  return (name) => {
    if (!found.has(name)) found.set(name, findProgram(name, env));
    return found.get(name);
  };
}

function findProgram(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
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
