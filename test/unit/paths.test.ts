// Every directory rule, worked out from the environment: the docker config, the state and the cache directories.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { cacheDir, dockerConfigPath, placesFromEnv } from '../../src/paths.js';
import { ConfigError } from '../../src/fs/errors.js';

describe('dockerConfigPath', () => {
  it('prefers $DOCKER_CONFIG, else $HOME/.docker', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/x/y', HOME: '/h' })).toBe('/x/y/config.json');
    expect(dockerConfigPath({ HOME: '/h' })).toBe('/h/.docker/config.json');
  });

  it("takes the account's home for an empty HOME, as docker does, and refuses a relative one", () => {
    expect(dockerConfigPath({ HOME: '' })).toBe(join(userInfo().homedir, '.docker', 'config.json'));
    expect(() => dockerConfigPath({ HOME: 'work' })).toThrow(/HOME is the relative path "work".*changed nothing/);
    expect(dockerConfigPath({ HOME: 'work', DOCKER_CONFIG: 'rel/docker' })).toBe(
      join(process.cwd(), 'rel', 'docker', 'config.json'),
    );
  });
});

describe('cacheDir', () => {
  it('uses $XDG_CACHE_HOME when it is absolute, else ~/.cache, and makes it 0700 whatever the umask', () => {
    const root = mkdtempSync(join(tmpdir(), 'rl-cache-dir-'));
    const old = process.umask(0o222);
    try {
      const home = join(root, 'home');
      expect(cacheDir({ XDG_CACHE_HOME: join(root, 'x'), HOME: home })).toBe(join(root, 'x', 'registry-login'));
      expect(cacheDir({ XDG_CACHE_HOME: 'relative', HOME: home })).toBe(join(home, '.cache', 'registry-login'));
      expect(cacheDir({ HOME: home })).toBe(join(home, '.cache', 'registry-login'));
      for (const dir of [home, join(home, '.cache'), join(home, '.cache', 'registry-login')])
        expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
      expect(cacheDir({ HOME: 'relative' })).toBeUndefined();
    } finally {
      process.umask(old);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('placesFromEnv', () => {
  it.each([
    [
      { HOME: '/h' },
      {
        configPath: '/h/.docker/config.json',
        stateDir: '/h/.local/state/registry-login',
        cacheDir: '/h/.cache/registry-login',
      },
    ],
    [
      { HOME: '/h', DOCKER_CONFIG: '/d', XDG_STATE_HOME: '/s', XDG_CACHE_HOME: '/c' },
      { configPath: '/d/config.json', stateDir: '/s/registry-login', cacheDir: '/c/registry-login' },
    ],
    // The XDG spec says to ignore a relative base directory.
    [
      { HOME: '/h', XDG_STATE_HOME: 'state', XDG_CACHE_HOME: 'cache' },
      {
        configPath: '/h/.docker/config.json',
        stateDir: '/h/.local/state/registry-login',
        cacheDir: '/h/.cache/registry-login',
      },
    ],
    // No usable home, but every place given absolutely: nothing needs the home.
    [
      { HOME: 'rel', DOCKER_CONFIG: '/d', XDG_STATE_HOME: '/s' },
      { configPath: '/d/config.json', stateDir: '/s/registry-login', cacheDir: undefined },
    ],
  ])('works out %j', (env, places) => {
    const { containers: _containers, ...mine } = placesFromEnv(env);
    expect(mine).toEqual({ ...places, secrets: 'config' });
  });

  it("works out podman's, buildah's and skopeo's files as containers/image 5.23 reads them", () => {
    const uid = process.getuid?.() ?? 0;
    expect(placesFromEnv({ HOME: '/h' }).containers.authFiles.skopeo).toEqual([
      `/run/containers/${uid}/auth.json`,
      '/h/.config/containers/auth.json',
    ]);
    const set = placesFromEnv({ HOME: '/h', XDG_RUNTIME_DIR: '/r', XDG_CONFIG_HOME: '/x', DOCKER_CONFIG: '/d' });
    expect(set.containers.authFiles.skopeo).toEqual(['/r/containers/auth.json', '/x/containers/auth.json']);
    expect(set.containers.authFiles.podman).toEqual([]); // $DOCKER_CONFIG/config.json comes first for podman
    const authFile = placesFromEnv({ HOME: '/h', DOCKER_CONFIG: '/d', REGISTRY_AUTH_FILE: '/a.json' });
    expect(authFile.containers.authFiles.buildah).toEqual(['/a.json', '/h/.config/containers/auth.json']);
    const conf = placesFromEnv({ HOME: '/h', CONTAINERS_REGISTRIES_CONF: '/c.conf' }).containers.registriesConf;
    expect(conf.podman).toEqual(['/c.conf']);
    expect(conf.skopeo).toEqual(['/h/.config/containers/registries.conf', '/etc/containers/registries.conf']);
  });

  it('refuses a run without a usable home, naming first the docker config and then the state directory', () => {
    expect(() => placesFromEnv({ HOME: 'rel' })).toThrow(ConfigError);
    expect(() => placesFromEnv({ HOME: 'rel', XDG_STATE_HOME: '/s' })).toThrow(
      /HOME is the relative path "rel".*cannot tell where the docker config is.*Set HOME .*or DOCKER_CONFIG/,
    );
    expect(() => placesFromEnv({ HOME: 'rel', DOCKER_CONFIG: '/d' })).toThrow(
      /HOME is the relative path "rel".*nowhere to keep its state.*Set HOME .*or XDG_STATE_HOME/,
    );
  });
});
