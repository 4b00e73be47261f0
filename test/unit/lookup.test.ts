// docker's own lookup, as a table. The cases follow docker/cli at commit 28f756087eea5fa301f3fbf12b01ae62f91521c2:
// getConfiguredCredentialStore and ContainsAuth (cli/config/configfile/file.go), DetectDefaultStore and
// defaultCredentialsStore (cli/config/credentials/default_store*.go), LoadDefaultConfigFile (cli/config/config.go),
// which detects the default store only for a config that does not ContainsAuth. The platform is passed in, so the
// macOS and Windows rows run here too.
import { describe, expect, it } from 'vitest';
import { detectDefaultStore, lookupStore, memberObject, type StoreLookup } from '../../src/docker/lookup.js';

const KEY = 'registry.example.com';
const onPath =
  (...programs: string[]) =>
  (program: string) =>
    programs.includes(program);
const auths: StoreLookup = { store: 'auths' };
const helper = (name: string, setBy: 'credHelpers' | 'credsStore' | 'default-store'): StoreLookup => ({
  store: 'helper',
  helper: name,
  setBy,
});

describe('lookupStore (getConfiguredCredentialStore, then the default store of LoadDefaultConfigFile)', () => {
  it.each<[string, Record<string, unknown>, string, StoreLookup]>([
    [
      'a credHelpers entry for the key wins',
      { credHelpers: { [KEY]: 'desktop' }, credsStore: 'pass' },
      KEY,
      helper('desktop', 'credHelpers'),
    ],
    [
      'an empty credHelpers entry means the file store, past credsStore',
      { credHelpers: { [KEY]: '' }, credsStore: 'pass' },
      KEY,
      auths,
    ],
    ['an empty credHelpers entry is auth: no default store', { credHelpers: { [KEY]: '' } }, KEY, auths],
    [
      'another key’s credHelpers entry: credsStore',
      { credHelpers: { other: 'x' }, credsStore: 'desktop.exe' },
      KEY,
      helper('desktop.exe', 'credsStore'),
    ],
    ['another key’s credHelpers entry is auth: no default store', { credHelpers: { other: 'x' } }, KEY, auths],
    [
      'the key "" skips credHelpers (the store of keys without an entry)',
      { credHelpers: { '': 'x' }, credsStore: 'vsc' },
      '',
      helper('vsc', 'credsStore'),
    ],
    ['credsStore', { credsStore: 'osxkeychain', auths: { [KEY]: {} } }, KEY, helper('osxkeychain', 'credsStore')],
    ['no auth at all: the default store', {}, KEY, helper('pass', 'default-store')],
    ['an empty auths map is no auth', { auths: {} }, KEY, helper('pass', 'default-store')],
    [
      'empty maps and an empty credsStore are no auth',
      { auths: {}, credHelpers: {}, credsStore: '' },
      KEY,
      helper('pass', 'default-store'),
    ],
    ['any auths entry is auth: the file store', { auths: { other: {} } }, KEY, auths],
    ['an empty credsStore counts as none', { credsStore: '', auths: { other: {} } }, KEY, auths],
    [
      '"__proto__" is a key like any other',
      JSON.parse('{"credHelpers":{"__proto__":"x"}}') as Record<string, unknown>,
      '__proto__',
      helper('x', 'credHelpers'),
    ],
    [
      'an inherited name is no entry',
      { credHelpers: { other: 'x' }, credsStore: 'vsc' },
      'constructor',
      helper('vsc', 'credsStore'),
    ],
  ])('%s', (_, config, key, expected) => {
    expect(lookupStore(config, key, () => 'pass')).toEqual(expected);
  });

  it('asks for the default store only when the config holds no auth; none detected: the file store', () => {
    let asked = 0;
    const detect = () => (asked++, undefined);
    expect(lookupStore({ auths: { other: {} } }, KEY, detect)).toEqual(auths);
    expect(asked).toBe(0);
    expect(lookupStore({}, KEY, detect)).toEqual(auths);
    expect(asked).toBe(1);
  });
});

describe('detectDefaultStore (DetectDefaultStore: the platform default, only when its helper is on PATH)', () => {
  it.each<[NodeJS.Platform, string[], string | undefined]>([
    ['linux', ['pass', 'docker-credential-pass'], 'pass'],
    ['linux', ['pass', 'docker-credential-secretservice'], undefined], // pass wins the choice, and its helper is missing
    ['linux', ['docker-credential-secretservice'], 'secretservice'],
    ['linux', ['docker-credential-pass'], undefined], // no pass program: secretservice, whose helper is missing
    ['linux', [], undefined],
    ['darwin', ['docker-credential-osxkeychain'], 'osxkeychain'],
    ['darwin', ['pass', 'docker-credential-pass'], undefined],
    ['win32', ['docker-credential-wincred'], 'wincred'],
    ['win32', [], undefined],
    ['freebsd', ['pass', 'docker-credential-pass'], undefined],
  ])('%s with %j on PATH → %s', (platform, programs, expected) => {
    expect(detectDefaultStore(platform, onPath(...programs))).toBe(expected);
  });
});

describe('memberObject (the one way the config’s maps are read)', () => {
  it.each<[unknown, Record<string, unknown>]>([
    [{ [KEY]: { auth: 'x' } }, { [KEY]: { auth: 'x' } }],
    [undefined, {}],
    [['a'], {}],
    ['text', {}],
    [null, {}],
  ])('%j → %j, without a prototype', (auths, expected) => {
    const read = memberObject({ auths }, 'auths');
    expect(Object.getPrototypeOf(read)).toBeNull();
    expect({ ...read }).toEqual(expected);
  });

  it('is a copy: changing it leaves the config alone', () => {
    const config = { auths: { [KEY]: { auth: 'x' } } };
    delete memberObject(config, 'auths')[KEY];
    expect(config.auths[KEY]).toEqual({ auth: 'x' });
  });
});
