// Which credentials docker would send for a registry key, read the way the docker CLI reads its config:
// credHelpers[key], else credsStore, else auths[key]; a helper whose binary is missing falls back to auths.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The helper name registry-login writes into credHelpers (docker runs docker-credential-registry-login). */
export const HELPER_NAME = 'registry-login';

/** Where docker gets a key's credentials from. */
export type DockerSource =
  /** registry-login's helper serving a login that `docker login` stored through it. */
  | 'docker-login'
  /** auths[key], read by docker directly or served by registry-login's helper. */
  | 'auths'
  /** A helper other than registry-login's, whose answer registry-login cannot see. */
  | 'other-helper'
  /** Nothing: docker would send no credentials. */
  | 'none';

/** What docker would use for one key. */
export interface DockerChoice {
  source: DockerSource;
  /** The helper docker asks (from credHelpers or credsStore), when one is configured. */
  helper?: string;
  helperSetBy?: 'credHelpers' | 'credsStore';
  /** True when the helper's binary is not on PATH, so docker falls back to auths. */
  helperMissing?: boolean;
  /** The auths entry docker (or registry-login's helper) reads. */
  authsEntry?: unknown;
  /** The user name and secret docker would send, when registry-login can read them. */
  credentials?: { username: string; secret: string };
}

/** The parts of the docker config and helper state that decide a key's credentials. */
export interface DockerViewInput {
  config: Record<string, unknown>;
  /** Logins `docker login` stored through registry-login's helper, by key. */
  stored: Record<string, { Username: string; Secret: string }>;
  /** Whether `docker-credential-<name>` is an executable on PATH. */
  helperOnPath: (name: string) => boolean;
}

/** Works out, as the docker CLI does, which credentials docker would send for key. Pure. */
export function dockerChoice(key: string, input: DockerViewInput): DockerChoice {
  const helpers = memberObject(input.config, 'credHelpers');
  const auths = memberObject(input.config, 'auths');
  const fromHelpers = typeof helpers[key] === 'string' && helpers[key] !== '' ? (helpers[key] as string) : undefined;
  const credsStore = typeof input.config.credsStore === 'string' && input.config.credsStore !== '' ? input.config.credsStore : undefined;
  const helper = fromHelpers ?? credsStore;
  const authsEntry = auths[key];
  const fromAuths = (extra: Partial<DockerChoice>): DockerChoice => {
    const credentials = decodeAuthsEntry(authsEntry);
    if (!credentials) return { source: 'none', ...(authsEntry !== undefined ? { authsEntry } : {}), ...extra };
    return { source: 'auths', authsEntry, credentials, ...extra };
  };
  if (helper === undefined) return fromAuths({});
  const setBy = fromHelpers !== undefined ? 'credHelpers' : 'credsStore';
  // Observed with docker CLI 28: a helper that cannot be run makes docker use the auths entry instead.
  if (!input.helperOnPath(helper)) return fromAuths({ helper, helperSetBy: setBy, helperMissing: true });
  if (helper !== HELPER_NAME) return { source: 'other-helper', helper, helperSetBy: setBy };
  const stored = Object.hasOwn(input.stored, key) ? input.stored[key] : undefined;
  if (stored) return { source: 'docker-login', helper, helperSetBy: setBy, credentials: { username: stored.Username, secret: stored.Secret } };
  // registry-login's helper answers from auths, as docker would without it.
  return fromAuths({ helper, helperSetBy: setBy });
}

/** Decodes an auths entry's `auth` field (base64 of user:password); undefined when it holds none. */
export function decodeAuthsEntry(entry: unknown): { username: string; secret: string } | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const auth = (entry as { auth?: unknown }).auth;
  if (typeof auth !== 'string' || auth === '') return undefined;
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Whether `docker-credential-<name>` is an executable file in one of env.PATH's directories. */
export function credentialHelperOnPath(name: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, `docker-credential-${name}`);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** credentialHelperOnPath for one environment, each name looked up once (status asks for every managed key). */
export function helperFinder(env: NodeJS.ProcessEnv): (name: string) => boolean {
  const found = new Map<string, boolean>();
  return (name) => {
    let onPath = found.get(name);
    if (onPath === undefined) found.set(name, (onPath = credentialHelperOnPath(name, env)));
    return onPath;
  };
}

/** A copy of config[key] when it is an object (auths, credHelpers), with no prototype: registry keys may be "__proto__". */
export function memberObject(config: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = Object.hasOwn(config, key) ? config[key] : undefined;
  const copy = Object.create(null) as Record<string, unknown>;
  if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) copy[k] = v;
  return copy;
}
