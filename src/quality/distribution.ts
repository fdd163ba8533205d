/**
 * Distribution measurements for drift checks, computed in DuckDB: quantile
 * bin edges of a reference column, bin counts of any column against them, and
 * the population stability index (PSI) of two bin count vectors.
 *
 * Bins are the 10 quantile bins of the reference: the edges are its 10th…90th
 * percentiles by linear interpolation (DuckDB's quantile_cont, numpy's default
 * `np.quantile`), bin k holds values v with edge[k-1] < v ≤ edge[k] (first bin
 * unbounded below, last unbounded above), NULLs are left out. Proportions
 * below 1e-4 are raised to 1e-4 so empty bins give a finite PSI:
 *
 *   PSI = Σ_k (actual_k − expected_k) · ln(actual_k / expected_k)
 */
import { sqlIdent, type Engine } from '../engine/index.js';

export const PSI_BINS = 10;
export const PSI_EPSILON = 1e-4;

const toNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

/** The 9 inner edges of the reference's decile bins; null when the column has no non-null value. */
export async function quantileEdges(engine: Engine, source: string, column: string): Promise<number[] | null> {
  const probs = Array.from({ length: PSI_BINS - 1 }, (_, k) => (k + 1) / PSI_BINS);
  const [row] = await engine.query<{ q: number[] | null }>(
    `SELECT quantile_cont(CAST(${sqlIdent(column)} AS DOUBLE), [${probs.join(', ')}]) AS q FROM ${source}`,
  );
  return row.q ? row.q.map(Number) : null;
}

/** Non-null values of `column` per bin of `edges` (one scan, one FILTER per bin). */
export async function binCounts(engine: Engine, source: string, column: string, edges: number[]): Promise<number[]> {
  const c = `CAST(${sqlIdent(column)} AS DOUBLE)`;
  const parts: string[] = [];
  for (let k = 0; k <= edges.length; k++) {
    const lower = k === 0 ? null : `$${k}`;
    const upper = k === edges.length ? null : `$${k + 1}`;
    const conds = [lower && `${c} > ${lower}`, upper && `${c} <= ${upper}`].filter(Boolean).join(' AND ');
    parts.push(`count(${sqlIdent(column)}) FILTER (WHERE ${conds}) AS "b${k}"`);
  }
  const [row] = await engine.query<Record<string, bigint>>(`SELECT ${parts.join(', ')} FROM ${source}`, edges);
  return Array.from({ length: edges.length + 1 }, (_, k) => toNumber(row[`b${k}`]));
}

/** PSI of `actual` against `expected` bin counts (same bins); null when either side has no values. */
export function psi(expected: number[], actual: number[]): number | null {
  const eTotal = expected.reduce((a, b) => a + b, 0);
  const aTotal = actual.reduce((a, b) => a + b, 0);
  if (eTotal === 0 || aTotal === 0) return null;
  let sum = 0;
  for (let k = 0; k < expected.length; k++) {
    const e = Math.max(expected[k] / eTotal, PSI_EPSILON);
    const a = Math.max(actual[k] / aTotal, PSI_EPSILON);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** |current − reference| / |reference|; 0 when both are 0, Infinity when only the reference is. */
export function relativeChange(current: number, reference: number): number {
  if (reference === 0) return current === 0 ? 0 : Infinity;
  return Math.abs(current - reference) / Math.abs(reference);
}
