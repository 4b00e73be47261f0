// Learns how the credential store docker asks for most registries behaves: a bounded `get` for a host that cannot
// hold a login. Its answer is never read beyond "not found", never kept and never printed.
import { findHelper, runHelper, saysNotFound } from '../docker/helper-client.js';
import { programFinder } from '../programs.js';
import { detectDefaultStore } from '../docker/lookup.js';
import { HELPER_NAME, helperForUnlistedKeys, type HelperHealth } from './docker-view.js';

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
  const defaultStore = detectDefaultStore(process.platform, onPath);
  const helper = helperForUnlistedKeys(config, defaultStore);
  const program = helper !== undefined && helper !== HELPER_NAME ? findHelper(helper, find) : undefined;
  const probed = program?.kind === 'found' ? await probeHelper(program.path, env) : undefined;
  const helperHealth = (name: string): HelperHealth => {
    if (findHelper(name, find).kind !== 'found') return 'missing';
    return name === helper && probed !== undefined ? probed : 'answers';
  };
  return { helperHealth, defaultStore };
}

/** Runs docker-credential-<name> get once, for a server no store can hold a login for. */
async function probeHelper(program: string, env: NodeJS.ProcessEnv): Promise<HelperHealth> {
  const answer = await runHelper(program, 'get', `${PROBE_SERVER}\n`, env, PROBE_TIMEOUT_MS);
  if (answer.kind === 'timed-out') return 'hangs';
  return (answer.kind === 'exited' && answer.ok) || saysNotFound(answer) ? 'answers' : 'fails';
}
