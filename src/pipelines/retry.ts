/**
 * Retry timing for pipeline steps: exponential backoff with full jitter.
 *
 * After failed attempt n (1-based) the next attempt waits a uniformly random
 * time in [0, min(maxBackoffMs, backoffMs · 2^(n-1))) — "full jitter" as in
 * the AWS Architecture Blog's "Exponential Backoff And Jitter", which spreads
 * retries of many failing steps instead of letting them hit a shared resource
 * in lock-step. `backoffDelay` is pure (the random source is a parameter, so
 * tests pass a fixed one); `sleep` is the abortable wait the executor uses.
 */
import type { RetryPolicy } from './types.js';

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** The ceiling of the delay after failed attempt `attempt` (1-based), before jitter. */
export function backoffCeiling(attempt: number, policy: Pick<RetryPolicy, 'backoffMs' | 'maxBackoffMs'>): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer ≥ 1, got ${attempt}`);
  const base = Math.max(0, policy.backoffMs);
  const max = Math.max(0, policy.maxBackoffMs);
  // 2^(attempt-1) overflows to Infinity for huge attempts; min() keeps it bounded.
  return Math.min(max, base * 2 ** (attempt - 1));
}

/** Milliseconds to wait after failed attempt `attempt` (1-based) before the next one. */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'backoffMs' | 'maxBackoffMs'>,
  random: RandomSource = Math.random,
): number {
  const ceiling = backoffCeiling(attempt, policy);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/** Waits `ms`; resolves false early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
