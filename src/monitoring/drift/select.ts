/**
 * The drift methods, their kinds and default thresholds, and Evidently's rule
 * for picking one per column (`_get_default_stattest`):
 *
 *   reference (non-missing) ≤ 1000 rows:
 *     numeric, > 5 distinct values (both sides together) → 'ks'
 *     numeric ≤ 5 or categorical: > 2 distinct → 'chisquare', else → 'z'
 *   reference > 1000 rows:
 *     numeric, > 5 distinct → 'wasserstein' (normed)
 *     numeric ≤ 5 or categorical → 'jensenshannon'
 *
 * P-value tests declare drift when p < threshold (default 0.05); distances when
 * statistic ≥ threshold (default 0.1). Both are Evidently's conventions.
 */

export type DriftMethod =
  | 'ks'
  | 'chisquare'
  | 'chi2_contingency'
  | 'z'
  | 'wasserstein'
  | 'jensenshannon'
  | 'psi'
  | 'kl_div'
  | 'hellinger';

export const DRIFT_METHODS: readonly DriftMethod[] = [
  'ks',
  'chisquare',
  'chi2_contingency',
  'z',
  'wasserstein',
  'jensenshannon',
  'psi',
  'kl_div',
  'hellinger',
];

export type ColumnKind = 'numeric' | 'categorical';

export interface MethodSpec {
  /** 'p_value': drifted when p < threshold; 'distance': drifted when statistic ≥ threshold. */
  kind: 'p_value' | 'distance';
  defaultThreshold: number;
  /** Column kinds the method accepts. Categorical methods on a numeric column treat each distinct value as a category. */
  accepts: readonly ColumnKind[];
}

export const METHOD_SPECS: Readonly<Record<DriftMethod, MethodSpec>> = {
  ks: { kind: 'p_value', defaultThreshold: 0.05, accepts: ['numeric'] },
  chisquare: { kind: 'p_value', defaultThreshold: 0.05, accepts: ['numeric', 'categorical'] },
  chi2_contingency: { kind: 'p_value', defaultThreshold: 0.05, accepts: ['numeric', 'categorical'] },
  z: { kind: 'p_value', defaultThreshold: 0.05, accepts: ['numeric', 'categorical'] },
  wasserstein: { kind: 'distance', defaultThreshold: 0.1, accepts: ['numeric'] },
  jensenshannon: { kind: 'distance', defaultThreshold: 0.1, accepts: ['numeric', 'categorical'] },
  psi: { kind: 'distance', defaultThreshold: 0.1, accepts: ['numeric', 'categorical'] },
  kl_div: { kind: 'distance', defaultThreshold: 0.1, accepts: ['numeric', 'categorical'] },
  hellinger: { kind: 'distance', defaultThreshold: 0.1, accepts: ['numeric', 'categorical'] },
};

/** Reference sizes up to this use the p-value tests. */
export const SMALL_REFERENCE_MAX_ROWS = 1000;
/** Numeric columns with at most this many distinct values are treated as categorical. */
export const NUMERIC_AS_CATEGORICAL_MAX_DISTINCT = 5;

export interface SelectionInput {
  kind: ColumnKind;
  /** Non-missing reference values. */
  referenceRows: number;
  /** Distinct non-missing values over reference and current together. */
  distinctValues: number;
}

/** Evidently's default method for a column. */
export function selectDefaultMethod({ kind, referenceRows, distinctValues }: SelectionInput): DriftMethod {
  const discrete = kind === 'categorical' || distinctValues <= NUMERIC_AS_CATEGORICAL_MAX_DISTINCT;
  if (referenceRows <= SMALL_REFERENCE_MAX_ROWS) {
    if (!discrete) return 'ks';
    return distinctValues > 2 ? 'chisquare' : 'z';
  }
  return discrete ? 'jensenshannon' : 'wasserstein';
}

/** Whether a result crosses the threshold under the method's convention. */
export function isDrifted(method: DriftMethod, statistic: number, pValue: number | null, threshold: number): boolean {
  return METHOD_SPECS[method].kind === 'p_value' ? (pValue as number) < threshold : statistic >= threshold;
}
