/**
 * Moments against hand calculations (scipy.stats definitions: population
 * variance, biased skewness g1, Fisher excess kurtosis g2), and merging: any
 * split of the data merges to the moments of the whole, to 1e-9 relative.
 */
import { describe, expect, it } from 'vitest';
import { Moments } from './moments.js';

const of = (values: number[]) => {
  const m = new Moments();
  m.addBatch(Float64Array.from(values));
  return m;
};

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const relClose = (actual: number, expected: number, rel = 1e-9) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));

describe('Moments', () => {
  it('matches hand-computed statistics of [1, 2, 3, 4]', () => {
    const m = of([1, 2, 3, 4]);
    expect(m.meanOrNull()).toBe(2.5);
    expect(m.variance()).toBe(1.25); // (2.25 + 0.25 + 0.25 + 2.25) / 4
    expect(m.sampleVariance()).toBeCloseTo(5 / 3, 15);
    expect(m.skewness()).toBe(0);
    // m4 = (2·1.5⁴ + 2·0.5⁴)/4 = 2.5625; g2 = 2.5625 / 1.25² − 3 = −1.36
    expect(m.kurtosis()).toBeCloseTo(-1.36, 14);
  });

  it('matches hand-computed skewness of [1, 2, 10]', () => {
    // deviations −10/3, −7/3, 17/3: m2 = 438/27, m3 = 3570/81, g1 = m3 / m2^1.5
    const m = of([1, 2, 10]);
    expect(m.skewness()).toBeCloseTo(3570 / 81 / Math.pow(438 / 27, 1.5), 14);
    expect(m.skewness()).toBeCloseTo(0.67456, 5); // scipy.stats.skew([1, 2, 10])
  });

  it('merges any split to the moments of the whole', () => {
    const r = rng(3);
    const data = Float64Array.from({ length: 200_000 }, () => 50 - 10 * Math.log(1 - r())); // exponential: skewed
    const whole = new Moments();
    whole.addBatch(data);
    const merged = new Moments();
    for (let p = 0; p < 100; p++) {
      const part = new Moments();
      part.addBatch(data, p * 2000, (p + 1) * 2000);
      merged.merge(part);
    }
    // Uneven split, merged in the other direction.
    const right = new Moments();
    right.addBatch(data, 7, data.length);
    const left = new Moments();
    left.addBatch(data, 0, 7);
    right.merge(left);
    for (const m of [merged, right]) {
      expect(m.n).toBe(whole.n);
      relClose(m.mean, whole.mean);
      relClose(m.m2, whole.m2);
      relClose(m.m3, whole.m3);
      relClose(m.m4, whole.m4);
    }
    // Exponential(scale 10): skewness 2, excess kurtosis 6 (loosely, a sample).
    expect(whole.skewness()!).toBeGreaterThan(1.8);
    expect(whole.skewness()!).toBeLessThan(2.2);
    expect(whole.kurtosis()!).toBeGreaterThan(5);
    expect(whole.kurtosis()!).toBeLessThan(7);
  });

  it('gives variance exactly 0 and no NaN for constant columns, however split', () => {
    const m = of([0.1, 0.1, 0.1]);
    m.merge(of([0.1, 0.1]));
    expect(m.meanOrNull()).toBe(0.1);
    expect(m.variance()).toBe(0);
    expect(m.sampleVariance()).toBe(0);
    expect(m.skewness()).toBeNull();
    expect(m.kurtosis()).toBeNull();
  });

  it('gives null, not NaN, for statistics of too few values', () => {
    const empty = new Moments();
    expect([empty.meanOrNull(), empty.variance(), empty.std(), empty.skewness(), empty.kurtosis()]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    const one = of([7]);
    expect(one.variance()).toBe(0);
    expect(one.sampleVariance()).toBeNull();
    empty.merge(one);
    expect(empty.toJSON()).toEqual(one.toJSON());
  });

  it('round-trips through JSON', () => {
    const m = of([1, 5, 2.5, -3]);
    expect(Moments.fromJSON(JSON.parse(JSON.stringify(m))).toJSON()).toEqual(m.toJSON());
  });
});
