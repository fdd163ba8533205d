/**
 * sortedCopy must equal the built-in sort (the statistics depend on exact
 * order), including skewed data, ties and negatives; the binary searches follow
 * NumPy's searchsorted sides.
 */
import { describe, expect, it } from 'vitest';
import { countAtOrBelow, countBelow, sortedCopy } from './sort.js';

function lcg(n: number, seed: number, map: (u: number) => number): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647;
    out[i] = map(x / 2147483647);
  }
  return out;
}

describe('sortedCopy', () => {
  it.each([
    ['uniform', lcg(50_000, 7, (u) => u * 10 - 5)],
    ['skewed with an outlier', (() => { const a = lcg(50_000, 11, (u) => Math.exp(20 * u)); a[3] = 1e300; return a; })()],
    ['few distinct values', lcg(50_000, 13, (u) => Math.floor(u * 7) - 3)],
    ['constant', new Float64Array(10_000).fill(2.5)],
    ['a subnormal span', lcg(10_000, 17, (u) => (u < 0.5 ? 0 : 5e-324))],
    ['the whole double range', lcg(10_000, 19, (u) => (u - 0.5) * 3e308)],
    ['small', Float64Array.from([3, -1, 2, -1, 0])],
  ])('sorts %s like Float64Array.prototype.sort without touching the input', (_name, values) => {
    const before = Float64Array.from(values);
    const sorted = sortedCopy(values);
    expect(Array.from(sorted)).toEqual(Array.from(Float64Array.from(values).sort()));
    expect(Array.from(values)).toEqual(Array.from(before));
  });
});

describe('binary searches on sorted arrays', () => {
  const s = Float64Array.from([1, 2, 2, 2, 5]);
  it('count values ≤ v (side=right) and < v (side=left)', () => {
    expect([0, 1, 2, 3, 6].map((v) => countAtOrBelow(s, v))).toEqual([0, 1, 4, 4, 5]);
    expect([0, 1, 2, 3, 6].map((v) => countBelow(s, v))).toEqual([0, 0, 1, 4, 5]);
  });
});
