// runCli in-process with the terminal flags passed in: colour only on the streams that are terminals, none with NO_COLOR.
import { afterEach, expect, it } from 'vitest';
import { makeAgentHome, triple, type AgentHome } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';
import { runCli } from '../../src/cli.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

async function home(extra: Record<string, string> = {}): Promise<AgentHome> {
  return makeAgentHome(await tmp.make('rl-colour-'), extra);
}

it('colours only the streams that are terminals, and neither with NO_COLOR', async () => {
  const run = async (tty: { stdout: boolean; stderr: boolean }, extra: Record<string, string> = {}) => {
    let stdout = '';
    let stderr = '';
    const h = await home({ ...triple('A', 'ghcr.io', 'u', 'pw-one'), B_CONTAINER_REGISTRY_SERVER: 'x.io', ...extra });
    await runCli(['refresh'], { env: h.env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), tty });
    return { stdout, stderr };
  };
  const ansi = /\x1b\[/;
  const outOnly = await run({ stdout: true, stderr: false });
  expect(outOnly.stdout).toMatch(ansi);
  expect(outOnly.stderr).not.toMatch(ansi);
  const errOnly = await run({ stdout: false, stderr: true });
  expect(errOnly.stdout).not.toMatch(ansi);
  expect(errOnly.stderr).toMatch(ansi);
  const none = await run({ stdout: true, stderr: true }, { NO_COLOR: '1' });
  expect(none.stdout + none.stderr).not.toMatch(ansi);
});
