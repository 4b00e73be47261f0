// Which credentials docker would send (dockerChoice) and the status verdict built on it (judgeEffective): tables.
import { describe, expect, it } from 'vitest';
import { decodeAuthsEntry, dockerChoice, type DockerChoice } from '../../src/docker-config/docker-view.js';
import { hashEntry, type LedgerEntry } from '../../src/docker-config/ledger.js';
import { judgeEffective } from '../../src/commands/status.js';

const KEY = 'reg.example';
const OURS = { auth: Buffer.from('u:p').toString('base64') };
const onPath = (...names: string[]) => (name: string) => names.includes(name);

describe('dockerChoice', () => {
  it.each<[string, Record<string, unknown>, string[], Record<string, { Username: string; Secret: string }>, Partial<DockerChoice>]>([
    ['auths alone', { auths: { [KEY]: OURS } }, [], {}, { source: 'auths', credentials: { username: 'u', secret: 'p' } }],
    ['nothing for the key', { auths: {} }, [], {}, { source: 'none' }],
    ['our credHelper serving auths', { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'registry-login' } }, ['registry-login'], {}, { source: 'auths', helper: 'registry-login', helperSetBy: 'credHelpers' }],
    ['our credHelper serving a docker login', { auths: { [KEY]: {} }, credHelpers: { [KEY]: 'registry-login' } }, ['registry-login'], { [KEY]: { Username: 'me', Secret: 's' } }, { source: 'docker-login', credentials: { username: 'me', secret: 's' } }],
    ['our credHelper missing from PATH', { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'registry-login' } }, [], {}, { source: 'auths', helperMissing: true }],
    ['another credHelper', { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'ecr-login' } }, ['ecr-login'], {}, { source: 'other-helper', helper: 'ecr-login', helperSetBy: 'credHelpers' }],
    ['a credsStore without a credHelpers entry', { auths: { [KEY]: OURS }, credsStore: 'devpod' }, ['devpod'], {}, { source: 'other-helper', helper: 'devpod', helperSetBy: 'credsStore' }],
    ['a credsStore whose binary is missing', { auths: { [KEY]: OURS }, credsStore: 'devpod' }, [], {}, { source: 'auths', helper: 'devpod', helperSetBy: 'credsStore', helperMissing: true }],
    ['credHelpers beats credsStore', { auths: { [KEY]: OURS }, credsStore: 'devpod', credHelpers: { [KEY]: 'registry-login' } }, ['devpod', 'registry-login'], {}, { source: 'auths', helper: 'registry-login' }],
    ['another key’s credHelpers entry does not count', { auths: { [KEY]: OURS }, credHelpers: { 'other.example': 'x' } }, ['x'], {}, { source: 'auths' }],
  ])('%s', (_name, config, helpers, stored, expected) => {
    expect(dockerChoice(KEY, { config, stored, helperOnPath: onPath(...helpers) })).toMatchObject(expected);
  });

  it('decodes auth fields whose password holds a colon, and refuses entries without one', () => {
    expect(decodeAuthsEntry({ auth: Buffer.from('u:a:b').toString('base64') })).toEqual({ username: 'u', secret: 'a:b' });
    expect(decodeAuthsEntry({ auth: Buffer.from('nocolon').toString('base64') })).toBeUndefined();
    expect(decodeAuthsEntry({ identitytoken: 'x' })).toBeUndefined();
    expect(decodeAuthsEntry('str')).toBeUndefined();
  });
});

