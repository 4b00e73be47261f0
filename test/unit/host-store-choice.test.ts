// Where `docker login` would keep a login on a host: docker's lookup (its table is test/unit/lookup.test.ts) mapped to
// the host's stores, with the helpers that fetch their own credentials left alone.
import { describe, expect, it } from 'vitest';
import { loginDestination, type LoginDestination } from '../../src/host/login-destination.js';

const KEY = 'registry.example.com';
const onPath =
  (...programs: string[]) =>
  (name: string) =>
    programs.includes(name);

describe('loginDestination', () => {
  const linuxWithPass = { platform: 'linux' as const, onPath: onPath('pass', 'docker-credential-pass') };
  it.each<[string, Record<string, unknown>, LoginDestination]>([
    [
      'a credHelpers entry: that helper',
      { credHelpers: { [KEY]: 'desktop' }, credsStore: 'pass' },
      { kind: 'helper', name: 'desktop', setBy: 'credHelpers' },
    ],
    [
      'an empty credHelpers entry: the file, past credsStore',
      { credHelpers: { [KEY]: '' }, credsStore: 'pass' },
      { kind: 'file' },
    ],
    ['ecr-login cannot store', { credHelpers: { [KEY]: 'ecr-login' } }, { kind: 'cannot-store', name: 'ecr-login' }],
    ['gcloud cannot store', { credsStore: 'gcloud' }, { kind: 'cannot-store', name: 'gcloud' }],
    ['no auth at all: the platform default', {}, { kind: 'helper', name: 'pass', setBy: 'default-store' }],
    ['any auths entry: the file', { auths: { 'other.example': {} } }, { kind: 'file' }],
  ])('%s', (_, config, expected) => {
    expect(loginDestination(config, KEY, linuxWithPass)).toEqual(expected);
  });

  it('macOS with no auth: osxkeychain when its helper exists, else the file', () => {
    expect(loginDestination({}, KEY, { platform: 'darwin', onPath: onPath('docker-credential-osxkeychain') })).toEqual({
      kind: 'helper',
      name: 'osxkeychain',
      setBy: 'default-store',
    });
    expect(loginDestination({}, KEY, { platform: 'darwin', onPath: onPath() })).toEqual({ kind: 'file' });
  });
});
