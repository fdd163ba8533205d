/**
 * Concurrency slots: the global limit, per-tag limits, all-or-nothing
 * acquisition for steps with several tags, and rejected limits.
 */
import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from './limits.js';

describe('ConcurrencyLimiter', () => {
  it('enforces the global limit', () => {
    const l = new ConcurrencyLimiter(2);
    expect(l.tryAcquire([])).toBe(true);
    expect(l.tryAcquire(['x'])).toBe(true);
    expect(l.tryAcquire([])).toBe(false);
    l.release([]);
    expect(l.tryAcquire([])).toBe(true);
  });

  it('needs a slot in every limited tag and takes none when one is full', () => {
    const l = new ConcurrencyLimiter(10, { a: 1, b: 2 });
    expect(l.tryAcquire(['a'])).toBe(true);
    // a is full: a step tagged [a, b] takes nothing, not even its b slot.
    expect(l.tryAcquire(['a', 'b'])).toBe(false);
    expect(l.inUse()).toEqual({ global: 1, tags: { a: 1 } });
    expect(l.tryAcquire(['b'])).toBe(true);
    expect(l.tryAcquire(['b', 'unlimited'])).toBe(true);
    expect(l.tryAcquire(['b'])).toBe(false);
    l.release(['a']);
    l.release(['b']);
    expect(l.tryAcquire(['a', 'b'])).toBe(true);
    expect(l.inUse()).toEqual({ global: 2, tags: { a: 1, b: 2 } });
  });

  it('counts a tag listed twice once', () => {
    const l = new ConcurrencyLimiter(5, { gpu: 1 });
    expect(l.tryAcquire(['gpu', 'gpu'])).toBe(true);
    expect(l.inUse().tags).toEqual({ gpu: 1 });
  });

  it('rejects limits below 1', () => {
    expect(() => new ConcurrencyLimiter(0)).toThrow(/concurrency must be an integer ≥ 1, got 0/);
    expect(() => new ConcurrencyLimiter(2, { gpu: 0.5 })).toThrow(/tag concurrency of "gpu"/);
  });
});
