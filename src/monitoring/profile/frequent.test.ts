/**
 * Category counts: exact up to k distinct values; beyond, each kept count is
 * within [true − n/(k+1), true] and maxError ≤ n/(k+1), for one stream and
 * after merging many partial summaries; every value more frequent than
 * n/(k+1) is kept.
 */
import { describe, expect, it } from 'vitest';
import { FrequentItems } from './frequent.js';

const countsOf = (values: string[]) => {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

/** A skewed stream: value i appears about n·c/(i+1) times (Zipf), over many distinct values. */
function zipfStream(n: number, distinct: number, seed: number): string[] {
  let s = seed >>> 0;
  const harmonic = Array.from({ length: distinct }, (_, i) => 1 / (i + 1));
  const total = harmonic.reduce((a, b) => a + b);
  const cumulative: number[] = [];
  let acc = 0;
  for (const h of harmonic) cumulative.push((acc += h / total));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    out.push(`v${lo}`);
  }
  return out;
}

function expectWithinBound(summary: FrequentItems, truth: Map<string, number>, n: number) {
  const bound = n / (summary.k + 1);
  expect(summary.count).toBe(n);
  expect(summary.maxError).toBeGreaterThan(0);
  expect(summary.maxError).toBeLessThanOrEqual(bound);
  for (const [value, trueCount] of truth) {
    const { count, upper } = summary.estimate(value);
    expect(count).toBeLessThanOrEqual(trueCount);
    expect(trueCount).toBeLessThanOrEqual(upper);
    expect(trueCount - count).toBeLessThanOrEqual(bound);
    if (trueCount > bound) expect(count).toBeGreaterThan(0);
  }
}

describe('FrequentItems', () => {
  it('counts exactly up to k distinct values', () => {
    const f = new FrequentItems(3);
    f.addCounts(countsOf(['a', 'b', 'a', 'c', 'a', 'b']));
    expect(f.exact).toBe(true);
    expect(f.top()).toEqual([
      { value: 'a', count: 3, upper: 3 },
      { value: 'b', count: 2, upper: 2 },
      { value: 'c', count: 1, upper: 1 },
    ]);
  });

  it('subtracts the (k+1)-th count once there are more than k values', () => {
    // a:5 b:3 c:2 d:1 with k = 2: subtract 2 (third largest) → a:3 b:1, error 2.
    const f = new FrequentItems(2);
    f.addCounts(new Map([['a', 5], ['b', 3], ['c', 2], ['d', 1]]));
    expect(f.toJSON()).toEqual({ k: 2, n: 11, maxError: 2, items: [['a', 3], ['b', 1]] });
  });

  it('stays within n/(k+1) on a skewed stream of many values', () => {
    const stream = zipfStream(200_000, 20_000, 1);
    const f = new FrequentItems(100);
    for (let i = 0; i < stream.length; i += 10_000) f.addCounts(countsOf(stream.slice(i, i + 10_000)));
    expectWithinBound(f, countsOf(stream), stream.length);
  });

  it('stays within n/(k+1) after merging 100 partial summaries', () => {
    const stream = zipfStream(200_000, 20_000, 2);
    const merged = new FrequentItems(100);
    for (let p = 0; p < 100; p++) {
      const part = new FrequentItems(100);
      part.addCounts(countsOf(stream.slice(p * 2000, (p + 1) * 2000)));
      merged.merge(part);
    }
    expectWithinBound(merged, countsOf(stream), stream.length);
  });

  it('merges exact summaries exactly', () => {
    const a = new FrequentItems(10);
    a.addCounts(countsOf(['x', 'y', 'x']));
    const b = new FrequentItems(10);
    b.addCounts(countsOf(['y', 'z']));
    a.merge(b);
    expect(a.toJSON()).toEqual({ k: 10, n: 5, maxError: 0, items: [['x', 2], ['y', 2], ['z', 1]] });
  });

  it('round-trips through JSON and refuses bad documents', () => {
    const f = new FrequentItems(5);
    f.addCounts(countsOf(zipfStream(1000, 50, 3)));
    expect(FrequentItems.fromJSON(JSON.parse(JSON.stringify(f))).toJSON()).toEqual(f.toJSON());
    expect(() => FrequentItems.fromJSON({ k: 5, n: 1, maxError: 0, items: [['a', 2]] })).toThrow(/counts exceed n/);
    expect(() => FrequentItems.fromJSON({ k: 5, n: 1, maxError: 0, items: [[1, 1]] })).toThrow(/items\[0\]/);
  });
});
