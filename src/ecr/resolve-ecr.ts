// ECR logins given as AWS keys → registry tokens: one call per swap identity, all in parallel, cached per user.
import { variableStem } from '../discover.js';
import { ecrEndpoint, type EcrEndpoint } from './endpoint.js';
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
import type { SwapFailure, SwapLimits } from './swap.js';

/** ResolveOptions plus what tests may choose. */
export interface EcrResolveOptions extends ResolveOptions {
  /** Defaults to swap.ts DEFAULT_LIMITS. */
  limits?: SwapLimits;
}

// ECR documents 12 hours; used only if an answer carries no expiry.
const DEFAULT_LIFETIME_MS = 12 * 60 * 60 * 1000;

type Outcome =
  | { ok: true; token: CachedToken }
  | {
      ok: false;
      failure: SwapFailure | { kind: 'response'; code: string; message: string; host: string; viaProxy: false };
    };

interface Group {
  identity: SwapIdentity;
  endpoint: EcrEndpoint;
  logins: Login[];
}

/**
 * Resolves ECR key logins (ecr-keys, ecr-public-keys): cache first, then one GetAuthorizationToken per distinct
 * identity.
 */
export async function resolveEcrLogins(logins: Login[], options: EcrResolveOptions): Promise<Resolved[]> {
  const cache = openTokenCache(options.cacheDir);
  const groups = new Map<string, Group>();
  const keyOf = new Map<Login, string>();
  for (const login of logins) {
    const endpoint = ecrEndpoint(login.ecr!, options.env);
    const identity: SwapIdentity = {
      accessKeyId: login.user,
      secretAccessKey: login.password,
      ...(login.sessionToken ? { sessionToken: login.sessionToken } : {}),
      region: endpoint.region,
      flavour: `${endpoint.service}${endpoint.fips ? '-fips' : ''}${endpoint.dualStack ? '-dualstack' : ''}`,
      ...(endpoint.url ? { endpointUrl: endpoint.url } : {}),
    };
    const key = identityText(identity);
    keyOf.set(login, key);
    const group = groups.get(key);
    if (group) group.logins.push(login);
    else groups.set(key, { identity, endpoint, logins: [login] });
  }

  // The SDK is loaded once, and only if some identity has no fresh cached token.
  let swap: Promise<typeof import('./swap.js')> | undefined;
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
    const { getAuthorizationToken, DEFAULT_LIMITS } = await (swap ??= import('./swap.js'));
    const { identity } = group;
    const keys = {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
    };
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
    const expiresAt = result.expiresAt ?? new Date(now.getTime() + DEFAULT_LIFETIME_MS);
    if (expiresAt.getTime() <= now.getTime()) {
      return {
        ok: false,
        failure: {
          kind: 'response',
          code: 'ExpiredOnArrival',
          message: `the token AWS issued expires at ${expiresAt.toISOString()}, which by this machine's clock has passed (check the clock)`,
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
      };
    return { login, ok: false, error: describeSwapFailure(login, groups.get(key)!.endpoint, outcome.failure) };
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
): string {
  const stem = variableStem(login.prefix);
  const again = 'then run `registry-login refresh`';
  const what = `${login.prefix}: could not get an ECR${endpoint.service === 'ecr-public' ? ' Public' : ''} token for ${login.key}`;
  const detail = scrub(failure.message, login);
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

// AWS messages never should, but a proxy or a stand-in might echo a request: the triple's secrets never pass.
function scrub(text: string, login: Login): string {
  let out = text;
  for (const secret of [login.password, login.sessionToken])
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  return out;
}
