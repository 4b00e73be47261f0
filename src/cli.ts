// argv → command. The only place that prints and picks exit codes; every line passes the Redactor.
import { Redactor } from './redact.js';
import { ConfigError } from './fs/errors.js';
import { dockerConfigPath } from './paths.js';
import { formatCheck, formatLogout, formatRefresh, formatStatus, makePaint, type Output } from './report.js';
import { VERSION } from './version.js';

const USAGE = `Usage: registry-login <command> [options]

Logs docker in to the registries named by <PREFIX>_CONTAINER_REGISTRY_SERVER/_USER/_PASSWORD
secrets (the GitHub Codespaces convention), in $DOCKER_CONFIG/config.json or ~/.docker/config.json.

Commands:
  refresh [--force] [--json] [--hook [--strict] [--attach]]
                                       log in to every registry found; remove logins whose secrets are gone
                                       (an environment with no registry variable at all keeps them; see --hook)
  status [--json]                      list managed registries and whether docker uses each login
  check [KEY...] [--json]              log in to each registry as docker would and say why a login fails
  logout [KEY...]                      remove managed logins (all when none is named)

  refresh --host [--hook] [--force] [--json]
                                       on the host, e.g. from devcontainer.json's initializeCommand: store each
                                       login where \`docker login\` would (a credential store, else the config);
                                       never removes one
  status --host [--json]               the logins stored on this host and whether docker uses each
  logout --host [KEY...]               remove logins stored on this host (all when none is named)

Options:
  --force     ignore cached ECR tokens and ask AWS again
  --json      machine-readable output
  --hook      for dev container lifecycle hooks: report failures as warnings and exit 0, and take an
              environment without registry variables as "all secrets removed"
  --host      act on this host's docker (for the dev container's own image), not inside a container
  --strict    with --hook: exit 1 (or 2) when a login fails (or the config is unusable), as without it
  --attach    with --hook: the attach hook, which a tool may run without the secrets: an environment
              without registry variables keeps the logins, as in a terminal
  --help      this help
  --version   the version

Exit codes: 0 ok; 1 a login failed or a secret has a problem; 2 usage error or unusable docker config.
`;

/** A process's streams and environment, so tests can run the CLI in-process. */
export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Which streams are terminals: colour goes only there, and never with NO_COLOR. */
  tty: { stdout: boolean; stderr: boolean };
}

/** Runs the registry-login CLI and returns its exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const redactor = new Redactor();
  redactor.addFromEnv(io.env);
  const colour = { stdout: io.tty.stdout && !io.env.NO_COLOR, stderr: io.tty.stderr && !io.env.NO_COLOR };
  const say = (write: (text: string) => void, lines: string[]) => {
    if (lines.length === 0) return;
    const text = redactor.redact(`${lines.join('\n')}\n`);
    write(colour[write === io.stdout ? 'stdout' : 'stderr'] ? text : stripColour(text));
  };
  // Each string is redacted before it is escaped: once serialised, a secret holding " or \ is no longer its raw self.
  const json = (value: unknown) =>
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? redactor.redact(v) : v), 2);
  // Formatters paint; say() takes the paint off again for a stream that is not a colour terminal.
  const paint = makePaint(colour.stdout || colour.stderr);
  const parsed = parseCommandLine(argv);
  if ('error' in parsed) {
    say(io.stderr, [`registry-login: ${parsed.error}`, 'Run `registry-login --help` for the commands and options.']);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    say(io.stdout, [`registry-login ${VERSION}`]);
    return 0;
  }
  if (values.help || command === undefined || command === 'help') {
    say(command === undefined && !values.help ? io.stderr : io.stdout, [USAGE.trimEnd()]);
    return command === undefined && !values.help ? 2 : 0;
  }
  const allowed: Record<string, string[]> = {
    refresh: ['json', 'force', 'hook', 'strict', 'attach', 'host'],
    status: ['json', 'host'],
    check: ['json'],
    logout: ['json', 'host'],
  };
  const flags = allowed[command];
  if (!flags) {
    say(io.stderr, [
      `registry-login: unknown command "${command}"; the commands are refresh, status, check and logout (see \`registry-login --help\`).`,
    ]);
    return 2;
  }
  const stray = Object.keys(values).filter((flag) => !flags.includes(flag));
  if (stray.length > 0 || (command !== 'logout' && command !== 'check' && rest.length > 0)) {
    say(io.stderr, [
      `registry-login ${command}: ${stray.length ? `--${stray[0]} does not apply here` : `unexpected argument "${rest[0]}"`}; see \`registry-login --help\`.`,
    ]);
    return 2;
  }
  const emit = (result: unknown, output: Output) => {
    if (values.json) say(io.stdout, [json(result)]);
    else say(io.stdout, output.out);
    say(io.stderr, output.err);
  };

  try {
    if (values.host) {
      const { runHostCommand } = await import('./commands/host.js');
      return await runHostCommand(
        command,
        rest,
        { force: values.force === true, hook: values.hook === true, strict: values.strict === true },
        io.env,
        { redactor, emit, paint },
      );
    }
    switch (command) {
      case 'refresh': {
        const { refresh } = await import('./commands/refresh.js');
        const result = await refresh(io.env, {
          force: values.force === true,
          hook: values.hook === true && values.attach !== true,
        });
        redactor.add(...result.secrets);
        const { secrets: _secrets, warnings: _warnings, ...json } = result;
        emit(json, formatRefresh(result, paint));
        const failed = result.logins.some((l) => l.status === 'error') || result.problems.length > 0;
        return failed && (!values.hook || values.strict) ? 1 : 0;
      }
      case 'status': {
        const { status } = await import('./commands/status.js');
        const result = await status(io.env);
        emit(result, formatStatus(result, paint));
        return 0;
      }
      case 'check': {
        const { check } = await import('./commands/check.js');
        const result = await check(io.env, rest);
        redactor.add(...result.secrets);
        const { secrets: _secrets, ...json } = result;
        emit(json, formatCheck(result, paint));
        return result.results.every((r) => r.result === 'ok') && result.problems.length === 0 ? 0 : 1;
      }
      case 'logout': {
        const { logout } = await import('./commands/logout.js');
        const result = await logout(io.env, rest);
        emit({ configPath: result.configPath, removed: result.removed }, formatLogout(result, paint));
        return 0;
      }
    }
  } catch (error) {
    const reason =
      error instanceof ConfigError
        ? error.message
        : `unexpected failure: ${(error as Error)?.message ?? String(error)}. Please report this with the output of \`registry-login status\`.`;
    // README, Commands: refresh --json prints its one object even then, with the reason (and the same line on stderr).
    if (command === 'refresh' && values.json)
      say(io.stdout, [
        json({ configPath: configPathOf(io.env), logins: [], problems: [], removed: [], error: reason }),
      ]);
    say(io.stderr, [`registry-login ${command}: ${reason}`]);
    return values.hook && !values.strict ? 0 : 2;
  }
  return 2;
}

type Flag = 'json' | 'force' | 'hook' | 'strict' | 'attach' | 'host' | 'help' | 'version';
const FLAGS = new Set<string>(['json', 'force', 'hook', 'strict', 'attach', 'host', 'help', 'version']);

/**
 * Splits argv into boolean flags and positionals (node:util's parseArgs would cost ~0.5 ms of every start):
 * `--flag`, `-h`, and `--` before positionals that start with a dash. Flags take no value.
 */
