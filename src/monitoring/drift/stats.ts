/**
 * Drift statistics other than KS (see ks.ts), each a port of the SciPy / Evidently
 * function named in its comment, on typed arrays.
 *
 * Degenerate inputs are defined rather than left to NaN:
 *  - chi-square with fewer than two categories (dof 0): statistic 0, p-value 1
 *    (SciPy's chi2_contingency does this; SciPy's chisquare would give NaN);
 *  - chi-square goodness of fit with a category absent from the reference but
 *    present in current: statistic +Infinity, p-value 0 (SciPy's result);
 *  - Z-test with one value on both sides: z 0, p-value 1 (Evidently's rule);
 *  - normed Wasserstein divides by max(std_ref, 0.001) (Evidently's rule);
 *  - Jensen–Shannon: a negative rounding residue under the square root is 0.
 */

import { sortedCopy } from './sort.js';
import { chi2Sf, normalCdf } from './special.js';

export interface TestResult {
  statistic: number;
  pValue: number;
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
}

/**
 * Evidently's chi-square drift test: `scipy.stats.chisquare(current_counts,
 * reference_counts * n_cur / n_ref)`, dof = k − 1.
 */
export function chiSquareGoodnessOfFit(referenceCounts: Float64Array, currentCounts: Float64Array): TestResult {
  const k = referenceCounts.length;
  if (k < 2) return { statistic: 0, pValue: 1 };
  const kNorm = sum(currentCounts) / sum(referenceCounts);
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const expected = referenceCounts[i]! * kNorm;
    const diff = currentCounts[i]! - expected;
    stat += (diff * diff) / expected; // expected 0 with observed > 0 → +Infinity, as in SciPy
  }
  if (Number.isNaN(stat)) stat = Infinity;
  return { statistic: stat, pValue: stat === Infinity ? 0 : chi2Sf(stat, k - 1) };
}

export interface ContingencyResult extends TestResult {
  dof: number;
  /** Whether Yates' continuity correction was applied (SciPy: only when dof == 1). */
  yates: boolean;
}

/**
 * `scipy.stats.chi2_contingency([[reference counts], [current counts]])` with
 * its default correction=True: Yates' correction (each |observed − expected|
 * shrunk by min(0.5, |diff|)) applies only when dof == 1, i.e. two categories.
 * Both rows must have a non-zero total and every category a non-zero column total.
 */
export function chiSquareContingency(referenceCounts: Float64Array, currentCounts: Float64Array, correction = true): ContingencyResult {
  const k = referenceCounts.length;
  const dof = k - 1;
  if (dof <= 0) return { statistic: 0, pValue: 1, dof: 0, yates: false };
  const rows = [referenceCounts, currentCounts];
  const rowSums = rows.map(sum);
  const total = rowSums[0]! + rowSums[1]!;
  const yates = correction && dof === 1;
  let stat = 0;
  for (let j = 0; j < k; j++) {
    const colSum = referenceCounts[j]! + currentCounts[j]!;
    for (let r = 0; r < 2; r++) {
      const expected = (rowSums[r]! * colSum) / total;
      let observed = rows[r]![j]!;
      if (yates) {
        const diff = expected - observed;
        observed += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      const d = observed - expected;
      stat += (d * d) / expected;
    }
  }
  return { statistic: stat, pValue: chi2Sf(stat, dof), dof, yates };
}

/**
 * Evidently's `z_stat_test`: two-proportion Z-test with pooled proportion.
 * "The" proportion is the share of values different from the smallest category
 * (Evidently sorts the categories and codes the first as 0, the rest as 1);
 * z = (p_ref − p_cur) / sqrt(P(1−P)(1/n_ref + 1/n_cur)), p = 2(1 − Φ(|z|)).
 * Counts are of that "other" category out of each sample size.
 */
export function zTestProportions(refOnes: number, refN: number, curOnes: number, curN: number): TestResult {
  const p1 = refOnes / refN;
  const p2 = curOnes / curN;
  const pooled = (p1 * refN + p2 * curN) / (refN + curN);
  const denom = Math.sqrt(pooled * (1 - pooled) * (1 / refN + 1 / curN));
  if (denom === 0) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / denom;
  return { statistic: z, pValue: 2 * (1 - normalCdf(Math.abs(z))) };
}

/** `scipy.stats.wasserstein_distance(u, v)`: ∫|F_u − F_v| over the pooled sorted values (non-empty, NaN-free). */
export function wassersteinDistance(u: Float64Array, v: Float64Array): number {
  return wassersteinDistanceSorted(sortedCopy(u), sortedCopy(v));
}

/** wassersteinDistance on samples already sorted ascending. */
export function wassersteinDistanceSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let total = 0;
  // Walk the pooled sorted values; between consecutive pooled values both CDFs are constant.
  let prev = Math.min(a[0]!, b[0]!);
  while (i < n1 && j < n2) {
    const x = a[i]!;
    const y = b[j]!;
    const next = x < y ? x : y;
    total += Math.abs(i / n1 - j / n2) * (next - prev);
    while (i < n1 && a[i]! <= next) i++;
    while (j < n2 && b[j]! <= next) j++;
    prev = next;
  }
  // One sample is exhausted (its CDF is 1): only the other's values remain.
  while (i < n1) {
    const next = a[i]!;
    total += Math.abs(i / n1 - 1) * (next - prev);
    while (i < n1 && a[i]! <= next) i++;
    prev = next;
  }
  while (j < n2) {
    const next = b[j]!;
    total += Math.abs(1 - j / n2) * (next - prev);
    while (j < n2 && b[j]! <= next) j++;
    prev = next;
  }
  return total;
}

