import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoString } from '../../src/time.js';

describe('isoString', () => {
  it('is toISOString, for any time', () => {
    // The whole range of a Date (years -271821 to 275760), so both branches run, and years 0-9999 alone.
    fc.assert(fc.property(fc.date({ noInvalidDate: true }), (date) => {
      expect(isoString(date)).toBe(date.toISOString());
    }), { numRuns: 5000 });
    fc.assert(fc.property(fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (date) => {
      expect(isoString(date)).toBe(date.toISOString());
    }), { numRuns: 5000 });
    for (const text of ['1970-01-01T00:00:00.000Z', '2026-11-25T08:07:01.007Z', '0001-02-03T04:05:06.078Z', '9999-12-31T23:59:59.999Z']) expect(isoString(new Date(text))).toBe(text);
  });

  it('throws for an invalid date, as toISOString does', () => {
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});
