// Environment → complete triples and problems (README, What it does: discovery). Pure: the environment is passed in.
import type { Problem, Triple } from './types.js';

export const MEMBER_PATTERN = /^(.+)_CONTAINER_REGISTRY_(SERVER|USER|PASSWORD|SESSION_TOKEN|ROLE_ARN|EXTERNAL_ID)$/i;
type Member = 'SERVER' | 'USER' | 'PASSWORD' | 'SESSION_TOKEN' | 'ROLE_ARN' | 'EXTERNAL_ID';
/** The members that hold a secret, by name (the redactor masks their values wherever they appear). */
export const SECRET_MEMBERS = /^(PASSWORD|SESSION_TOKEN|EXTERNAL_ID)$/i;
// IAM's role ARN: arn:<partition>:iam::<account>:role/<optional path/>name (STS refuses anything else).
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\x21-\x7e]+\/)?[\w+=,.@-]{1,64}$/;
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
    const roleArn = pick('ROLE_ARN')?.trim();
    const externalId = pick('EXTERNAL_ID');
    const missing = REQUIRED.filter((member, i) => [server, user, password][i] === undefined);
    if (missing.length > 0) {
      const names = missing.map((member) => variableStem(prefix) + member).join(', ');
      problems.push({
        prefix,
        message: `${prefix}: ${names} ${missing.length === 1 ? 'is' : 'are'} missing or empty, so this registry is skipped; set ${missing.length === 1 ? 'it' : 'them'} or remove the other ${variableStem(prefix)}* variables.`,
      });
      continue;
    }
    if (externalId !== undefined && roleArn === undefined) {
      problems.push({
        prefix,
        message: `${prefix}: ${variableStem(prefix)}EXTERNAL_ID is set without ${variableStem(prefix)}ROLE_ARN, so this registry is skipped; an external ID belongs to a role: set the role's ARN in ${variableStem(prefix)}ROLE_ARN or remove the external ID.`,
      });
      continue;
    }
    if (roleArn !== undefined && !ROLE_ARN.test(roleArn)) {
      // An ARN is not a secret, but a mistyped variable might hold one: name the expected shape, not the value.
      problems.push({
        prefix,
        message: `${prefix}: ${variableStem(prefix)}ROLE_ARN is not an IAM role ARN (expected arn:<partition>:iam::<12-digit account>:role/<path/>name, e.g. arn:aws:iam::123456789012:role/ecr-pull), so this registry is skipped; copy the role's ARN from the IAM console.`,
      });
      continue;
    }
    triples.push({
      prefix,
      server: server!,
      user: user!,
      password: password!,
      ...(sessionToken !== undefined ? { sessionToken } : {}),
      ...(roleArn !== undefined ? { roleArn } : {}),
      ...(externalId !== undefined ? { externalId } : {}),
    });
  }
  return { triples, problems };
}

/** Compares strings by UTF-16 code units, which for the ASCII of variable names is byte order. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
