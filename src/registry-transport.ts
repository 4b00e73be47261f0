// How check reaches a registry as docker does: trust from certs.d and NODE_EXTRA_CA_CERTS, proxies, loopback rules.
import { lookup } from 'node:dns/promises';
import { readdir, readFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { HttpsProxyAgent, type ProxyAgentRequestOptions } from 'hpagent';
import { isIP } from 'node:net';
import { isLoopbackAddress, proxyForUrl } from './proxy.js';

/** Where docker looks for per-registry certificates; REGISTRY_LOGIN_CERTS_D overrides it (tests, rootless setups). */
export function certsDRoot(env: NodeJS.ProcessEnv): string {
  return env.REGISTRY_LOGIN_CERTS_D || '/etc/docker/certs.d';
}

/** TLS material for one registry host, as docker's ReadCertsDirectory reads `<certs.d>/<host>/`. */
export interface RegistryTrust {
  /** The directory read (it may not exist). */
  dir: string;
  /** Connection options: ca (only when certs.d adds CAs), cert and key. */
  tls: tls.ConnectionOptions;
  /** A certs.d file docker would refuse too, e.g. a client certificate without its key. */
  problem?: string;
}

/**
 * Reads `<certs.d>/<host>/`: `*.crt` are CAs added to the default ones, `*.cert` + same-named `*.key` are client
 * certificates.
 */
export async function loadRegistryTrust(host: string, env: NodeJS.ProcessEnv): Promise<RegistryTrust> {
  // docker names the directory host:port; on Windows-style filesystems ':' is not allowed, which does not concern
  // Linux.
  const dir = join(certsDRoot(env), host);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return { dir, tls: {} };
  }
  const cas: string[] = [];
  const certs: string[] = [];
  const keys: string[] = [];
  for (const name of names) {
    if (name.endsWith('.crt')) cas.push(await readFile(join(dir, name), 'utf8'));
    else if (name.endsWith('.cert')) {
      const keyName = `${name.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(keyName))
        return {
          dir,
          tls: {},
          problem: `${join(dir, name)} has no ${keyName} beside it (docker refuses this too; CA certificates must end in .crt)`,
        };
      certs.push(await readFile(join(dir, name), 'utf8'));
      keys.push(await readFile(join(dir, keyName), 'utf8'));
    } else if (name.endsWith('.key') && !names.includes(`${name.slice(0, -'.key'.length)}.cert`)) {
      return {
        dir,
        tls: {},
        problem: `${join(dir, name)} has no ${name.slice(0, -'.key'.length)}.cert beside it (docker refuses this too)`,
      };
    }
  }
  const options: tls.ConnectionOptions = {};
  // Passing `ca` replaces Node's default store, so the defaults and NODE_EXTRA_CA_CERTS go in first: certs.d only adds.
  if (cas.length > 0) options.ca = [...tls.rootCertificates, ...(await extraCaCerts(env)), ...cas];
  if (certs.length > 0) {
    options.cert = certs;
    options.key = keys;
  }
  return { dir, tls: options };
}

async function extraCaCerts(env: NodeJS.ProcessEnv): Promise<string[]> {
  if (!env.NODE_EXTRA_CA_CERTS) return [];
  return [await readFile(env.NODE_EXTRA_CA_CERTS, 'utf8').catch(() => '')].filter((pem) => pem !== '');
}

/** One HTTP answer, with the body cut at 64 KiB (registries answer /v2/ and /token with small JSON). */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_BODY = 64 * 1024;

/**
 * GETs a URL over http or https with the given TLS options, through a proxy where the environment says so; settles by
 * the time signal aborts.
 */
export function httpGet(
  url: URL,
  options: { headers: Record<string, string>; tls: tls.ConnectionOptions; signal: AbortSignal; env: NodeJS.ProcessEnv },
): Promise<HttpAnswer> {
  const { signal } = options;
  const proxy = proxyForUrl(url, options.env);
  const headers = { 'user-agent': 'registry-login', ...options.headers };
  let request: http.ClientRequest;
  if (url.protocol === 'https:') {
    // hpagent passes these options to its CONNECT request: the signal ends a CONNECT the proxy never answers.
    const connect = { signal } as ProxyAgentRequestOptions;
    const agent = proxy
      ? new HttpsProxyAgent({ proxy, keepAlive: false, proxyRequestOptions: connect, ...options.tls })
      : undefined;
    request = https.request(url, {
      method: 'GET',
      headers,
      signal,
      ...options.tls,
      ...(agent ? { agent } : { agent: false }),
    });
  } else if (proxy) {
    // Plain http through a proxy: the absolute URL goes to the proxy, as Go's transport does.
    const via = new URL(proxy);
    const auth =
      via.username || via.password
        ? {
            'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(via.username)}:${decodeURIComponent(via.password)}`).toString('base64')}`,
          }
        : {};
    request = http.request({
      host: via.hostname,
      port: via.port || 80,
      path: url.href,
      method: 'GET',
      headers: { ...headers, host: url.host, ...auth },
      signal,
      agent: false,
    });
  } else {
    request = http.request(url, { method: 'GET', headers, signal, agent: false });
  }
  return new Promise<HttpAnswer>((resolve, reject) => {
    // Node emits the abort error only once an agent hands over a socket: an abort before that would never settle.
    const onAbort = () => {
      request.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    request.once('close', () => signal.removeEventListener('abort', onAbort));
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size >= MAX_BODY) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      response.once('error', reject);
      response.once('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY),
        }),
      );
    });
    request.end();
  });
}

/** The addresses a host name resolves to (an IP literal is its own address); none when it does not resolve. */
export async function resolveAddresses(hostname: string, signal: AbortSignal): Promise<string[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return [bare];
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  try {
    return (await Promise.race([lookup(bare, { all: true }), aborted])).map((entry) => entry.address);
  } catch (error) {
    if (signal.aborted) throw error;
    return [];
  }
}

/**
 * Whether docker falls back to plain http for a registry host: the daemon's default insecure registries are
 * 127.0.0.0/8 and ::1/128, matched by any address the name resolves to (moby's isCIDRMatch), not by the name.
 */
export async function dockerAllowsPlainHttp(hostname: string, signal: AbortSignal): Promise<boolean> {
  return (await resolveAddresses(hostname, signal)).some(isLoopbackAddress);
}

/** What a failed connection means for a user. */
export interface NetworkFailure {
  kind: 'unreachable' | 'tls' | 'not-tls';
  /** A few words on what happened, e.g. "connection refused". */
  cause: string;
  /** For tls: what to do about it. */
  advice?: string;
}

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'INVALID_CA',
]);

/**
 * Sorts a socket or TLS error into unreachable, tls (a certificate problem) or not-tls (the port does not speak TLS).
 */
export function classifyNetworkError(error: unknown, certsDir: string): NetworkFailure {
  const e = error as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  const caAdvice = `put the registry's CA certificate in ${certsDir}/ca.crt (or in the file NODE_EXTRA_CA_CERTS names)`;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
    return { kind: 'tls', cause: `its certificate is self-signed and not trusted (${code})`, advice: caAdvice };
  if (UNTRUSTED.has(code))
    return { kind: 'tls', cause: `its certificate is signed by an unknown authority (${code})`, advice: caAdvice };
  if (code === 'CERT_HAS_EXPIRED')
    return { kind: 'tls', cause: 'its certificate has expired', advice: "the registry's certificate must be renewed" };
  if (code === 'CERT_NOT_YET_VALID')
    return { kind: 'tls', cause: 'its certificate is not valid yet', advice: "check this machine's clock" };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return {
      kind: 'tls',
      cause: `its certificate is for other names (${e.reason ?? code})`,
      advice: 'use a server name the certificate lists',
    };
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE|ACCESS_DENIED/.test(code)) {
    return {
      kind: 'tls',
      cause: `it refused the TLS handshake (${code}), which usually means it wants a client certificate`,
      advice: `put client.cert and client.key in ${certsDir}`,
    };
  }
  if (code.startsWith('CERT_') || code.startsWith('ERR_TLS_'))
    return { kind: 'tls', cause: `TLS failed (${code})`, advice: caAdvice };
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST/.test(code) || code === 'EPROTO') {
    return { kind: 'not-tls', cause: 'it does not speak TLS on that port' };
  }
  if (code === 'ECONNRESET') return { kind: 'not-tls', cause: 'it closed the connection during the TLS handshake' };
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused: nothing listens on that port',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be resolved now (DNS)',
    EHOSTUNREACH: 'no route to the host',
    ENETUNREACH: 'the network is unreachable',
    ETIMEDOUT: 'the connection timed out',
    ECONNABORTED: 'the connection was aborted',
    EPIPE: 'the connection was closed',
  };
  return { kind: 'unreachable', cause: words[code] ?? (code ? `${code}` : (e?.message ?? String(error))) };
}
