// One seam between "what the credentials are" and "where they live" (as docker/cli's credentials.Store): the config
// file itself, or a docker-credential-<name> program.
import { decodeAuthsEntry, encodeAuth } from '../docker/auth.js';
import { memberObject } from '../docker/lookup.js';
import type { ConfigEdit } from '../docker-config/plan.js';
import { jsonEqual } from '../json-equal.js';

/** A user name and secret as a store holds them. */
export interface StoredCredentials {
  username: string;
  secret: string;
}

/**
 * A place docker keeps logins in. Failures throw an error named StoreError, whose message names the store and the fix.
 */
export interface CredentialStore {
  /** 'file', or the helper's name (pass, osxkeychain, desktop, ...). */
  readonly name: string;
  /** The login kept for key, or undefined when there is none. */
  get(key: string): Promise<StoredCredentials | undefined>;
  store(key: string, credentials: StoredCredentials): Promise<void>;
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

  async get(key: string): Promise<StoredCredentials | undefined> {
    return decodeAuthsEntry(this.auths[key]);
  }

  async store(key: string, credentials: StoredCredentials): Promise<void> {
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
