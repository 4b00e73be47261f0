// One seam between "what the credentials are" and "where they live" (as docker/cli's credentials.Store): a credential
// store is the config file's auths, or a docker-credential-<name> program (native-store.ts).
import { decodeAuthsEntry, encodeAuth } from '../docker/auth.js';
import { findHelper } from '../docker/helper-client.js';
import { memberObject } from '../docker/lookup.js';
import type { ConfigEdit } from '../docker-config/plan.js';
import { jsonEqual } from '../json-equal.js';
import type { Credentials } from '../types.js';
import { NativeStore, type HelperOrigin } from './native-store.js';

/**
 * A place docker keeps logins in. Failures throw an error named StoreError, whose message names the store and the fix.
 */
export interface CredentialStore {
  /** 'file', or the helper's name (pass, osxkeychain, desktop, ...). */
  readonly name: string;
  /** The login kept for key, or undefined when there is none. */
  get(key: string): Promise<Credentials | undefined>;
  store(key: string, credentials: Credentials): Promise<void>;
  erase(key: string): Promise<void>;
}

/** The config's own auths entries: reads the config as loaded, and collects edits for the caller to save atomically. */
export class FileStore implements CredentialStore {
  readonly name = 'file';
  readonly edits: ConfigEdit[] = [];
  private readonly auths: Record<string, unknown>;

  constructor(config: Record<string, unknown>) {
    this.auths = memberObject(config, 'auths');
  }

  /** The auths entry as it stands after the edits made so far. */
  entry(key: string): unknown {
    return this.auths[key];
  }

  async get(key: string): Promise<Credentials | undefined> {
    return decodeAuthsEntry(this.auths[key]);
  }

  async store(key: string, credentials: Credentials): Promise<void> {
    this.set(key, { auth: encodeAuth(credentials.username, credentials.secret) });
  }

  async erase(key: string): Promise<void> {
    this.set(key, undefined);
  }

  /** Sets (or, undefined, deletes) auths[key]; `{}` is the marker docker leaves for a login kept in a helper. */
  set(key: string, value: unknown): void {
    if (jsonEqual(this.auths[key], value)) return;
    if (value === undefined) delete this.auths[key];
    else this.auths[key] = value;
    this.edits.push({ path: ['auths', key], value });
  }
}

/** What opening a credential store needs: the environment, the config being edited, and PATH lookups. */
export interface StoreContext {
  env: NodeJS.ProcessEnv;
  configPath: string;
  file: FileStore;
  find: (program: string) => string | undefined;
}

/** Opens the credential store named 'file' (the config itself) or a helper's name. */
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

/** Whether an error is a credential store's failure (named StoreError, as NativeStore throws it). */
export function isStoreError(error: unknown): error is Error {
  return (error as Error | undefined)?.name === 'StoreError';
}
