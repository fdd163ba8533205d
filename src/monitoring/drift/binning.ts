/**
 * Turning two samples into two discrete distributions over the same bins, for
 * PSI, KL divergence, Jensen–Shannon and Hellinger.
 *
 * Three ways, all reproducible with NumPy one-liners (see drift_reference.py):
 *  - 'quantile' (numeric; PSI's default): inner edges are the reference's
 *    quantiles at i/bins, i = 1..bins−1 (`np.quantile`, linear method),
 *    duplicates removed; a value goes to bin `np.searchsorted(edges, v,
 *    side='right')`, so bins are (−∞, e1), [e1, e2), …, [e_last, +∞) and no
 *    value is ever out of range.
 *  - 'sturges' (numeric): Evidently's `get_binned_data`: when the reference has
 *    more than 20 distinct values, `np.histogram_bin_edges(concat(ref, cur),
 *    bins='sturges')` and `np.histogram` counts; otherwise one bin per distinct
 *    value seen on either side.
 *  - categorical: one bin per category seen on either side (missing values
 *    excluded), in first-seen order (reference first).
 * Shares are counts divided by the non-missing sample size.
 */

import { invalidArgument } from '../../core/errors.js';
import { countBelow, sortedCopy } from './sort.js';

export interface BinnedPair {
  /** Bin labels: category names, distinct values, or `[lo, hi)` edges for histogram bins. */
  labels: string[];
  reference: Float64Array;
  current: Float64Array;
}

export type NumericBinning = { kind: 'quantile'; bins?: number } | { kind: 'sturges' };

/** Default number of quantile bins for PSI. */
export const DEFAULT_QUANTILE_BINS = 10;
/** Evidently uses Sturges bins only above this many distinct reference values. */
export const STURGES_MIN_DISTINCT = 20;

/** `np.quantile(sorted, q)` with the default 'linear' method, including NumPy's two-sided lerp. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const virtual = q * (n - 1);
  const lo = Math.floor(virtual);
  const hi = Math.min(lo + 1, n - 1);
  const t = virtual - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Unique inner edges at the reference quantiles i/bins (sorted reference, non-empty). */
export function quantileEdges(sortedReference: Float64Array, bins: number): Float64Array {
  if (!Number.isInteger(bins) || bins < 2) throw invalidArgument(`quantile bins must be an integer ≥ 2, got ${bins}`);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileSorted(sortedReference, i / bins);
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

/** Number of edges ≤ v (`np.searchsorted(edges, v, side='right')`). */
function countEdgesAtOrBelow(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts per bin for inner edges with side='right' semantics (edges.length + 1 bins). */
export function countByInnerEdges(values: Float64Array, edges: Float64Array): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) counts[countEdgesAtOrBelow(edges, values[i]!)]! += 1;
  return counts;
}

/** `np.histogram_bin_edges(values, bins='sturges')` over the union of the samples (non-empty, finite). */
export function sturgesEdges(...samples: Float64Array[]): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  let size = 0;
  for (const s of samples) {
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    size += s.length;
  }
  const ptp = max - min;
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = ptp / (Math.log2(size) + 1);
  const nBins = width ? Math.ceil((last - first) / width) : 1;
  // np.linspace(first, last, nBins + 1): i·step + start, last edge set to stop exactly.
  const edges = new Float64Array(nBins + 1);
  const step = (last - first) / nBins;
  for (let i = 0; i <= nBins; i++) edges[i] = i * step + first;
  edges[nBins] = last;
  return edges;
}

/** `np.histogram(values, edges)[0]`: bins [e_i, e_{i+1}), the last one closed; values outside are dropped. */
export function histogramCounts(values: Float64Array, edges: Float64Array): Float64Array {
  const nBins = edges.length - 1;
  const counts = new Float64Array(nBins);
  const lastEdge = edges[nBins]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === lastEdge) {
      counts[nBins - 1]! += 1;
      continue;
    }
    const idx = countEdgesAtOrBelow(edges, v) - 1;
    if (idx >= 0 && idx < nBins) counts[idx]! += 1;
  }
  return counts;
}

/**
 * Number of distinct values over the samples, counting no further than `cap`
 * (returns cap + 1 as soon as it is exceeded): the rules only ask "more than
 * 5?" or "more than 20?", and a full Set of a million doubles costs seconds.
 */
export function distinctCountUpTo<T>(cap: number, ...samples: ArrayLike<T>[]): number {
  const seen = new Set<T>();
  for (const s of samples) {
    for (let i = 0; i < s.length; i++) {
      seen.add(s[i]!);
      if (seen.size > cap) return cap + 1;
    }
  }
  return seen.size;
}

