// ECR logins given as AWS keys → registry tokens: one call per swap identity, all in parallel, cached per user. A
// login with a role first assumes it, once per role and partition, and swaps with the role's credentials.
import { byteOrder, variableStem } from '../discover.js';
import { ecrEndpoint, stsEndpoint, type EcrEndpoint, type StsEndpoint } from './endpoint.js';
import {
  identityText,
  isFresh,
  openTokenCache,
  tokenCacheKey,
  type CachedToken,
  type SwapIdentity,
} from './token-cache.js';
import type { Login, Resolved } from '../types.js';
import type { ResolveOptions } from '../resolve.js';
import type { AwsKeys, SwapFailure, SwapLimits } from './aws-http.js';
import type { AssumeResult } from './assume-role.js';

/** ResolveOptions plus what tests may choose. */
export interface EcrResolveOptions extends ResolveOptions {
  /** Defaults to swap.ts DEFAULT_LIMITS. */
  limits?: SwapLimits;
}

// ECR documents 12 hours; used only if an answer carries no expiry.
const DEFAULT_LIFETIME_MS = 12 * 60 * 60 * 1000;

type Failure = SwapFailure | { kind: 'response'; code: string; message: string; host: string; viaProxy: false };

type Outcome = { ok: true; token: CachedToken } | { ok: false; failure: Failure; failedAt?: 'role' };

/** One AssumeRole: the triple's keys, the role, and the partition its credentials serve. */
interface RoleGroup {
  keys: AwsKeys;
  roleArn: string;
  externalId?: string;
  /** The regional STS endpoint of the first registry, in key order, that needs the role. */
  endpoint: StsEndpoint;
}

interface Group {
  identity: SwapIdentity;
  endpoint: EcrEndpoint;
  logins: Login[];
  role?: RoleGroup;
}

/**
 * Resolves ECR key logins (ecr-keys, ecr-public-keys): cache first, then one AssumeRole per distinct role (when a
 * login has one) and one GetAuthorizationToken per distinct identity.
 */
