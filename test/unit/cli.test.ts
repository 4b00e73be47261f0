import { describe, expect, it } from 'vitest';
import { parseCommandLine, runCli } from '../../src/cli.js';

// Runs the CLI in-process; every row here stops before a command runs, so nothing outside is read or written.
async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    env: { HOME: '/nonexistent-home' },
    stdout: (t: string) => (stdout += t),
    stderr: (t: string) => (stderr += t),
    tty: { stdout: false, stderr: false },
  };
  const exitCode = await runCli(argv, io);
  return { exitCode, stdout, stderr };
}

describe('the command line', () => {
  it.each<[string[], ReturnType<typeof parseCommandLine>]>([
    [['refresh'], { command: 'refresh', flags: {}, keys: [] }],
    [['--json', 'refresh', '--force'], { command: 'refresh', flags: { json: true, force: true }, keys: [] }],
    [['refresh', '--hook', '--attach'], { command: 'refresh', flags: { hook: true, attach: true }, keys: [] }],
    [
      ['refresh', '--host', '--hook', '--strict'],
      { command: 'refresh', flags: { host: true, hook: true, strict: true }, keys: [] },
    ],
    [['status', '--host', '--json'], { command: 'status', flags: { host: true, json: true }, keys: [] }],
    [['check', 'a.example', 'b.example'], { command: 'check', flags: {}, keys: ['a.example', 'b.example'] }],
    [['logout', '--json', '--', '-odd.example'], { command: 'logout', flags: { json: true }, keys: ['-odd.example'] }],
    [['logout', '--host', 'a.example'], { command: 'logout', flags: { host: true }, keys: ['a.example'] }],
  ])('reads %j', (argv, expected) => {
    expect(parseCommandLine(argv)).toEqual(expected);
  });

  it.each<[string[], RegExp]>([
    [
      ['refresh', '--bogus'],
      /^registry-login: unknown option "--bogus"; the options are --force, --json, --hook, --strict, --attach, --host, --help and --version \(to pass a key/,
    ],
    [['refresh', '-x'], /^registry-login: unknown option "-x";/],
    [['refresh', '--constructor'], /^registry-login: unknown option "--constructor";/],
    [['refresh', '--json=yes'], /^registry-login: option --json takes no value \(found "--json=yes"\)/],
    [['status', '--force'], /^registry-login status: --force does not apply here/],
    [['check', '--host'], /^registry-login check: --host does not apply here/],
    [['refresh', '--host', '--attach'], /^registry-login refresh --host: --attach does not apply here/],
    [['refresh', 'extra'], /^registry-login refresh: unexpected argument "extra"/],
    [['status', '--host', 'extra'], /^registry-login status --host: unexpected argument "extra"/],
    [
      ['frobnicate'],
      /^registry-login: unknown command "frobnicate"; the commands are refresh, status, check and logout/,
    ],
    [['toString'], /^registry-login: unknown command "toString"/],
    [[], /^Usage: registry-login <command>/],
  ])('refuses %j with exit 2, naming the fault and what to run', async (argv, message) => {
    const run = await cli(argv);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
    if (argv.length > 0) expect(run.stderr).toContain('Run `registry-login --help` for the commands and options.');
    expect(run.stdout).toBe('');
  });

  it('prints the help made from the tables on stdout for --help, -h and help', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['status', '--force', '--help']]) {
      const run = await cli(argv);
      expect(run.exitCode, argv.join(' ')).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^Usage: registry-login <command> \[options\]\n/);
      expect(run.stdout).toContain('\n  refresh --host [--force] [--json] [--hook] [--strict]\n');
      expect(run.stdout).toContain('\n  check [KEY...] [--json]              log in to each registry as docker would');
      expect(run.stdout).toContain('\n  --attach    with --hook: the attach hook');
    }
  });

  it('prints the version for --version, before anything else is looked at', async () => {
    const run = await cli(['frobnicate', '--version']);
    expect(run).toEqual({
      exitCode: 0,
      stdout: expect.stringMatching(/^registry-login \d+\.\d+\.\d+(-dev)?\n$/),
      stderr: '',
    });
  });
});
