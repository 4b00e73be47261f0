// refreshHost with the platform passed in: on macOS, a config with no auth goes to osxkeychain when its helper exists,
// as docker login does there. The helper here is a file-backed stand-in: the real osxkeychain is not run on Linux.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { refreshHost } from '../../src/commands/host-refresh.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

it('macOS: no store named and no auth → osxkeychain, with credsStore and the auths marker written as docker login does', async () => {
  const dir = await tmp.make('rl-host-darwin-');
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  const helper = path.join(bin, 'docker-credential-osxkeychain');
  await writeFile(
    helper,
    `#!/bin/sh\ncase "$1" in\n  get) echo "credentials not found in native keychain"; exit 1;;\n  store) cat > '${path.join(dir, 'stored.json')}';;\nesac\n`,
  );
  await chmod(helper, 0o755);
  const env = {
    HOME: dir,
    PATH: `${bin}:/usr/bin:/bin`,
    ACME_CONTAINER_REGISTRY_SERVER: 'registry.example.com',
    ACME_CONTAINER_REGISTRY_USER: 'robot',
    ACME_CONTAINER_REGISTRY_PASSWORD: 'darwin-secret',
  };
  const result = await refreshHost(env, { force: false, platform: 'darwin' });
  expect(result.logins).toEqual([
    { prefix: 'ACME', key: 'registry.example.com', kind: 'static', status: 'ok', store: 'osxkeychain', changed: true },
  ]);
  expect(JSON.parse(await readFile(path.join(dir, 'stored.json'), 'utf8'))).toEqual({
    ServerURL: 'registry.example.com',
    Username: 'robot',
    Secret: 'darwin-secret',
  });
  expect(JSON.parse(await readFile(path.join(dir, '.docker', 'config.json'), 'utf8'))).toEqual({
    auths: { 'registry.example.com': {} },
    credsStore: 'osxkeychain',
  });

  // The same machine as Linux: no pass, no secretservice helper → the file.
  const linux = await tmp.make('rl-host-linux-');
  const onLinux = await refreshHost({ ...env, HOME: linux }, { force: false, platform: 'linux' });
  expect(onLinux.logins[0]).toMatchObject({ status: 'ok', store: 'file' });
});
