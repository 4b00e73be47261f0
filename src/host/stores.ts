// Opens the store a login lives in: the config file's auths, or a docker-credential-<name> program.
import type { CredentialStore, FileStore } from './store.js';
import { NativeStore, type HelperOrigin } from './native-store.js';
import { findHelper } from '../docker/helper-client.js';

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
  return new NativeStore(
    name,
    findHelper(name, context.find),
    { ...origin, configPath: context.configPath },
    context.env,
  );
}

/** Whether an error is a store's failure (named StoreError, as NativeStore throws it). */
export function isStoreError(error: unknown): error is Error {
  return (error as Error | undefined)?.name === 'StoreError';
}
