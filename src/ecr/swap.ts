// The only module that loads the ECR SDKs: swaps AWS keys for an ECR (or ECR Public) authorization token.
// It is imported lazily, on a cache miss, so that no other path pays for the SDK.
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import {
  awsClientSettings,
  callTarget,
  DEFAULT_LIMITS,
  describeError,
  type AwsKeys,
  type SwapFailure,
  type SwapLimits,
} from './aws-http.js';
import type { EcrEndpoint } from './endpoint.js';

export { DEFAULT_LIMITS, MAX_RESPONSE_BYTES, type AwsKeys, type SwapFailure, type SwapLimits } from './aws-http.js';

/** What the swap got: the registry password and its expiry, or why not (never holding a secret). */
export type SwapResult = { ok: true; password: string; expiresAt?: Date } | { ok: false; failure: SwapFailure };

/** Calls GetAuthorizationToken with the given keys at the given endpoint; never throws. */
export async function getAuthorizationToken(
  endpoint: EcrEndpoint,
  keys: AwsKeys,
  env: NodeJS.ProcessEnv,
  limits: SwapLimits = DEFAULT_LIMITS,
): Promise<SwapResult> {
  const { config: common, route } = awsClientSettings(endpoint.region, keys, limits);
  const config = {
    ...common,
    // An endpoint from AWS_ENDPOINT_URL* is used as given: the SDK refuses FIPS or dual-stack with a custom endpoint.
    useFipsEndpoint: endpoint.fips && !endpoint.url,
    useDualstackEndpoint: endpoint.dualStack && !endpoint.url,
    ...(endpoint.url ? { endpoint: endpoint.url } : {}),
  };
  const client = endpoint.service === 'ecr' ? new ECRClient(config) : new ECRPUBLICClient(config);
  const call = callTarget(
    endpoint,
    () =>
      client.config.endpointProvider({
        Region: endpoint.region,
        UseFIPS: endpoint.fips,
        UseDualStack: endpoint.dualStack,
      }).url.href,
    route,
    env,
  );
  if (!call.ok) {
    client.destroy();
    return call;
  }
  const { fail: failure } = call;

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
