// Environment → complete triples and problems (README, What it does: discovery). Pure: the environment is passed in.
import type { Problem, Triple } from './types.js';

export const MEMBER_PATTERN = /^(.+)_CONTAINER_REGISTRY_(SERVER|USER|PASSWORD|SESSION_TOKEN)$/i;
type Member = 'SERVER' | 'USER' | 'PASSWORD' | 'SESSION_TOKEN';
const REQUIRED: Member[] = ['SERVER', 'USER', 'PASSWORD'];

/** The variable-name stem shared by a prefix's variables, as a user would write it. */
export function variableStem(prefix: string): string {
  return `${prefix}_CONTAINER_REGISTRY_`;
}

/**
 * Groups `<PREFIX>_CONTAINER_REGISTRY_*` variables by upper-cased prefix into triples; incomplete groups become
 * problems.
 */
export function discoverTriples(env: NodeJS.ProcessEnv): { triples: Triple[]; problems: Problem[] } {
  const groups = new Map<string, Map<Member, { name: string; value: string }[]>>();
  for (const name of Object.keys(env).sort()) {
    const m = MEMBER_PATTERN.exec(name);
    const value = env[name];
    if (!m || value === undefined) continue;
    const prefix = m[1]!.toUpperCase();
    const member = m[2]!.toUpperCase() as Member;
    let group = groups.get(prefix);
    if (!group) groups.set(prefix, (group = new Map()));
    const seen = group.get(member) ?? [];
    seen.push({ name, value });
    group.set(member, seen);
  }

  const triples: Triple[] = [];
  const problems: Problem[] = [];
  for (const prefix of [...groups.keys()].sort(byteOrder)) {
    const group = groups.get(prefix)!;
    const pick = (member: Member): string | undefined => {
      const found = group.get(member) ?? [];
      const nonEmpty = found.filter((v) => v.value.trim() !== '');
      if (new Set(nonEmpty.map((v) => v.value)).size > 1) {
        problems.push({
          prefix,
          message: `${prefix}: ${nonEmpty.map((v) => v.name).join(' and ')} differ only in letter case and hold different values; using ${nonEmpty[0]!.name}. Remove the other one.`,
        });
      }
      return nonEmpty[0]?.value;
    };
    const server = pick('SERVER');
    const user = pick('USER');
    const password = pick('PASSWORD');
    const sessionToken = pick('SESSION_TOKEN');
    const missing = REQUIRED.filter((member, i) => [server, user, password][i] === undefined);
    if (missing.length > 0) {
      const names = missing.map((member) => variableStem(prefix) + member).join(', ');
      problems.push({
        prefix,
        message: `${prefix}: ${names} ${missing.length === 1 ? 'is' : 'are'} missing or empty, so this registry is skipped; set ${missing.length === 1 ? 'it' : 'them'} or remove the other ${variableStem(prefix)}* variables.`,
      });
      continue;
    }
    triples.push({
      prefix,
      server: server!,
      user: user!,
      password: password!,
      ...(sessionToken !== undefined ? { sessionToken } : {}),
    });
  }
  return { triples, problems };
}

/** Compares strings by UTF-16 code units, which for the ASCII of variable names is byte order. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
