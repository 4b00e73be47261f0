// The one half-life rule (README, What it does: the ECR swap): a token is reused, by the cache and the credential
// helper, while more than half of its lifetime is left.

/** True while more than half of the token's lifetime is left. */
export function isFresh(token: { issuedAt: Date; expiresAt: Date }, now: Date): boolean {
  const lifetime = token.expiresAt.getTime() - token.issuedAt.getTime();
  return lifetime > 0 && token.expiresAt.getTime() - now.getTime() > lifetime / 2;
}
