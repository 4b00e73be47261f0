// The helper's `get` through the built helper: only the logins it manages, even when the config's other parts are
// damaged, and docker's "not found" answer otherwise.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, runHelper, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());
const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

async function home(extra: Record<string, string> = {}): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-helper-get-'), extra);
}

describe('credential helper get', () => {
  it('answers "not found" for a key it does not manage, even when auths has it', async () => {
    const h = await home();
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, JSON.stringify({ auths: { 'other.io': { auth: auth('user', 'password') } } }));
    const get = await runHelper('get', 'other.io', h.env);
    expect(get.exitCode).toBe(1);
    expect(get.stdout.trim()).toBe('credentials not found in native keychain');
  });

  it('serves managed logins although the docker-login store is damaged, and says "not found" when the config is unreadable', async () => {
    const h = await home(triple('A', 'ghcr.io', 'u', 'pw-one'));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    await writeFile(path.join(h.home, '.local', 'state', 'registry-login', 'docker-logins.json'), '{broken');
    expect(JSON.parse((await runHelper('get', 'ghcr.io', h.env)).stdout)).toMatchObject({
      Username: 'u',
      Secret: 'pw-one',
    });
    await writeFile(h.configPath, '[1, 2');
    const broken = await runHelper('get', 'ghcr.io', h.env);
    expect(broken.exitCode).toBe(1);
    expect(broken.stdout.trim()).toBe('credentials not found in native keychain');
    expect(broken.stderr).toMatch(/config\.json is not valid JSON/);
  });
});
