// Which docker-credential-<name> programs registry-login runs, with what, and for how long: only from PATH's absolute
// folders, never a name that leads out of them, never with a login's variables, and never waiting on a pipe that a
// helper's child keeps open after the helper is gone.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const KEY = 'registry.example.com:5000';
const PASSWORD = 'helper-programs-secret-4Tq8';
const tmp = new TempDirs();
const leftovers: string[] = [];

afterEach(async () => {
  // The helpers below leave children in sessions of their own; each wrote its pid to a file.
  for (const file of leftovers.splice(0)) {
    const pid = Number(await readFile(file, 'utf8').catch(() => ''));
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await tmp.cleanup();
});

async function script(file: string, body: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\n${body}`);
  await chmod(file, 0o755);
}

/** A helper that writes its action, stdin and environment to record, then answers as a working store would. */
function recorder(record: string): string {
  return `{ echo "action=$1"; env; echo "stdin:"; cat; } >> '${record}'\ncase "$1" in get) echo "credentials not found in native keychain"; exit 1;; esac\nexit 0\n`;
}

async function world(config: string): Promise<{ h: AgentHome; dir: string; env: Record<string, string> }> {
  const dir = await tmp.make('rl-helper-programs-');
  const h = await makeAgentHome(dir);
  await mkdir(h.dockerConfigDir, { recursive: true });
  await writeFile(h.configPath, config);
  return { h, dir, env: { ...h.env, ...triple('ACME', KEY, 'robot', PASSWORD) } };
}

describe('PATH entries that are not absolute', () => {
  it('never runs a docker-credential-desktop that the workspace holds in ".", "bin", "node_modules/.bin" or ""', async () => {
    const { dir, env } = await world('{"credsStore": "desktop"}');
    const workspace = path.join(dir, 'workspace');
    const record = path.join(dir, 'ran.txt');
    for (const folder of ['.', 'bin', 'node_modules/.bin'])
      await script(path.join(workspace, folder, 'docker-credential-desktop'), recorder(record));
    // An empty entry means the current folder to a shell, as "." does.
    const relative = { ...env, PATH: `.:bin:node_modules/.bin::${env.PATH}` };

    const refresh = await runAgent(['refresh', '--host'], relative, { cwd: workspace });
    expect(refresh.exitCode).toBe(1);
    expect(refresh.stderr).toContain('docker-credential-desktop (credsStore "desktop"');
    expect(refresh.stderr).toContain('is not on PATH');
    const hook = await runAgent(['refresh', '--host', '--hook'], relative, { cwd: workspace });
    expect(hook.exitCode).toBe(0);
    for (const args of [['status'], ['check'], ['status', '--host']])
      await runAgent(args, relative, { cwd: workspace });
    expect(existsSync(record)).toBe(false);
  });
});

describe('a store name that leads out of PATH', () => {
  it('refuses credsStore "x/../../…/evil", naming the store and the fix, and never runs it', async () => {
    const dir = await tmp.make('rl-helper-evil-');
    const record = path.join(dir, 'ran.txt');
    await script(path.join(dir, 'evil'), recorder(record));
    // More ".." than any PATH folder is deep: joined as text, this would be the absolute path of evil.
    const store = `x/${'../'.repeat(16)}${dir.slice(1)}/evil`;
    const config = `{"credsStore": ${JSON.stringify(store)}}`;
    const { h, env } = await world(config);

    const refresh = await runAgent(['refresh', '--host'], env);
    expect(refresh.exitCode).toBe(1);
    expect(refresh.stderr).toContain(`credsStore "${store}" in ${h.configPath}`);
    expect(refresh.stderr).toContain("is not a credential helper's name");
    expect(refresh.stderr).toContain(`remove "credsStore" from ${h.configPath}`);
    expect(refresh.stderr).not.toContain(PASSWORD);
    for (const args of [['status'], ['check'], ['status', '--host']]) await runAgent(args, env);
    expect(existsSync(record)).toBe(false);
    expect(await readFile(h.configPath, 'utf8')).toBe(config);
  });
});

describe("a helper's environment", () => {
  it('holds no *_CONTAINER_REGISTRY_* variable, whatever its case, for the probe of status and check or for a store', async () => {
    const { h, dir, env } = await world('{"credsStore": "recorder"}');
    const helpers = path.join(dir, 'helpers');
    const record = path.join(dir, 'ran.txt');
    await script(path.join(helpers, 'docker-credential-recorder'), recorder(record));
    const full = {
      ...env,
      PATH: `${helpers}:${env.PATH}`,
      acme_container_registry_extra: 'lower-case-secret-7Rw',
      OTHER_CONTAINER_REGISTRY_TOKEN: 'other-secret-2Kp',
      KEPT_FOR_THE_HELPER: 'yes',
    };

    for (const args of [['status'], ['check']]) await runAgent(args, full);
    const probed = await readFile(record, 'utf8');
    expect(probed).toContain('action=get');
    expect(probed).toContain('KEPT_FOR_THE_HELPER=yes');
    expect(probed).toContain(`HOME=${h.home}`);
    expect(probed).not.toMatch(/_CONTAINER_REGISTRY_/i);

    const refresh = await runAgent(['refresh', '--host'], full);
    expect(refresh.exitCode).toBe(0);
    const stored = await readFile(record, 'utf8');
    expect(stored).toContain('action=store');
    expect(stored).toContain(PASSWORD); // the store's stdin: the login itself, as the protocol hands it over
    expect(stored.replace(/stdin:\n\{[^\n]*\}/g, '')).not.toMatch(/_CONTAINER_REGISTRY_|secret-7Rw|secret-2Kp/i);
  });
});

describe('a helper that leaves a child in a session of its own holding its output', () => {
  it('is done when the helper exits: the login is stored without waiting for the child', async () => {
    const { dir, env } = await world('{"credsStore": "forking"}');
    const helpers = path.join(dir, 'helpers');
    const stored = path.join(dir, 'stored.json');
    const pids = path.join(dir, 'pids');
    await mkdir(pids);
    await script(
      path.join(helpers, 'docker-credential-forking'),
      `setsid sleep 600 &\necho $! > '${pids}'/$1\ncase "$1" in get) echo "credentials not found in native keychain"; exit 1;; store) cat > '${stored}';; esac\n`,
    );
    leftovers.push(path.join(pids, 'get'), path.join(pids, 'store'));

    const run = await runAgent(
      ['refresh', '--host', '--hook'],
      { ...env, PATH: `${helpers}:${env.PATH}` },
      { timeoutMs: 30_000 },
    );
    expect(run.exitCode).toBe(0);
    expect(run.stderr).not.toContain('did not answer');
    expect(JSON.parse(await readFile(stored, 'utf8'))).toEqual({ ServerURL: KEY, Username: 'robot', Secret: PASSWORD });
  }, 40_000);

  it('ends at the deadline when the helper hangs, with a message naming the store and what to do', async () => {
    const { dir, env } = await world('{"credsStore": "stuck"}');
    const helpers = path.join(dir, 'helpers');
    const pid = path.join(dir, 'pid');
    await script(
      path.join(helpers, 'docker-credential-stuck'),
      `setsid sleep 600 &\necho $! > '${pid}'\nexec sleep 600\n`,
    );
    leftovers.push(pid);

    const started = Date.now();
    const run = await runAgent(
      ['refresh', '--host', '--hook'],
      { ...env, PATH: `${helpers}:${env.PATH}` },
      { timeoutMs: 40_000 },
    );
    // The read deadline is 10 s; the bound is generous, and without it the run never ends at all.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('docker-credential-stuck (credsStore "stuck"');
    expect(run.stderr).toContain('did not answer `get` within 10 s');
    expect(run.stderr).toContain('then run `registry-login refresh --host` again');
    expect(run.stderr).not.toContain(PASSWORD);
  }, 50_000);
});
