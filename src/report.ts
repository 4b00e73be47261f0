// Human output: short tables a person scans at a glance. (JSON output is the result objects themselves.)
import type { RefreshResult } from './commands/refresh.js';
import type { StatusResult } from './commands/status.js';
import type { LogoutResult } from './commands/logout.js';
import type { CheckResult } from './commands/check.js';
import { describeNotSeen } from './containers-auth.js';

/** Styling that is a no-op without a colour terminal. */
export interface Paint {
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
}

/** ANSI colours when enabled, plain text otherwise. */
export function makePaint(colour: boolean): Paint {
  const wrap = (code: number) => (text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { ok: wrap(32), bad: wrap(31), warn: wrap(33), dim: wrap(2) };
}

/** Lines for stdout and stderr. */
export interface Output {
  out: string[];
  err: string[];
}

/** Formats a refresh: a table of logins on stdout; errors, problems and warnings on stderr, one line each. */
export function formatRefresh(result: RefreshResult, paint: Paint): Output {
  const out: string[] = [];
  const err: string[] = [];
  if (result.logins.length === 0 && result.problems.length === 0) {
    out.push(
      `No *_CONTAINER_REGISTRY_SERVER/_USER/_PASSWORD secrets found; nothing to log in to.${result.removed.length ? '' : ` (${result.configPath} unchanged)`}`,
    );
  } else {
    const ok = result.logins.filter((l) => l.status === 'ok').length;
    const kept = result.logins.filter((l) => l.status === 'kept').length;
    out.push(
      `${ok} of ${result.logins.length} registr${result.logins.length === 1 ? 'y' : 'ies'} logged in${kept ? `, ${kept} kept as the user changed ${kept === 1 ? 'it' : 'them'}` : ''}, in ${result.configPath}`,
    );
    const label = { ok: paint.ok('ok'), error: paint.bad('error'), kept: paint.warn('kept') };
    out.push(
      ...table(
        result.logins.map((l) => [
          label[l.status],
          l.prefix,
          l.key,
          l.kind,
          [l.expiresAt ? `until ${l.expiresAt}` : '', l.role ? `as ${l.role}` : ''].filter(Boolean).join(' '),
        ]),
      ),
    );
  }
  for (const key of result.removed) out.push(`removed ${key} (its secrets are gone)`);
  for (const login of result.logins) if (login.error) err.push(`${paint.bad('error')}: ${login.error}`);
  for (const problem of result.problems) err.push(`${paint.bad('problem')}: ${problem.message}`);
  for (const warning of result.warnings) err.push(`${paint.warn('warning')}: ${warning.message}`);
  return { out, err };
}

/** Formats status as a table with the reason a login is not effective; a credsStore that cannot answer on stderr. */
export function formatStatus(result: StatusResult, paint: Paint): Output {
  const err = result.store ? [`${paint.warn('warning')}: ${result.store.sentence}`] : [];
  if (result.logins.length === 0)
    return {
      out: [
        `registry-login manages no registry in ${result.configPath}; run \`registry-login refresh\` after setting *_CONTAINER_REGISTRY_* secrets.`,
      ],
      err,
    };
  const rows = result.logins.map((l) => [
    l.prefix,
    l.key,
    l.role ? `${l.kind} as ${l.role}` : l.kind,
    l.expiresAt ? `until ${l.expiresAt}` : '-',
    l.effective ? paint.ok('effective') : paint.bad('NOT effective'),
    l.reason ?? '',
  ]);
  const others = result.logins.flatMap((l) =>
    describeNotSeen(l.notSeenBy ?? []).map(
      (line) => `${paint.warn('warning')}: the ${l.prefix} login for ${l.key}: ${line}`,
    ),
  );
  return {
    out: [
      `Managed in ${result.configPath}:`,
      ...table([['PREFIX', 'REGISTRY', 'KIND', 'TOKEN', 'STATE', ''].map(paint.dim), ...rows]),
    ],
    err: [...err, ...others],
  };
}

/** Formats check: one line per registry with its result, then the detail; problems on stderr. */
export function formatCheck(result: CheckResult, paint: Paint): Output {
  const err = result.problems.map((problem) => `${paint.bad('problem')}: ${problem.message}`);
  if (result.store) err.push(`${paint.warn('warning')}: ${result.store.sentence}`);
  if (result.results.length === 0)
    return {
      out: [
        'No *_CONTAINER_REGISTRY_SERVER/_USER/_PASSWORD secrets found and no managed login in the docker config; nothing to check.',
      ],
      err,
    };
  const ok = result.results.filter((r) => r.result === 'ok').length;
  const out = [`${ok} of ${result.results.length} registr${result.results.length === 1 ? 'y' : 'ies'} ok`];
  if (result.recordedIn)
    out.unshift(
      `No *_CONTAINER_REGISTRY_* variables in this shell: checking the logins recorded in ${result.recordedIn}.`,
    );
  for (const r of result.results) {
    out.push(
      `  ${r.result === 'ok' ? paint.ok(r.result) : paint.bad(r.result)}  ${r.key}${r.prefix ? paint.dim(`  (${r.prefix})`) : ''}`,
    );
    if (r.detail) out.push(`      ${r.detail}`);
  }
  return { out, err };
}

/** Formats logout. */
export function formatLogout(result: LogoutResult, paint: Paint): Output {
  const out = result.removed.length
    ? result.removed.map((key) => `logged out of ${key}`)
    : [`nothing to log out of in ${result.configPath}`];
  const err = [
    ...result.unknown.map(
      (key) =>
        `${paint.warn('warning')}: ${key} is not managed by registry-login; use \`docker logout ${key}\` for logins made by hand.`,
    ),
    ...result.warnings.map((w) => `${paint.warn('warning')}: ${w.message}`),
  ];
  return { out, err };
}

/** Pads columns by the visible width (ANSI codes do not count). */
export function table(rows: string[][]): string[] {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map((row) =>
    `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell)))).join('  ')}`.trimEnd(),
  );
}