export async function resolveEcrLogins(logins: Login[], options: EcrResolveOptions): Promise<Resolved[]> {
  const cache = openTokenCache(options.cacheDir);
  const groups = new Map<string, Group>();
  const roles = new Map<string, RoleGroup>();
  const keyOf = new Map<Login, string>();
  for (const login of [...logins].sort((a, b) => byteOrder(a.key, b.key))) {
    const endpoint = ecrEndpoint(login.ecr!, options.env);
    const keys: AwsKeys = {
      accessKeyId: login.user,
      secretAccessKey: login.password,
      ...(login.sessionToken ? { sessionToken: login.sessionToken } : {}),
    };
    const identity: SwapIdentity = {
      ...keys,
      region: endpoint.region,
      flavour: `${endpoint.service}${endpoint.fips ? '-fips' : ''}${endpoint.dualStack ? '-dualstack' : ''}`,
      ...(endpoint.url ? { endpointUrl: endpoint.url } : {}),
      ...(login.roleArn ? { roleArn: login.roleArn } : {}),
      ...(login.externalId !== undefined ? { externalId: login.externalId } : {}),
    };
    let role: RoleGroup | undefined;
    if (login.roleArn) {
      const sts = stsEndpoint(login.ecr!, options.env);
      const roleKey = [identityText({ ...identity, region: '', flavour: '', endpointUrl: '' }), sts.partition].join(
        '\0',
      );
      role = roles.get(roleKey);
      if (!role) {
        role = {
          keys,
          roleArn: login.roleArn,
          endpoint: sts,
          ...(login.externalId !== undefined ? { externalId: login.externalId } : {}),
        };
        roles.set(roleKey, role);
      }
    }
    const key = identityText(identity);
    keyOf.set(login, key);
    const group = groups.get(key);
    if (group) group.logins.push(login);
    else groups.set(key, { identity, endpoint, logins: [login], ...(role ? { role } : {}) });
  }

  // The SDKs are loaded once, and only if some identity has no fresh cached token.
  let swap: Promise<typeof import('./swap.js')> | undefined;
  // A role is assumed at most once per run, and only for the identities that miss the cache; its credentials stay here.
  const assumed = new Map<RoleGroup, Promise<AssumeResult>>();
  const hidden: string[] = [];
  const assume = (role: RoleGroup): Promise<AssumeResult> => {
    let call = assumed.get(role);
    if (!call) {
      call = (async () => {
        const { assumeRole, DEFAULT_LIMITS } = await import('./assume-role.js');
        const result = await assumeRole(
          role.endpoint,
          role.keys,
          { roleArn: role.roleArn, ...(role.externalId !== undefined ? { externalId: role.externalId } : {}) },
          options.env,
          options.limits ?? DEFAULT_LIMITS,
        );
        if (result.ok) hidden.push(result.keys.secretAccessKey, result.keys.sessionToken!);
        return result;
      })();
      assumed.set(role, call);
    }
    return call;
  };
  const outcomes = new Map<string, Outcome>();
  await Promise.all(
    [...groups].map(async ([key, group]) => {
      outcomes.set(key, await resolveGroup(group));
    }),
  );

  async function resolveGroup(group: Group): Promise<Outcome> {
    const { now } = options;
    if (!options.force) {
      const cached = cache.get(tokenCacheKey(group.identity));
      if (cached && isFresh(cached, now)) return { ok: true, token: cached };
    }
    const { identity } = group;
    let keys: AwsKeys = {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
    };
    let sessionEnd: Date | undefined;
    if (group.role) {
      const role = await assume(group.role);
      if (!role.ok) return { ok: false, failure: role.failure, failedAt: 'role' };
      keys = role.keys;
      sessionEnd = role.expiresAt;
    }
    const { getAuthorizationToken, DEFAULT_LIMITS } = await (swap ??= import('./swap.js'));
    let result;
    try {
      result = await getAuthorizationToken(group.endpoint, keys, options.env, options.limits ?? DEFAULT_LIMITS);
    } catch (error) {
      return {
        ok: false,
        failure: {
          kind: 'response',
          code: 'UnexpectedError',
          message: (error as Error)?.message ?? String(error),
          host: '',
          viaProxy: false,
        },
      };
    }
    if (!result.ok) return result;
    // A token made with a role's credentials is not trusted past the role's session (README, Roles): the earlier end.
    const tokenEnd = result.expiresAt ?? new Date(now.getTime() + DEFAULT_LIFETIME_MS);
    const expiresAt = sessionEnd && sessionEnd.getTime() < tokenEnd.getTime() ? sessionEnd : tokenEnd;
    if (expiresAt.getTime() <= now.getTime()) {
      return {
        ok: false,
        failure: {
          kind: 'response',
          code: 'ExpiredOnArrival',
          message: `the ${expiresAt === sessionEnd ? "role's session" : 'token'} AWS issued expires at ${expiresAt.toISOString()}, which by this machine's clock has passed (check the clock)`,
          host: '',
          viaProxy: false,
        },
      };
    }
    const token = { password: result.password, issuedAt: now, expiresAt };
    cache.set(tokenCacheKey(group.identity), token);
    return { ok: true, token };
  }

  return logins.map((login): Resolved => {
    const key = keyOf.get(login)!;
    const outcome = outcomes.get(key)!;
    const group = groups.get(key)!;
    const extra = group.role && hidden.length > 0 ? { hidden } : {};
    if (outcome.ok)
      return {
        login,
        ok: true,
        credentials: {
          username: 'AWS',
          secret: outcome.token.password,
          issuedAt: outcome.token.issuedAt,
          expiresAt: outcome.token.expiresAt,
        },
        ...extra,
      };
    if (outcome.failedAt === 'role')
      return {
        login,
        ok: false,
        error: describeRoleFailure(login, group.role!.endpoint, outcome.failure, hidden),
        failedAt: 'role',
      };
    return { login, ok: false, error: describeSwapFailure(login, group.endpoint, outcome.failure, hidden), ...extra };
  });
}

