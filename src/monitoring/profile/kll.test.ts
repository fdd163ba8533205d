/**
 * KLL against exact ranks computed by sorting: every estimated quantile's
 * true rank, and every estimated CDF value, is within ε(k) = kllRankError(k)
 * — for one sketch of 1e6 values, for sketches of other sizes and k, and for
 * 100 partial sketches merged. Small inputs are exact; the same seed gives
 * the same sketch; JSON restores it exactly.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { KllSketch, kllRankError } from './kll.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exact rank checker over a sorted copy of the data. */
function exactRanks(data: Float64Array) {
  const sorted = Float64Array.from(data).sort();
  const n = sorted.length;
  const count = (x: number, inclusive: boolean) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (inclusive ? sorted[mid] <= x : sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    sorted,
    /** Fraction of values ≤ x. */
    cdf: (x: number) => count(x, true) / n,
    /** How far rank q lies from the true rank interval of value v. */
    quantileError(q: number, v: number) {
      const lo = count(v, false) / n;
      const hi = count(v, true) / n;
      return q < lo ? lo - q : q > hi ? q - hi : 0;
    },
  };
}

/** Largest rank error of the sketch over a grid of quantiles and CDF points. */
function maxRankError(sketch: KllSketch, data: Float64Array): number {
  const exact = exactRanks(data);
  let worst = 0;
  for (let i = 1; i < 1000; i++) {
    const q = i / 1000;
    worst = Math.max(worst, exact.quantileError(q, sketch.quantile(q)!));
    const x = exact.sorted[Math.floor(q * data.length)];
    worst = Math.max(worst, Math.abs(sketch.rank(x) - exact.cdf(x)));
  }
  return worst;
}

const uniform = (n: number, seed: number) => {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => r());
};

describe('KllSketch rank error', () => {
  it('stays within ε(200) ≈ 1.33 % on 1e6 values (with ties)', () => {
    const r = rng(11);
    // Lognormal-ish values rounded to 3 decimals: skewed, with many ties.
    const data = Float64Array.from({ length: 1_000_000 }, () => Math.round(Math.exp(3 * r()) * 1000) / 1000);
    const sketch = new KllSketch(200, 5);
    sketch.update(data);
    expect(sketch.count).toBe(data.length);
    expect(sketch.retained).toBeLessThan(1000);
    const err = maxRankError(sketch, data);
    expect(err).toBeGreaterThan(0); // it is a sketch, not a copy
    expect(err).toBeLessThanOrEqual(kllRankError(200));
  });

  it.each([
    [50, 100_000, 1],
    [100, 100_000, 2],
    [400, 300_000, 3],
  ])('stays within ε(k) for k = %i on %i values', (k, n, seed) => {
    const data = uniform(n, seed);
    const sketch = new KllSketch(k, seed);
    sketch.update(data);
    expect(maxRankError(sketch, data)).toBeLessThanOrEqual(kllRankError(k));
  });

  it('stays within ε(k) after merging 100 partial sketches, in any grouping', () => {
    const data = uniform(500_000, 21);
    const parts = Array.from({ length: 100 }, (_, p) => {
      const s = new KllSketch(200, 100 + p);
      s.update(data, p * 5000, (p + 1) * 5000);
      return s;
    });
    const leftToRight = new KllSketch(200, 1);
    for (const part of parts) leftToRight.merge(part);
    // A balanced tree of merges, as replicas → regions → centre might do.
    let level = parts.map((p) => p.clone());
    while (level.length > 1) {
      const next: KllSketch[] = [];
      for (let i = 0; i < level.length; i += 2) {
        if (i + 1 < level.length) level[i].merge(level[i + 1]);
        next.push(level[i]);
      }
      level = next;
    }
    for (const merged of [leftToRight, level[0]]) {
      expect(merged.count).toBe(data.length);
      expect(merged.min).toBe(data.reduce((a, b) => Math.min(a, b)));
      expect(merged.max).toBe(data.reduce((a, b) => Math.max(a, b)));
      expect(maxRankError(merged, data)).toBeLessThanOrEqual(kllRankError(200));
    }
  });
});

describe('KllSketch behaviour', () => {
  it('is exact while nothing was compacted', () => {
    const sketch = new KllSketch(200);
    sketch.update(Float64Array.from([5, 1, 4, 2, 3]));
    expect(sketch.quantile(0.5)).toBe(3); // smallest value with rank ≥ 0.5
    expect(sketch.quantile(0.2)).toBe(1);
    expect(sketch.quantile(0.21)).toBe(2);
    expect(sketch.rank(3)).toBe(0.6);
    expect(sketch.rank(3, false)).toBe(0.4);
    expect(Array.from(sketch.cdf([0, 2.5, 10]))).toEqual([0, 0.4, 1]);
    expect([sketch.quantile(0), sketch.quantile(1)]).toEqual([1, 5]);
  });

  it('answers null / 0 when empty', () => {
    const sketch = new KllSketch();
    expect(sketch.quantile(0.5)).toBeNull();
    expect(sketch.min).toBeNull();
    expect(sketch.rank(1)).toBe(0);
  });

  it('gives the same sketch for the same data and seed, batch size notwithstanding', () => {
    const data = uniform(50_000, 4);
    const a = new KllSketch(100, 9);
    a.update(data);
    const b = new KllSketch(100, 9);
    for (let i = 0; i < data.length; i += 777) b.update(data, i, Math.min(data.length, i + 777));
    expect(b.toJSON()).toEqual(a.toJSON());
    const c = new KllSketch(100, 10);
    c.update(data);
    expect(c.toJSON()).not.toEqual(a.toJSON());
  });

  it('round-trips through JSON, and the copy evolves as the original', () => {
    const data = uniform(30_000, 6);
    const a = new KllSketch(64, 3);
    a.update(data, 0, 20_000);
    const b = KllSketch.fromJSON(JSON.parse(JSON.stringify(a)));
    expect(b.toJSON()).toEqual(a.toJSON());
    a.update(data, 20_000);
    b.update(data, 20_000);
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it('keeps ±Infinity as exact min and max', () => {
    const sketch = new KllSketch();
    sketch.update(Float64Array.from([-Infinity, 1, Infinity]));
    const copy = KllSketch.fromJSON(JSON.parse(JSON.stringify(sketch)));
    expect([copy.min, copy.max, copy.quantile(0.5)]).toEqual([-Infinity, Infinity, 1]);
  });

  it('refuses NaN, mismatched k, bad k and inconsistent JSON', () => {
    expect(() => new KllSketch().update(Float64Array.from([1, NaN]))).toThrow(FlywheelError);
    expect(() => new KllSketch(200).merge(new KllSketch(100))).toThrow(/different k/);
    expect(() => new KllSketch(4)).toThrow(/k must be/);
    const json = new KllSketch().toJSON();
    expect(() => KllSketch.fromJSON({ ...json, n: 3 })).toThrow(/weights sum to 0, not n = 3/);
    expect(() => KllSketch.fromJSON({ ...json, levels: ['not base64!'] })).toThrow(/quantiles.levels\[0\]/);
  });
});
