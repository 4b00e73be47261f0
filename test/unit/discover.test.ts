import { describe, expect, it } from 'vitest';
import { discoverTriples } from '../../src/discover.js';

describe('discoverTriples', () => {
  it('groups the three members of a prefix into a triple', () => {
    const { triples, problems } = discoverTriples({
      ACME_CONTAINER_REGISTRY_SERVER: 'ghcr.io',
      ACME_CONTAINER_REGISTRY_USER: 'octo',
      ACME_CONTAINER_REGISTRY_PASSWORD: 'p4ss',
      PATH: '/usr/bin',
    });
    expect(problems).toEqual([]);
    expect(triples).toEqual([{ prefix: 'ACME', server: 'ghcr.io', user: 'octo', password: 'p4ss' }]);
  });

  it('compares names case-insensitively and groups by the upper-cased prefix', () => {
    const { triples } = discoverTriples({
      acme_container_registry_server: 'ghcr.io',
      Acme_Container_Registry_User: 'octo',
      ACME_CONTAINER_REGISTRY_PASSWORD: 'p4ss',
    });
    expect(triples).toEqual([{ prefix: 'ACME', server: 'ghcr.io', user: 'octo', password: 'p4ss' }]);
  });

  it("counts no name whose prefix holds a line break (the SPEC pattern's `.`), so it is neither a login nor a problem", () => {
    const { triples, problems } = discoverTriples({
      'A\nB_CONTAINER_REGISTRY_SERVER': 'ghcr.io',
      'A\nB_CONTAINER_REGISTRY_USER': 'octo',
      'A\nB_CONTAINER_REGISTRY_PASSWORD': 'p4ss',
      'C\n_CONTAINER_REGISTRY_PASSWORD': 'stray',
    });
    expect(triples).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('passes the optional session token', () => {
    const { triples } = discoverTriples({
      A_CONTAINER_REGISTRY_SERVER: 's',
      A_CONTAINER_REGISTRY_USER: 'u',
      A_CONTAINER_REGISTRY_PASSWORD: 'p',
      A_CONTAINER_REGISTRY_SESSION_TOKEN: 'tok',
    });
    expect(triples[0]?.sessionToken).toBe('tok');
  });

  it.each([
    [{ X_CONTAINER_REGISTRY_SERVER: 'h', X_CONTAINER_REGISTRY_USER: 'u' }, ['X_CONTAINER_REGISTRY_PASSWORD']],
    [{ X_CONTAINER_REGISTRY_PASSWORD: 'secret-value' }, ['X_CONTAINER_REGISTRY_SERVER', 'X_CONTAINER_REGISTRY_USER']],
    [
      {
        X_CONTAINER_REGISTRY_SERVER: 'h',
        X_CONTAINER_REGISTRY_USER: ' ',
        X_CONTAINER_REGISTRY_PASSWORD: 'secret-value',
      },
      ['X_CONTAINER_REGISTRY_USER'],
    ],
    [
      { X_CONTAINER_REGISTRY_SESSION_TOKEN: 'secret-value' },
      ['X_CONTAINER_REGISTRY_SERVER', 'X_CONTAINER_REGISTRY_USER', 'X_CONTAINER_REGISTRY_PASSWORD'],
    ],
  ])('reports an incomplete group by the names it lacks, never the values (%#)', (env, missing) => {
    const { triples, problems } = discoverTriples(env);
    expect(triples).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.prefix).toBe('X');
    for (const name of missing) expect(problems[0]!.message).toContain(name);
    expect(problems[0]!.message).not.toContain('secret-value');
  });

  it('ignores variables that only look similar', () => {
    const { triples, problems } = discoverTriples({
      _CONTAINER_REGISTRY_SERVER: 'h',
      CONTAINER_REGISTRY_SERVER: 'h',
      A_CONTAINER_REGISTRY_SERVERX: 'h',
      A_CONTAINER_REGISTRY: 'h',
    });
    expect(triples).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('keeps a prefix that itself contains the marker', () => {
    const { triples } = discoverTriples({
      A_CONTAINER_REGISTRY_B_CONTAINER_REGISTRY_SERVER: 'h',
      A_CONTAINER_REGISTRY_B_CONTAINER_REGISTRY_USER: 'u',
      A_CONTAINER_REGISTRY_B_CONTAINER_REGISTRY_PASSWORD: 'p',
    });
    expect(triples.map((t) => t.prefix)).toEqual(['A_CONTAINER_REGISTRY_B']);
  });

  it('reports two spellings of one member with different values, using the byte-order first', () => {
    const { triples, problems } = discoverTriples({
      ACME_CONTAINER_REGISTRY_SERVER: 'one.example',
      acme_container_registry_server: 'two.example',
      ACME_CONTAINER_REGISTRY_USER: 'u',
      ACME_CONTAINER_REGISTRY_PASSWORD: 'p-secret',
    });
    expect(triples[0]?.server).toBe('one.example');
    expect(problems[0]?.message).toMatch(/ACME_CONTAINER_REGISTRY_SERVER and acme_container_registry_server/);
  });

  it('returns triples in byte order of prefix', () => {
    const env: Record<string, string> = {};
    for (const p of ['b', 'A', 'a_b', 'Z'])
      Object.assign(env, {
        [`${p}_CONTAINER_REGISTRY_SERVER`]: 'h',
        [`${p}_CONTAINER_REGISTRY_USER`]: 'u',
        [`${p}_CONTAINER_REGISTRY_PASSWORD`]: 'p',
      });
    expect(discoverTriples(env).triples.map((t) => t.prefix)).toEqual(['A', 'A_B', 'B', 'Z']);
  });
});
