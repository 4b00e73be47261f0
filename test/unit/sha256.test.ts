import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/sha256.js';

describe('sha256Hex', () => {
  it('is the hex SHA-256 of the UTF-8 text (vectors from FIPS 180-2 and Python hashlib)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('é\0🔑')).toBe('51d6afcf0f2f813dab0d54b0d39ed81bcb4d9649ad8a779733c4f6d748469ab0');
  });
});
