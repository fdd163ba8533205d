/**
 * HyperLogLog on known cardinalities: estimates within 3 standard errors
 * (3 · 1.04/√4096 ≈ 4.9 % at p = 12), repeats not counted, merge equal to the
 * sketch of the union, JSON exact.
 */
import { describe, expect, it } from 'vitest';
import { HyperLogLog, hllStandardError } from './hll.js';

const withinThreeSE = (estimate: number, truth: number, p = 12) =>
  expect(Math.abs(estimate - truth)).toBeLessThanOrEqual(3 * hllStandardError(p) * truth);

const range = (from: number, to: number, scale = 1) => Float64Array.from({ length: to - from }, (_, i) => (from + i) * scale);

describe('HyperLogLog', () => {
  it('has standard error 1.04/√m', () => {
    expect(hllStandardError(12)).toBeCloseTo(1.04 / 64, 15);
  });

  it('estimates 0 for an empty sketch and tiny counts exactly, small ones closely', () => {
    expect(new HyperLogLog().estimate()).toBe(0);
    for (const n of [1, 2, 3]) {
      const h = new HyperLogLog();
      h.addFloat64(range(0, n));
      expect(Math.round(h.estimate())).toBe(n);
    }
    for (const n of [10, 100]) {
      const h = new HyperLogLog();
      h.addFloat64(range(0, n));
      withinThreeSE(h.estimate(), n);
    }
  });

  it.each([1000, 10_000, 100_000, 1_000_000])('estimates %i distinct numbers within 3 standard errors', (n) => {
    const h = new HyperLogLog();
    h.addFloat64(range(0, n, 0.37));
    withinThreeSE(h.estimate(), n);
  });

  it.each([5000, 200_000])('estimates %i distinct strings within 3 standard errors', (n) => {
    const h = new HyperLogLog();
    for (let i = 0; i < n; i++) h.addString(`customer-${i}`);
    withinThreeSE(h.estimate(), n);
  });

  it('keeps its accuracy at other precisions', () => {
    for (const p of [8, 14]) {
      const h = new HyperLogLog(p);
      h.addFloat64(range(0, 300_000));
      withinThreeSE(h.estimate(), 300_000, p);
    }
  });

  it('does not count repeats, and counts -0 as 0', () => {
    const a = new HyperLogLog();
    a.addFloat64(range(0, 5000));
    const b = new HyperLogLog();
    for (let r = 0; r < 3; r++) b.addFloat64(range(0, 5000));
    b.addFloat64(Float64Array.from([-0]));
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it('merges to exactly the sketch of the union', () => {
    const a = new HyperLogLog();
    a.addFloat64(range(0, 60_000));
    const b = new HyperLogLog();
    b.addFloat64(range(40_000, 100_000));
    const union = new HyperLogLog();
    union.addFloat64(range(0, 100_000));
    a.merge(b);
    expect(a.toJSON()).toEqual(union.toJSON());
    withinThreeSE(a.estimate(), 100_000);
  });

  it('round-trips through JSON and refuses bad documents', () => {
    const h = new HyperLogLog(10);
    h.addFloat64(range(0, 777));
    const copy = HyperLogLog.fromJSON(JSON.parse(JSON.stringify(h)));
    expect(copy.estimate()).toBe(h.estimate());
    expect(() => HyperLogLog.fromJSON({ p: 12, registers: h.toJSON().registers })).toThrow(/2\^12 registers/);
    expect(() => HyperLogLog.fromJSON({ p: 30, registers: '' })).toThrow(/distinct.p/);
    expect(() => new HyperLogLog(12).merge(new HyperLogLog(10))).toThrow(/different precision/);
  });
});
