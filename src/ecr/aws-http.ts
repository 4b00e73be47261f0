// What every AWS call registry-login makes shares (the ECR swap, the role's AssumeRole): the triple's keys and nothing
// ambient, bounded time and answer size, the proxy decision, and one reading of the SDK's errors. Bundled into each
// lazy AWS file; nothing here holds state.
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { proxyForUrl } from '../proxy.js';

// registry-login runs on whatever Node the image has; the SDK's plan for its next releases is not the user's business
// here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** AWS keys: the triple's, or a role's temporary ones. */
export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** How long a call may take and how often it is tried. */
export interface SwapLimits {
  connectTimeoutMs: number;
  /** One attempt, from request to response. */
  requestTimeoutMs: number;
  /** All attempts with their back-off. */
  totalTimeoutMs: number;
  /**
   * Attempts in all (the SDK's standard retry: throttling, 5xx and network errors, exponential back-off with jitter).
   */
  maxAttempts: number;
}

export const DEFAULT_LIMITS: SwapLimits = {
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  totalTimeoutMs: 30_000,
  maxAttempts: 4,
};

/** The most of an answer body a call reads: a GetAuthorizationToken answer is a few KiB, an error less. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface SwapFailure {
  /** aws: AWS answered with an error; network/timeout: no answer; response: an answer without a usable token. */
  kind: 'aws' | 'network' | 'timeout' | 'response';
  /** The AWS error code (e.g. AccessDeniedException) or the network error code (e.g. ECONNREFUSED). */
  code: string;
  message: string;
  httpStatus?: number;
  /** The API host that was called (or tried). */
  host: string;
  viaProxy: boolean;
}

/** A failed call, as every AWS call of ours reports one. */
export interface CallFailure {
  ok: false;
  failure: SwapFailure;
}

/**
 * Where a call goes: the endpoint variable's URL when set, else the one the SDK's endpoint rules give, routed (through
 * a proxy or not) for it; with the function that reports a failure at that host. A target that is not a URL is an
 * InvalidEndpoint failure.
 */
export function callTarget(
  endpoint: { url?: string; urlVariable?: string },
  rules: () => string,
  route: (target: URL, env: NodeJS.ProcessEnv) => boolean,
  env: NodeJS.ProcessEnv,
): { ok: true; target: URL; fail: (partial: Omit<SwapFailure, 'host' | 'viaProxy'>) => CallFailure } | CallFailure {
  let target: URL;
  try {
    target = new URL(endpoint.url ?? rules());
  } catch (error) {
    const what = endpoint.url ? `${endpoint.urlVariable} is not a URL` : (error as Error).message;
    return {
      ok: false,
      failure: { kind: 'network', code: 'InvalidEndpoint', message: what, host: '', viaProxy: false },
    };
  }
  const viaProxy = route(target, env);
  return { ok: true, target, fail: (partial) => ({ ok: false, failure: { ...partial, host: target.host, viaProxy } }) };
}

export const NO_LOG = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * The client settings every call uses, with a request handler whose options wait for route(): the handler needs the
 * target URL (for the proxy decision), which only the client's endpoint rules know.
 */
export function awsClientSettings(region: string, keys: AwsKeys, limits: SwapLimits) {
  let provideOptions!: (options: NodeHttpHandlerOptions) => void;
  const handlerOptions = new Promise<NodeHttpHandlerOptions>((resolve) => (provideOptions = resolve));
  const config = {
    region,
    // A static credentials object: the default provider chain (ambient AWS_* keys, profiles, instance roles) is never
    // consulted.
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
    },
    // Every setting the SDK would otherwise read from AWS_* variables or ~/.aws/config is given here, so neither
    // changes a call.
    ignoreConfiguredEndpointUrls: true,
    maxAttempts: limits.maxAttempts,
    retryMode: 'standard',
    defaultsMode: 'standard' as const,
    authSchemePreference: ['sigv4'],
    userAgentAppId: 'registry-login',
    // The SDK default (correct for a skewed clock), stated so that no config file is consulted for it.
    disableClockSkewCorrection: false,
    requestHandler: new BoundedHttpHandler(() => handlerOptions),
    logger: NO_LOG,
  };
  /** Settles the handler for a call to target; returns whether it goes through a proxy. */
  const route = (target: URL, env: NodeJS.ProcessEnv): boolean => {
    const proxy = proxyForUrl(target, env);
    provideOptions({
      connectionTimeout: limits.connectTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      throwOnRequestTimeout: true,
      logger: NO_LOG,
      ...agentsFor(proxy, limits),
    });
    return proxy !== undefined;
  };
  return { config, route };
}

