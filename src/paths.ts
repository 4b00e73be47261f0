// Every directory rule: where the docker config, registry-login's state and its cache are, from the environment.
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './fs/errors.js';
import { makeDirectory } from './fs/directory.js';
import { becomeHomeOwner, otherUsersHome } from './fs/home-owner.js';
import type { ContainersPlaces } from './containers-auth.js';
import { memoryDir, MemoryDirError } from './fs/memory-dir.js';
import { readFileSync } from 'node:fs';

/**
 * The user's home directory as docker finds it: $HOME, else (unset or empty) the account's own; undefined when that is
 * not an absolute path, so that nothing is ever written relative to the current directory.
 */
function homeDirectory(env: NodeJS.ProcessEnv): string | undefined {
  let home = env.HOME;
  if (!home) {
    try {
      // os.homedir() answers "" for an empty HOME; userInfo() reads the account itself.
      home = process.getBuiltinModule('node:os').userInfo().homedir;
    } catch {
      return undefined; // no account entry for this uid (common in containers)
    }
  }
  return isAbsolute(home) ? home : undefined;
}

/** Where registry-login finds and keeps its files, worked out once per command from the environment and handed down. */
export interface Places {
  /** The docker config docker reads (may be a symlink). */
  configPath: string;
  /** registry-login's per-user state: the ledgers, and the logins `docker login` stored through the helper. */
  stateDir: string;
  /** The per-user cache (ECR tokens); undefined when no home is known, and then nothing is cached. */
  cacheDir: string | undefined;
  /** What podman, buildah and skopeo read before (or instead of) the docker config. */
  containers: ContainersPlaces;
  /** Where our secrets live: 'config' (auths entries, files under home) or 'memory' (README, Secrets in memory). */
  secrets: SecretsMode;
  /**
   * In memory mode, the user's memory directory: stateDir and cacheDir are in it, and persistentStateDir and
   * persistentCacheDir are where config mode keeps them (a switch moves what is there out).
   */
  memory?: { dir: string; persistentStateDir: string; persistentCacheDir: string | undefined };
}

export type SecretsMode = 'config' | 'memory';

/** Where the Feature records its `secrets` option, for hooks and terminals alike (root-owned, not a secret). */
export const SECRETS_MODE_FILE = '/usr/local/share/registry-login/secrets-mode';

/** The secrets mode of a run: $REGISTRY_LOGIN_SECRETS when set, else the Feature's recorded choice, else config. */
export function secretsMode(env: NodeJS.ProcessEnv): SecretsMode {
  const value = env.REGISTRY_LOGIN_SECRETS ?? recordedMode();
  if (value === undefined || value === '' || value === 'config') return 'config';
  if (value === 'memory') return 'memory';
  throw new ConfigError(
    `REGISTRY_LOGIN_SECRETS is "${value}", which is neither "config" nor "memory", so registry-login changed nothing. Set it to "memory" (secrets only in memory) or "config", or unset it.`,
  );
}

