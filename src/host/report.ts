// Human output of the --host commands (their JSON output is the result objects themselves).
import { table, type Output, type Paint } from '../report.js';
import type { HostRefreshResult } from '../commands/host-refresh.js';
import type { HostStatusResult } from '../commands/host-status.js';
import type { HostLogoutResult } from '../commands/host-logout.js';

/** Where a login of the named store ('file' or a helper's name) is kept, for any message. */
export const whereKept = (store: string) =>
  store === 'file' ? 'the docker config file' : `docker-credential-${store}`;

/** refresh --host: one line per login with its store; errors, problems and notes on stderr. */
export function formatHostRefresh(result: HostRefreshResult, paint: Paint): Output {
  const out: string[] = [];
  const err: string[] = [];
  if (result.logins.length === 0 && result.problems.length === 0) {
    out.push(
      `No *_CONTAINER_REGISTRY_SERVER/_USER/_PASSWORD variables in this environment; nothing to log in to on this host (${result.configPath} unchanged). Export them in the shell or login profile the dev container tool starts from.`,
    );
  } else {
    const ok = result.logins.filter((l) => l.status === 'ok').length;
    out.push(
      `${ok} of ${result.logins.length} registr${result.logins.length === 1 ? 'y' : 'ies'} logged in on this host, for ${result.configPath}`,
    );
    out.push(
      ...table(
        result.logins.map((l) => [
          l.status === 'ok' ? paint.ok('ok') : l.status === 'kept' ? paint.warn('kept') : paint.bad('error'),
          l.prefix,
          l.key,
          l.kind,
          l.store ? `in ${whereKept(l.store)}` : '',
          l.status === 'ok' ? (l.changed ? 'stored' : 'unchanged') : '',
          l.expiresAt ? `until ${l.expiresAt}` : '',
        ]),
      ),
    );
  }
  for (const login of result.logins) if (login.error) err.push(`${paint.bad('error')}: ${login.error}`);
  for (const problem of result.problems) err.push(`${paint.bad('problem')}: ${problem.message}`);
  for (const warning of result.warnings) err.push(`${paint.warn('warning')}: ${warning}`);
  return { out, err };
}

/** status --host: a table of the logins host runs stored and whether docker uses each. */
export function formatHostStatus(result: HostStatusResult, paint: Paint): Output {
  if (result.logins.length === 0)
    return {
      out: [
        `registry-login has stored no login on this host for ${result.configPath}; run \`registry-login refresh --host\` with *_CONTAINER_REGISTRY_* variables set.`,
      ],
      err: [],
    };
  const rows = result.logins.map((l) => [
    l.prefix,
    l.key,
    l.kind,
    l.store,
    l.expiresAt ? `until ${l.expiresAt}` : '-',
    l.effective ? paint.ok('effective') : paint.bad('NOT effective'),
    l.reason ?? '',
  ]);
  return {
    out: [
      `Stored on this host for ${result.configPath}:`,
      ...table([['PREFIX', 'REGISTRY', 'KIND', 'STORE', 'TOKEN', 'STATE', ''].map(paint.dim), ...rows]),
    ],
    err: [],
  };
}

/** logout --host. */
export function formatHostLogout(result: HostLogoutResult, paint: Paint): Output {
  const out = result.removed.length
    ? result.removed.map((key) => `logged out of ${key} on this host`)
    : [`nothing to log out of on this host (for ${result.configPath})`];
  const err = [
    ...result.unknown.map(
      (key) =>
        `${paint.warn('warning')}: registry-login stored no login for ${key} on this host; use \`docker logout ${key}\` for logins made otherwise.`,
    ),
    ...result.warnings.map((w) => `${paint.warn('warning')}: ${w}`),
  ];
  return { out, err };
}
