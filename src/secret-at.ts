// Where a login's secret lives, for status: the one place that says it, so that a new home for secrets is added here.

/** `config`: the docker config's auths entry; `store:<name>`: docker-credential-<name> on the host. */
export type SecretAt = 'config' | 'memory' | `store:${string}`;

/** Where the secret of a login lives: in the host store that keeps it, else in the docker config. */
export function secretAt(where: { hostStore?: string } = {}): SecretAt {
  if (where.hostStore !== undefined && where.hostStore !== 'file') return `store:${where.hostStore}`;
  return 'config';
}