function recordedMode(): string | undefined {
  try {
    return readFileSync(SECRETS_MODE_FILE, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The places of a run; refuses one with no usable home where a place needs it (ConfigError saying what to set). Root
 * with another user's HOME becomes that user here, before any of them is touched (fs/home-owner.ts).
 */
export function placesFromEnv(env: NodeJS.ProcessEnv, options: { host?: boolean } = {}): Places {
  const home = homeDirectory(env);
  becomeHomeOwner(home);
  const configPath = configPathIn(env, home);
  const stateDir = stateDirIn(env, home);
  const cacheDir = xdgDirectory(env, home, 'XDG_CACHE_HOME', '.cache');
  const containers = containersPlacesIn(env, home);
  const secrets = options.host ? 'config' : secretsMode(env);
  if (secrets === 'config') return { configPath, stateDir, cacheDir, containers, secrets };
  const dir = memoryDirectory(env);
  return {
    configPath,
    stateDir: join(dir, 'state'),
    cacheDir: join(dir, 'cache'),
    containers,
    secrets,
    memory: { dir, persistentStateDir: stateDir, persistentCacheDir: cacheDir },
  };
}

// containers/image 5.23 as podman 4.3, buildah 1.28 and skopeo 1.9 run it (each rule tried with the real clients):
// the first auth file is REGISTRY_AUTH_FILE, else for podman and buildah $DOCKER_CONFIG/config.json (the docker config
// itself, so nothing comes before it), else $XDG_RUNTIME_DIR/containers/auth.json (/run/containers/<uid>/auth.json
// when unset); then $XDG_CONFIG_HOME/containers/auth.json (~/.config); then the docker config. registries.conf:
// CONTAINERS_REGISTRIES_CONF (podman and buildah only; skopeo ignores it), else ~/.config/containers/registries.conf
// when it exists, else /etc/containers/registries.conf.
function containersPlacesIn(env: NodeJS.ProcessEnv, home: string | undefined): ContainersPlaces {
  const runtime = env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')
    : `/run/containers/${process.getuid?.() ?? 0}/auth.json`;
  const configHome = env.XDG_CONFIG_HOME || (home === undefined ? undefined : join(home, '.config'));
  const userFile = configHome === undefined ? [] : [join(configHome, 'containers', 'auth.json')];
  const authFile = env.REGISTRY_AUTH_FILE ? resolve(env.REGISTRY_AUTH_FILE) : undefined;
  const skopeo = [authFile ?? runtime, ...userFile];
  const podman = authFile === undefined && env.DOCKER_CONFIG ? [] : skopeo;
  const userConf = home === undefined ? [] : [join(home, '.config', 'containers', 'registries.conf')];
  const systemConf = [...userConf, '/etc/containers/registries.conf'];
  const podmanConf =
    env.CONTAINERS_REGISTRIES_CONF !== undefined ? [resolve(env.CONTAINERS_REGISTRIES_CONF)] : systemConf;
  return {
    authFiles: { podman, buildah: podman, skopeo },
    registriesConf: { podman: podmanConf, buildah: podmanConf, skopeo: systemConf },
  };
}

// The memory directory, made when missing; a refusal names it and says what to do (nothing has been written yet).
function memoryDirectory(env: NodeJS.ProcessEnv): string {
  let dir;
  try {
    dir = memoryDir(env);
  } catch (error) {
    if (!(error instanceof MemoryDirError)) throw error;
    throw new ConfigError(
      `secrets are to be kept in memory only (REGISTRY_LOGIN_SECRETS=memory or the Feature's secrets option), but the memory directory ${error.message}. registry-login wrote nothing. Fix the directory, then run \`registry-login refresh\` again.`,
    );
  }
  if (dir === undefined)
    throw new ConfigError(
      `secrets are to be kept in memory only (REGISTRY_LOGIN_SECRETS=memory or the Feature's secrets option), but this system has no memory file system for them (no tmpfs XDG_RUNTIME_DIR of this user, no sticky /dev/shm), so registry-login wrote nothing. Mount one, or set REGISTRY_LOGIN_SECRETS=config to keep them in the docker config.`,
    );
  return dir;
}

/** The docker config path alone (for a report when the run was refused before its places were known). */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return configPathIn(env, homeDirectory(env));
}

/**
 * The per-user cache directory alone, for the launcher's code cache, made (0700 whatever the umask) when missing;
 * undefined when there is none to use: no home, a directory that cannot be made, or root in another user's home (the
 * launcher runs before the run becomes that user).
 */
export function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const home = homeDirectory(env);
  const dir = xdgDirectory(env, home, 'XDG_CACHE_HOME', '.cache');
  if (dir === undefined || otherUsersHome(home)) return undefined;
  try {
    makeDirectory(dir);
    return dir;
  } catch {
    return undefined;
  }
}

// $DOCKER_CONFIG/config.json (a relative one from the current directory, as docker does), else ~/.docker/config.json.
function configPathIn(env: NodeJS.ProcessEnv, home: string | undefined): string {
  if (env.DOCKER_CONFIG) return resolve(env.DOCKER_CONFIG, 'config.json');
  if (home === undefined)
    throw new ConfigError(
      `${describeHome(env)}, so registry-login cannot tell where the docker config is and changed nothing. Set HOME to your home directory (or DOCKER_CONFIG to the docker config directory), then run \`registry-login refresh\` again.`,
    );
  return join(home, '.docker', 'config.json');
}

// $XDG_STATE_HOME/registry-login, else ~/.local/state/registry-login.
function stateDirIn(env: NodeJS.ProcessEnv, home: string | undefined): string {
  const dir = xdgDirectory(env, home, 'XDG_STATE_HOME', join('.local', 'state'));
  if (dir === undefined)
    throw new ConfigError(
      `${describeHome(env)}, so registry-login has nowhere to keep its state and changed nothing. Set HOME to your home directory (or XDG_STATE_HOME to an absolute directory), then run \`registry-login refresh\` again.`,
    );
  return dir;
}

// registry-login's directory under an XDG base directory: $name when absolute (the XDG spec says to ignore a relative
// one), else ~/fallback; undefined when neither is known.
function xdgDirectory(
  env: NodeJS.ProcessEnv,
  home: string | undefined,
  name: 'XDG_STATE_HOME' | 'XDG_CACHE_HOME',
  fallback: string,
): string | undefined {
  const value = env[name];
  if (value && isAbsolute(value)) return join(value, 'registry-login');
  return home === undefined ? undefined : join(home, fallback, 'registry-login');
}

/** Why no home directory is known, for a message: a relative HOME (refused), or none and no account entry. */
function describeHome(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return `HOME is the relative path "${env.HOME}", which would put files under the current directory`;
  return `HOME is ${env.HOME === undefined ? 'unset' : 'empty'} and the account (uid ${process.getuid?.() ?? '?'}) has no absolute home directory`;
}
