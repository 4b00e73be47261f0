// Where `docker login` would keep a registry's login on this host, read from the docker config as docker/cli does:
// credHelpers[key], else credsStore, else (a config with no auth at all) the platform's default store, else the file.

/** Credential helpers that fetch their own credentials and cannot keep a login given to them. */
export const HELPERS_THAT_CANNOT_STORE = new Set(['ecr-login', 'gcloud', 'gcr']);

/** Where a login for one key goes. */
export type StoreChoice =
  /** auths[key] = {"auth": ...} in the config itself. */
  | { kind: 'file' }
  /** docker-credential-<name> store; setBy 'default' means docker would detect it and write it in as credsStore. */
  | { kind: 'helper'; name: string; setBy: 'credHelpers' | 'credsStore' | 'default' }
  /** A helper that gets its own credentials (ecr-login, gcloud): the key is left to it. */
  | { kind: 'cannot-store'; name: string };

/** What the platform default needs: the OS, and whether a program is on PATH. */
export interface HostFacts {
  platform: NodeJS.Platform;
  onPath: (program: string) => boolean;
}

/** The store name a choice keeps logins in ('file' for the config itself). */
export function storeName(choice: StoreChoice): string {
  return choice.kind === 'file' ? 'file' : choice.name;
}

/**
 * docker's test for "this config holds no auth at all": no auths entry (not even {}), no credHelpers entry, no
 * credsStore.
 */
export function holdsNoAuth(config: Record<string, unknown>): boolean {
  return (
    !hasMembers(ownMember(config, 'auths')) &&
    !hasMembers(ownMember(config, 'credHelpers')) &&
    !nonEmptyString(config.credsStore)
  );
}

/**
 * The store docker would pick by itself on this platform (docker/cli credentials.DetectDefaultStore): Linux `pass`
 * when the pass program is on PATH, else `secretservice`; macOS `osxkeychain`; Windows `wincred`; in each case only
 * when its docker-credential-<name> exists. Pure: the platform and PATH lookups are passed in.
 */
export function defaultStore(facts: HostFacts): string | undefined {
  let candidate: string | undefined;
  if (facts.platform === 'linux') candidate = facts.onPath('pass') ? 'pass' : 'secretservice';
  else if (facts.platform === 'darwin') candidate = 'osxkeychain';
  else if (facts.platform === 'win32') candidate = 'wincred';
  return candidate !== undefined && facts.onPath(`docker-credential-${candidate}`) ? candidate : undefined;
}

/** Where `docker login KEY` would keep the login with this config on this host. Pure. */
export function chooseStore(config: Record<string, unknown>, key: string, facts: HostFacts): StoreChoice {
  const helpers = ownMember(config, 'credHelpers');
  const helper =
    typeof helpers === 'object' && helpers !== null ? ownMember(helpers as Record<string, unknown>, key) : undefined;
  if (nonEmptyString(helper))
    return HELPERS_THAT_CANNOT_STORE.has(helper)
      ? { kind: 'cannot-store', name: helper }
      : { kind: 'helper', name: helper, setBy: 'credHelpers' };
  if (nonEmptyString(config.credsStore))
    return HELPERS_THAT_CANNOT_STORE.has(config.credsStore)
      ? { kind: 'cannot-store', name: config.credsStore }
      : { kind: 'helper', name: config.credsStore, setBy: 'credsStore' };
  if (holdsNoAuth(config)) {
    const detected = defaultStore(facts);
    if (detected !== undefined) return { kind: 'helper', name: detected, setBy: 'default' };
  }
  return { kind: 'file' };
}

/** object[key] when it is the object's own member (registry keys may be "__proto__"), without copying anything. */
function ownMember(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function hasMembers(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
