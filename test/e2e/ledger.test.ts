// The ledger across failed config writes, lost ledgers and user changes, through the built CLI.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple, type AgentHome } from '../support/agent.js';
import { runAgentWithConfigPinned } from '../support/config-faults.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());
const KEY = 'reg.example.com';
const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');
const login = (password: string) => triple('A', KEY, 'bob', password);

async function home(extra: Record<string, string> = {}): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-ledger-'), extra);
}

async function config(h: AgentHome): Promise<Record<string, Record<string, unknown>>> {
  return JSON.parse(await readFile(h.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
}

interface RefreshJson {
  logins: { key: string; status: string; reason?: string }[];
  removed: string[];
}

describe('the ledger', () => {
  it('still recognises its own entry after config writes failed twice, and writes the current secret once writes work', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], { ...h.env, ...login('pass-1') })).exitCode).toBe(0);
    for (const password of ['pass-2', 'pass-3']) {
      const failed = await runAgentWithConfigPinned(['refresh'], { ...h.env, ...login(password) }, h.configPath);
      expect(failed.exitCode, failed.stderr).toBe(2);
      expect(failed.stderr).toMatch(/cannot write .*config\.json/);
      expect((await config(h)).auths![KEY]).toEqual({ auth: auth('bob', 'pass-1') });
    }
    for (const password of ['pass-4', 'pass-5']) {
      const run = await runAgent(['refresh', '--json'], { ...h.env, ...login(password) });
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      expect((JSON.parse(run.stdout) as RefreshJson).logins).toMatchObject([{ key: KEY, status: 'ok' }]);
      expect((await config(h)).auths![KEY]).toEqual({ auth: auth('bob', password) });
    }
  });

  it('reports a login the user changed as kept, with the reason, in --json and in the table', async () => {
    const h = await home(login('pass-1'));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    // What a `docker login` that bypasses the helper leaves: its own auths entry.
    const mine = { auth: auth('me', 'typed-by-hand') };
    const saved = await config(h);
    await writeFile(h.configPath, JSON.stringify({ ...saved, auths: { [KEY]: mine } }, null, '\t'));
    const json = await runAgent(['refresh', '--json'], { ...h.env, ...login('pass-2') });
    expect(json.exitCode).toBe(0);
    const [kept] = (JSON.parse(json.stdout) as RefreshJson).logins;
    expect(kept).toMatchObject({ key: KEY, status: 'kept' });
    expect(kept!.reason).toMatch(
      /A: the docker config entry for reg\.example\.com was changed outside registry-login .*left alone.*registry-login logout reg\.example\.com/,
    );
    const human = await runAgent(['refresh'], { ...h.env, ...login('pass-2') });
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^0 of 1 registry logged in, 1 kept as the user changed it, in /);
    expect(human.stdout).toMatch(/^ {2}kept {2}A {2}reg\.example\.com {2}static$/m);
    expect(human.stdout).not.toMatch(/^ {2}ok /m);
    expect(human.stderr).toMatch(
      /warning: A: the docker config entry for reg\.example\.com was changed outside registry-login/,
    );
    expect((await config(h)).auths![KEY]).toEqual(mine);
  });

  it('removes its own entry after the ledger was lost, bringing back no old password and leaving no empty credHelpers', async () => {
    const h = await home();
    expect((await runAgent(['refresh'], { ...h.env, ...login('pass-1') })).exitCode).toBe(0);
    await rm(path.join(h.home, '.local', 'state'), { recursive: true });
    const again = await runAgent(['refresh'], { ...h.env, ...login('pass-2') });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await config(h)).toEqual({
      auths: { [KEY]: { auth: auth('bob', 'pass-2') } },
      credHelpers: { [KEY]: 'registry-login' },
    });
    const hook = await runAgent(['refresh', '--hook', '--json'], h.env);
    expect(hook.exitCode).toBe(0);
    expect((JSON.parse(hook.stdout) as RefreshJson).removed).toEqual([KEY]);
    // docker itself writes "auths" always and omits an empty "credHelpers".
    expect(await config(h)).toEqual({ auths: {} });
  });

  it('never brings back an old password when hooks and shells keep their ledgers under different XDG_STATE_HOME', async () => {
    const h = await home();
    const hooks = { ...h.env, XDG_STATE_HOME: path.join(h.home, 'hook-state') };
    const shells = { ...h.env, XDG_STATE_HOME: path.join(h.home, 'shell-state') };
    expect((await runAgent(['refresh', '--hook'], { ...hooks, ...login('pass-1') })).exitCode).toBe(0);
    expect((await runAgent(['refresh'], { ...shells, ...login('pass-2') })).exitCode).toBe(0);
    expect((await runAgent(['refresh', '--hook'], hooks)).exitCode).toBe(0);
    const shell = await runAgent(['refresh', '--hook', '--json'], shells);
    expect(shell.exitCode).toBe(0);
    expect(JSON.stringify(await config(h))).not.toContain(auth('bob', 'pass-1'));
    expect((JSON.parse(shell.stdout) as RefreshJson).removed).toEqual([KEY]);
    expect(await config(h)).toEqual({ auths: {} });
  });
});