const BAD_KEYS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
]);
const EXPIRED_KEYS = new Set(['ExpiredTokenException', 'ExpiredToken']);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);

/** The message a user reads for a failed swap: prefix, registry, AWS error code, and what to do; never a secret. */
export function describeSwapFailure(
  login: Login,
  endpoint: EcrEndpoint,
  failure: Omit<SwapFailure, 'httpStatus'> & { httpStatus?: number },
  hidden: string[] = [],
): string {
  const stem = variableStem(login.prefix);
  const again = 'then run `registry-login refresh`';
  const through = login.roleArn ? ` as the role ${login.roleArn}` : '';
  const what = `${login.prefix}: could not get an ECR${endpoint.service === 'ecr-public' ? ' Public' : ''} token for ${login.key}${through}`;
  const detail = scrub(failure.message, login, hidden);
  const status = failure.httpStatus !== undefined ? `, HTTP ${failure.httpStatus}` : '';
  const permission =
    endpoint.service === 'ecr-public'
      ? 'ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken'
      : 'ecr:GetAuthorizationToken';
  const endpointHint = endpoint.url ? ` and ${endpoint.urlVariable}` : '';
  switch (failure.kind) {
    case 'aws': {
      const head = `${what}: AWS answered ${failure.code}${status}`;
      if (BAD_KEYS.has(failure.code)) {
        const session = login.sessionToken
          ? `, or ${stem}SESSION_TOKEN does not belong to them`
          : ` (temporary keys, whose ID starts with ASIA, also need ${stem}SESSION_TOKEN)`;
        return `${head}. The access key ID in ${stem}USER or the secret access key in ${stem}PASSWORD is wrong${session}; fix the secrets, ${again}.`;
      }
      if (EXPIRED_KEYS.has(failure.code))
        return `${head}. These temporary AWS keys have expired; put fresh ones (with ${stem}SESSION_TOKEN) in the secrets, ${again}.`;
      if (failure.code === 'RequestExpired' || failure.code === 'InvalidSignatureException.RequestExpired')
        return `${head}. The request's time was refused: check this machine's clock, ${again}.`;
      if (DENIED.has(failure.code) && login.roleArn)
        return `${head} (${detail}). The role ${login.roleArn} needs permission for ${permission}; grant it in the role's permissions policy, ${again}.`;
      if (DENIED.has(failure.code))
        return `${head} (${detail}). The IAM identity of these keys needs permission for ${permission}; grant it in its IAM policy, ${again}.`;
      if (THROTTLED.has(failure.code)) return `${head} and kept throttling the retries; wait a minute, ${again}.`;
      if ((failure.httpStatus ?? 0) >= 500)
        return `${head} (a server error) and kept failing on retry; ${again} later.`;
      return `${head}: ${detail}. Check the keys and that their IAM identity may call ${permission}, ${again}.`;
    }
    case 'timeout':
      return `${what}: ${failure.code} calling ${failure.host}${failure.viaProxy ? ' through the proxy' : ''}: ${detail}. Check the network${failure.viaProxy ? ', the proxy in HTTPS_PROXY/HTTP_PROXY' : ''}${endpointHint}, ${again}.`;
    case 'network':
      if (failure.code === 'InvalidEndpoint')
        return `${what}: ${failure.code}: ${detail}; fix it or unset it, ${again}.`;
      return `${what}: ${failure.code} calling ${failure.host}${failure.viaProxy ? ' through the proxy' : ''}: ${detail}. Check the network${failure.viaProxy ? ', the proxy in HTTPS_PROXY/HTTP_PROXY (and NO_PROXY)' : ' (set HTTPS_PROXY if a proxy is needed)'}${endpointHint}, ${again}.`;
    case 'response':
      return `${what}: ${failure.code}${status}: AWS answered without a usable token (${detail}). ${endpoint.url ? `Check the endpoint in ${endpoint.urlVariable}, ` : ''}${again}; if it persists, report it.`;
  }
}

