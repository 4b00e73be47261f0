// `refresh` through the built CLI: registries named like Object.prototype members, a damaged ledger entry, a login
// docker saved through the helper, the attach and start hooks, --json warnings and --hook --strict.
import { readFile, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, runHelper, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());
const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

async function home(extra: Record<string, string> = {}): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-refresh-'), extra);
}

async function config(h: AgentHome): Promise<Record<string, Record<string, unknown>>> {
  return JSON.parse(await readFile(h.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
}

describe('refresh', () => {
  it('logs in registries named like Object.prototype members alongside the others', async () => {
    const h = await home({
      ...triple('A', 'constructor', 'u', 'pw-one'),
      ...triple('B', '__proto__', 'u', 'pw-two'),
      ...triple('C', 'ghcr.io', 'u', 'pw-three'),
    });
    const first = await runAgent(['refresh', '--json'], h.env);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const written = await config(h);
    expect(Object.keys(written.auths!)).toEqual(['constructor', '__proto__', 'ghcr.io']);
    expect(written.auths!.constructor).toEqual({ auth: auth('u', 'pw-one') });
    const status = JSON.parse((await runAgent(['status', '--json'], h.env)).stdout) as {
      logins: { key: string; effective: boolean }[];
    };
    expect(status.logins.map((l) => [l.key, l.effective])).toEqual([
      ['__proto__', true],
      ['constructor', true],
      ['ghcr.io', true],
    ]);
    expect((await runAgent(['refresh', '--hook', '--json'], { PATH: h.env.PATH!, HOME: h.home })).exitCode).toBe(0);
    expect(await config(h)).toEqual({});
  });

  it('drops a damaged ledger entry instead of failing every later refresh', async () => {
    const h = await home(triple('A', 'ghcr.io', 'u', 'pw-one'));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const stateDir = path.join(h.home, '.local', 'state', 'registry-login');
    const [ledgerName] = (await readdir(stateDir)).filter((f) => f.startsWith('ledger-'));
    const ledgerFile = path.join(stateDir, ledgerName!);
    const ledger = JSON.parse(await readFile(ledgerFile, 'utf8')) as { entries: Record<string, unknown> };
    ledger.entries['ghcr.io'] = { prefix: 'A', kind: 'static' };
    await writeFile(ledgerFile, JSON.stringify(ledger));
    const again = await runAgent(['refresh'], h.env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await runAgent(['status'], h.env)).exitCode).toBe(0);
    expect((await config(h)).auths).toEqual({ 'ghcr.io': { auth: auth('u', 'pw-one') } });
  });

  it('keeps a docker login made through the helper, credHelpers line included, when the secrets go away', async () => {
    const h = await home(triple('A', 'ghcr.io', 'u', 'pw-one'));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    expect(
      (
        await runHelper(
          'store',
          JSON.stringify({ ServerURL: 'ghcr.io', Username: 'typed', Secret: 'typed-secret' }),
          h.env,
        )
      ).exitCode,
    ).toBe(0);
    // What docker login then saves: an empty auths entry, the secret being with the helper.
    const saved = await config(h);
    await writeFile(h.configPath, JSON.stringify({ ...saved, auths: { 'ghcr.io': {} } }, null, '\t'));
    const gone = await runAgent(['refresh', '--hook'], { PATH: h.env.PATH!, HOME: h.home });
    expect(gone.stderr).toMatch(
      /A: the docker config entry for ghcr\.io was changed outside registry-login, so it was kept/,
    );
    expect(await config(h)).toEqual({ auths: { 'ghcr.io': {} }, credHelpers: { 'ghcr.io': 'registry-login' } });
    expect(JSON.parse((await runHelper('get', 'ghcr.io', h.env)).stdout)).toMatchObject({
      Username: 'typed',
      Secret: 'typed-secret',
    });
  });

  it('the attach hook (--hook --attach) keeps the logins in an environment without registry variables; the start hook logs out', async () => {
    const h = await home(triple('A', 'ghcr.io', 'u', 'pw-one'));
    expect((await runAgent(['refresh', '--hook'], h.env)).exitCode).toBe(0);
    const bare = { PATH: h.env.PATH!, HOME: h.home };
    const attach = await runAgent(['refresh', '--hook', '--attach'], bare);
    expect(attach.exitCode).toBe(0);
    expect(attach.stderr).toMatch(/the login made earlier \(ghcr\.io\) was kept/);
    expect((await config(h)).auths).toEqual({ 'ghcr.io': { auth: auth('u', 'pw-one') } });
    // With a registry variable present, the attach hook refreshes like any other.
    const changed = await runAgent(['refresh', '--hook', '--attach'], {
      ...bare,
      ...triple('A', 'ghcr.io', 'u', 'pw-two'),
    });
    expect(changed.exitCode).toBe(0);
    expect((await config(h)).auths).toEqual({ 'ghcr.io': { auth: auth('u', 'pw-two') } });
    const start = await runAgent(['refresh', '--hook'], bare);
    expect(start.exitCode).toBe(0);
    expect((await config(h)).auths ?? {}).toEqual({});
  });

  it('prints each warning once with --json', async () => {
    const h = await home({ ...triple('A', 'ghcr.io', 'u', 'pw-one'), B_CONTAINER_REGISTRY_SERVER: 'x.io' });
    const result = await runAgent(['refresh', '--json'], h.env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.match(/B_CONTAINER_REGISTRY_USER/g)).toHaveLength(1);
  });

  it("exits as without --hook under --hook --strict (the Feature's failOnError), and still logs out in an empty environment", async () => {
    const h = await home({ ...triple('A', 'ghcr.io', 'u', 'pw-one'), B_CONTAINER_REGISTRY_SERVER: 'x.io' });
    expect((await runAgent(['refresh', '--hook'], h.env)).exitCode).toBe(0);
    expect((await runAgent(['refresh', '--hook', '--strict'], h.env)).exitCode).toBe(1);
    const empty = await runAgent(['refresh', '--hook', '--strict', '--json'], { PATH: h.env.PATH!, HOME: h.home });
    expect(empty.exitCode).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ removed: ['ghcr.io'] });
  });
});
