// SERVER value → docker config key (the rules of `docker login`), and the login's kind.
import { parseEcrHost } from './ecr/host.js';
import { byteOrder, variableStem } from './discover.js';
import type { EcrLocation, Kind, Login, Problem, Triple } from './types.js';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

// A DNS name (labels of letters, digits, hyphens, underscores as docker tolerates), IPv4, or [IPv6], then an optional
// port.
const HOST =
  /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

export type KeyResult = { ok: true; key: string } | { ok: false; reason: string };

/** Turns a SERVER value into the key docker uses in config.json, or says why it is not a registry host. */
export function normalizeRegistryKey(server: string): KeyResult {
  let rest = server.trim();
  if (rest === '') return { ok: false, reason: 'is empty' };
  rest = rest.replace(/^https?:\/\//i, '');
  const slash = rest.indexOf('/');
  const host = (slash === -1 ? rest : rest.slice(0, slash)).toLowerCase();
  // Judge userinfo before anything else: the part before @ may be a credential and is never echoed.
  if (host.includes('@'))
    return {
      ok: false,
      reason:
        'contains user information (user:password@host); put the user and password in the _USER and _PASSWORD variables',
    };
  if (host === '') return { ok: false, reason: 'has no host name' };
  if (/\s/.test(host)) return { ok: false, reason: 'contains white space' };
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(rest)) return { ok: false, reason: 'has a scheme other than http:// or https://' };
  const m = HOST.exec(host);
  if (!m)
    return {
      ok: false,
      reason: 'is not a registry host name (expected host or host:port, e.g. ghcr.io or registry.example.com:5000)',
    };
  const port = m[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    return { ok: false, reason: 'has a port outside 1-65535' };
  if (DOCKER_HUB_HOSTS.has(host)) return { ok: true, key: DOCKER_HUB_KEY };
  return { ok: true, key: host };
}

/** Whether a login of this kind gives AWS keys that must be swapped for a token. */
export function needsSwap(kind: Kind): boolean {
  return kind === 'ecr-keys' || kind === 'ecr-public-keys';
}

/** Decides how a login gets its credentials (README, What it does: kinds) from its key and USER value. */
export function classifyLogin(key: string, user: string): { kind: Kind; ecr?: EcrLocation } {
  const ecr = parseEcrHost(key);
  if (!ecr) return { kind: 'static' };
  if (user === 'AWS') return { kind: 'ecr-token', ecr };
  return { kind: ecr.public ? 'ecr-public-keys' : 'ecr-keys', ecr };
}

/** Keys and classifies triples; a bad SERVER or a second prefix for the same key becomes a problem. */
export function keyLogins(triples: Triple[]): { logins: Login[]; problems: Problem[] } {
  const logins: Login[] = [];
  const problems: Problem[] = [];
  const owner = new Map<string, string>();
  for (const triple of [...triples].sort((a, b) => byteOrder(a.prefix, b.prefix))) {
    const stem = variableStem(triple.prefix);
    const keyed = normalizeRegistryKey(triple.server);
    if (!keyed.ok) {
      problems.push({
        prefix: triple.prefix,
        message: `${triple.prefix}: ${stem}SERVER ${keyed.reason}; this registry is skipped. Fix the secret, then run \`registry-login refresh\`.`,
      });
      continue;
    }
    const first = owner.get(keyed.key);
    if (first !== undefined) {
      problems.push({
        prefix: triple.prefix,
        message: `${triple.prefix}: ${keyed.key} is already logged in by ${first} (the prefix that sorts first wins); remove one of the two ${variableStem(first)}* and ${stem}* secret sets.`,
      });
      continue;
    }
    owner.set(keyed.key, triple.prefix);
    const classified = classifyLogin(keyed.key, triple.user);
    if (triple.roleArn !== undefined && !needsSwap(classified.kind)) {
      problems.push({ prefix: triple.prefix, message: roleWithoutKeys(triple.prefix, keyed.key, classified.kind) });
      continue;
    }
    logins.push({ ...triple, key: keyed.key, ...classified });
  }
  return { logins, problems };
}

// A role is assumed with AWS keys for an ECR swap; on any other login it would be silently ignored.
function roleWithoutKeys(prefix: string, key: string, kind: Kind): string {
  const stem = variableStem(prefix);
  if (kind === 'ecr-token')
    return `${prefix}: ${stem}ROLE_ARN is set, but ${stem}USER is AWS, so ${stem}PASSWORD is already an ECR token and there are no keys to assume the role with; this registry is skipped. Put the access key ID in ${stem}USER and the secret key in ${stem}PASSWORD, or remove ${stem}ROLE_ARN.`;
  return `${prefix}: ${stem}ROLE_ARN is set, but ${key} is not an ECR registry, so there is no AWS role to assume for it; this registry is skipped. Remove ${stem}ROLE_ARN (and ${stem}EXTERNAL_ID), or point ${stem}SERVER at an ECR registry.`;
}
