// Every directory rule: where the docker config, registry-login's state and its cache are, from the environment.
import { isAbsolute, join, resolve } from 'node:path';
import { builtin } from './builtin.js';
import { ConfigError } from './fs/errors.js';

/**
 * The user's home directory as docker finds it: $HOME, else (unset or empty) the account's own; undefined when that is
 * not an absolute path, so that nothing is ever written relative to the current directory.
 */
export function homeDirectory(env: NodeJS.ProcessEnv): string | undefined {
  let home = env.HOME;
  if (!home) {
    try {
      // os.homedir() answers "" for an empty HOME; userInfo() reads the account itself.
      home = builtin<typeof import('node:os')>('node:os').userInfo().homedir;
    } catch {
      return undefined; // no account entry for this uid (common in containers)
    }
  }
  return isAbsolute(home) ? home : undefined;
}

/** An XDG base directory: $name when absolute (the XDG spec says to ignore a relative one), else ~/fallback; undefined when neither is known. */
function xdgBaseDirectory(env: NodeJS.ProcessEnv, name: 'XDG_STATE_HOME' | 'XDG_CACHE_HOME', fallback: string): string | undefined {
  const value = env[name];
  if (value && isAbsolute(value)) return value;
  const home = homeDirectory(env);
  return home === undefined ? undefined : join(home, fallback);
}

/** Why no home directory is known, for a message: a relative HOME (refused), or none and no account entry. */
function describeHome(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return `HOME is the relative path "${env.HOME}", which would put files under the current directory`;
  return `HOME is ${env.HOME === undefined ? 'unset' : 'empty'} and the account (uid ${process.getuid?.() ?? '?'}) has no absolute home directory`;
}

/** The docker config path: $DOCKER_CONFIG/config.json (a relative one from the current directory, as docker does), else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG) return resolve(env.DOCKER_CONFIG, 'config.json');
  const home = homeDirectory(env);
  if (home === undefined) throw new ConfigError(`${describeHome(env)}, so registry-login cannot tell where the docker config is and changed nothing. Set HOME to your home directory (or DOCKER_CONFIG to the docker config directory), then run \`registry-login refresh\` again.`);
  return join(home, '.docker', 'config.json');
}

/** The per-user state directory ($XDG_STATE_HOME/registry-login, else ~/.local/state/registry-login). */
export function stateDir(env: NodeJS.ProcessEnv): string {
  const base = xdgBaseDirectory(env, 'XDG_STATE_HOME', join('.local', 'state'));
  if (base === undefined) throw new ConfigError(`${describeHome(env)}, so registry-login has nowhere to keep its state and changed nothing. Set HOME to your home directory (or XDG_STATE_HOME to an absolute directory), then run \`registry-login refresh\` again.`);
  return join(base, 'registry-login');
}

/** The per-user cache directory (ECR tokens, the launcher's code cache): $XDG_CACHE_HOME/registry-login, else ~/.cache/registry-login; undefined when no home is known. */
export function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = xdgBaseDirectory(env, 'XDG_CACHE_HOME', '.cache');
  return base === undefined ? undefined : join(base, 'registry-login');
}
