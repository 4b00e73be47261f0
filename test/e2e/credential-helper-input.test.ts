// What the helper does with input docker would never send: JSON that is not an object for `store`, and more than
// 1 MiB on stdin for any action. It answers as docker-credential-helpers do (one line on stdout, exit 1) and keeps
// nothing; it never crashes with a TypeError nor reads without end.
import { afterAll, describe, expect, it } from 'vitest';
import { makeAgentHome, runHelper } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const MIB = 1024 * 1024;
const LOGIN = { ServerURL: 'typed.example.com', Username: 'me', Secret: 'typed-secret-Hq3Vn8Zs' };

async function home() {
  return makeAgentHome(await dirs.make('rl-helper-input-'));
}

describe('store', () => {
  it.each(['null', '5', '"text"', '[]', '[{"ServerURL":"typed.example.com","Username":"me","Secret":"x"}]', 'true'])(
    'refuses %s with the protocol error, one line on stdout, exit 1',
    async (input) => {
      const h = await home();
      const result = await runHelper('store', input, h.env);
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe(
        'docker-credential-registry-login store: the input is not the JSON object docker sends ({"ServerURL","Username","Secret"}).',
      );
      expect(result.stderr).toBe('');
      expect((await runHelper('list', '', h.env)).stdout).toBe('{}');
    },
  );

  it('refuses an object without the fields as strings, saying which', async () => {
    const h = await home();
    const result = await runHelper('store', JSON.stringify({ ...LOGIN, Username: null }), h.env);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^docker-credential-registry-login store: ServerURL, Username and Secret must be/);
    expect(result.stdout).not.toContain(LOGIN.Secret);
  });
});

describe('input larger than 1 MiB', () => {
  it.each(['get', 'store', 'erase'])('%s refuses it with a clear error and exit 1', async (action) => {
    const h = await home();
    const input =
      action === 'store' ? `${JSON.stringify(LOGIN)}${' '.repeat(MIB)}` : `typed.example.com${' '.repeat(MIB)}`;
    const result = await runHelper(action, input, h.env);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(
      `docker-credential-registry-login ${action}: the input on stdin is larger than 1 MiB; docker sends a registry address or one small JSON object. Nothing was done.`,
    );
    expect(result.stderr).toBe('');
    expect((await runHelper('list', '', h.env)).stdout).toBe('{}');
  });

  it('takes input just under the limit', async () => {
    const h = await home();
    const login = JSON.stringify(LOGIN);
    const stored = await runHelper('store', `${login}${' '.repeat(MIB - login.length)}`, h.env);
    expect(stored.exitCode, stored.stdout).toBe(0);
    const got = await runHelper('get', 'typed.example.com', h.env);
    expect(JSON.parse(got.stdout)).toEqual(LOGIN);
  });
});
