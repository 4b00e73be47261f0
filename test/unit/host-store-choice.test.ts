// Where `docker login` would keep a login on a host (docker/cli's GetCredentialsStore and DetectDefaultStore), as a
// table. The platform is passed in, so the macOS and Windows rows run here too; the real osxkeychain and wincred
// helpers are not run on this Linux machine.
import { describe, expect, it } from 'vitest';
import { chooseStore, defaultStore, holdsNoAuth, type StoreChoice } from '../../src/host/store-choice.js';

const KEY = 'registry.example.com';
const onPath =
  (...programs: string[]) =>
  (name: string) =>
    programs.includes(name);

describe('defaultStore', () => {
  it.each([
    ['linux', ['pass', 'docker-credential-pass'], 'pass'],
    ['linux', ['pass', 'docker-credential-secretservice'], undefined], // pass wins the choice, and its helper is missing
    ['linux', ['docker-credential-secretservice'], 'secretservice'],
    ['linux', ['docker-credential-pass'], undefined], // no pass program: secretservice, whose helper is missing
    ['linux', [], undefined],
    ['darwin', ['docker-credential-osxkeychain'], 'osxkeychain'],
    ['darwin', ['pass', 'docker-credential-pass'], undefined],
    ['win32', ['docker-credential-wincred'], 'wincred'],
    ['freebsd', ['pass', 'docker-credential-pass'], undefined],
  ] as const)('%s with %j on PATH → %s', (platform, programs, expected) => {
    expect(defaultStore({ platform, onPath: onPath(...programs) })).toBe(expected);
  });
});

describe('holdsNoAuth (docker: no auths entry, not even {}, no credHelpers entry, no credsStore)', () => {
  it.each([
    [{}, true],
    [{ auths: {} }, true],
    [{ credHelpers: {}, credsStore: '' }, true],
    [{ auths: { [KEY]: {} } }, false],
    [{ credHelpers: { [KEY]: 'ecr-login' } }, false],
    [{ credsStore: 'desktop' }, false],
  ])('%j → %s', (config, expected) => {
    expect(holdsNoAuth(config)).toBe(expected);
  });
});

describe('chooseStore', () => {
  const linuxWithPass = { platform: 'linux' as const, onPath: onPath('pass', 'docker-credential-pass') };
  it.each<[string, Record<string, unknown>, StoreChoice]>([
    [
      'credHelpers for the key wins',
      { credHelpers: { [KEY]: 'desktop' }, credsStore: 'pass' },
      { kind: 'helper', name: 'desktop', setBy: 'credHelpers' },
    ],
    [
      'a credHelpers entry for another key does not apply',
      { credHelpers: { 'other.example': 'desktop' } },
      { kind: 'file' },
    ],
    ['then credsStore', { credsStore: 'osxkeychain' }, { kind: 'helper', name: 'osxkeychain', setBy: 'credsStore' }],
    [
      'WSL: Docker Desktop for Windows',
      { credsStore: 'desktop.exe' },
      { kind: 'helper', name: 'desktop.exe', setBy: 'credsStore' },
    ],
    ['ecr-login cannot store', { credHelpers: { [KEY]: 'ecr-login' } }, { kind: 'cannot-store', name: 'ecr-login' }],
    ['gcloud cannot store', { credsStore: 'gcloud' }, { kind: 'cannot-store', name: 'gcloud' }],
    ['no auth at all: the platform default', {}, { kind: 'helper', name: 'pass', setBy: 'default' }],
    ['an empty auths object is still no auth', { auths: {} }, { kind: 'helper', name: 'pass', setBy: 'default' }],
    ['any auths entry: the file', { auths: { 'other.example': {} } }, { kind: 'file' }],
    ['an empty credsStore counts as none', { credsStore: '', auths: { x: {} } }, { kind: 'file' }],
  ])('%s', (_, config, expected) => {
    expect(chooseStore(config, KEY, linuxWithPass)).toEqual(expected);
  });

  it('macOS with no auth: osxkeychain when its helper exists, else the file', () => {
    expect(chooseStore({}, KEY, { platform: 'darwin', onPath: onPath('docker-credential-osxkeychain') })).toEqual({
      kind: 'helper',
      name: 'osxkeychain',
      setBy: 'default',
    });
    expect(chooseStore({}, KEY, { platform: 'darwin', onPath: onPath() })).toEqual({ kind: 'file' });
  });
});
