/**
 * The per-column and dataset drift report: picks a method per column (Evidently's
 * rule, or an override), runs it on typed arrays, and applies the thresholds.
 *
 * Input is columnar: a numeric column is a Float64Array (NaN and ±Infinity are
 * missing, as Evidently drops them), a categorical column an array of strings
 * with null for missing. Missing values are dropped before every test.
 *
 * Every column also reports `psi` (10 reference-quantile bins, or categories),
 * outside the verdict. For speed each numeric side is sorted once and shared by
 * KS, Wasserstein and the quantile bins, and categories are counted once.
 *
 * Bad input and degenerate data:
 *  - a column present on one side only, columns of different kinds, columns of
 *    unequal length within a set, an override naming an unknown column or a
 *    method that does not fit the column → FW_INVALID_ARGUMENT naming the column;
 *  - a reference with zero rows → FW_INVALID_ARGUMENT;
 *  - no non-missing value on either side (zero-row current, all-null column) →
 *    status 'no data', statistic and p_value null, drifted false; such columns
 *    are left out of the dataset share (they are not evidence either way);
 *  - constant columns: see stats.ts for what each method returns; no NaN.
 */

import { invalidArgument } from '../../core/errors.js';
import {
  binCategorical,
  binNumeric,
  binQuantileSorted,
  DEFAULT_QUANTILE_BINS,
  distinctCountUpTo,
  fillZeroShares,
  toShares,
  type BinnedPair,
  type NumericBinning,
} from './binning.js';
import { ks2sampSorted } from './ks.js';
import { sortedCopy } from './sort.js';
import {
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  hellingerDistance,
  jensenShannonDistance,
  klDivergence,
  populationStabilityIndex,
  wassersteinDistanceNormedSorted,
  zTestProportions,
} from './stats.js';
import {
  DRIFT_METHODS,
  METHOD_SPECS,
  NUMERIC_AS_CATEGORICAL_MAX_DISTINCT,
  isDrifted,
  selectDefaultMethod,
  type ColumnKind,
  type DriftMethod,
} from './select.js';

export type CategoricalValues = readonly (string | null)[];
export type ColumnValues = Float64Array | CategoricalValues;
/** Columns by name; all columns of one set have the same length (the row count). */
export type ColumnSet = Readonly<Record<string, ColumnValues>>;

export interface ColumnDriftOptions {
  method?: DriftMethod;
  threshold?: number;
  /** Numeric binning for psi / kl_div / jensenshannon / hellinger. Defaults: psi → 10 reference quantiles; others → Evidently's Sturges rule. */
  binning?: NumericBinning;
  /** Logarithm base for jensenshannon. Default: natural log, as SciPy and current Evidently (base=None); 2 bounds the distance by 1. */
  jsBase?: number;
}

export interface DriftOptions {
  /** Columns to compare; default every column of either set (each must exist in both). */
  columns?: readonly string[];
  /** Dataset drift when the share of drifted columns reaches this. Default 0.5. */
  driftShare?: number;
  /** Per-column method, threshold and binning overrides. */
  perColumn?: Readonly<Record<string, ColumnDriftOptions>>;
}

export interface ColumnDriftResult {
  column: string;
  type: ColumnKind;
  method: DriftMethod;
  /** Test statistic or distance (z for the Z-test); null when there is no data. */
  statistic: number | null;
  /** P-value for p-value tests, else null. */
  p_value: number | null;
  threshold: number;
  drifted: boolean;
  status: 'ok' | 'no data';
  /**
   * PSI of the column whatever its method (Evidently's smoothing): numeric
   * columns over 10 reference-quantile bins, categorical ones per category;
   * null when there is no data. Not part of the verdict.
   */
  psi: number | null;
  /** Method-specific facts: KS path, chi-square dof / Yates, binning used. */
  details?: Record<string, unknown>;
}

export interface DriftReport {
  columns: ColumnDriftResult[];
  dataset: { drifted_share: number; drifted: boolean; drift_share_threshold: number; columns_with_data: number };
}

export const DEFAULT_DRIFT_SHARE = 0.5;

