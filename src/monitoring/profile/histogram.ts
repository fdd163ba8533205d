/**
 * Distributions read back from profiles, for drift computed without raw rows:
 * the CDF at split points and bin counts (numeric, from the KLL sketch), the
 * split points at given quantiles (e.g. the reference's deciles for PSI), and
 * category counts (categorical, from the frequent items).
 *
 * Error: each CDF value is within ε = kllRankError(k) of the true fraction,
 * and each bin's fraction within kllRankError(k, { mass: true }) (≈ 99 %
 * confidence; k = 200: 1.33 % and 1.65 %). Category counts are exact while
 * `maxError` is 0, else each lies in [count, count + maxError].
 * Fractions are of the values summarized (nulls and NaN left out).
 */
import { invalidArgument } from '../../core/errors.js';
import type { CategoricalProfile, NumericProfile } from './column-profile.js';
import { kllRankError } from './kll.js';

export interface ProfileHistogram {
  splits: number[];
  /**
   * Estimated counts (whole numbers summing to the profile's valueCount) of
   * splits.length + 1 bins: (−∞, s0], (s0, s1], …, (s_last, +∞) when
   * inclusive (the default); (−∞, s0), [s0, s1), …, [s_last, +∞) otherwise.
   */
  counts: Float64Array;
  fractions: Float64Array;
  /** Bound on each fraction's error (≈ 99 %); 0 when the sketch is exact. */
  maxFractionError: number;
}

/** Estimated fraction of values ≤ each split (< with `inclusive: false`). */
export function cdfFromProfile(
  profile: NumericProfile,
  splits: ArrayLike<number>,
  options: { inclusive?: boolean } = {},
): Float64Array {
  return profile.quantiles.cdf(requireSorted(splits), options.inclusive ?? true);
}

/** Bin counts between split points, estimated from the quantile sketch. */
export function histogramFromProfile(
  profile: NumericProfile,
  splits: ArrayLike<number>,
  options: { inclusive?: boolean } = {},
): ProfileHistogram {
  const inclusive = options.inclusive ?? true;
  requireSorted(splits);
  const n = profile.valueCount;
  const counts = new Float64Array(splits.length + 1);
  let previous = 0;
  for (let i = 0; i < splits.length; i++) {
    const below = profile.quantiles.weightBelow(splits[i], inclusive);
    counts[i] = below - previous;
    previous = below;
  }
  counts[splits.length] = n - previous;
  const fractions = counts.map((c) => (n === 0 ? 0 : c / n));
  const exact = profile.quantiles.retained === n; // nothing compacted yet
  return {
    splits: Array.from(splits),
    counts,
    fractions,
    maxFractionError: exact ? 0 : kllRankError(profile.quantiles.k, { mass: true }),
  };
}

/** Values at the given ranks (e.g. [0.1, …, 0.9] for 10 quantile bins). */
export function quantilesFromProfile(profile: NumericProfile, ranks: ArrayLike<number>): (number | null)[] {
  return Array.from(ranks, (q) => profile.quantile(q));
}

export interface CategoryCounts {
  counts: Map<string, number>;
  /** Values not in `counts` (0 when exact). */
  other: number;
  /** Each count may be below the truth by up to this; 0 = exact. */
  maxError: number;
}

export function categoryCountsFromProfile(profile: CategoricalProfile): CategoryCounts {
  const counts = new Map<string, number>();
  let kept = 0;
  for (const item of profile.topValues()) {
    counts.set(item.value, item.count);
    kept += item.count;
  }
  return { counts, other: profile.valueCount - kept, maxError: profile.frequent.maxError };
}

function requireSorted(splits: ArrayLike<number>): ArrayLike<number> {
  for (let i = 0; i < splits.length; i++) {
    if (Number.isNaN(splits[i]) || (i > 0 && splits[i] < splits[i - 1])) {
      throw invalidArgument(`split points must be ascending numbers (index ${i})`, { index: i });
    }
  }
  return splits;
}
