/**
 * Sorting NaN-free Float64Arrays fast, because sorting is most of a drift
 * report's cost: KS, Wasserstein and the quantile edges of PSI all read the
 * sorted samples, and a report sorts each numeric column of each side once.
 *
 * A bucket sort: values are spread over about n/8 buckets by an order-preserving
 * linear map of [min, max], then each bucket is sorted (insertion sort when
 * small, the built-in sort otherwise). For the smooth distributions of real
 * features this is linear; skewed data (one huge outlier packing everything in
 * one bucket) degrades to the built-in sort, never worse. The result equals
 * `Float64Array.from(values).sort()` up to the order of -0 and +0, which no
 * statistic here can tell apart.
 */

/** Below this many values the built-in sort wins. */
const BUCKET_SORT_MIN = 4096;
const INSERTION_MAX = 64;

/** A sorted copy of `values` (finite, no NaN). The input is not modified. */
export function sortedCopy(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < BUCKET_SORT_MIN) return Float64Array.from(values).sort();
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return Float64Array.from(values).sort();
  const buckets = n >>> 3;
  // Slightly under `buckets` so v = max never lands past the last bucket through rounding.
  const scale = (buckets - 1e-6 * buckets) / span;
  // A subnormal span overflows the scale; `Infinity | 0` would be bucket 0.
  if (!Number.isFinite(scale)) return Float64Array.from(values).sort();
  const start = new Int32Array(buckets + 1);
  const last = buckets - 1;
  for (let i = 0; i < n; i++) {
    // (v − min)·scale is in [0, buckets), so truncation is floor.
    let b = ((values[i]! - min) * scale) | 0;
    if (b > last) b = last;
    start[b + 1]!++;
  }
  for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
  const next = Int32Array.from(start.subarray(0, buckets));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let b = ((v - min) * scale) | 0;
    if (b > last) b = last;
    out[next[b]!++] = v;
  }
  for (let b = 0; b < buckets; b++) {
    const lo = start[b]!;
    const hi = start[b + 1]!;
    const size = hi - lo;
    if (size < 2) continue;
    if (size > INSERTION_MAX) {
      out.subarray(lo, hi).sort();
      continue;
    }
    for (let i = lo + 1; i < hi; i++) {
      const v = out[i]!;
      let j = i - 1;
      while (j >= lo && out[j]! > v) {
        out[j + 1] = out[j]!;
        j--;
      }
      out[j + 1] = v;
    }
  }
  return out;
}

/** Number of values ≤ v in a sorted array (`np.searchsorted(sorted, v, side='right')`). */
export function countAtOrBelow(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of values < v in a sorted array (`np.searchsorted(sorted, v, side='left')`). */
export function countBelow(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