/** Population standard deviation (`np.std`, ddof=0), two-pass. */
export function populationStd(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const mean = sum(values) / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/** Evidently's `wasserstein_distance_norm`: W1(ref, cur) / max(np.std(ref), 0.001). */
export function wassersteinDistanceNormed(reference: Float64Array, current: Float64Array): number {
  return wassersteinDistanceNormedSorted(sortedCopy(reference), sortedCopy(current));
}

/** wassersteinDistanceNormed on samples already sorted ascending. */
export function wassersteinDistanceNormedSorted(reference: Float64Array, current: Float64Array): number {
  return wassersteinDistanceSorted(reference, current) / Math.max(populationStd(reference), 0.001);
}

/** scipy.special.rel_entr(x, y). */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

function normalised(p: Float64Array): Float64Array {
  const s = sum(p);
  return p.map((x) => x / s);
}

/**
 * `scipy.spatial.distance.jensenshannon(p, q, base)`: p and q are normalised to
 * sum 1, m = (p+q)/2, result sqrt((KL(p‖m) + KL(q‖m)) / 2) (divided by ln(base)
 * inside the root when base is given; natural log when omitted).
 */
export function jensenShannonDistance(p: Float64Array, q: Float64Array, base?: number): number {
  const pn = normalised(p);
  const qn = normalised(q);
  let left = 0;
  let right = 0;
  for (let i = 0; i < pn.length; i++) {
    const m = (pn[i]! + qn[i]!) / 2;
    left += relEntr(pn[i]!, m);
    right += relEntr(qn[i]!, m);
  }
  let js = left + right;
  if (base !== undefined) js /= Math.log(base);
  return Math.sqrt(Math.max(js / 2, 0));
}

/** `scipy.stats.entropy(p, q)`: KL(p‖q) in nats after normalising both to sum 1. */
export function klDivergence(p: Float64Array, q: Float64Array): number {
  const pn = normalised(p);
  const qn = normalised(q);
  let s = 0;
  for (let i = 0; i < pn.length; i++) s += relEntr(pn[i]!, qn[i]!);
  return s;
}

/** Population Stability Index Σ (r − c) ln(r / c) over (smoothed) shares, as Evidently's `psi`. */
export function populationStabilityIndex(referenceShares: Float64Array, currentShares: Float64Array): number {
  let s = 0;
  for (let i = 0; i < referenceShares.length; i++) {
    const r = referenceShares[i]!;
    const c = currentShares[i]!;
    s += (r - c) * Math.log(r / c);
  }
  return s;
}

/**
 * Hellinger distance sqrt(1 − Σ sqrt(p_i q_i)) between two discrete
 * distributions (shares), with the Bhattacharyya sum clipped to [0, 1] as
 * Evidently does.
 */
export function hellingerDistance(p: Float64Array, q: Float64Array): number {
  let bc = 0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt(p[i]! * q[i]!);
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}
