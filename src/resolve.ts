// Login → credentials: static and ecr-token logins as given, AWS keys through the ECR module (loaded only when needed).
import { needsSwap } from './registry.js';
import type { Login, Resolved } from './types.js';

export interface ResolveOptions {
  /** For the AWS endpoints and proxies. */
  env: NodeJS.ProcessEnv;
  /** The per-user cache directory, where ECR tokens are kept between runs (none: no cache). */
  cacheDir: string | undefined;
  /** Bypass the token cache (refresh --force). */
  force: boolean;
  now: Date;
}

/** Resolves every login; one login's failure never blocks the others. */
export async function resolveLogins(logins: Login[], options: ResolveOptions): Promise<Resolved[]> {
  const swaps = logins.filter((login) => needsSwap(login.kind));
  const swapped = new Map<Login, Resolved>();
  if (swaps.length > 0) {
    const { resolveEcrLogins } = await import('./ecr/resolve-ecr.js');
    for (const result of await resolveEcrLogins(swaps, options)) swapped.set(result.login, result);
  }
  return logins.map((login): Resolved => {
    switch (login.kind) {
      case 'static':
        return { login, ok: true, credentials: { username: login.user, secret: login.password } };
      case 'ecr-token':
        return { login, ok: true, credentials: { username: 'AWS', secret: login.password } };
      default:
        return swapped.get(login)!;
    }
  });
}
