// argv → command. The only place that prints and picks exit codes; every line passes the Redactor.
import { parseArgs } from 'node:util';
import { Redactor } from './redact.js';
import { ConfigError } from './fs/errors.js';
import { dockerConfigPath } from './paths.js';
import { formatCheck, formatLogout, formatRefresh, formatStatus, makePaint, type Output } from './report.js';
import { formatHostLogout, formatHostRefresh, formatHostStatus } from './host/report.js';
import { VERSION } from './version.js';

/** Every option, each a switch, with its help; this order is the order of --help and of the error naming them. */
const FLAGS = {
  force: 'ignore cached ECR tokens and ask AWS again',
  json: 'machine-readable output',
  hook: 'for dev container lifecycle hooks: report failures as warnings and exit 0, and take an\nenvironment without registry variables as "all secrets removed"',
  strict: 'with --hook: exit 1 (or 2) when a login fails (or the config is unusable), as without it',
  attach:
    'with --hook: the attach hook, which a tool may run without the secrets: an environment\nwithout registry variables keeps the logins, as in a terminal',
  host: "act on this host's docker (for the dev container's own image), not inside a container",
  help: 'this help',
  version: 'the version',
};
type Flag = keyof typeof FLAGS;

/** What one command line takes besides --help and --version: its options, whether registry KEYs follow, its help. */
type CommandSpec = { flags: Flag[]; keys?: true; help: string };

/** Each command, and its --host form where it has one. */
const COMMANDS: Record<'refresh' | 'status' | 'check' | 'logout', CommandSpec & { host?: CommandSpec }> = {
  refresh: {
    flags: ['force', 'json', 'hook', 'strict', 'attach'],
    help: 'log in to every registry found; remove logins whose secrets are gone\n(an environment with no registry variable at all keeps them; see --hook)',
    host: {
      flags: ['force', 'json', 'hook', 'strict'],
      help: "on the host, e.g. from devcontainer.json's initializeCommand: store each\nlogin where `docker login` would (a credential store, else the config);\nnever removes one",
    },
  },
  status: {
    flags: ['json'],
    help: 'list managed registries and whether docker uses each login',
    host: { flags: ['json'], help: 'the logins stored on this host and whether docker uses each' },
  },
  check: { flags: ['json'], keys: true, help: 'log in to each registry as docker would and say why a login fails' },
  logout: {
    flags: ['json'],
    keys: true,
    help: 'remove managed logins (all when none is named)',
    host: { flags: ['json'], keys: true, help: 'remove logins stored on this host (all when none is named)' },
  },
};
type Command = keyof typeof COMMANDS;

/** The --help text, made from the two tables. */
function usage(): string {
  const entry = (head: string, help: string, column: number) => {
    const [first, ...more] = help.split('\n').map((line) => `${' '.repeat(column)}${line}`);
    const start = `  ${head}`;
    const lines = start.length < column ? [`${start.padEnd(column)}${first!.trimStart()}`] : [start, first!];
    return [...lines, ...more];
  };
  const line = (name: string, spec: CommandSpec) =>
    entry(`${name}${spec.keys ? ' [KEY...]' : ''}${spec.flags.map((f) => ` [--${f}]`).join('')}`, spec.help, 39);
  const commands = Object.entries(COMMANDS);
  return `Usage: registry-login <command> [options]

Logs docker in to the registries named by <PREFIX>_CONTAINER_REGISTRY_SERVER/_USER/_PASSWORD
secrets (the GitHub Codespaces convention), in $DOCKER_CONFIG/config.json or ~/.docker/config.json.

Commands:
${[
  ...commands.flatMap(([name, spec]) => line(name, spec)),
  '',
  ...commands.flatMap(([name, spec]) => (spec.host ? line(`${name} --host`, spec.host) : [])),
].join('\n')}

Options:
${Object.entries(FLAGS)
  .flatMap(([flag, help]) => entry(`--${flag}`, help, 14))
  .join('\n')}

Exit codes: 0 ok; 1 a login failed or a secret has a problem; 2 usage error or unusable docker config.`;
}

/** argv read: a command to run, or text to print and the exit code (--help, --version, a usage error). */
export type CommandLine =
  { command: Command; flags: Partial<Record<Flag, true>>; keys: string[] } | { text: string; exitCode: 0 | 2 };

