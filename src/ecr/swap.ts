// The only module that loads the AWS SDK: swaps AWS keys for an ECR (or ECR Public) authorization token.
// It is imported lazily, on a cache miss, so that no other path pays for the SDK.
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { proxyForUrl } from '../proxy.js';
import type { EcrEndpoint } from './endpoint.js';

// registry-login runs on whatever Node the image has; the SDK's plan for its next releases is not the user's business
// here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The AWS keys of one triple: the only credentials a swap ever uses. */
export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** How long a swap may take and how often it is tried. */
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

/** The most of an answer body a swap reads: a GetAuthorizationToken answer is a few KiB, an error less. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** What the swap got: the registry password and its expiry, or why not (never holding a secret). */
export type SwapResult = { ok: true; password: string; expiresAt?: Date } | { ok: false; failure: SwapFailure };

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

const NO_LOG = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Calls GetAuthorizationToken with the given keys at the given endpoint; never throws. */
export async function getAuthorizationToken(
  endpoint: EcrEndpoint,
  keys: AwsKeys,
  env: NodeJS.ProcessEnv,
  limits: SwapLimits = DEFAULT_LIMITS,
): Promise<SwapResult> {
  // The handler needs the target URL (for the proxy decision), which the client's endpoint rules know: defer its
  // options.
  let provideOptions!: (options: NodeHttpHandlerOptions) => void;
  const handlerOptions = new Promise<NodeHttpHandlerOptions>((resolve) => (provideOptions = resolve));
  const requestHandler = new BoundedHttpHandler(() => handlerOptions);
  const config = {
    region: endpoint.region,
    // A static credentials object: the default provider chain (ambient AWS_* keys, profiles, instance roles) is never
    // consulted.
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
    },
    // An endpoint from AWS_ENDPOINT_URL* is used as given: the SDK refuses FIPS or dual-stack with a custom endpoint.
    useFipsEndpoint: endpoint.fips && !endpoint.url,
    useDualstackEndpoint: endpoint.dualStack && !endpoint.url,
    ...(endpoint.url ? { endpoint: endpoint.url } : {}),
    // Every setting the SDK would otherwise read from AWS_* variables or ~/.aws/config is given here, so neither
    // changes a swap.
    ignoreConfiguredEndpointUrls: true,
    maxAttempts: limits.maxAttempts,
    retryMode: 'standard',
    defaultsMode: 'standard' as const,
    authSchemePreference: ['sigv4'],
    userAgentAppId: 'registry-login',
    // The SDK default (correct for a skewed clock), stated so that no config file is consulted for it.
    disableClockSkewCorrection: false,
    requestHandler,
    logger: NO_LOG,
  };
  const client = endpoint.service === 'ecr' ? new ECRClient(config) : new ECRPUBLICClient(config);
  let target: URL;
  try {
    target = endpoint.url
      ? new URL(endpoint.url)
      : new URL(
          client.config.endpointProvider({
            Region: endpoint.region,
            UseFIPS: endpoint.fips,
            UseDualStack: endpoint.dualStack,
          }).url.href,
        );
  } catch (error) {
    client.destroy();
    const what = endpoint.url ? `${endpoint.urlVariable} is not a URL` : (error as Error).message;
    return {
      ok: false,
      failure: { kind: 'network', code: 'InvalidEndpoint', message: what, host: '', viaProxy: false },
    };
  }
  const proxy = proxyForUrl(target, env);
  provideOptions({
    connectionTimeout: limits.connectTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    throwOnRequestTimeout: true,
    logger: NO_LOG,
    ...agentsFor(proxy, limits),
  });
  const failure = (partial: Omit<SwapFailure, 'host' | 'viaProxy'>): SwapResult => ({
    ok: false,
    failure: { ...partial, host: target.host, viaProxy: proxy !== undefined },
  });

  try {
    const abortSignal = AbortSignal.timeout(limits.totalTimeoutMs);
    if (client instanceof ECRClient) {
      const output = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal });
      const data =
        output.authorizationData?.find((d) => d.authorizationToken !== undefined) ?? output.authorizationData?.[0];
      return readAuthorizationData(data, failure);
    }
    const output = await client.send(new GetPublicAuthorizationTokenCommand({}), { abortSignal });
    return readAuthorizationData(output.authorizationData, failure);
  } catch (error) {
    return failure(describeError(error, limits));
  } finally {
    client.destroy();
  }
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

/** Checks an authorizationData entry and takes the registry password out of its base64 "AWS:<password>" token. */
export function readAuthorizationData(
  data: { authorizationToken?: string; expiresAt?: Date } | undefined,
  failure: (partial: Omit<SwapFailure, 'host' | 'viaProxy'>) => SwapResult = (partial) => ({
    ok: false,
    failure: { ...partial, host: '', viaProxy: false },
  }),
): SwapResult {
  const bad = (message: string) => failure({ kind: 'response', code: 'InvalidAuthorizationData', message });
  if (!data) return bad('the answer has no authorizationData');
  const token = data.authorizationToken;
  if (typeof token !== 'string' || token === '') return bad('authorizationData has no authorizationToken');
  if (token.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return bad('authorizationToken is not base64');
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  if (!decoded.startsWith('AWS:')) return bad('authorizationToken does not decode to "AWS:<password>"');
  const password = decoded.slice(4);
  if (password === '') return bad('authorizationToken holds an empty password');
  const expiresAt =
    data.expiresAt instanceof Date && !Number.isNaN(data.expiresAt.getTime()) ? data.expiresAt : undefined;
  return { ok: true, password, ...(expiresAt ? { expiresAt } : {}) };
}

function describeError(error: unknown, limits: SwapLimits): Omit<SwapFailure, 'host' | 'viaProxy'> {
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
