// Reads what otherClientsNotSeeing (src/containers-auth.ts) judges: the other clients' files, once per command.
import { memberObject } from './docker/lookup.js';
import { readFileSync, statSync } from 'node:fs';
import { describeFsError, isCode } from './fs/errors.js';
import { programFinder } from './programs.js';
import { containersFiles, otherClientsNotSeeing, type NotSeen } from './containers-auth.js';
import type { Places } from './paths.js';

/** For each key, the clients that would not use registry-login's login; read once, asked per key. */
export function otherClientsView(
  places: Places,
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): (key: string) => NotSeen[] {
  const files = new Map<string, string | undefined | Error>();
  for (const file of containersFiles(places.containers)) {
    // REGISTRY_AUTH_FILE may name the docker config itself: that is our login, not one before it.
    if (file === places.configPath) continue;
    files.set(file, readOtherFile(file));
  }
  const find = programFinder(env);
  const helpers = memberObject(config, 'credHelpers');
  return (key) => {
    const helper = helpers[key];
    const named = typeof helper === 'string' && helper !== '' ? helper : undefined;
    return otherClientsNotSeeing(key, {
      places: places.containers,
      files,
      helper: named,
      helperOnPath: named === undefined || find(`docker-credential-${named}`) !== undefined,
    });
  };
}

// Read only, so a link is followed as the clients follow it; anything but a regular file is not read (a FIFO would block).
function readOtherFile(file: string): string | undefined | Error {
  try {
    if (!statSync(file).isFile()) return new Error('not a regular file');
    return readFileSync(file, 'utf8');
  } catch (error) {
    return isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR') ? undefined : new Error(describeFsError(error));
  }
}
