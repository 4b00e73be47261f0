// Shared pieces of the reliability suite: homes with a foreign-laden config, timed runs of the built CLI, state probes.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BIN, makeAgentHome, triple, type AgentHome } from '../support/agent.js';

/**
 * A config as VS Code / DevPod and a user leave it: foreign logins (one on a key we will manage), a credsStore, unknown
 * keys.
 */
export const FOREIGN =
  `{\n\t"auths": {\n\t\t"foreign.example": {"auth": "Zm9yZWlnbjp4"},\n\t\t"registry0.example.com:5000": {"auth": "ZGlzcGxhY2VkOnVzZXI="},\n\t\t"ünïcode.example": {"auth": "dTpw", "email": "x@y"}\n\t},\n` +
  `\t"credsStore": "devpod",\n\t"credHelpers": {\n\t\t"gcr.io": "gcloud"\n\t},\n\t"x-unknown": [1, {"a": null}, "\\u00e9"],\n\t"proxies": {"default": {"httpProxy": "http://p:3128"}}\n}\n`;

/** Foreign top-level keys and entries that must survive anything registry-login does. */
export function foreignIntact(text: string): string | undefined {
  let config: Record<string, Record<string, unknown>>;
  try {
    config = JSON.parse(text) as typeof config;
  } catch (error) {
    return `config is not JSON: ${(error as Error).message}`;
  }
  const want = JSON.parse(FOREIGN) as typeof config;
  if (JSON.stringify(config.auths?.['foreign.example']) !== JSON.stringify(want.auths!['foreign.example']))
    return 'auths["foreign.example"] lost or changed';
  if (JSON.stringify(config.auths?.['ünïcode.example']) !== JSON.stringify(want.auths!['ünïcode.example']))
    return 'auths["ünïcode.example"] lost or changed';
  if (config.credHelpers?.['gcr.io'] !== 'gcloud') return 'credHelpers["gcr.io"] lost';
  for (const key of ['credsStore', 'x-unknown', 'proxies'])
    if (JSON.stringify(config[key]) !== JSON.stringify(want[key])) return `${key} lost or changed`;
  return undefined;
}

/** n static logins R0..R(n-1); `variant` changes every password, so two variants write different files. */
export function logins(n: number, variant = 'a'): Record<string, string> {
  return Object.assign(
    {},
    ...Array.from({ length: n }, (_, i) =>
      triple(`R${i}`, `registry${i}.example.com:5000`, `user${i}`, `pw-${variant}-${i}-Xq7`),
    ),
  );
}

/** A home whose docker config starts as FOREIGN. */
export async function foreignHome(dir: string, env: Record<string, string>): Promise<AgentHome> {
  const h = await makeAgentHome(dir, env);
  await mkdir(h.dockerConfigDir, { recursive: true, mode: 0o700 });
  await writeFile(h.configPath, FOREIGN, { mode: 0o600 });
  return h;
}

export interface TimedRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  killed: boolean;
}

/** Runs bin/<name> with exactly env; with killAfterMs, sends SIGKILL after that many milliseconds. */
export function runTimed(
  args: string[],
  env: Record<string, string>,
  options: {
    name?: string;
    input?: string;
    killAfterMs?: number;
    timeoutMs?: number;
    /** A program that runs the launcher (e.g. strace with its arguments). */ wrapper?: string[];
  } = {},
): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const launcher = path.join(BIN, options.name ?? 'registry-login');
    const [file, ...argv] = [...(options.wrapper ?? []), launcher, ...args];
    const child = spawn(file!, argv, { env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    if (options.input !== undefined) child.stdin!.end(options.input);
    const kill = (after: number | undefined) =>
      after === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, after);
    const killer = kill(options.killAfterMs);
    // A run that never ends is a deadlock: stop it by PID and report it as such.
    const guard = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      if (killer) clearTimeout(killer);
      clearTimeout(guard);
      resolve({
        exitCode,
        signal,
        stdout,
        stderr,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        killed: killed && signal === 'SIGKILL',
      });
    });
  });
}

/** Files left beside a config or ledger by an interrupted write: temp files and lock directories. */
export function leftovers(dir: string): { temps: string[]; locks: string[] } {
  if (!existsSync(dir)) return { temps: [], locks: [] };
  const names = readdirSync(dir);
  return { temps: names.filter((n) => n.endsWith('.tmp')), locks: names.filter((n) => n.endsWith('.lock')) };
}

/** The state directory holding ledgers and the docker-login store of a home. */
export function stateDirOf(home: string): string {
  return path.join(home, '.local', 'state', 'registry-login');
}

/** The one ledger file of a home, or undefined. */
export function ledgerText(home: string): string | undefined {
  const dir = stateDirOf(home);
  if (!existsSync(dir)) return undefined;
  const ledger = readdirSync(dir).find((n) => /^ledger-[0-9a-f]{16}\.json$/.test(n));
  return ledger ? readFileSync(path.join(dir, ledger), 'utf8') : undefined;
}
