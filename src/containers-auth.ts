// Which other clients would not use registry-login's login for a key, and why: podman, buildah and skopeo
// (containers/image 5.23: pkg/docker/config getAuthFilePaths and findCredentialsInFile, pkg/sysregistriesv2
// CredentialHelpers) read auth files before the docker config and may be told to ask other helpers first; every client
// but the docker CLI fails instead of falling back to `auths` when the helper binary is missing. Pure: the places and
// the files' texts come in, the verdicts go out.
import { memberObject } from './docker/lookup.js';
import { DOCKER_HUB_KEY } from './registry.js';

export type ContainersClient = 'podman' | 'buildah' | 'skopeo';
export type OtherClient = ContainersClient | 'docker-py' | 'testcontainers';

const CONTAINERS_CLIENTS: readonly ContainersClient[] = ['podman', 'buildah', 'skopeo'];
/** Clients that fail, rather than use `auths`, when a credHelpers helper is missing from PATH (all but the docker CLI). */
const NO_FALLBACK_CLIENTS: readonly OtherClient[] = [...CONTAINERS_CLIENTS, 'docker-py', 'testcontainers'];
/** The registries.conf name for "the auth files", among credential-helpers. */
const AUTH_FILES_HELPER = 'containers-auth.json';

/** Where podman, buildah and skopeo look, worked out from the environment once (src/paths.ts). */
export interface ContainersPlaces {
  /** Per client, the auth files it reads before the docker config, in its order. */
  authFiles: Record<ContainersClient, string[]>;
  /** Per client, the registries.conf candidates: the first that exists is the one it reads. */
  registriesConf: Record<ContainersClient, string[]>;
}

/** A client that would not use the login, why (a sentence that says what to do), and the file to blame. */
export interface NotSeen {
  client: OtherClient;
  reason: string;
  file?: string;
}

/** What the verdicts are made from: the files' texts (undefined when absent) and the helper's presence. */
export interface OtherClientsInput {
  places: ContainersPlaces;
  /** Text of each file named in places; undefined when absent; an Error when it exists but cannot be read. */
  files: ReadonlyMap<string, string | undefined | Error>;
  /** The docker config's credHelpers value for the key (registry-login's login has "registry-login"). */
  helper: string | undefined;
  /** Whether docker-credential-<helper> is on PATH. */
  helperOnPath: boolean;
}

/** Every client (one entry per client and cause, podman/buildah/skopeo first) that would not use our login for key. */
export function otherClientsNotSeeing(key: string, input: OtherClientsInput): NotSeen[] {
  const found: NotSeen[] = [];
  for (const client of CONTAINERS_CLIENTS) {
    const shadow = authFileShadow(client, key, input) ?? registriesConfShadow(client, input);
    if (shadow) found.push(shadow);
  }
  if (input.helper !== undefined && !input.helperOnPath) {
    const program = `docker-credential-${input.helper}`;
    for (const client of NO_FALLBACK_CLIENTS) {
      if (found.some((n) => n.client === client)) continue;
      found.push({
        client,
        reason: `${program} is not on PATH, and the client fails for ${registryName(key)} instead of using the auths entry (only the docker CLI falls back): put the directory holding ${program} on PATH`,
      });
    }
  }
  return found;
}

/** The registry part containers/image looks up for our key: a host, "docker.io" for Docker Hub. */
function containersRegistry(key: string): string {
  return key === DOCKER_HUB_KEY ? 'docker.io' : key;
}

function registryName(key: string): string {
  return key === DOCKER_HUB_KEY ? 'Docker Hub' : key;
}

