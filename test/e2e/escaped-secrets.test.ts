// A password holding " and \ is escaped wherever it stands in JSON: in --json output, and in the error of a store
// helper that echoes the request it was sent. The built CLI prints it in none of its forms, human or --json.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, triple, type AgentResult } from '../support/agent.js';
import { secretForms, writeEchoingStore } from '../support/echoing-store.js';
import { TempDirs } from '../support/tmp.js';

// A quote, a backslash, characters Go escapes in JSON (<, >, &) and a percent sign.
const PASSWORD = 'Rl"quote\\back<&>%2F-9f3e';
const KEY = 'registry.example.com:5000';
const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

function expectNoSecret(run: AgentResult): void {
  for (const form of Object.values(secretForms(PASSWORD, ['robot']))) {
    expect(run.stdout).not.toContain(form);
    expect(run.stderr).not.toContain(form);
  }
}

describe('a password holding " and \\', () => {
  it('is masked in every form when a host store helper echoes it in its error, in human and --json output of refresh --host and status --host', async () => {
    const dir = await tmp.make('rl-escaped-');
    const h = await makeAgentHome(dir, triple('ACME', KEY, 'robot', PASSWORD));
    const helpers = path.join(dir, 'helpers');
    await mkdir(helpers);
    const store = await writeEchoingStore(helpers, 'echo');
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, '{"credsStore": "echo"}\n');
    const env = { ...h.env, PATH: `${helpers}:${h.env.PATH}` };

    await store.failStore(true);
    const human = await runAgent(['refresh', '--host'], env);
    expectNoSecret(human);
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain(
      `failed to store the login ("refused: {"ServerURL":"${KEY}","Username":"robot","Secret":"***"}")`,
    );
    const json = await runAgent(['refresh', '--host', '--json'], env);
    expectNoSecret(json);
    expect(json.exitCode).toBe(1);
    const refreshed = JSON.parse(json.stdout) as { logins: { status: string; error: string }[] };
    expect(refreshed.logins).toMatchObject([{ status: 'error' }]);
    expect(refreshed.logins[0]!.error).toContain(`"refused: {"ServerURL":"${KEY}","Username":"robot","Secret":"***"}"`);

    // Stored, then read back by status: the helper's `get` fails echoing its record, escaped as Go escapes it.
    await store.failStore(false);
    expect((await runAgent(['refresh', '--host'], env)).exitCode).toBe(0);
    expect(JSON.parse(await readFile(store.record, 'utf8'))).toMatchObject({ Secret: PASSWORD });
    const status = await runAgent(['status', '--host'], env);
    expectNoSecret(status);
    expect(status.stdout).toContain('NOT effective');
    expect(status.stdout).toContain(
      `("cannot read the record {"ServerURL":"${KEY}","Username":"robot","Secret":"***"}")`,
    );
    const statusJson = await runAgent(['status', '--host', '--json'], env);
    expectNoSecret(statusJson);
    const listed = JSON.parse(statusJson.stdout) as { logins: { effective: boolean; reason: string }[] };
    expect(listed.logins).toMatchObject([{ effective: false }]);
    expect(listed.logins[0]!.reason).toContain(`"Secret":"***"}`);
  });

  it("is masked before a store helper's echoed error is cut short, so no piece of a long password is printed", async () => {
    const dir = await tmp.make('rl-escaped-long-');
    const long = `${'Lq"'.repeat(60)}\\${'x9'.repeat(60)}`;
    const h = await makeAgentHome(dir, triple('ACME', KEY, 'robot', long));
    const helpers = path.join(dir, 'helpers');
    await mkdir(helpers);
    const store = await writeEchoingStore(helpers, 'echo');
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, '{"credsStore": "echo"}\n');
    await store.failStore(true);
    const run = await runAgent(['refresh', '--host'], { ...h.env, PATH: `${helpers}:${h.env.PATH}` });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('"Secret":"***"');
    // Any 12 characters of the password, raw or as JSON escapes them, would be a piece of it.
    const escaped = JSON.stringify(long).slice(1, -1);
    for (const text of [long, escaped])
      for (let i = 0; i + 12 <= text.length; i += 6) expect(run.stderr).not.toContain(text.slice(i, i + 12));
  });
});
