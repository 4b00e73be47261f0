// The --host verbs behind the CLI: runs one and picks its exit code as the container verbs do (README, Commands and
// Private dev container images); printing stays with the CLI's emit, through its redactor.
import type { Redactor } from '../redact.js';
import type { Output, Paint } from '../report.js';
import { formatHostLogout, formatHostRefresh, formatHostStatus } from '../host/report.js';

/** What the CLI lends a host verb: the redactor to teach the secrets, its printer and its paint. */
export interface HostCli {
  redactor: Redactor;
  emit: (result: unknown, output: Output) => void;
  paint: Paint;
}

/** Runs refresh, status or logout with --host and returns the exit code. */
export async function runHostCommand(
  command: string,
  rest: string[],
  flags: { force: boolean; hook: boolean; strict: boolean },
  env: NodeJS.ProcessEnv,
  cli: HostCli,
): Promise<number> {
  switch (command) {
    case 'refresh': {
      const { refreshHost } = await import('./host-refresh.js');
      const result = await refreshHost(env, { force: flags.force });
      cli.redactor.add(...result.secrets);
      const { secrets: _secrets, warnings: _warnings, ...json } = result;
      cli.emit(json, formatHostRefresh(result, cli.paint));
      const failed = result.logins.some((l) => l.status === 'error') || result.problems.length > 0;
      return failed && (!flags.hook || flags.strict) ? 1 : 0;
    }
    case 'status': {
      const { statusHost } = await import('./host-status.js');
      const result = await statusHost(env);
      cli.emit(result, formatHostStatus(result, cli.paint));
      return 0;
    }
    default: {
      const { logoutHost } = await import('./host-logout.js');
      const result = await logoutHost(env, rest);
      cli.emit({ configPath: result.configPath, removed: result.removed }, formatHostLogout(result, cli.paint));
      return 0;
    }
  }
}
