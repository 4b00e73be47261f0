// The docker logins: credentials that `docker login` handed to the registry-login helper through the protocol's
// `store` (docker keeps only an empty auths entry then).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dictionary } from '../dictionary.js';
import { ConfigError } from '../fs/errors.js';
import { loadPrivateFile, tightenPrivateDirectory } from '../fs/read-file.js';
import { withFileLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Credentials } from '../types.js';

// One docker login as the file keeps it: the JSON docker sent with `store`.
type FileLogins = Record<string, { ServerURL: string; Username: string; Secret: string }>;

function loginsPath(stateDir: string): string {
  return join(stateDir, 'docker-logins.json');
}

/**
 * The docker logins, keyed by registry key; none when the file is damaged or not trusted (the managed logins must
 * not go down with it).
 */
export function readDockerLogins(stateDir: string): Record<string, Credentials> {
  const logins = dictionary<Credentials>();
  try {
    for (const [key, login] of Object.entries(readFile(stateDir)))
      if (login) logins[key] = { username: login.Username, secret: login.Secret };
  } catch {
    // As if there were none.
  }
  return logins;
}

// Refuses a file another user owns or may write, and a damaged one: a change must not lose what it holds.
function readFile(stateDir: string): FileLogins {
  tightenPrivateDirectory(stateDir);
  const file = loadPrivateFile(loginsPath(stateDir));
  if (file.text === undefined) return {};
  try {
    const value = JSON.parse(file.text) as { logins?: FileLogins };
    return value && typeof value.logins === 'object' && value.logins !== null ? value.logins : {};
  } catch {
    throw new ConfigError(
      `${file.path} is damaged (not JSON); remove it and run \`docker login\` again for the registries you had logged in to by hand.`,
    );
  }
}

/** Adds, replaces (credentials set) or removes (undefined) the docker login of a key, under a lock. */
export async function changeDockerLogin(
  stateDir: string,
  key: string,
  login: { server: string; credentials: Credentials } | undefined,
): Promise<void> {
  const path = loginsPath(stateDir);
  await withFileLock(path, async () => {
    const logins = dictionary(readFile(stateDir));
    if (login) {
      const { username, secret } = login.credentials;
      logins[key] = { ServerURL: login.server, Username: username, Secret: secret };
    } else if (Object.hasOwn(logins, key)) delete logins[key];
    else return;
    writeFileAtomic(path, `${JSON.stringify({ version: 1, logins }, null, 2)}\n`);
  });
}

/**
 * Moves the docker logins of one state directory into another's, for a switch of secrets mode: a login already
 * there wins, and the old file is removed (with it the secrets it held).
 */
export async function moveDockerLogins(fromDir: string, toDir: string): Promise<void> {
  if (!existsSync(loginsPath(fromDir))) return;
  const moving = readFile(fromDir);
  if (Object.keys(moving).length > 0) {
    const path = loginsPath(toDir);
    await withFileLock(path, async () => {
      const logins = dictionary(moving, readFile(toDir));
      writeFileAtomic(path, `${JSON.stringify({ version: 1, logins }, null, 2)}\n`);
    });
  }
  rmSync(loginsPath(fromDir), { force: true });
}
