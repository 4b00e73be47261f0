// Opens the store a login lives in: the config file's auths, or a docker-credential-<name> program.
import type { CredentialStore, FileStore } from './store.js';
import type { HelperOrigin } from './native-store.js';
import { MEMBER_PATTERN } from '../discover.js';

/** What opening a store needs: the environment, the config being edited, and PATH lookups. */
export interface StoreContext {
  env: NodeJS.ProcessEnv;
  configPath: string;
  file: FileStore;
  find: (program: string) => string | undefined;
}

/** Opens the store named 'file' (the config itself) or a helper's name. */
export async function openStore(
  context: StoreContext,
  name: string,
  origin: Omit<HelperOrigin, 'configPath'>,
): Promise<CredentialStore> {
  if (name === 'file') return context.file;
  // The helper protocol (and execa) is loaded only when a run must talk to a helper.
  const { NativeStore } = await import('./native-store.js');
  // The helper gets the environment docker would give it, less the registry secrets it has no business with.
  const env = Object.fromEntries(Object.entries(context.env).filter(([variable]) => !MEMBER_PATTERN.test(variable)));
  return new NativeStore(
    name,
    context.find(`docker-credential-${name}`),
    { ...origin, configPath: context.configPath },
    env,
  );
}

/** Whether an error is a store's failure (checked by name: the helper code lives in a chunk of its own). */
export function isStoreError(error: unknown): error is Error {
  return (error as Error | undefined)?.name === 'StoreError';
}
