// Where a login's secret lives, for status: the one place that says it, so that a new home for secrets is added here.

/**
 * `config`: the docker config's auths entry; `memory`: the memory directory (memory mode); `store:<name>`:
 * docker-credential-<name> on the host.
 */
export type SecretAt = 'config' | 'memory' | `store:${string}`;

/** Where the secret of a login lives: in the host store that keeps it, in memory, else in the docker config. */
export function secretAt(where: { hostStore?: string; memory?: boolean } = {}): SecretAt {
  if (where.memory) return 'memory';
  if (where.hostStore !== undefined && where.hostStore !== 'file') return `store:${where.hostStore}`;
  return 'config';
}
