/**
 * 64-bit hashing for the distinct-count sketch: MurmurHash3_x86_128 (Austin
 * Appleby's reference algorithm, public domain), of which the first two 32-bit
 * words (h1, h2) are used. It runs on 32-bit integer arithmetic (Math.imul),
 * so no BigInt is needed in the hot loop, and it is checked against the
 * SMHasher verification value, so every replica hashes the same value alike.
 *
 * Numbers are hashed as their IEEE-754 float64 bytes (little-endian; -0 as 0),
 * strings as their UTF-8 bytes. The result lands in `HASH_OUT` (h1, h2, h3,
 * h4) to avoid allocating per value.
 */

/** The four words of the last hash; callers read [0] and [1]. */
export const HASH_OUT = new Uint32Array(4);

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function finish(h1: number, h2: number, h3: number, h4: number, len: number): void {
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  HASH_OUT[0] = h1;
  HASH_OUT[1] = h2;
  HASH_OUT[2] = h3;
  HASH_OUT[3] = h4;
}

const mixK1 = (k: number) => Math.imul(rotl(Math.imul(k, C1), 15), C2);
const mixK2 = (k: number) => Math.imul(rotl(Math.imul(k, C2), 16), C3);
const mixK3 = (k: number) => Math.imul(rotl(Math.imul(k, C3), 17), C4);
const mixK4 = (k: number) => Math.imul(rotl(Math.imul(k, C4), 18), C1);

/** MurmurHash3_x86_128 of `bytes[0, len)` with `seed`; result in HASH_OUT. */
export function murmur3x86_128(bytes: Uint8Array, len: number, seed: number): void {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blocks = len >>> 4;
  const word = (i: number) => bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
  for (let b = 0; b < blocks; b++) {
    const i = b << 4;
    h1 ^= mixK1(word(i));
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    h2 ^= mixK2(word(i + 4));
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    h3 ^= mixK3(word(i + 8));
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    h4 ^= mixK4(word(i + 12));
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const t = blocks << 4;
  const rest = len & 15;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  // The reference's fall-through switch, unrolled: each byte lands in its word.
  for (let j = rest - 1; j >= 0; j--) {
    const v = bytes[t + j] << ((j & 3) << 3);
    if (j >= 12) k4 ^= v;
    else if (j >= 8) k3 ^= v;
    else if (j >= 4) k2 ^= v;
    else k1 ^= v;
  }
  if (rest > 12) h4 ^= mixK4(k4);
  if (rest > 8) h3 ^= mixK3(k3);
  if (rest > 4) h2 ^= mixK2(k2);
  if (rest > 0) h1 ^= mixK1(k1);
  finish(h1, h2, h3, h4, len);
}

const F64 = new Float64Array(1);
const F64_WORDS = new Uint32Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/**
 * MurmurHash3_x86_128 (seed 0) of the 8 little-endian bytes of `x` as a
 * float64 — the 8-byte case of `murmur3x86_128`, inlined for the hot loop.
 */
export function hashFloat64(x: number): void {
  F64[0] = x === 0 ? 0 : x; // -0 and 0 are the same value
  const k1 = F64_WORDS[LO];
  const k2 = F64_WORDS[HI];
  finish(mixK1(k1), mixK2(k2), 0, 0, 8);
}

let utf8 = new Uint8Array(256);

/**
 * MurmurHash3_x86_128 (seed 0) of the UTF-8 bytes of `s` (a lone surrogate
 * as U+FFFD, as TextEncoder does). Encoded here rather than with TextEncoder,
 * whose per-call cost dominates for short strings.
 */
export function hashString(s: string): void {
  // A UTF-16 code unit is at most 3 UTF-8 bytes.
  if (s.length * 3 > utf8.length) utf8 = new Uint8Array(s.length * 3);
  const out = utf8;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[j++] = c;
    } else if (c < 0x800) {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[j++] = 0xf0 | (c >> 18);
          out[j++] = 0x80 | ((c >> 12) & 63);
          out[j++] = 0x80 | ((c >> 6) & 63);
          out[j++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[j++] = 0xe0 | (c >> 12);
      out[j++] = 0x80 | ((c >> 6) & 63);
      out[j++] = 0x80 | (c & 63);
    }
  }
  murmur3x86_128(out, j, 0);
}