// containers/image's normalizeAuthFileKey + normalizeRegistry: a URL key counts by its host, the Hub by any of its names.
function normalizeAuthKey(entry: string): string {
  const stripped = entry.replace(/^https?:\/\//, '');
  const host = stripped !== entry ? stripped.split('/')[0]! : stripped;
  return host === 'registry-1.docker.io' || host === 'docker.io' ? 'index.docker.io' : host;
}

function matchesRegistry(entry: string, registry: string): boolean {
  // A namespaced entry (host/team) serves the images under it, before the registry's own entry.
  return (
    entry === registry || entry.startsWith(`${registry}/`) || normalizeAuthKey(entry) === normalizeAuthKey(registry)
  );
}

/** The first auth file before the docker config that answers for key (or stops the client), as a NotSeen. */
function authFileShadow(client: ContainersClient, key: string, input: OtherClientsInput): NotSeen | undefined {
  const registry = containersRegistry(key);
  for (const file of input.places.authFiles[client]) {
    const content = input.files.get(file);
    if (content === undefined) continue;
    if (content instanceof Error)
      return {
        client,
        file,
        reason: `${file} cannot be read (${content.message}), and the client stops there: fix or remove it`,
      };
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      return {
        client,
        file,
        reason: `${file} is not valid JSON, and the client stops there for every registry: fix or remove it`,
      };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return { client, file, reason: `${file} is not a JSON object, and the client stops there: fix or remove it` };
    const config = parsed as Record<string, unknown>;
    const helper = memberObject(config, 'credHelpers')[registry];
    if (typeof helper === 'string' && helper !== 'registry-login')
      return {
        client,
        file,
        reason: `${file} sends the client to docker-credential-${helper} for ${registryName(key)} before the docker config: remove "${registry}" from its credHelpers`,
      };
    for (const [entry, value] of Object.entries(memberObject(config, 'auths'))) {
      if (!matchesRegistry(entry, registry)) continue;
      const auth = authField(value);
      // An entry without a "user:password" (docker's marker {}) is skipped by containers/image; a bad one stops it.
      if (auth === 'empty') continue;
      return {
        client,
        file,
        reason: `${file} holds a login for ${entry}, read before the docker config: remove it with \`podman logout --authfile ${file} ${entry}\``,
      };
    }
  }
  return undefined;
}

// containers/image decodes `auth` with strict base64 and needs a ":" in it; anything else in the entry is ignored.
function authField(value: unknown): 'empty' | 'login' | 'bad' {
  const auth = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).auth : undefined;
  if (typeof auth !== 'string' || auth === '') return 'empty';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(auth) || auth.length % 4 !== 0) return 'bad';
  return Buffer.from(auth, 'base64').toString('latin1').includes(':') ? 'login' : 'empty';
}

/** registries.conf's credential-helpers, when they keep the client from the auth files or ask another helper first. */
function registriesConfShadow(client: ContainersClient, input: OtherClientsInput): NotSeen | undefined {
  for (const file of input.places.registriesConf[client]) {
    const content = input.files.get(file);
    if (content === undefined) continue;
    if (content instanceof Error) return { client, file, reason: `${file} cannot be read (${content.message})` };
    const helpers = credentialHelpers(content);
    if (helpers === undefined || helpers.length === 0) return undefined;
    const at = helpers.indexOf(AUTH_FILES_HELPER);
    if (at === -1)
      return {
        client,
        file,
        reason: `${file} sets credential-helpers = [${helpers.map((h) => `"${h}"`).join(', ')}] without "${AUTH_FILES_HELPER}", so the docker config is never read: add "${AUTH_FILES_HELPER}" to that list`,
      };
    const first = helpers.slice(0, at).filter((h) => h !== 'registry-login');
    if (first.length === 0) return undefined;
    return {
      client,
      file,
      reason: `${file} has the client ask ${first.map((h) => `docker-credential-${h}`).join(', ')} before the docker config, and use its answer when it has one: put "${AUTH_FILES_HELPER}" first in credential-helpers`,
    };
  }
  return undefined;
}

/**
 * The top-level `credential-helpers` array of a registries.conf (TOML), undefined when not set there. Only the forms
 * containers-registries.conf(5) documents are read: a key before any [table], an array of quoted strings.
 */
export function credentialHelpers(toml: string): string[] | undefined {
  let text = '';
  for (const line of toml.split(/\r?\n/)) {
    if (/^\s*\[/.test(line)) break; // a [table] or [[registry]]: the top level is over
    text += `${line.replace(/#.*$/, '')}\n`;
  }
  const match = /^\s*(?:credential-helpers|"credential-helpers")\s*=\s*\[([^\]]*)\]/m.exec(text);
  if (!match) return undefined;
  return [...match[1]!.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** Every file otherClientsNotSeeing may read, once each. */
export function containersFiles(places: ContainersPlaces): string[] {
  const all = CONTAINERS_CLIENTS.flatMap((c) => [...places.authFiles[c], ...places.registriesConf[c]]);
  return [...new Set(all)];
}

/** One sentence per cause, naming every client it affects ("podman, buildah: FILE holds ..."). */
export function describeNotSeen(notSeen: readonly NotSeen[]): string[] {
  const byReason = new Map<string, OtherClient[]>();
  for (const n of notSeen) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.client]);
  return [...byReason].map(
    ([reason, clients]) => `${clients.join(', ')} ${clients.length === 1 ? 'does' : 'do'} not use it: ${reason}`,
  );
}
