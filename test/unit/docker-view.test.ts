// Which credentials docker would send (dockerChoice) and the one verdict built on it (dockerVerdict): tables. Which
// store docker asks is docker's lookup, whose own table is test/unit/lookup.test.ts; here is what follows from it.
import { describe, expect, it } from 'vitest';
import {
  dockerChoice,
  dockerVerdict,
  storeTrouble,
  type DockerChoice,
  type HelperHealth,
  type LoginFacts,
  type VerdictCode,
} from '../../src/docker-config/docker-view.js';
import type { Credentials } from '../../src/types.js';

const KEY = 'reg.example';
const OURS = { auth: Buffer.from('u:p').toString('base64') };
/** helperHealth for helpers on PATH (answering unless named in `trouble`); every other helper is missing. */
const onPath =
  (...names: string[]) =>
  (name: string): HelperHealth =>
    names.includes(name) ? 'answers' : 'missing';
const health = (states: Record<string, HelperHealth>) => (name: string) => states[name] ?? 'missing';

describe('dockerChoice', () => {
  it.each<[string, Record<string, unknown>, string[], Record<string, Credentials>, Partial<DockerChoice>]>([
    [
      'auths alone',
      { auths: { [KEY]: OURS } },
      [],
      {},
      { source: 'auths', credentials: { username: 'u', secret: 'p' } },
    ],
    ['nothing for the key', { auths: {} }, [], {}, { source: 'none' }],
    [
      'our credHelper serving auths',
      { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'registry-login' } },
      ['registry-login'],
      {},
      { source: 'auths', helper: 'registry-login', helperSetBy: 'credHelpers' },
    ],
    [
      'our credHelper serving a docker login',
      { auths: { [KEY]: {} }, credHelpers: { [KEY]: 'registry-login' } },
      ['registry-login'],
      { [KEY]: { username: 'me', secret: 's' } },
      { source: 'docker-login', credentials: { username: 'me', secret: 's' } },
    ],
    [
      'our credHelper missing from PATH',
      { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'registry-login' } },
      [],
      {},
      { source: 'auths', helperHealth: 'missing' },
    ],
    [
      'another credHelper',
      { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'ecr-login' } },
      ['ecr-login'],
      {},
      { source: 'other-helper', helper: 'ecr-login', helperSetBy: 'credHelpers' },
    ],
    [
      'a credsStore without a credHelpers entry',
      { auths: { [KEY]: OURS }, credsStore: 'devpod' },
      ['devpod'],
      {},
      { source: 'other-helper', helper: 'devpod', helperSetBy: 'credsStore' },
    ],
    [
      'a credsStore whose binary is missing',
      { auths: { [KEY]: OURS }, credsStore: 'devpod' },
      [],
      {},
      { source: 'auths', helper: 'devpod', helperSetBy: 'credsStore', helperHealth: 'missing' },
    ],
    [
      'an empty credHelpers entry: docker reads auths, past an answering credsStore',
      { auths: { [KEY]: OURS }, credsStore: 'devpod', credHelpers: { [KEY]: '' } },
      ['devpod'],
      {},
      { source: 'auths', credentials: { username: 'u', secret: 'p' } },
    ],
  ])('%s', (_name, config, helpers, dockerLogins, expected) => {
    expect(dockerChoice(KEY, { config, dockerLogins, helperHealth: onPath(...helpers) })).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>, Record<string, HelperHealth>, Partial<DockerChoice>]>([
    [
      'a failing credsStore: docker reads auths',
      { auths: { [KEY]: OURS }, credsStore: 'vsc' },
      { vsc: 'fails' },
      { source: 'auths', helperHealth: 'fails', credentials: { username: 'u', secret: 'p' } },
    ],
    [
      'a hanging credsStore blocks docker',
      { auths: { [KEY]: OURS }, credsStore: 'vsc' },
      { vsc: 'hangs' },
      { source: 'blocked', helper: 'vsc' },
    ],
    [
      'credHelpers is not affected by a hanging credsStore',
      { auths: { [KEY]: OURS }, credsStore: 'vsc', credHelpers: { [KEY]: 'registry-login' } },
      { vsc: 'hangs', 'registry-login': 'answers' },
      { source: 'auths', helper: 'registry-login' },
    ],
  ])('%s', (_name, config, states, expected) => {
    expect(dockerChoice(KEY, { config, dockerLogins: {}, helperHealth: health(states) })).toMatchObject(expected);
  });

  it('takes the default store docker detected for a config holding no auth at all', () => {
    const input = { dockerLogins: {}, helperHealth: onPath('pass'), defaultStore: 'pass' };
    expect(dockerChoice(KEY, { ...input, config: {} })).toMatchObject({
      source: 'other-helper',
      helper: 'pass',
      helperSetBy: 'default-store',
    });
  });
});

