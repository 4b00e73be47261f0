// Learns how the credential store docker asks for most registries behaves: a bounded `get` for a host that cannot
// hold a login. Its answer is never read beyond "not found", never kept and never printed.
import { spawn } from 'node:child_process';
import { programFinder } from '../programs.js';
import { HELPER_NAME, platformDefaultStore, storeInCharge, type HelperHealth } from './docker-view.js';

/** How long a store may take to answer before status and check call it hanging. */
export const PROBE_TIMEOUT_MS = 2_000;
const PROBE_SERVER = 'https://registry-login-probe.invalid';

/** The helper facts dockerChoice needs: PATH for every helper, a probe for a foreign credsStore (or default store). */
export async function observeHelpers(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Promise<{ helperHealth: (name: string) => HelperHealth; defaultStore: string | undefined }> {
  const find = programFinder(env);
  const onPath = (program: string) => find(program) !== undefined;
  const defaultStore = platformDefaultStore(process.platform, onPath);
  const store = storeInCharge(config, defaultStore);
  const probed =
    store !== undefined && store !== HELPER_NAME && onPath(`docker-credential-${store}`)
      ? await probeHelper(store, env)
      : undefined;
  const helperHealth = (name: string): HelperHealth => {
    if (!onPath(`docker-credential-${name}`)) return 'missing';
    return name === store && probed !== undefined ? probed : 'answers';
  };
  return { helperHealth, defaultStore };
}

/** Runs `docker-credential-<name> get` once, killing it (and its children) after timeoutMs. */
export function probeHelper(name: string, env: NodeJS.ProcessEnv, timeoutMs = PROBE_TIMEOUT_MS): Promise<HelperHealth> {
  return new Promise((resolve) => {
    // Its own process group, so a helper that is a script waiting on a child is stopped whole.
    const child = spawn(`docker-credential-${name}`, ['get'], {
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    let done = false;
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      finish('hangs');
    }, timeoutMs);
    function finish(health: HelperHealth): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.unref();
      resolve(health);
    }
    child.once('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ENOENT' ? 'missing' : 'fails'));
    child.stdout.on('data', (chunk: Buffer) => {
      if (out.length < 200) out += chunk.toString('utf8');
    });
    child.once('close', (code) => finish(code === 0 || /credentials not found/i.test(out) ? 'answers' : 'fails'));
    child.stdin.on('error', () => {});
    child.stdin.end(`${PROBE_SERVER}\n`);
  });
}
