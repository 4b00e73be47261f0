// The registry /v2/ login handshake as docker login does it: anonymous GET /v2/, then Basic, or a Bearer token
// from the challenge's realm (service, account, client_id=docker, offline_token=true, and no scope: docker login asks
// none).
import { DOCKER_HUB_KEY } from './registry.js';
import { encodeAuth } from './docker/auth.js';
import {
  classifyNetworkError,
  dockerAllowsPlainHttp,
  httpGet,
  loadRegistryTrust,
  resolveAddresses,
  type HttpAnswer,
} from './registry-transport.js';
import { isLoopbackAddress, proxyForUrl } from './proxy.js';
import type { Credentials } from './types.js';

/** What a handshake found. */
export type HandshakeResult = 'ok' | 'unauthorized' | 'denied' | 'unreachable' | 'tls' | 'error';

/** The outcome of one handshake; no field ever holds a credential or a token. */
export interface HandshakeOutcome {
  result: HandshakeResult;
  /** What happened, in a few words, e.g. "HTTP 401 from the token server http://127.0.0.1:5001/token". */
  cause: string;
  /** For tls and error: what to do about it. */
  advice?: string;
  /** The /v2/ URL that answered. */
  endpoint?: string;
  /** How the registry asked to be authenticated. */
  scheme?: 'basic' | 'bearer' | 'anonymous';
  /** The certs.d directory docker would read for this registry. */
  certsDir: string;
}

export interface HandshakeOptions {
  env: NodeJS.ProcessEnv;
  /** The whole handshake's budget, after which the registry counts as unreachable. */
  timeoutMs: number;
}

/** The host:port docker talks to for a config key (Docker Hub's key is not a host). */
export function registryHost(key: string): string {
  return key === DOCKER_HUB_KEY ? 'registry-1.docker.io' : key;
}

/** Performs docker login's /v2/ handshake against the registry of key with the given credentials. */
export async function registryHandshake(
  key: string,
  credentials: Credentials,
  options: HandshakeOptions,
): Promise<HandshakeOutcome> {
  const host = registryHost(key);
  const trust = await loadRegistryTrust(host, options.env);
  const certsDir = trust.dir;
  if (trust.problem) return { result: 'tls', cause: trust.problem, advice: `fix the files in ${certsDir}`, certsDir };
  const signal = AbortSignal.timeout(options.timeoutMs);
  const seconds = Math.round(options.timeoutMs / 100) / 10;
  const hostname = new URL(`https://${host}`).hostname;
  let stage = 'the registry';
  let base = `https://${host}`;
  const get = (url: URL, headers: Record<string, string> = {}) =>
    httpGet(url, { headers, tls: trust.tls, signal, env: options.env });

  try {
    let probe: HttpAnswer;
    try {
      probe = await get(new URL(`${base}/v2/`));
    } catch (error) {
      const failure = classifyNetworkError(error, certsDir);
      // Docker treats loopback registries as insecure and falls back to plain http; it verifies nothing there,
      // but skopeo, podman and buildx do, so a loopback registry that does speak TLS must still pass verification.
      if (failure.kind !== 'not-tls' || signal.aborted || !(await dockerAllowsPlainHttp(hostname, signal))) throw error;
      base = `http://${host}`;
      probe = await get(new URL(`${base}/v2/`));
    }
    const endpoint = `${base}/v2/`;
    const done = (result: HandshakeResult, cause: string, extra: Partial<HandshakeOutcome> = {}): HandshakeOutcome => ({
      result,
      cause,
      endpoint,
      certsDir,
      ...extra,
    });
    if (probe.status === 200)
      return done('ok', `${endpoint} answers without authentication, so the credentials were not needed`, {
        scheme: 'anonymous',
      });
    if (probe.status !== 401)
      return done(
        'error',
        `GET ${endpoint} answered HTTP ${probe.status}${probe.status === 404 ? ', so there is no registry API there' : ''}`,
        { advice: 'check the server name and port in the _SERVER secret' },
      );
    const challenges = parseChallenges(headerText(probe.headers['www-authenticate']));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');

    if (bearer) {
      const realm = bearer.params.realm;
      let realmUrl: URL;
      try {
        realmUrl = new URL(realm ?? '');
        if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') throw new Error('not http(s)');
      } catch {
        return done('error', `the registry's Bearer challenge has no usable realm`, {
          advice: 'the registry is misconfigured; tell its operator',
          scheme: 'bearer',
        });
      }
      const where = `${realmUrl.origin}${realmUrl.pathname}`;
      if (bearer.params.service) realmUrl.searchParams.set('service', bearer.params.service);
      const withCredentials = credentials.username !== '' && credentials.secret !== '';
      // Docker would send the Basic credentials to an http realm on any host, in clear text; this agent does not,
      // whether /v2/ itself was https or plain http on loopback (a port-forwarded registry may name a remote realm).
      if (
        withCredentials &&
        realmUrl.protocol === 'http:' &&
        !(await staysOnThisMachine(realmUrl, options.env, signal))
      ) {
        return done(
          'error',
          `the registry's token server ${where} is plain http and not on this machine, so the credentials were not sent to it (they would cross the network in clear text)`,
          {
            advice: 'the registry must name an https:// realm in its Bearer challenge; tell its operator',
            scheme: 'bearer',
          },
        );
      }
      if (withCredentials) realmUrl.searchParams.set('account', credentials.username);
      realmUrl.searchParams.set('client_id', 'docker');
      realmUrl.searchParams.set('offline_token', 'true');
      stage = `the token server ${where}`;
      const tokenAnswer = await get(realmUrl, withCredentials ? { authorization: basicAuth(credentials) } : {});
      if (tokenAnswer.status === 401)
        return done('unauthorized', `HTTP 401 from the token server ${where}`, { scheme: 'bearer' });
      if (tokenAnswer.status === 403)
        return done('denied', `HTTP 403 from the token server ${where}`, { scheme: 'bearer' });
      if (tokenAnswer.status !== 200)
        return done('error', `the token server ${where} answered HTTP ${tokenAnswer.status}`, {
          advice: 'try again later; if it persists, tell the registry operator',
          scheme: 'bearer',
        });
      const token = tokenFrom(tokenAnswer.body);
      if (!token)
        return done('error', `the token server ${where} answered without a token`, {
          advice: 'the registry is misconfigured; tell its operator',
          scheme: 'bearer',
        });
      stage = 'the registry';
      const final = await get(new URL(endpoint), { authorization: `Bearer ${token}` });
      if (final.status === 200) return done('ok', `token from ${where}, accepted at ${endpoint}`, { scheme: 'bearer' });
      if (final.status === 401)
        return done('unauthorized', `${endpoint} refused the token ${where} issued for these credentials (HTTP 401)`, {
          scheme: 'bearer',
        });
      if (final.status === 403)
        return done('denied', `HTTP 403 from ${endpoint} with the token from ${where}`, { scheme: 'bearer' });
      return done('error', `GET ${endpoint} with a token answered HTTP ${final.status}`, {
        advice: 'try again later; if it persists, tell the registry operator',
        scheme: 'bearer',
      });
    }
    if (basic) {
      const answer = await get(new URL(endpoint), { authorization: basicAuth(credentials) });
      if (answer.status === 200) return done('ok', `basic auth accepted at ${endpoint}`, { scheme: 'basic' });
      if (answer.status === 401)
        return done('unauthorized', `HTTP 401 from ${endpoint} with basic auth`, { scheme: 'basic' });
      if (answer.status === 403)
        return done('denied', `HTTP 403 from ${endpoint} with basic auth`, { scheme: 'basic' });
      return done('error', `GET ${endpoint} with basic auth answered HTTP ${answer.status}`, {
        advice: 'try again later; if it persists, tell the registry operator',
        scheme: 'basic',
      });
    }
    return done('error', `GET ${endpoint} answered 401 without a Basic or Bearer challenge`, {
      advice: 'docker cannot log in there either; tell the registry operator',
    });
  } catch (error) {
    if (signal.aborted)
      return { result: 'unreachable', cause: `${stage} gave no answer within ${seconds} s`, certsDir };
    const failure = classifyNetworkError(error, certsDir);
    const at = stage === 'the registry' ? '' : `${stage}: `;
    if (failure.kind === 'tls')
      return {
        result: 'tls',
        cause: `${at}${failure.cause}`,
        ...(failure.advice ? { advice: failure.advice } : {}),
        certsDir,
      };
    if (failure.kind === 'not-tls' && base.startsWith('https:') && stage === 'the registry') {
      return {
        result: 'tls',
        cause: `${failure.cause} (${host})`,
        advice: `docker uses plain http only for loopback registries and those in the daemon's insecure-registries; serve TLS there`,
        certsDir,
      };
    }
    return { result: 'unreachable', cause: `${at}${failure.cause}`, certsDir };
  }
}

