/**
 * Turns a window of logged predictions into typed columns (one pass over the
 * rows, one array per column) and computes the window's data-quality,
 * latency and error numbers. Kinds come from the reference, so the live
 * column has the shape its reference column has.
 *
 * Live values: numeric columns take numbers (and numeric strings are NOT
 * coerced: a string in a numeric input is counted as invalid, since the
 * signature says double); categorical columns take strings, booleans and
 * numbers as text. null/absent is missing; NaN in a numeric column too.
 */
import type { LoggedPrediction } from '../../serving/types.js';
import type { CategoricalValues, ColumnSet, ColumnValues } from '../drift/index.js';
import type { ColumnKind, ReferenceData } from './reference.js';

export interface LiveColumns {
  columns: ColumnSet;
  /** Per column: rows whose value is present but of the wrong type (a string in a numeric column, an object…). */
  invalid: Record<string, number>;
}

export function toText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return null;
}

export function liveColumns(rows: readonly LoggedPrediction[], kinds: Record<string, ColumnKind>, names: readonly string[]): LiveColumns {
  const columns: Record<string, ColumnValues> = {};
  const invalid: Record<string, number> = {};
  for (const c of names) {
    let bad = 0;
    if (kinds[c] === 'numeric') {
      const arr = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]!.features[c];
        if (typeof v === 'number') arr[i] = v;
        else {
          arr[i] = NaN;
          if (v !== null && v !== undefined) bad++;
        }
      }
      columns[c] = arr;
    } else {
      const arr = new Array<string | null>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]!.features[c];
        const t = toText(v);
        arr[i] = t;
        if (t === null && v !== null && v !== undefined) bad++;
      }
      columns[c] = arr;
    }
    invalid[c] = bad;
  }
  return { columns, invalid };
}

export interface ColumnQuality {
  /** Share of rows with no usable value (null, absent, NaN, or of the wrong type). */
  null_share: number;
  /** Share of rows whose value is present but of the wrong type. */
  invalid_share: number;
  /** Numeric: share of rows outside the reference's [min, max] (over all rows). */
  out_of_range_share?: number;
  /** Categorical: share of rows with a category the reference never has (over all rows). */
  unseen_share?: number;
}

/** Data quality of live columns against the reference; shares are over the window's rows (0 rows → not called). */
export function columnQuality(live: LiveColumns, reference: ReferenceData, names: readonly string[], rows: number): Record<string, ColumnQuality> {
  const out: Record<string, ColumnQuality> = {};
  for (const c of names) {
    const values = live.columns[c]!;
    let missing = 0;
    const q: ColumnQuality = { null_share: 0, invalid_share: live.invalid[c]! / rows };
    if (values instanceof Float64Array) {
      const range = reference.ranges[c] ?? null;
      let outside = 0;
      for (const v of values) {
        if (!Number.isFinite(v)) missing++;
        else if (range === null || v < range.min || v > range.max) outside++;
      }
      q.out_of_range_share = outside / rows;
    } else {
      const seen = reference.categories[c] ?? new Set<string>();
      let unseen = 0;
      for (const v of values as CategoricalValues) {
        if (v === null) missing++;
        else if (!seen.has(v)) unseen++;
      }
      q.unseen_share = unseen / rows;
    }
    q.null_share = missing / rows;
    out[c] = q;
  }
  return out;
}

/** Percentile with linear interpolation between closest ranks (NumPy's default): sorted[(n-1)·p]. */
export function percentile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function latencyStats(rows: readonly LoggedPrediction[]): { p50: number; p99: number; mean: number } {
  const lat = Float64Array.from(rows, (r) => r.latencyMs).sort();
  let sum = 0;
  for (const v of lat) sum += v;
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), mean: sum / lat.length };
}