describe('judgeEffective (the effective column of status)', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const entry = (extra: Partial<LedgerEntry> = {}): LedgerEntry => ({ prefix: 'ACME', kind: 'static', authHashes: [hashEntry(OURS)], ...extra });
  const context = { configPath: '/home/u/.docker/config.json', now, renewable: false };
  const judge = (config: Record<string, unknown>, helpers: string[], e = entry(), renewable = false) =>
    judgeEffective(KEY, e, dockerChoice(KEY, { config, stored: {}, helperOnPath: onPath(...helpers) }), { ...context, renewable });
  const ours = { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'registry-login' } };

  it.each<[string, Record<string, unknown>, string[], LedgerEntry | undefined, boolean, boolean, RegExp | undefined]>([
    ['as written', ours, ['registry-login'], undefined, false, true, undefined],
    ['credHelpers points elsewhere', { ...ours, credHelpers: { [KEY]: 'ecr-login' } }, ['ecr-login'], undefined, false, false, /credHelpers sends reg\.example to docker-credential-ecr-login; remove that line from \/home\/u\/\.docker\/config\.json/],
    ['a credsStore shadows it', { auths: ours.auths, credsStore: 'dev-containers-1' }, ['dev-containers-1'], undefined, false, false, /credsStore helper docker-credential-dev-containers-1.*registry-login refresh/],
    ['auths entry gone', { credHelpers: ours.credHelpers }, ['registry-login'], undefined, false, false, /auths entry is gone/],
    ['auths entry changed', { ...ours, auths: { [KEY]: { auth: Buffer.from('u:other').toString('base64') } } }, ['registry-login'], undefined, false, false, /changed outside registry-login; run `registry-login logout reg\.example`/],
    ['auths entry without credentials', { ...ours, auths: { [KEY]: {} } }, ['registry-login'], undefined, false, false, /holds no credentials/],
    ['token expired', ours, ['registry-login'], entry({ kind: 'ecr-token', expiresAt: '2029-12-31T12:00:00.000Z' }), false, false, /token expired at 2029-12-31T12:00:00\.000Z; run `registry-login refresh`/],
    ['token expired, the helper renews it', ours, ['registry-login'], entry({ kind: 'ecr-keys', expiresAt: '2029-12-31T12:00:00.000Z' }), true, true, /gets a new one/],
    ['token expired, keys in env but the helper is not on PATH', ours, [], entry({ kind: 'ecr-keys', expiresAt: '2029-12-31T12:00:00.000Z' }), true, false, /token expired/],
    ['token still valid', ours, ['registry-login'], entry({ kind: 'ecr-token', expiresAt: '2030-01-01T06:00:00.000Z' }), false, true, undefined],
    ['our helper not on PATH', ours, [], undefined, false, true, /docker-credential-registry-login is not on PATH, so docker reads the auths entry/],
    ['credsStore binary missing and no credHelpers entry', { auths: ours.auths, credsStore: 'devpod' }, [], undefined, false, true, /only while the credsStore helper docker-credential-devpod is not on PATH/],
    ['foreign credHelper binary missing', { ...ours, credHelpers: { [KEY]: 'gone' } }, [], undefined, false, true, /docker-credential-gone, which is not on PATH/],
  ])('%s', (_name, config, helpers, e, renewable, effective, reason) => {
    const verdict = judge(config, helpers, e ?? entry(), renewable);
    expect(verdict.effective).toBe(effective);
    if (reason) expect(verdict.reason).toMatch(reason);
    else expect(verdict.reason).toBeUndefined();
  });

  it('recognises the entry refresh would write now without its hash, and still by hash when the secret changed since', () => {
    const choice = dockerChoice(KEY, { config: ours, stored: {}, helperOnPath: onPath('registry-login') });
    // No hash recorded at all: equal to what refresh would write now is enough.
    expect(judgeEffective(KEY, entry({ authHashes: [] }), choice, { ...context, expected: OURS })).toEqual({ effective: true });
    // The secret changed since the last refresh: the recorded hash still recognises the entry.
    expect(judgeEffective(KEY, entry(), choice, { ...context, expected: { auth: Buffer.from('u:new').toString('base64') } })).toEqual({ effective: true });
    // Neither: changed outside registry-login.
    const other = { auth: Buffer.from('u:new').toString('base64') };
    expect(judgeEffective(KEY, entry({ authHashes: [] }), choice, { ...context, expected: other })).toMatchObject({ effective: false, reason: expect.stringMatching(/changed outside registry-login/) });
  });

  it('calls a login served from `docker login` effective, saying so', () => {
    const choice = dockerChoice(KEY, { config: ours, stored: { [KEY]: { Username: 'me', Secret: 's' } }, helperOnPath: onPath('registry-login') });
    expect(judgeEffective(KEY, entry(), choice, context)).toEqual({ effective: true, reason: 'served from the login stored by `docker login`' });
  });
});
