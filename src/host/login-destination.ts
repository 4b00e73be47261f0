// Where `docker login` would keep a registry's login on this host: the credential store docker's lookup
// (src/docker/lookup.ts) names, unless that helper fetches its own credentials.
import { detectDefaultStore, lookupStore, type HelperSetBy } from '../docker/lookup.js';

/** Credential helpers that fetch their own credentials and cannot keep a login given to them. */
export const HELPERS_THAT_CANNOT_STORE = new Set(['ecr-login', 'gcloud', 'gcr']);

/** Where a login for one key goes. */
export type LoginDestination =
  /** auths[key] = {"auth": ...} in the config itself. */
  | { kind: 'file' }
  /** docker-credential-<name>; setBy 'default-store' means docker would detect it and write it in as credsStore. */
  | { kind: 'helper'; name: string; setBy: HelperSetBy }
  /** A helper that gets its own credentials (ecr-login, gcloud): the key is left to it. */
  | { kind: 'cannot-store'; name: string };

/** What the platform default needs: the OS, and whether a program is on PATH. */
export interface HostFacts {
  platform: NodeJS.Platform;
  onPath: (program: string) => boolean;
}

/** The name of the credential store a destination keeps logins in ('file' for the config itself). */
export function storeName(destination: LoginDestination): string {
  return destination.kind === 'file' ? 'file' : destination.name;
}

/** Where `docker login KEY` would keep the login with this config on this host. Pure. */
export function loginDestination(config: Record<string, unknown>, key: string, facts: HostFacts): LoginDestination {
  const found = lookupStore(config, key, () => detectDefaultStore(facts.platform, facts.onPath));
  if (found.store === 'auths') return { kind: 'file' };
  if (HELPERS_THAT_CANNOT_STORE.has(found.helper)) return { kind: 'cannot-store', name: found.helper };
  return { kind: 'helper', name: found.helper, setBy: found.setBy };
}