// A plain-http realm may receive credentials only if every address of its host is loopback and no proxy is asked.
async function staysOnThisMachine(url: URL, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<boolean> {
  if (proxyForUrl(url, env) !== undefined) return false;
  const addresses = await resolveAddresses(url.hostname, signal);
  return addresses.length > 0 && addresses.every(isLoopbackAddress);
}

/** One WWW-Authenticate challenge: its scheme (lower-cased) and parameters. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header into challenges (RFC 7235: scheme, then comma-separated key=value or key="quoted"
 * pairs).
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
  let rest = header.trim();
  let current: Challenge | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const word = token.exec(rest)?.[0];
    if (!word) break;
    const after = rest.slice(word.length);
    const param = /^\s*=\s*/.exec(after);
    if (param && current) {
      let value: string;
      let remaining = after.slice(param[0].length);
      if (remaining.startsWith('"')) {
        let i = 1;
        value = '';
        while (i < remaining.length && remaining[i] !== '"') {
          if (remaining[i] === '\\' && i + 1 < remaining.length) i++;
          value += remaining[i];
          i++;
        }
        remaining = remaining.slice(i + 1);
      } else {
        const bare = /^[^,\s]*/.exec(remaining)![0];
        value = bare;
        remaining = remaining.slice(bare.length);
      }
      current.params[word.toLowerCase()] = value;
      rest = remaining;
    } else {
      current = { scheme: word.toLowerCase(), params: {} };
      challenges.push(current);
      rest = after;
    }
  }
  return challenges;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function basicAuth(credentials: Credentials): string {
  return `Basic ${encodeAuth(credentials.username, credentials.secret)}`;
}

function tokenFrom(body: string): string | undefined {
  try {
    const value = JSON.parse(body) as { token?: unknown; access_token?: unknown };
    const token = typeof value.token === 'string' && value.token !== '' ? value.token : value.access_token;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}
