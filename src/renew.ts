// Renewing a managed ECR token on demand (the credential helper's get): is the token fresh enough, renew it within a
// budget, save it best-effort. A valid token is never held back for a renewal that is slow to finish.
import { performance } from 'node:perf_hooks';
import { keyLogins, needsSwap } from './registry.js';
import { discoverTriples, variableStem } from './discover.js';
import { resolveLogins } from './resolve.js';
import { isFresh } from './ecr/half-life.js';
import { LockBusyError } from './fs/errors.js';
import { wantedEntry } from './docker-config/plan.js';
import { updateDockerConfig } from './docker-config/update.js';
import type { LedgerEntry } from './docker-config/ledger.js';
import type { Places } from './paths.js';
import type { Credentials } from './types.js';

/** docker waits for `get` on every pull and push: while the token is valid, the answer comes within this (SPEC §8). */
export const ANSWER_WITHIN_MS = 3_000;
// Start-up before the renewal, the lock's last retry and the answer after it must fit too, on a loaded machine.
const RENEWAL_BUDGET_MS = ANSWER_WITHIN_MS - 1_000;

/** What to answer: the credentials (none: not found) and a note for stderr. */
export interface Answer {
  credentials?: Credentials;
  note?: string;
}

const NAME = 'docker-credential-registry-login';

/**
 * The credentials for a managed key: the current ones while fresh; past half-life (or when there are none) renewed
 * with the keys in env. While the current token is valid the renewal must end RENEWAL_BUDGET_MS after this process
 * started (docker's wait began then), and one that cannot is left to the next call or hook; an expired token (or
 * none) waits for the swap's own limits. Saving a renewed token waits for the config's lock only within that budget:
 * the token is in the token cache already.
 */
export async function renewedCredentials(
  key: string,
  entry: LedgerEntry | undefined,
  current: Credentials | undefined,
  env: NodeJS.ProcessEnv,
  places: Places,
): Promise<Answer> {
  if (!entry || !needsSwap(entry.kind)) return current ? { credentials: current } : {};
  const now = new Date();
  const expiresAt = entry.expiresAt ? new Date(entry.expiresAt) : undefined;
  const pastHalfLife =
    entry.issuedAt !== undefined &&
    expiresAt !== undefined &&
    !isFresh({ issuedAt: new Date(entry.issuedAt), expiresAt }, now);
  if (current && !pastHalfLife) return { credentials: current };
  const valid = current !== undefined && (expiresAt === undefined || expiresAt.getTime() > now.getTime());
  const keep = valid ? { credentials: current } : {};
  const condition = !current ? 'is not in the docker config' : `${valid ? 'expires' : 'expired'} at ${entry.expiresAt}`;
  const state = `${entry.prefix}: the ECR token for ${key} ${condition}`;
  const meanwhile = valid
    ? ` docker gets the current token, still valid until ${entry.expiresAt}.`
    : ' docker gets no credentials from registry-login.';
  const login = keyLogins(discoverTriples(env).triples).logins.find((l) => l.key === key && needsSwap(l.kind));
  if (!login) {
    return {
      ...keep,
      note: `${NAME}: ${state}; the ${variableStem(entry.prefix)}* AWS keys are not in this environment, so it was not renewed. Run \`registry-login refresh\` where they are set.${meanwhile}\n`,
    };
  }

  const deadline = valid ? RENEWAL_BUDGET_MS : Number.POSITIVE_INFINITY;
  const resolving = resolveLogins([login], { env, cacheDir: places.cacheDir, force: false, now });
  const result = await withinDeadline(resolving, deadline);
  if (result === 'late') {
    return {
      ...keep,
      note: `${NAME}: ${state} and renewing it did not finish within ${ANSWER_WITHIN_MS / 1000} s (AWS, STS or a proxy on the way is slow to answer); the next call or \`registry-login refresh\` tries again.${meanwhile}\n`,
    };
  }
  const [resolved] = result;
  if (!resolved?.ok) {
    const why = resolved ? resolved.error : 'no result';
    return { ...keep, note: `${NAME}: ${state} and could not be renewed: ${why}${meanwhile}\n` };
  }
  const renewed = { username: resolved.credentials.username, secret: resolved.credentials.secret };
  let plan;
  try {
    ({ plan } = await updateDockerConfig(
      places,
      ({ ledger }) => ({
        write: [wantedEntry(login, resolved.credentials)],
        keep: Object.keys(ledger.entries).filter((k) => k !== key),
        remove: [],
        secrets: places.secrets,
      }),
      undefined,
      { lockWaitMs: valid ? Math.max(0, deadline - performance.now()) : RENEWAL_BUDGET_MS },
    ));
  } catch (error) {
    // Only the saving failed (the config locked, read-only, full): the new token is good and cached.
    const what =
      error instanceof LockBusyError
        ? `${places.configPath} stayed locked by another registry-login`
        : ((error as Error)?.message ?? String(error));
    return {
      credentials: renewed,
      note: `${NAME}: ${entry.prefix}: renewed the ECR token for ${key} (from the ${variableStem(login.prefix)}* keys; the old one ${condition}) and docker gets the new one, but could not save it in the docker config: ${what}. The next call or \`registry-login refresh\` saves it.\n`,
    };
  }
  if (!plan.written.includes(key)) {
    return {
      ...keep,
      note: `${NAME}: ${state}; ${plan.warnings.map((w) => w.message).join(' ') || 'the renewed token was not written'}${meanwhile}\n`,
    };
  }
  return { credentials: renewed };
}

// Settles with the work's result, or 'late' once performance.now() (milliseconds since this process started) passes
// the deadline; work left running is dropped with the process.
async function withinDeadline<T>(work: Promise<T>, deadline: number): Promise<T | 'late'> {
  if (!Number.isFinite(deadline)) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
