// The auths entry's auth field, as docker/cli's encodeAuth and decodeAuth (cli/config/configfile/file.go at commit
// 28f756087eea5fa301f3fbf12b01ae62f91521c2) read and write it.
import { describe, expect, it } from 'vitest';
import { decodeAuthsEntry, encodeAuth } from '../../src/docker/auth.js';

const auth = (text: string) => ({ auth: Buffer.from(text, 'utf8').toString('base64') });

describe('encodeAuth and decodeAuthsEntry', () => {
  it('encodes as docker does (its TestEncodeAuth case) and decodes it back', () => {
    expect(encodeAuth('ken', 'test')).toBe('a2VuOnRlc3Q=');
    expect(decodeAuthsEntry({ auth: encodeAuth('ken', 'test') })).toEqual({ username: 'ken', secret: 'test' });
  });

  it.each<[string, unknown, { username: string; secret: string } | undefined]>([
    ['splits at the first colon: the secret may hold more', auth('u:a:b'), { username: 'u', secret: 'a:b' }],
    ['an empty secret', auth('u:'), { username: 'u', secret: '' }],
    ['no colon: no credentials', auth('nocolon'), undefined],
    ['no user name: no credentials', auth(':pw'), undefined],
    ['an empty auth field', { auth: '' }, undefined],
    ['an identity token only', { identitytoken: 'x' }, undefined],
    ['not an object', 'str', undefined],
    ['null', null, undefined],
  ])('%s', (_, entry, expected) => {
    expect(decodeAuthsEntry(entry)).toEqual(expected);
  });
});
