/**
 * Backoff arithmetic checked against hand-computed values: the ceiling
 * doubles from backoffMs per failed attempt and stops at maxBackoffMs; full
 * jitter scales it by the random draw. Also the abortable sleep.
 */
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, sleep } from './retry.js';

const policy = { backoffMs: 100, maxBackoffMs: 1000 };

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to the maximum', () => {
    // 100·2^0, 100·2^1, 100·2^2, 100·2^3, then capped at 1000.
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffCeiling(a, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('applies full jitter: the random draw scales the ceiling', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, policy, () => 0.5))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    // 0.999 · 100 = 99.9 → 99 (never reaches the ceiling itself).
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
  });

  it('stays bounded for huge attempt numbers', () => {
    expect(backoffDelay(5000, policy, () => 0.25)).toBe(250);
  });

  it('rejects attempt numbers below 1', () => {
    expect(() => backoffDelay(0, policy, () => 0.5)).toThrow(/attempt must be an integer/);
  });
});

describe('sleep', () => {
  it('resolves true after the delay and false when aborted', async () => {
    expect(await sleep(1)).toBe(true);
    const ac = new AbortController();
    const pending = sleep(60_000, ac.signal);
    ac.abort();
    expect(await pending).toBe(false);
    expect(await sleep(60_000, ac.signal)).toBe(false);
  });
});