/** The SDK's Node handler with every answer body cut off, as an error, past MAX_RESPONSE_BYTES. */
class BoundedHttpHandler extends NodeHttpHandler {
  override async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const result = await super.handle(...args);
    const { response } = result;
    const tooLarge = () =>
      Object.assign(
        new Error(
          `the answer from ${args[0].hostname} is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB, so it was not read`,
        ),
        { name: 'ResponseTooLarge' },
      );
    const source = response.body as Readable;
    // A declared length over the cap fails before a byte is read.
    if (Number(response.headers['content-length']) > MAX_RESPONSE_BYTES) {
      source.destroy();
      throw tooLarge();
    }
    let size = 0;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(size > MAX_RESPONSE_BYTES ? tooLarge() : null, chunk);
      },
    });
    pipeline(source, bounded, () => undefined);
    response.body = bounded;
    return result;
  }
}

function agentsFor(
  proxy: string | undefined,
  limits: SwapLimits,
): Pick<NodeHttpHandlerOptions, 'httpAgent' | 'httpsAgent'> {
  const common = { keepAlive: false, timeout: limits.connectTimeoutMs };
  if (!proxy) return { httpAgent: new HttpAgent(common), httpsAgent: new HttpsAgent(common) };
  return { httpAgent: new HttpProxyAgent({ ...common, proxy }), httpsAgent: new HttpsProxyAgent({ ...common, proxy }) };
}

/** What an error thrown by an SDK call means, never holding a secret. */
export function describeError(error: unknown, limits: SwapLimits): Omit<SwapFailure, 'host' | 'viaProxy'> {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
  };
  const httpStatus = e?.$metadata?.httpStatusCode;
  const message = String(e?.message ?? error)
    .split('\n')[0]!
    .slice(0, 300);
  if (e?.name === 'ResponseTooLarge')
    return { kind: 'response', code: 'ResponseTooLarge', message, ...(httpStatus !== undefined ? { httpStatus } : {}) };
  // The SDK names socket errors such as ECONNRESET "TimeoutError" (to retry them): the errno says what happened.
  const errno = typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) && e.code !== 'ETIMEDOUT' ? e.code : undefined;
  if (errno) return { kind: 'network', code: errno, message };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ETIMEDOUT') {
    return {
      kind: 'timeout',
      code: 'TimeoutError',
      message: `no answer within the time limit (${limits.requestTimeoutMs / 1000} s per attempt, ${limits.totalTimeoutMs / 1000} s in all, ${limits.maxAttempts} attempts)`,
    };
  }
  if (httpStatus !== undefined && e.$fault !== undefined) {
    return { kind: 'aws', code: e.name && e.name !== 'Error' ? e.name : `HTTP${httpStatus}`, message, httpStatus };
  }
  if (httpStatus !== undefined) {
    // An answer the SDK could not read (not JSON, wrong shape).
    return { kind: 'response', code: e.name && e.name !== 'Error' ? e.name : 'InvalidResponse', message, httpStatus };
  }
  // hpagent's words for a proxy that refused the CONNECT.
  const refused = /^Bad response: (\d+)/.exec(message);
  if (refused)
    return { kind: 'network', code: 'ProxyRefused', message: `the proxy answered HTTP ${refused[1]} to CONNECT` };
  if (message === 'Proxy timeout')
    return { kind: 'timeout', code: 'TimeoutError', message: 'the proxy did not answer in time' };
  if (typeof e?.code === 'string') return { kind: 'network', code: e.code, message };
  return { kind: 'network', code: e?.name && e.name !== 'Error' ? e.name : 'NetworkError', message };
}