export function parseCommandLine(
  argv: string[],
): { values: Partial<Record<Flag, true>>; positionals: string[] } | { error: string } {
  const values: Partial<Record<Flag, true>> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      values.help = true;
    } else if (arg.startsWith('--') && FLAGS.has(arg.slice(2))) {
      values[arg.slice(2) as Flag] = true;
    } else if (arg.startsWith('--') && FLAGS.has(arg.slice(2).split('=')[0]!)) {
      return { error: `option --${arg.slice(2).split('=')[0]} takes no value (found "${arg}")` };
    } else if (arg.startsWith('-') && arg !== '-') {
      return {
        error: `unknown option "${arg}"; the options are --force, --json, --hook, --strict, --attach, --host, --help and --version (to pass a key that starts with a dash, put it after --)`,
      };
    } else {
      positionals.push(arg);
    }
  }
  return { values, positionals };
}

// The config's path for a report, or null when even that cannot be worked out (no usable home).
function configPathOf(env: NodeJS.ProcessEnv): string | null {
  try {
    return dockerConfigPath(env);
  } catch {
    return null;
  }
}

function stripColour(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Runs the docker credential helper; only `get` may put a secret on stdout, where docker reads it. */
export async function runCredentialHelper(argv: string[], io: Io, readInput: () => Promise<string>): Promise<number> {
  const redactor = new Redactor();
  redactor.addFromEnv(io.env);
  const action = argv[0];
  try {
    const input = action === 'get' || action === 'store' || action === 'erase' ? await readInput() : '';
    if (action === 'store') {
      try {
        redactor.add((JSON.parse(input) as { Secret?: string }).Secret);
      } catch {
        // not JSON: the helper says so below, without echoing the input
      }
    }
    const { credentialHelper } = await import('./commands/credential-helper.js');
    const answer = await credentialHelper(action, input, io.env);
    redactor.add(...answer.secrets);
    io.stdout(action === 'get' ? answer.stdout : redactor.redact(answer.stdout));
    if (answer.stderr) io.stderr(redactor.redact(answer.stderr));
    return answer.exitCode;
  } catch (error) {
    // On stdout, as docker-credential-helpers does: docker shows it in its own error ("out: `...`").
    io.stdout(
      redactor.redact(`docker-credential-registry-login ${action}: ${(error as Error)?.message ?? String(error)}\n`),
    );
    return 1;
  }
}