describe('dockerVerdict (the one answer of status and check)', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const configPath = '/home/u/.docker/config.json';
  const ours = { auths: { [KEY]: OURS }, credHelpers: { [KEY]: 'registry-login' } };
  const facts = (extra: Partial<LoginFacts> = {}): LoginFacts => ({
    configPath,
    entry: 'current',
    now,
    renewable: false,
    ...extra,
  });
  const expired = '2029-12-31T12:00:00.000Z';

  it.each<
    [
      string,
      Record<string, unknown>,
      Record<string, HelperHealth>,
      Partial<LoginFacts>,
      VerdictCode,
      boolean,
      RegExp | undefined,
    ]
  >([
    ['as written', ours, { 'registry-login': 'answers' }, {}, 'used', true, undefined],
    [
      'credHelpers points elsewhere',
      { ...ours, credHelpers: { [KEY]: 'ecr-login' } },
      { 'ecr-login': 'answers' },
      {},
      'other-helper',
      false,
      /credHelpers sends reg\.example to docker-credential-ecr-login; remove that line from \/home\/u\/\.docker\/config\.json/,
    ],
    [
      'a credsStore shadows it',
      { auths: ours.auths, credsStore: 'dev-containers-1' },
      { 'dev-containers-1': 'answers' },
      {},
      'creds-store',
      false,
      /credsStore helper docker-credential-dev-containers-1.*registry-login refresh/,
    ],
    [
      'auths entry gone',
      { credHelpers: ours.credHelpers },
      { 'registry-login': 'answers' },
      {},
      'no-entry',
      false,
      /the auths entry is gone .*holds no login for reg\.example; run/,
    ],
    [
      'auths entry without credentials',
      { ...ours, auths: { [KEY]: {} } },
      { 'registry-login': 'answers' },
      {},
      'empty-entry',
      false,
      /holds no credentials/,
    ],
    [
      'auths entry changed',
      ours,
      { 'registry-login': 'answers' },
      { entry: 'changed' },
      'changed',
      false,
      /changed outside registry-login; run `registry-login logout reg\.example`/,
    ],
    [
      'credentials registry-login did not write',
      ours,
      { 'registry-login': 'answers' },
      { entry: 'not-written' },
      'not-written',
      false,
      /did not write/,
    ],
    [
      'an older secret',
      ours,
      { 'registry-login': 'answers' },
      { entry: 'older-secret' },
      'older-secret',
      false,
      /older secret/,
    ],
    [
      'token expired',
      ours,
      { 'registry-login': 'answers' },
      { expiresAt: expired },
      'expired',
      false,
      /token expired at 2029-12-31T12:00:00\.000Z; run `registry-login refresh`/,
    ],
    [
      'token expired, the helper renews it',
      ours,
      { 'registry-login': 'answers' },
      { expiresAt: expired, renewable: true },
      'used-helper-renews',
      true,
      /gets a new one/,
    ],
    [
      'token expired, keys at hand but the helper is not on PATH',
      ours,
      {},
      { expiresAt: expired, renewable: true },
      'expired',
      false,
      /token expired/,
    ],
    [
      'token still valid',
      ours,
      { 'registry-login': 'answers' },
      { expiresAt: '2030-01-01T06:00:00.000Z' },
      'used',
      true,
      undefined,
    ],
    [
      'our helper not on PATH',
      ours,
      {},
      {},
      'used-own-helper-missing',
      true,
      /docker-credential-registry-login is not on PATH, so docker reads the auths entry/,
    ],
    [
      'credsStore missing, no credHelpers entry',
      { auths: ours.auths, credsStore: 'devpod' },
      {},
      {},
      'used-helper-missing',
      true,
      /credsStore "devpod".*docker-credential-devpod is not on PATH; docker pull and docker build go on without it.*DOCKER_CONFIG/,
    ],
    [
      'credsStore failing, no credHelpers entry',
      { auths: ours.auths, credsStore: 'devpod' },
      { devpod: 'fails' },
      {},
      'used-helper-fails',
      true,
      /fails when docker runs it; docker pull and docker build print its error/,
    ],
    [
      'credsStore hanging, no credHelpers entry',
      { auths: ours.auths, credsStore: 'devpod' },
      { devpod: 'hangs' },
      {},
      'helper-hangs',
      false,
      /does not answer; docker pull and docker build wait for it without end; skopeo ignores credsStore/,
    ],
    [
      'credsStore hanging, our credHelpers entry wins',
      { ...ours, credsStore: 'devpod' },
      { devpod: 'hangs', 'registry-login': 'answers' },
      {},
      'used',
      true,
      undefined,
    ],
    [
      'foreign credHelper missing',
      { ...ours, credHelpers: { [KEY]: 'gone' } },
      {},
      {},
      'used-helper-missing',
      true,
      /credHelpers sends reg\.example to docker-credential-gone, which is not on PATH.*Remove that credHelpers line/,
    ],
    [
      'the default store answers for an empty config',
      {},
      { pass: 'answers' },
      {},
      'default-store',
      false,
      /holds no login at all, so docker asks its default store docker-credential-pass/,
    ],
    [
      'a `docker login` served by our helper',
      ours,
      { 'registry-login': 'answers' },
      {},
      'used-docker-login',
      true,
      /served from the login stored by `docker login`/,
    ],
  ])('%s', (name, config, states, extra, code, used, sentence) => {
    const dockerLogins: Record<string, Credentials> = name.includes('docker login')
      ? { [KEY]: { username: 'me', secret: 's' } }
      : {};
    const defaultStore = Object.keys(config).length === 0 ? 'pass' : undefined;
    const verdict = dockerVerdict(
      KEY,
      dockerChoice(KEY, { config, dockerLogins, helperHealth: health(states), defaultStore }),
      facts(extra),
    );
    expect(verdict).toMatchObject({ code, used });
    if (sentence) expect(verdict.sentence).toMatch(sentence);
    else expect(verdict.sentence).toBeUndefined();
  });
});

