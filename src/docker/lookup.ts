// Which store docker asks for a registry key's credentials, by docker's own rule (docker/cli cli/config:
// getConfiguredCredentialStore and ContainsAuth in configfile/file.go, DetectDefaultStore in credentials/).
import { dictionary } from '../dictionary.js';

/** Who named the helper: the key's credHelpers entry, credsStore, or docker (its default store). */
export type HelperSetBy = 'credHelpers' | 'credsStore' | 'default-store';

/** The store docker asks for a key: the config's own auths (docker's file store), or docker-credential-<helper>. */
export type StoreLookup = { store: 'auths' } | { store: 'helper'; helper: string; setBy: HelperSetBy };

/**
 * Which store docker asks for key: credHelpers[key] when the key is there ("" means auths), else credsStore, else the
 * platform's default store when the config holds no auth at all, else auths. As in docker, the key "" skips
 * credHelpers: it asks for the store of every key without an entry. Pure; defaultStore is called only when needed.
 */
export function lookupStore(
  config: Record<string, unknown>,
  key: string,
  defaultStore: () => string | undefined,
): StoreLookup {
  const helper = key === '' ? undefined : memberObject(config, 'credHelpers')[key];
  if (helper === '') return { store: 'auths' };
  if (typeof helper === 'string') return { store: 'helper', helper, setBy: 'credHelpers' };
  const credsStore = typeof config.credsStore === 'string' ? config.credsStore : '';
  if (credsStore !== '') return { store: 'helper', helper: credsStore, setBy: 'credsStore' };
  const detected = containsAuth(config) ? undefined : defaultStore();
  return detected === undefined ? { store: 'auths' } : { store: 'helper', helper: detected, setBy: 'default-store' };
}

// docker's ContainsAuth, short of credsStore (lookupStore has read it): a credHelpers or auths member, even an empty one.
function containsAuth(config: Record<string, unknown>): boolean {
  return ['credHelpers', 'auths'].some((name) => Object.keys(memberObject(config, name)).length > 0);
}

/**
 * The store docker detects on this platform for a config holding no auth at all: Linux `pass` when the pass program
 * is on PATH, else `secretservice`; macOS `osxkeychain`; Windows `wincred`; each only when its helper is on PATH.
 */
export function detectDefaultStore(
  platform: NodeJS.Platform,
  onPath: (program: string) => boolean,
): string | undefined {
  const candidate: Partial<Record<NodeJS.Platform, string>> = { darwin: 'osxkeychain', win32: 'wincred' };
  const store = platform === 'linux' ? (onPath('pass') ? 'pass' : 'secretservice') : candidate[platform];
  return store !== undefined && onPath(`docker-credential-${store}`) ? store : undefined;
}

/** A copy of config[name] (auths, credHelpers) without a prototype: registry keys may be "__proto__". Empty if absent. */
export function memberObject(config: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = Object.hasOwn(config, name) ? config[name] : undefined;
  const isMap = typeof value === 'object' && value !== null && !Array.isArray(value);
  return dictionary(isMap ? (value as Record<string, unknown>) : undefined);
}