/** Reads argv: switches anywhere, `-h`, and `--` before keys that start with a dash. */
export function parseCommandLine(argv: string[]): CommandLine {
  const options = Object.fromEntries(
    Object.keys(FLAGS).map((f) => [f, { type: 'boolean' as const, ...(f === 'help' && { short: 'h' }) }]),
  );
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const flags: Partial<Record<Flag, true>> = {};
  const positionals: string[] = [];
  const error = (what: string, command?: string) => ({
    exitCode: 2 as const,
    text: `registry-login${command ? ` ${command}` : ''}: ${what}.\nRun \`registry-login --help\` for the commands and options.`,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    else if (token.kind === 'option' && !Object.hasOwn(FLAGS, token.name))
      return error(
        `unknown option "${token.rawName}"; the options are ${names(Object.keys(FLAGS).map((f) => `--${f}`))} (to pass a key that starts with a dash, put it after --)`,
      );
    else if (token.kind === 'option' && token.value !== undefined)
      return error(`option ${token.rawName} takes no value (found "${token.rawName}=${token.value}")`);
    else if (token.kind === 'option') flags[token.name as Flag] = true;
  }
  const [verb, ...keys] = positionals;
  if (flags.version) return { text: `registry-login ${VERSION}`, exitCode: 0 };
  if (flags.help || verb === 'help') return { text: usage(), exitCode: 0 };
  if (verb === undefined) return { text: usage(), exitCode: 2 };
  if (!Object.hasOwn(COMMANDS, verb))
    return error(`unknown command "${verb}"; the commands are ${names(Object.keys(COMMANDS))}`);
  const command = verb as Command;
  const spec = flags.host ? COMMANDS[command].host : COMMANDS[command];
  if (!spec) return error('--host does not apply here', command);
  const name = flags.host ? `${command} --host` : command;
  const stray = Object.keys(flags).find((flag) => flag !== 'host' && !spec.flags.includes(flag as Flag));
  if (stray) return error(`--${stray} does not apply here`, name);
  if (!spec.keys && keys.length > 0) return error(`unexpected argument "${keys[0]}"`, name);
  return { command, flags, keys };
}

// "a, b and c"
function names(items: string[]): string {
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

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
  const line = parseCommandLine(argv);
  if ('text' in line) {
    say(line.exitCode === 0 ? io.stdout : io.stderr, [line.text]);
    return line.exitCode;
  }
  const { command, flags, keys } = line;
  const emit = (result: unknown, output: Output) => {
    if (flags.json) say(io.stdout, [json(result)]);
    else say(io.stdout, output.out);
    say(io.stderr, output.err);
  };
  // The JSON output leaves out the secrets (the redactor learns them) and the warnings (stderr has them).
  const publish = <R extends { secrets: string[]; warnings?: unknown[] }>(result: R, output: Output) => {
    redactor.add(...result.secrets);
    const { secrets: _secrets, warnings: _warnings, ...shown } = result;
    emit(shown, output);
  };
  // A hook reports a failed login as a warning and exits 0, unless --strict.
  const refreshExit = (result: { logins: { status: string }[]; problems: unknown[] }) =>
    (result.logins.some((l) => l.status === 'error') || result.problems.length > 0) && (!flags.hook || flags.strict)
      ? 1
      : 0;

  try {
    switch (flags.host ? (`${command} --host` as const) : command) {
      case 'refresh': {
        const { refresh } = await import('./commands/refresh.js');
        const result = await refresh(io.env, { force: flags.force === true, hook: flags.hook && !flags.attach });
        publish(result, formatRefresh(result, paint));
        return refreshExit(result);
      }
      case 'refresh --host': {
        const { refreshHost } = await import('./commands/host-refresh.js');
        const result = await refreshHost(io.env, { force: flags.force === true });
        publish(result, formatHostRefresh(result, paint));
        return refreshExit(result);
      }
      case 'status': {
        const { status } = await import('./commands/status.js');
        const result = await status(io.env);
        emit(result, formatStatus(result, paint));
        return 0;
      }
      case 'status --host': {
        const { statusHost } = await import('./commands/host-status.js');
        const result = await statusHost(io.env);
        emit(result, formatHostStatus(result, paint));
        return 0;
      }
      case 'check': {
        const { check } = await import('./commands/check.js');
        const result = await check(io.env, keys);
        publish(result, formatCheck(result, paint));
        return result.results.every((r) => r.result === 'ok') && result.problems.length === 0 ? 0 : 1;
      }
      case 'logout': {
        const { logout } = await import('./commands/logout.js');
        const result = await logout(io.env, keys);
        emit({ configPath: result.configPath, removed: result.removed }, formatLogout(result, paint));
        return 0;
      }
      case 'logout --host': {
        const { logoutHost } = await import('./commands/host-logout.js');
        const result = await logoutHost(io.env, keys);
        emit({ configPath: result.configPath, removed: result.removed }, formatHostLogout(result, paint));
        return 0;
      }
    }
  } catch (error) {
    const reason =
      error instanceof ConfigError
        ? error.message
        : `unexpected failure: ${(error as Error)?.message ?? String(error)}. Please report this with the output of \`registry-login status\`.`;
    // README, Commands: refresh --json prints its one object even then, with the reason (and the same line on stderr).
    if (command === 'refresh' && flags.json)
      say(io.stdout, [
        json({ configPath: configPathOf(io.env), logins: [], problems: [], removed: [], error: reason }),
      ]);
    say(io.stderr, [`registry-login ${command}: ${reason}`]);
    return flags.hook && !flags.strict ? 0 : 2;
  }
  // parseCommandLine gives no --host form a command does not have.
  return 2;
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