/**
 * The message for a role that could not be assumed: prefix, registry, role ARN, the STS error code, and what to fix in
 * IAM; never a secret.
 */
export function describeRoleFailure(
  login: Login,
  endpoint: StsEndpoint,
  failure: Omit<SwapFailure, 'httpStatus'> & { httpStatus?: number },
  hidden: string[] = [],
): string {
  const stem = variableStem(login.prefix);
  const again = 'then run `registry-login refresh`';
  const role = login.roleArn!;
  const what = `${login.prefix}: could not assume the role ${role} (${stem}ROLE_ARN) for ${login.key}`;
  const detail = scrub(failure.message, login, hidden);
  const status = failure.httpStatus !== undefined ? `, HTTP ${failure.httpStatus}` : '';
  const via = `${failure.host || 'STS'}${failure.viaProxy ? ' through the proxy' : ''}`;
  if (failure.kind === 'aws') {
    const head = `${what}: STS (${via}) answered ${failure.code}${status}`;
    if (DENIED.has(failure.code)) {
      const condition =
        login.externalId !== undefined
          ? ` with the condition "StringEquals": {"sts:ExternalId": <the value of ${stem}EXTERNAL_ID>} (a wrong external ID is refused the same way)`
          : '';
      return `${head} (${detail}). The IAM user of the keys in ${stem}USER needs sts:AssumeRole on ${role} in its IAM policy, and the role's trust policy must name that user as a principal${condition}; fix it in IAM, ${again}.`;
    }
    if (failure.code === 'RegionDisabledException')
      return `${head}. STS is not activated in ${endpoint.region} for the account of the keys in ${stem}USER: activate ${endpoint.region} under IAM → Account settings → Security Token Service (STS) endpoints, ${again}.`;
    if (failure.code === 'ValidationError' && /duration/i.test(failure.message))
      return `${head} (${detail}). The keys in ${stem}USER are themselves temporary (${stem}SESSION_TOKEN), so this is role chaining, which AWS caps at one hour per session; registry-login asks for the STS default of one hour, so check the role's maximum session duration or use an IAM user's long-term keys, ${again}.`;
    if (BAD_KEYS.has(failure.code) || EXPIRED_KEYS.has(failure.code))
      return `${head}. STS does not accept the keys in ${stem}USER and ${stem}PASSWORD${login.sessionToken ? ` with ${stem}SESSION_TOKEN` : ''}${EXPIRED_KEYS.has(failure.code) ? ': they have expired' : ''}; put current keys in the secrets, ${again}.`;
    if (THROTTLED.has(failure.code)) return `${head} and kept throttling the retries; wait a minute, ${again}.`;
    return `${head}: ${detail}. Check ${stem}ROLE_ARN and that the keys' IAM user may call sts:AssumeRole on it, ${again}.`;
  }
  const hint = endpoint.url ? ` and ${endpoint.urlVariable}` : '';
  if (failure.kind === 'response')
    return `${what}: ${failure.code}${status}: STS answered without usable credentials (${detail}). ${endpoint.url ? `Check the endpoint in ${endpoint.urlVariable}, ` : ''}${again}; if it persists, report it.`;
  if (failure.code === 'InvalidEndpoint') return `${what}: ${failure.code}: ${detail}; fix it or unset it, ${again}.`;
  return `${what}: ${failure.code} calling ${via}: ${detail}. Check the network${failure.viaProxy ? ', the proxy in HTTPS_PROXY/HTTP_PROXY (and NO_PROXY)' : ' (set HTTPS_PROXY if a proxy is needed)'}${hint}, ${again}.`;
}

// AWS messages never should, but a proxy or a stand-in might echo a request: the triple's secrets (and a role's
// session keys) never pass.
function scrub(text: string, login: Login, hidden: string[] = []): string {
  let out = text;
  for (const secret of [login.password, login.sessionToken, login.externalId, ...hidden])
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  return out;
}
