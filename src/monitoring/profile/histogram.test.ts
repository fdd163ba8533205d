/**
 * Distributions read back from profiles, as drift from profiles uses them:
 * CDF values and bin fractions against exact ones computed by sorting, within
 * the documented KLL bounds; exact when the sketch is; category counts.
 */
import { describe, expect, it } from 'vitest';
import { mergeAllProfiles, profileColumn } from './column-profile.js';
import { categoryCountsFromProfile, cdfFromProfile, histogramFromProfile, quantilesFromProfile } from './histogram.js';
import { kllRankError } from './kll.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('histogramFromProfile', () => {
  it('is exact on a small column: bins (−∞, s0], (s0, s1], …', () => {
    const p = profileColumn(Float64Array.from([1, 2, 2, 3, 5, 8]));
    const h = histogramFromProfile(p, [2, 4]);
    expect(Array.from(h.counts)).toEqual([3, 1, 2]); // {1,2,2} {3} {5,8}
    expect(h.maxFractionError).toBe(0);
    const left = histogramFromProfile(p, [2, 4], { inclusive: false });
    expect(Array.from(left.counts)).toEqual([1, 3, 2]); // {1} {2,2,3} {5,8}
    expect(Array.from(cdfFromProfile(p, [0, 2, 8]))).toEqual([0, 0.5, 1]);
  });

  it('matches exact decile bins of merged profiles within the mass bound', () => {
    const r = rng(5);
    const data = Float64Array.from({ length: 400_000 }, () => -Math.log(1 - r()) * 3);
    const parts = Array.from({ length: 40 }, (_, p) => profileColumn(data.subarray(p * 10_000, (p + 1) * 10_000), { seed: p }));
    const profile = mergeAllProfiles(parts);
    const sorted = Float64Array.from(data).sort();
    // Exponential(3) deciles: −3·ln(1 − q).
    const splits = Array.from({ length: 9 }, (_, i) => -3 * Math.log(1 - (i + 1) / 10));
    const h = histogramFromProfile(profile, splits);
    let previous = 0;
    for (let b = 0; b <= splits.length; b++) {
      let upto = sorted.length;
      if (b < splits.length) {
        upto = 0;
        while (upto < sorted.length && sorted[upto] <= splits[b]) upto++;
      }
      const exact = (upto - previous) / sorted.length;
      previous = upto;
      expect(Math.abs(h.fractions[b] - exact)).toBeLessThanOrEqual(kllRankError(200, { mass: true }));
    }
    expect(h.fractions.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(h.counts.reduce((a, b) => a + b)).toBeCloseTo(400_000, 6);
    expect(h.maxFractionError).toBe(kllRankError(200, { mass: true }));
    // Split points at the profile's own deciles fall near the true ones.
    const deciles = quantilesFromProfile(profile, [0.1, 0.5, 0.9]);
    for (const [i, q] of [0.1, 0.5, 0.9].entries()) {
      const truth = -3 * Math.log(1 - q);
      expect(Math.abs(deciles[i]! - truth)).toBeLessThan(0.1 * truth);
    }
  });

  it('refuses unsorted split points', () => {
    const p = profileColumn(Float64Array.from([1, 2]));
    expect(() => histogramFromProfile(p, [2, 1])).toThrow(/ascending.*index 1/);
    expect(() => cdfFromProfile(p, [NaN])).toThrow(/index 0/);
  });

  it('gives all-zero bins for an empty profile', () => {
    const h = histogramFromProfile(profileColumn(new Float64Array(0)), [1, 2]);
    expect(Array.from(h.counts)).toEqual([0, 0, 0]);
  });
});

describe('categoryCountsFromProfile', () => {
  it('returns exact counts while exact, and the rest as "other" beyond k', () => {
    const exact = categoryCountsFromProfile(profileColumn(['a', 'b', 'a', null]));
    expect(exact).toEqual({ counts: new Map([['a', 2], ['b', 1]]), other: 0, maxError: 0 });
    const values = ['x', 'x', 'x', 'x', 'y', 'y', 'z', 'w'];
    const approx = categoryCountsFromProfile(profileColumn(values, { frequentK: 2 }));
    // x:4 y:2 z:1 w:1, k = 2 → subtract 1: x:3 y:1, maxError 1, 4 values unaccounted.
    expect(approx).toEqual({ counts: new Map([['x', 3], ['y', 1]]), other: 4, maxError: 1 });
  });
});
