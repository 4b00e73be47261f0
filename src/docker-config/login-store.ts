// Credentials that `docker login` handed to the registry-login helper (docker keeps only an empty auths entry then).
import { join } from 'node:path';
import { ConfigError } from '../fs/errors.js';
import { loadPrivateFile, tightenPrivateDirectory } from '../fs/read-file.js';
import { withFileLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic-write.js';

/** One login stored through the credential helper's `store`. */
export interface StoredLogin {
  ServerURL: string;
  Username: string;
  Secret: string;
}

type Stored = Record<string, StoredLogin>;

/** The store file in a state directory. */
export function storePath(stateDir: string): string {
  return join(stateDir, 'docker-logins.json');
}

/**
 * The logins stored by `docker login`, keyed by registry key; none when the store is damaged or not trusted (the
 * managed logins must not go down with it).
 */
export function readStoredLogins(stateDir: string): Stored {
  try {
    return readStore(stateDir);
  } catch {
    return {};
  }
}

// Refuses a store another user owns or may write, and a damaged one: a change must not lose what it holds.
function readStore(stateDir: string): Stored {
  tightenPrivateDirectory(stateDir);
  const file = loadPrivateFile(storePath(stateDir));
  if (file.text === undefined) return {};
  try {
    const value = JSON.parse(file.text) as { logins?: Stored };
    return value && typeof value.logins === 'object' && value.logins !== null ? value.logins : {};
  } catch {
    throw new ConfigError(
      `${file.path} is damaged (not JSON); remove it and run \`docker login\` again for the registries you had logged in to by hand.`,
    );
  }
}

/** Adds, replaces (login set) or removes (login undefined) the stored login of a key, under a lock. */
export async function changeStoredLogin(stateDir: string, key: string, login: StoredLogin | undefined): Promise<void> {
  const path = storePath(stateDir);
  await withFileLock(path, async () => {
    // Without a prototype, a key such as `__proto__` or `constructor` is a key like any other.
    const logins: Stored = Object.assign(Object.create(null) as Stored, readStore(stateDir));
    if (login) logins[key] = login;
    else if (Object.hasOwn(logins, key)) delete logins[key];
    else return;
    writeFileAtomic(path, `${JSON.stringify({ version: 1, logins }, null, 2)}\n`);
  });
}