const isNumeric = (v: ColumnValues): v is Float64Array => v instanceof Float64Array;

function rowCount(set: ColumnSet, side: string): number {
  let rows: number | undefined;
  for (const [name, values] of Object.entries(set)) {
    if (!isNumeric(values) && !Array.isArray(values)) {
      throw invalidArgument(`${side} column "${name}" must be a Float64Array or an array of strings/null`, { column: name });
    }
    if (rows === undefined) rows = values.length;
    else if (values.length !== rows) {
      throw invalidArgument(`${side} column "${name}" has ${values.length} rows, other columns have ${rows}`, { column: name });
    }
  }
  return rows ?? 0;
}

function finiteValues(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  if (n === values.length) return values;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[k++] = values[i]!;
  return out;
}

function presentCount(values: CategoricalValues): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== null) n++;
  return n;
}

/** Python's default str ordering: by code point (JS `<` compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * One column's missing-free values, with what several methods share computed
 * once on first use: the sorted samples (KS, Wasserstein, quantile bins) and
 * the category counts (every categorical method and PSI).
 */
class Numeric {
  readonly kind = 'numeric';
  private sorted?: [Float64Array, Float64Array];
  constructor(
    readonly ref: Float64Array,
    readonly cur: Float64Array,
  ) {}
  get nRef(): number {
    return this.ref.length;
  }
  get nCur(): number {
    return this.cur.length;
  }
  sortedPair(): [Float64Array, Float64Array] {
    return (this.sorted ??= [sortedCopy(this.ref), sortedCopy(this.cur)]);
  }
}

class Categorical {
  readonly kind = 'categorical';
  readonly nRef: number;
  readonly nCur: number;
  private counts?: BinnedPair;
  constructor(
    readonly ref: CategoricalValues,
    readonly cur: CategoricalValues,
  ) {
    this.nRef = presentCount(ref);
    this.nCur = presentCount(cur);
  }
  categoryCounts(): BinnedPair {
    return (this.counts ??= binCategorical(this.ref, this.cur));
  }
  /** Whether the present values are all within at most `cap` distinct ones (cap + 1 otherwise). */
  distinctUpTo(cap: number): number {
    if (this.counts) return Math.min(this.counts.labels.length, cap + 1);
    const seen = new Set<string>();
    for (const side of [this.ref, this.cur]) {
      for (let i = 0; i < side.length; i++) {
        const v = side[i];
        if (v === null || v === undefined) continue;
        seen.add(v);
        if (seen.size > cap) return cap + 1;
      }
    }
    return seen.size;
  }
}

type Clean = Numeric | Categorical;

/** Counts per distinct value / category over both sides. */
function discreteCounts(data: Clean): BinnedPair {
  if (data.kind === 'categorical') return data.categoryCounts();
  // Distinct numeric values as categories: the 'sturges' path counts distinct values only up to 20, so count directly.
  const index = new Map<number, number>();
  for (const s of [data.ref, data.cur]) for (const v of s) if (!index.has(v)) index.set(v, index.size);
  const ref = new Float64Array(index.size);
  const cur = new Float64Array(index.size);
  for (const v of data.ref) ref[index.get(v)!]! += 1;
  for (const v of data.cur) cur[index.get(v)!]! += 1;
  return { labels: [...index.keys()].map(String), reference: ref, current: cur };
}

function binned(data: Clean, binning: NumericBinning): BinnedPair {
  if (data.kind === 'categorical') return data.categoryCounts();
  if (binning.kind === 'quantile') {
    const [sortedRef, sortedCur] = data.sortedPair();
    return binQuantileSorted(sortedRef, sortedCur, binning.bins);
  }
  return binNumeric(data.ref, data.cur, binning);
}

/** PSI over the column's default bins (10 reference quantiles, or categories), with Evidently's smoothing. */
function psiOf(data: Clean): number {
  const b = binned(data, { kind: 'quantile', bins: DEFAULT_QUANTILE_BINS });
  return populationStabilityIndex(fillZeroShares(toShares(b.reference, data.nRef)), fillZeroShares(toShares(b.current, data.nCur)));
}

