/**
 * The hash must be MurmurHash3_x86_128 bit for bit, or profiles built by
 * different replicas (or later versions) would count the same value twice.
 * SMHasher's verification value checks every code path (all tail lengths,
 * blocks, seeds) in one number.
 */
import { describe, expect, it } from 'vitest';
import { HASH_OUT, hashFloat64, hashString, murmur3x86_128 } from './hash.js';

describe('murmur3x86_128', () => {
  it('matches the SMHasher verification value 0xB3ECE62A', () => {
    // SMHasher VerificationTest: hash keys {}, {0}, {0,1}, … (length i, seed
    // 256 - i), concatenate the digests (little-endian words), hash that with
    // seed 0; the first little-endian word is the verification value.
    const key = new Uint8Array(256);
    const digests = new Uint8Array(16 * 256);
    const view = new DataView(digests.buffer);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      murmur3x86_128(key, i, 256 - i);
      for (let w = 0; w < 4; w++) view.setUint32(i * 16 + w * 4, HASH_OUT[w], true);
    }
    murmur3x86_128(digests, digests.length, 0);
    expect(HASH_OUT[0]).toBe(0xb3ece62a);
  });

  it('hashes the empty key with seed 0 to zero (reference behaviour)', () => {
    murmur3x86_128(new Uint8Array(0), 0, 0);
    expect([...HASH_OUT]).toEqual([0, 0, 0, 0]);
  });
});

describe('hashFloat64 / hashString', () => {
  it('hashFloat64 equals the generic hash of the float64 little-endian bytes', () => {
    for (const x of [1, -1.5, Math.PI, 1e300, -Infinity, 123456789]) {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, x, true);
      murmur3x86_128(bytes, 8, 0);
      const expected = [HASH_OUT[0], HASH_OUT[1]];
      hashFloat64(x);
      expect([HASH_OUT[0], HASH_OUT[1]]).toEqual(expected);
    }
  });

  it('treats -0 and 0 as one value', () => {
    hashFloat64(0);
    const zero = [HASH_OUT[0], HASH_OUT[1]];
    hashFloat64(-0);
    expect([HASH_OUT[0], HASH_OUT[1]]).toEqual(zero);
  });

  it('hashString hashes UTF-8 bytes, including multi-byte characters', () => {
    for (const s of ['', 'a', 'churn', 'héllo wörld', '日本語のテキスト', '🙂'.repeat(40), 'lone \ud800 x', 'end \udc00', 'tail \ud83d']) {
      const bytes = new TextEncoder().encode(s);
      murmur3x86_128(bytes, bytes.length, 0);
      const expected = [...HASH_OUT];
      hashString(s);
      expect([...HASH_OUT]).toEqual(expected);
    }
  });
});