describe('storeTrouble (the store every registry without a credHelpers entry meets)', () => {
  const configPath = '/c/config.json';
  it.each<[string, Record<string, unknown>, Record<string, HelperHealth>, string | undefined, RegExp | undefined]>([
    ['no store, a login in auths', { auths: { [KEY]: OURS } }, {}, undefined, undefined],
    [
      'an empty config without pass: the default store is missing',
      { auths: {} },
      {},
      'missing',
      /default store docker-credential-pass/,
    ],
    ['a store that answers', { credsStore: 'desktop' }, { desktop: 'answers' }, undefined, undefined],
    ['registry-login as the store', { credsStore: 'registry-login' }, {}, undefined, undefined],
    [
      'missing',
      { credsStore: 'dev-containers-abc' },
      {},
      'missing',
      /names the credsStore "dev-containers-abc", which docker asks for every registry without a credHelpers entry, and docker-credential-dev-containers-abc is not on PATH/,
    ],
    ['failing', { credsStore: 'devpod' }, { devpod: 'fails' }, 'fails', /print its error and go on without it/],
    [
      'hanging',
      { credsStore: 'devpod' },
      { devpod: 'hangs' },
      'hangs',
      /wait for it without end; skopeo ignores credsStore\. An editor adds such a store for its own terminals.*DOCKER_CONFIG.*never edits it/,
    ],
    ['a hanging default store', {}, { pass: 'hangs' }, 'hangs', /default store docker-credential-pass/],
  ])('%s', (_name, config, states, state, sentence) => {
    const trouble = storeTrouble(
      { config, dockerLogins: {}, helperHealth: health(states), defaultStore: 'pass' },
      configPath,
    );
    expect(trouble?.health).toBe(state);
    if (sentence) expect(trouble?.sentence).toMatch(sentence);
  });
});