function runMethod(
  column: string,
  method: DriftMethod,
  data: Clean,
  opts: ColumnDriftOptions,
): { statistic: number; pValue: number | null; details?: Record<string, unknown> } {
  const nRef = data.nRef;
  const nCur = data.nCur;
  switch (method) {
    case 'ks': {
      const r = ks2sampSorted(...(data as Numeric).sortedPair());
      return { statistic: r.statistic, pValue: r.pValue, details: { ks_method: r.method } };
    }
    case 'wasserstein':
      return { statistic: wassersteinDistanceNormedSorted(...(data as Numeric).sortedPair()), pValue: null };
    case 'chisquare': {
      const c = discreteCounts(data);
      const r = chiSquareGoodnessOfFit(c.reference, c.current);
      return { statistic: r.statistic, pValue: r.pValue, details: { dof: Math.max(c.labels.length - 1, 0) } };
    }
    case 'chi2_contingency': {
      const c = discreteCounts(data);
      const r = chiSquareContingency(c.reference, c.current);
      return { statistic: r.statistic, pValue: r.pValue, details: { dof: r.dof, yates: r.yates } };
    }
    case 'z': {
      const c = discreteCounts(data);
      if (c.labels.length > 2) {
        throw invalidArgument(`column "${column}": the z test needs at most 2 distinct values, found ${c.labels.length}`, { column });
      }
      if (c.labels.length < 2) return { statistic: 0, pValue: 1 };
      // Evidently codes the smallest value as 0 and the other as 1; "the" proportion is the share of 1s.
      let first: number;
      if (data.kind === 'numeric') first = Number(c.labels[0]) <= Number(c.labels[1]) ? 0 : 1;
      else first = compareCodePoints(c.labels[0]!, c.labels[1]!) <= 0 ? 0 : 1;
      const other = 1 - first;
      const r = zTestProportions(c.reference[other]!, nRef, c.current[other]!, nCur);
      return { statistic: r.statistic, pValue: r.pValue, details: { proportion_of: c.labels[other] } };
    }
    case 'jensenshannon':
    case 'psi':
    case 'kl_div':
    case 'hellinger': {
      const binning: NumericBinning = opts.binning ?? (method === 'psi' ? { kind: 'quantile' } : { kind: 'sturges' });
      const b = binned(data, binning);
      const refShares = toShares(b.reference, nRef);
      const curShares = toShares(b.current, nCur);
      const details: Record<string, unknown> = { bins: b.labels.length };
      if (data.kind === 'numeric') details.binning = binning.kind;
      let statistic: number;
      if (method === 'jensenshannon') {
        statistic = jensenShannonDistance(refShares, curShares, opts.jsBase);
        details.base = opts.jsBase ?? 'e';
      } else if (method === 'hellinger') statistic = hellingerDistance(refShares, curShares);
      else if (method === 'psi') statistic = populationStabilityIndex(fillZeroShares(refShares), fillZeroShares(curShares));
      else statistic = klDivergence(fillZeroShares(refShares), fillZeroShares(curShares));
      return { statistic, pValue: null, details };
    }
  }
}

function checkOptions(name: string, kind: ColumnKind, o: ColumnDriftOptions): void {
  if (o.method !== undefined) {
    if (!DRIFT_METHODS.includes(o.method)) {
      throw invalidArgument(`column "${name}": unknown drift method "${o.method}" (one of ${DRIFT_METHODS.join(', ')})`, { column: name });
    }
    if (!METHOD_SPECS[o.method].accepts.includes(kind)) {
      throw invalidArgument(`column "${name}": method "${o.method}" needs a numeric column, this one is ${kind}`, { column: name });
    }
  }
  if (o.threshold !== undefined && !(Number.isFinite(o.threshold) && o.threshold >= 0)) {
    throw invalidArgument(`column "${name}": threshold must be a finite number ≥ 0, got ${o.threshold}`, { column: name });
  }
  if (o.jsBase !== undefined && !(o.jsBase > 0 && o.jsBase !== 1)) {
    throw invalidArgument(`column "${name}": jsBase must be > 0 and ≠ 1, got ${o.jsBase}`, { column: name });
  }
}

