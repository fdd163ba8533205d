/**
 * Category counts: exact while a column has at most k distinct values, then
 * a Misra–Gries summary with k counters, in the mergeable form of Agarwal et
 * al. ("Mergeable Summaries", 2012): counters are added, and whenever more
 * than k remain, the (k+1)-th largest count is subtracted from all and the
 * counters left at ≤ 0 dropped.
 *
 * Every kept count is a lower bound of the true count, and the true count of
 * any value (kept or not) is at most its kept count (0 if dropped) plus
 * `maxError`, the sum of all subtractions so far; maxError ≤ n / (k + 1)
 * where n is the number of values counted, after any sequence of updates and
 * merges. maxError = 0 means every count is exact. Any value whose true count
 * exceeds n / (k + 1) is guaranteed to be kept.
 */
import { invalidArgument } from '../../core/errors.js';
import { requireCount, requireIntIn, requireObject } from './encoding.js';

export const FREQUENT_DEFAULT_K = 1000;
export const FREQUENT_MAX_K = 1_000_000;

export interface FrequentItemsJSON {
  k: number;
  n: number;
  maxError: number;
  /** [value, count], by decreasing count then value. */
  items: [string, number][];
}

export interface FrequentItem {
  value: string;
  /** Lower bound of the true count (exact when maxError is 0). */
  count: number;
  /** Upper bound of the true count: count + maxError. */
  upper: number;
}

export class FrequentItems {
  private counterLimit: number;
  private counts = new Map<string, number>();
  private n = 0;
  private error = 0;

  constructor(k = FREQUENT_DEFAULT_K) {
    if (!Number.isInteger(k) || k < 1 || k > FREQUENT_MAX_K) {
      throw invalidArgument(`frequent-items k must be an integer in [1, ${FREQUENT_MAX_K}]`, { k });
    }
    this.counterLimit = k;
  }

  /** Number of counters kept once the column has more distinct values. */
  get k(): number {
    return this.counterLimit;
  }

  /** Number of values counted (exact). */
  get count(): number {
    return this.n;
  }

  /** How far any count may fall below the true count; 0 when all are exact. */
  get maxError(): number {
    return this.error;
  }

  get exact(): boolean {
    return this.error === 0;
  }

  /** Number of counters held (the number of distinct values when exact). */
  get size(): number {
    return this.counts.size;
  }

  /** Adds a batch of exact counts (value → occurrences). */
  addCounts(batch: Map<string, number>): void {
    const counts = this.counts;
    for (const [value, c] of batch) {
      if (!Number.isSafeInteger(c) || c <= 0) {
        throw invalidArgument(`count of category ${JSON.stringify(value)} must be a positive integer`, { value, count: c });
      }
      counts.set(value, (counts.get(value) ?? 0) + c);
      this.n += c;
      // Reduce at 2k, not k: same bound, and the sort is amortized over ≥ k inserts.
      if (counts.size > 2 * this.k) this.reduce();
    }
    if (counts.size > this.k) this.reduce();
  }

  /** Folds `other` into this; with different k the smaller is kept. */
  merge(other: FrequentItems): void {
    const n = this.n + other.n;
    this.counterLimit = Math.min(this.k, other.k);
    this.error += other.error;
    this.addCounts(other.counts);
    this.n = n; // addCounts added other's kept counts only, not its n
  }

  clone(): FrequentItems {
    return FrequentItems.fromJSON(this.toJSON());
  }

  /** Kept values by decreasing count (ties by value), at most `limit`. */
  top(limit = Infinity): FrequentItem[] {
    return this.sorted()
      .slice(0, limit)
      .map(([value, count]) => ({ value, count, upper: count + this.error }));
  }

  /** Bounds of the true count of `value`. */
  estimate(value: string): { count: number; upper: number } {
    const count = this.counts.get(value) ?? 0;
    return { count, upper: count + this.error };
  }

  toJSON(): FrequentItemsJSON {
    return { k: this.k, n: this.n, maxError: this.error, items: this.sorted() };
  }

  static fromJSON(json: unknown, field = 'frequent'): FrequentItems {
    const o = requireObject(json, field);
    const f = new FrequentItems(requireIntIn(o.k, `${field}.k`, 1, FREQUENT_MAX_K));
    f.n = requireCount(o.n, `${field}.n`);
    f.error = requireCount(o.maxError, `${field}.maxError`);
    if (!Array.isArray(o.items) || o.items.length > f.k) {
      throw invalidArgument(`profile field ${field}.items must be an array of at most k entries`, { field: `${field}.items` });
    }
    let total = 0;
    o.items.forEach((entry: unknown, i) => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
        throw invalidArgument(`profile field ${field}.items[${i}] must be [string, count]`, { field: `${field}.items[${i}]` });
      }
      const c = requireCount(entry[1], `${field}.items[${i}][1]`);
      if (c === 0 || f.counts.has(entry[0])) {
        throw invalidArgument(`profile field ${field}.items[${i}] must be a positive count of a value not listed before`, {
          field: `${field}.items[${i}]`,
        });
      }
      f.counts.set(entry[0], c);
      total += c;
    });
    if (total > f.n) throw invalidArgument(`profile field ${field}: counts exceed n`, { field });
    return f;
  }

  private sorted(): [string, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** Subtracts the (k+1)-th largest count from every counter; drops those left ≤ 0. */
  private reduce(): void {
    const values = Float64Array.from(this.counts.values()).sort();
    const delta = values[values.length - 1 - this.k];
    for (const [value, c] of this.counts) {
      if (c <= delta) this.counts.delete(value);
      else this.counts.set(value, c - delta);
    }
    this.error += delta;
  }
}
