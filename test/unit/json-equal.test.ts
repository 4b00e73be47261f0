import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { jsonEqual } from '../../src/json-equal.js';

describe('jsonEqual', () => {
  it('compares JSON data member by member, in any order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
    expect(jsonEqual(undefined, undefined)).toBe(true);
    expect(jsonEqual(undefined, null)).toBe(false);
  });

  it('ignores what JSON cannot hold: prototypes and undefined members', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: { auth: 'x' } });
    expect(jsonEqual(bare, { k: { auth: 'x' } })).toBe(true);
    expect(jsonEqual({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, gone: undefined })).toBe(true);
    expect(jsonEqual({ gone: undefined }, { other: undefined })).toBe(true);
  });

  it('agrees with isDeepStrictEqual on parsed JSON (random documents)', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const value = (depth: number): unknown => {
      switch (rand(depth > 2 ? 4 : 6)) {
        case 0:
          return rand(3);
        case 1:
          return ['a', 'b', ''][rand(3)];
        case 2:
          return rand(2) === 0;
        case 3:
          return null;
        case 4:
          return Array.from({ length: rand(3) }, () => value(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: rand(3) }, () => [['x', 'y', 'z'][rand(3)], value(depth + 1)]),
          );
      }
    };
    let equal = 0;
    for (let i = 0; i < 3000; i++) {
      const a = JSON.parse(JSON.stringify(value(0))) as unknown;
      const b =
        rand(3) === 0 ? (JSON.parse(JSON.stringify(a)) as unknown) : (JSON.parse(JSON.stringify(value(0))) as unknown);
      const expected = isDeepStrictEqual(a, b);
      if (expected) equal++;
      expect(jsonEqual(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(expected);
    }
    // Both outcomes were exercised.
    expect(equal).toBeGreaterThan(100);
    expect(equal).toBeLessThan(2900);
  });
});