/** Drift of `current` against `reference`, per column and for the dataset. */
export function driftReport(reference: ColumnSet, current: ColumnSet, options: DriftOptions = {}): DriftReport {
  const refRows = rowCount(reference, 'reference');
  rowCount(current, 'current');
  const names = options.columns ?? [...new Set([...Object.keys(reference), ...Object.keys(current)])];
  for (const name of names) {
    if (!Object.hasOwn(reference, name)) throw invalidArgument(`column "${name}" is missing from the reference data`, { column: name });
    if (!Object.hasOwn(current, name)) throw invalidArgument(`column "${name}" is missing from the current data`, { column: name });
  }
  if (names.length === 0) throw invalidArgument('no columns to compare');
  if (refRows === 0) {
    throw invalidArgument('the reference data has zero rows; drift needs a non-empty reference', { rows: refRows });
  }
  const perColumn = options.perColumn ?? {};
  for (const name of Object.keys(perColumn)) {
    if (!names.includes(name)) throw invalidArgument(`drift options name column "${name}", which is not compared`, { column: name });
  }
  const driftShare = options.driftShare ?? DEFAULT_DRIFT_SHARE;
  if (!(driftShare >= 0 && driftShare <= 1)) throw invalidArgument(`driftShare must be within [0, 1], got ${driftShare}`, { driftShare });

  const columns: ColumnDriftResult[] = [];
  for (const name of names) {
    const refValues = reference[name]!;
    const curValues = current[name]!;
    if (isNumeric(refValues) !== isNumeric(curValues)) {
      throw invalidArgument(`column "${name}" is numeric on one side and categorical on the other`, { column: name });
    }
    const data: Clean = isNumeric(refValues)
      ? new Numeric(finiteValues(refValues), finiteValues(curValues as Float64Array))
      : new Categorical(refValues, curValues as CategoricalValues);
    const opts = perColumn[name] ?? {};
    checkOptions(name, data.kind, opts);

    let method: DriftMethod;
    if (opts.method) method = opts.method;
    else {
      // The rule only distinguishes ≤ 2, ≤ 5 and more, so counting stops past 5.
      const distinct =
        data.kind === 'numeric'
          ? distinctCountUpTo<number>(NUMERIC_AS_CATEGORICAL_MAX_DISTINCT, data.ref, data.cur)
          : data.distinctUpTo(NUMERIC_AS_CATEGORICAL_MAX_DISTINCT);
      method = selectDefaultMethod({ kind: data.kind, referenceRows: data.nRef, distinctValues: distinct });
    }
    const threshold = opts.threshold ?? METHOD_SPECS[method].defaultThreshold;
    if (data.nRef === 0 || data.nCur === 0) {
      columns.push({ column: name, type: data.kind, method, statistic: null, p_value: null, threshold, drifted: false, status: 'no data', psi: null });
      continue;
    }
    const r = runMethod(name, method, data, opts);
    const result: ColumnDriftResult = {
      column: name,
      type: data.kind,
      method,
      statistic: r.statistic,
      p_value: r.pValue,
      threshold,
      drifted: isDrifted(method, r.statistic, r.pValue, threshold),
      status: 'ok',
      psi: method === 'psi' && !opts.binning ? r.statistic : psiOf(data),
    };
    if (r.details) result.details = r.details;
    columns.push(result);
  }
  return { columns, dataset: datasetVerdict(columns, driftShare) };
}

/**
 * The dataset verdict over column results (columns without data left out), so
 * reports computed a column at a time — to bound memory — combine exactly as one.
 */
export function datasetVerdict(columns: readonly ColumnDriftResult[], driftShare = DEFAULT_DRIFT_SHARE): DriftReport['dataset'] {
  const withData = columns.filter((c) => c.status === 'ok');
  const drifted = withData.filter((c) => c.drifted).length;
  const share = withData.length === 0 ? 0 : drifted / withData.length;
  return {
    drifted_share: share,
    drifted: withData.length > 0 && share >= driftShare,
    drift_share_threshold: driftShare,
    columns_with_data: withData.length,
  };
}