/** One bin per distinct value on either side, for discrete numeric data. */
function countDistinctValues(reference: Float64Array, current: Float64Array): BinnedPair {
  const index = new Map<number, number>();
  for (const s of [reference, current]) for (const v of s) if (!index.has(v)) index.set(v, index.size);
  const ref = new Float64Array(index.size);
  const cur = new Float64Array(index.size);
  for (const v of reference) ref[index.get(v)!]! += 1;
  for (const v of current) cur[index.get(v)!]! += 1;
  return { labels: [...index.keys()].map(String), reference: ref, current: cur };
}

function edgeLabels(edges: ArrayLike<number>, open: boolean): string[] {
  const labels: string[] = [];
  if (open) {
    labels.push(`(-inf, ${edges[0] ?? 'inf'})`);
    for (let i = 0; i < edges.length; i++) labels.push(`[${edges[i]}, ${i + 1 < edges.length ? edges[i + 1] : 'inf'})`);
  } else {
    for (let i = 0; i + 1 < edges.length; i++) labels.push(`[${edges[i]}, ${edges[i + 1]}${i + 2 === edges.length ? ']' : ')'}`);
  }
  return labels;
}

/**
 * Counts per bin (side='right' inner edges, as countByInnerEdges) of a sorted
 * sample: bin k holds the values in [e_k, e_{k+1}), so its count is a
 * difference of two binary searches instead of a pass over the values.
 */
export function countSortedByInnerEdges(sorted: Float64Array, edges: Float64Array): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  let below = 0;
  for (let k = 0; k < edges.length; k++) {
    const next = countBelow(sorted, edges[k]!);
    counts[k] = next - below;
    below = next;
  }
  counts[edges.length] = sorted.length - below;
  return counts;
}

/** Reference-quantile bins of two samples already sorted ascending (NaN-free, non-empty). */
export function binQuantileSorted(sortedReference: Float64Array, sortedCurrent: Float64Array, bins = DEFAULT_QUANTILE_BINS): BinnedPair {
  const edges = quantileEdges(sortedReference, bins);
  return {
    labels: edgeLabels(edges, true),
    reference: countSortedByInnerEdges(sortedReference, edges),
    current: countSortedByInnerEdges(sortedCurrent, edges),
  };
}

/** Counts of two numeric samples (NaN-free, non-empty) on common bins. */
export function binNumeric(reference: Float64Array, current: Float64Array, binning: NumericBinning): BinnedPair {
  if (binning.kind === 'quantile') return binQuantileSorted(sortedCopy(reference), sortedCopy(current), binning.bins);
  if (distinctCountUpTo(STURGES_MIN_DISTINCT, reference) <= STURGES_MIN_DISTINCT) return countDistinctValues(reference, current);
  const edges = sturgesEdges(reference, current);
  return {
    labels: edgeLabels(edges, false),
    reference: histogramCounts(reference, edges),
    current: histogramCounts(current, edges),
  };
}

/** Counts per category (missing values excluded) over the union of categories. */
export function binCategorical(reference: readonly (string | null)[], current: readonly (string | null)[]): BinnedPair {
  const index = new Map<string, number>();
  for (const s of [reference, current]) for (const v of s) if (v !== null && !index.has(v)) index.set(v, index.size);
  const ref = new Float64Array(index.size);
  const cur = new Float64Array(index.size);
  for (const v of reference) if (v !== null) ref[index.get(v)!]! += 1;
  for (const v of current) if (v !== null) cur[index.get(v)!]! += 1;
  return { labels: [...index.keys()], reference: ref, current: cur };
}

/** counts / n. */
export function toShares(counts: Float64Array, n: number): Float64Array {
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = counts[i]! / n;
  return out;
}

/**
 * Evidently's empty-bin smoothing (`feel_zeroes` in get_binned_data): every
 * zero share becomes 0.0001, or min(non-zero share) / 1e6 when that minimum is
 * itself ≤ 0.0001, so log-ratios stay finite. Applied to each side separately;
 * shares no longer sum to exactly 1 afterwards (Evidently does not renormalise).
 * Used by PSI and KL; Jensen–Shannon and Hellinger use raw shares.
 */
export function fillZeroShares(shares: Float64Array): Float64Array {
  let minNonZero = Infinity;
  for (const s of shares) if (s !== 0 && s < minNonZero) minNonZero = s;
  if (minNonZero === Infinity) return Float64Array.from(shares);
  const fill = minNonZero <= 0.0001 ? minNonZero / 10 ** 6 : 0.0001;
  return shares.map((s) => (s === 0 ? fill : s));
}
