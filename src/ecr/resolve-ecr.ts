// ECR logins given as AWS keys: swapped for registry tokens (the ECR issue builds the swap).
import type { Login, Resolved } from '../types.js';
import type { ResolveOptions } from '../resolve.js';

/** Resolves ECR key logins; until the swap exists, each fails with a message that says so. */
export async function resolveEcrLogins(logins: Login[], _options: ResolveOptions): Promise<Resolved[]> {
  return logins.map((login) => ({
    login,
    ok: false,
    error: `${login.prefix}: ${login.key} is an ECR registry given AWS keys, and this build of registry-login cannot swap keys for a token yet; store a token instead (${login.prefix}_CONTAINER_REGISTRY_USER=AWS and the output of \`aws ecr get-login-password\` as the password).`,
  }));
}
