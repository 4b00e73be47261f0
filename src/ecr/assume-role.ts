// The only module that loads the STS SDK: assumes a login's role with the triple's keys, so that the ECR call can be
// made as the role. Imported lazily, like swap.ts, only when a role login has no fresh cached token. The role's
// credentials it returns live in memory only.
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { userInfo } from 'node:os';
import {
  awsClientSettings,
  callTarget,
  DEFAULT_LIMITS,
  describeError,
  type AwsKeys,
  type SwapFailure,
  type SwapLimits,
} from './aws-http.js';
import type { StsEndpoint } from './endpoint.js';

export { DEFAULT_LIMITS } from './aws-http.js';

/** A role to assume: its ARN and, when its trust policy asks for one, the external ID. */
export interface RoleToAssume {
  roleArn: string;
  externalId?: string;
}

/** The role's temporary keys and when its session ends, or why not (never holding a secret). */
export type AssumeResult = { ok: true; keys: AwsKeys; expiresAt: Date } | { ok: false; failure: SwapFailure };

/** Calls STS AssumeRole at the given endpoint with the triple's keys; never throws. */
export async function assumeRole(
  endpoint: StsEndpoint,
  keys: AwsKeys,
  role: RoleToAssume,
  env: NodeJS.ProcessEnv,
  limits: SwapLimits = DEFAULT_LIMITS,
): Promise<AssumeResult> {
  const { config, route } = awsClientSettings(endpoint.region, keys, limits);
  const client = new STSClient({
    ...config,
    // Always the regional endpoint (sts-fips where the registry is FIPS), never sts.amazonaws.com.
    useGlobalEndpoint: false,
    useFipsEndpoint: endpoint.fips && !endpoint.url,
    useDualstackEndpoint: false,
    ...(endpoint.url ? { endpoint: endpoint.url } : {}),
  });
  const call = callTarget(
    endpoint,
    () =>
      client.config.endpointProvider({
        Region: endpoint.region,
        UseFIPS: endpoint.fips,
        UseDualStack: false,
        UseGlobalEndpoint: false,
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
    // DurationSeconds unset: the STS default of one hour, which is also the cap when the keys are temporary.
    const output = await client.send(
      new AssumeRoleCommand({
        RoleArn: role.roleArn,
        RoleSessionName: roleSessionName(),
        ...(role.externalId !== undefined ? { ExternalId: role.externalId } : {}),
      }),
      { abortSignal: AbortSignal.timeout(limits.totalTimeoutMs) },
    );
    const c = output.Credentials;
    const expiresAt = c?.Expiration;
    if (
      !c?.AccessKeyId ||
      !c.SecretAccessKey ||
      !c.SessionToken ||
      !(expiresAt instanceof Date) ||
      Number.isNaN(expiresAt.getTime())
    )
      return failure({
        kind: 'response',
        code: 'InvalidCredentials',
        message: 'the AssumeRole answer has no complete Credentials',
      });
    return {
      ok: true,
      keys: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
      expiresAt,
    };
  } catch (error) {
    return failure(describeError(error, limits));
  } finally {
    client.destroy();
  }
}

/**
 * `registry-login-<user>`, in STS's characters ([\w+=,.@-], at most 64): CloudTrail in the role's account then shows
 * who pulled.
 */
export function roleSessionName(user = currentUser()): string {
  return `registry-login-${user}`.replace(/[^\w+=,.@-]/g, '').slice(0, 64);
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (common in containers run with --user).
    return `uid${process.getuid?.() ?? ''}`;
  }
}
