/**
 * Column profiles of a Parquet file, computed by DuckDB in as few scans as
 * possible:
 *
 *   1. one aggregate scan for every column at once: non-null count, distinct
 *      count, mean, sample std, quantiles, string lengths and — with the range
 *      taken from the Parquet row-group statistics, so no earlier scan is
 *      needed — the 20-bin histogram of every numeric column (min and max of
 *      numeric columns come from those statistics too);
 *   2. one scan with the top-20 values of every text and boolean column;
 *   3. small reads: the first PII_SAMPLE_SIZE non-null values of each text
 *      (and integer) column for the personal-data checks, and, for sniffed
 *      CSV, the first NUMERIC_LIKE_ROWS rows for mixed-type detection.
 *
 * Definitions, so numbers can be checked against NumPy/pandas:
 *   - `std` is the sample standard deviation (n − 1), as pandas' `std()`.
 *   - Quantiles are DuckDB's `quantile_cont`: linear interpolation between the
 *     two nearest ranks, which is NumPy's default (`method='linear'`).
 *   - Histogram bins are NumPy's: 20 equal-width bins from min to max, each
 *     [lower, upper) except the last, which includes max; a constant column
 *     uses the range [v − 0.5, v + 0.5].
 *   - Float NaN and ±Infinity are left out of numeric statistics (as pandas
 *     leaves out NaN); they still count as non-null values.
 *   - Below `exactDistinctBound` rows, distinct counts and quantiles are exact;
 *     at or above it, distinct counts are HyperLogLog estimates, quantiles come
 *     from a uniform random sample of QUANTILE_SAMPLE_ROWS values per column
 *     (DuckDB's reservoir_quantile: nearest-rank quantiles of the sample, which
 *     may differ slightly from one computation to the next), and mostly-unique
 *     text columns get no top values.
 */
import { sqlIdent, sqlLiteral, type DuckDBConnection, type Engine } from '../engine/index.js';
import { luhnValid, piiCondition, PII_MATCH_SHARE, PII_SAMPLE_SIZE } from './pii.js';
import type { ColumnKind, ColumnProfile, DatasetProfile, HistogramBin, PiiKind } from './types.js';

export const DEFAULT_EXACT_DISTINCT_BOUND = 1_000_000;
export const HISTOGRAM_BINS = 20;
export const TOP_VALUES = 20;
/** Values per column in the quantile sample of datasets at or above the exact bound. */
export const QUANTILE_SAMPLE_ROWS = 100_000;
/** Leading rows checked for text columns that are mostly numbers (DuckDB's CSV sniffer looks at as many). */
export const NUMERIC_LIKE_ROWS = 20_480;
/** At or above the bound, text columns with more distinct values than this share of their values get no top values. */
const MOSTLY_UNIQUE = 0.5;
const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;
const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DECIMAL\(\d+,0\))$/;

export function columnKind(type: string): ColumnKind {
  const t = type.toUpperCase();
  if (NUMERIC.test(t)) return 'numeric';
  if (t === 'VARCHAR' || t === 'UUID' || t.startsWith('ENUM')) return 'text';
  if (t === 'DATE' || t.startsWith('TIMESTAMP')) return 'temporal';
  if (t === 'BOOLEAN') return 'boolean';
  return 'other';
}

const isFloat = (type: string) => type === 'FLOAT' || type === 'DOUBLE';

export interface ProfileOptions {
  exactDistinctBound?: number;
  piiSampleSize?: number;
  /** Also count, for every text column except `exclude`, the values that parse as numbers (mixed-type detection of sniffed sources). */
  numericLike?: { exclude?: string[] };
}

export interface NumericLike {
  /** Non-null values checked (of the leading NUMERIC_LIKE_ROWS rows). */
  checked: number;
  /** …of which TRY_CAST to DOUBLE succeeds. */
  asDouble: number;
  /** …of which TRY_CAST to BIGINT succeeds. */
  asBigint: number;
}

export interface ProfileResult {
  profile: DatasetProfile;
  numericLike: Map<string, NumericLike>;
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  const n = Number(v);
  return Number.isNaN(n) ? null : n;
}

function scalar(v: unknown): number | string | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** A DOUBLE literal that reads back as exactly `v` (String(v) is the shortest such text). */
const dbl = (v: number) => `${sqlLiteral(String(v))}::DOUBLE`;

interface Col {
  i: number;
  name: string;
  type: string;
  kind: ColumnKind;
  /** The column in the source. */
  src: string;
  /** Its alias inside the aggregate scan. */
  c: string;
  /** The alias of its numeric value with NaN/±Infinity as NULL (numeric columns). */
  f: string;
}

/**
 * Min and max of numeric columns from the Parquet row-group statistics, where
 * every row group has them and they are finite (a row group holding NaN has
 * none). FLOAT columns are left out: their statistics print float32 values
 * that do not equal the same values widened to DOUBLE.
 */
async function statsRanges(conn: DuckDBConnection, file: string, cols: Col[]): Promise<Map<number, { lo: number; hi: number }>> {
  const numeric = new Map(cols.filter((c) => c.kind === 'numeric' && c.type !== 'FLOAT').map((c) => [c.name, c]));
  const out = new Map<number, { lo: number; hi: number }>();
  if (numeric.size === 0) return out;
  const meta = await rows(conn, `SELECT path_in_schema AS p, num_values AS n, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata(${sqlLiteral(file)})`);
  const acc = new Map<string, { lo: number; hi: number; ok: boolean }>();
  for (const m of meta) {
    const name = String(m.p);
    if (!numeric.has(name)) continue;
    const a = acc.get(name) ?? { lo: Infinity, hi: -Infinity, ok: true };
    const allNull = num(m.nulls) !== null && num(m.nulls) === num(m.n);
    if (!allNull) {
      const lo = m.lo === null ? NaN : Number(m.lo);
      const hi = m.hi === null ? NaN : Number(m.hi);
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) a.ok = false;
      else {
        a.lo = Math.min(a.lo, lo);
        a.hi = Math.max(a.hi, hi);
      }
    }
    acc.set(name, a);
  }
  for (const [name, a] of acc) if (a.ok && a.lo <= a.hi) out.set(numeric.get(name)!.i, { lo: a.lo, hi: a.hi });
  return out;
}

/** NumPy's histogram range for data from min to max. */
function binRange(min: number, max: number): { lo: number; hi: number } {
  return min === max ? { lo: min - 0.5, hi: max + 0.5 } : { lo: min, hi: max };
}

/** Profiles the Parquet file at `parquetPath`. */
export async function computeProfile(engine: Engine, parquetPath: string, options: ProfileOptions = {}): Promise<ProfileResult> {
  const bound = options.exactDistinctBound ?? DEFAULT_EXACT_DISTINCT_BOUND;
  const sampleSize = options.piiSampleSize ?? PII_SAMPLE_SIZE;
  const src = `read_parquet(${sqlLiteral(parquetPath)})`;
  return engine.withConnection(async (conn) => {
    const described = await rows(conn, `DESCRIBE SELECT * FROM ${src}`);
    const cols: Col[] = described.map((d, i) => {
      const type = String(d.column_type);
      return { i, name: String(d.column_name), type, kind: columnKind(type), src: sqlIdent(String(d.column_name)), c: `c${i}`, f: `f${i}` };
    });
    const [{ n }] = await rows(conn, `SELECT count(*) AS n FROM ${src}`);
    const rowCount = num(n) ?? 0;
    const exact = rowCount < bound;
    const q = `[${QUANTILES.join(', ')}]`;

    // ---- 1. one aggregate scan over every column
    const stats = await statsRanges(conn, parquetPath, cols);
    const binRanges = new Map<number, { lo: number; hi: number }>();
    const projection: string[] = [];
    const exprs: string[] = ['count(*) AS total'];
    for (const col of cols) {
      const { i, c, f, kind } = col;
      projection.push(`${col.src} AS ${c}`);
      exprs.push(`count(${c}) AS nn${i}`);
      const distinctArg = kind === 'other' ? `${c}::VARCHAR` : c;
      exprs.push(exact ? `count(DISTINCT ${distinctArg}) AS d${i}` : `approx_count_distinct(${distinctArg}) AS d${i}`);
      if (kind === 'numeric') {
        projection.push(isFloat(col.type) ? `CASE WHEN isfinite(${col.src}) THEN ${col.src}::DOUBLE END AS ${f}` : `${col.src}::DOUBLE AS ${f}`);
        // min/max of the finite values as doubles (the JS numbers they become anyway), from the statistics when they have them.
        exprs.push(`avg(${f}) AS mean${i}`, `stddev_samp(${f}) AS sd${i}`);
        exprs.push(exact ? `quantile_cont(${f}, ${q}) AS q${i}` : `reservoir_quantile(${f}, ${q}, ${QUANTILE_SAMPLE_ROWS}) AS q${i}`);
        const s = stats.get(i);
        if (s) {
          const r = binRange(s.lo, s.hi);
          binRanges.set(i, r);
          exprs.push(`${histogramExpression(f, r.lo, r.hi)} AS h${i}`);
        } else {
          exprs.push(`min(${f}) AS lo${i}`, `max(${f}) AS hi${i}`);
        }
      } else if (kind === 'text') {
        const s = `${c}::VARCHAR`;
        exprs.push(`min(${s}) AS mn${i}`, `max(${s}) AS mx${i}`, `min(length(${s})) AS lmin${i}`, `avg(length(${s})) AS lmean${i}`, `max(length(${s})) AS lmax${i}`);
      } else if (kind === 'temporal') {
        exprs.push(`min(${c})::VARCHAR AS mn${i}`, `max(${c})::VARCHAR AS mx${i}`);
      } else if (kind === 'boolean') {
        exprs.push(`min(${c}) AS mn${i}`, `max(${c}) AS mx${i}`);
      }
    }
    const scanned = `(SELECT ${projection.length > 0 ? projection.join(', ') : '1 AS one'} FROM ${src})`;
    const [agg] = await rows(conn, `SELECT ${exprs.join(', ')} FROM ${scanned}`);
    for (const [i, r] of stats) {
      // A column with values has a range; an all-null one has no statistics, so is never here.
      agg[`lo${i}`] = r.lo;
      agg[`hi${i}`] = r.hi;
    }

    const profiles: ColumnProfile[] = cols.map(({ i, name, type, kind }) => {
      const count = num(agg[`nn${i}`]) ?? 0;
      const p: ColumnProfile = {
        name,
        type,
        kind,
        count,
        nulls: rowCount - count,
        distinct: num(agg[`d${i}`]) ?? 0,
        distinctApproximate: !exact,
        min: scalar(agg[`mn${i}`]),
        max: scalar(agg[`mx${i}`]),
        mean: null,
        std: null,
        quantiles: null,
        histogram: null,
        topValues: null,
        length: null,
        dateRange: null,
        pii: [],
      };
      if (kind === 'numeric') {
        p.min = num(agg[`lo${i}`]);
        p.max = num(agg[`hi${i}`]);
        p.mean = num(agg[`mean${i}`]);
        p.std = num(agg[`sd${i}`]);
        const qs = agg[`q${i}`] as unknown[] | null | undefined;
        if (qs) p.quantiles = toQuantiles(qs);
      } else if (kind === 'text' && count > 0) {
        p.length = { min: num(agg[`lmin${i}`])!, mean: num(agg[`lmean${i}`])!, max: num(agg[`lmax${i}`])! };
      } else if (kind === 'temporal' && p.min !== null && p.max !== null) {
        p.dateRange = { min: String(p.min), max: String(p.max) };
      }
      return p;
    });

    // Histograms: from scan 1 when the statistics gave the true finite range; otherwise one more scan.
    const redo: Col[] = [];
    for (const col of cols.filter((c) => c.kind === 'numeric')) {
      const lo = num(agg[`lo${col.i}`]);
      const hi = num(agg[`hi${col.i}`]);
      if (lo === null || hi === null) continue;
      const want = binRange(lo, hi);
      const got = binRanges.get(col.i);
      if (got && got.lo === want.lo && got.hi === want.hi) profiles[col.i].histogram = toHistogram(agg[`h${col.i}`], want);
      else {
        binRanges.set(col.i, want);
        redo.push(col);
      }
    }
    if (redo.length > 0) {
      const hexprs = redo.map((col) => `${histogramExpression(col.f, binRanges.get(col.i)!.lo, binRanges.get(col.i)!.hi)} AS h${col.i}`);
      const [hist] = await rows(conn, `SELECT ${hexprs.join(', ')} FROM (SELECT ${redo.map((c) => projection[projectionIndex(cols, c)]).join(', ')} FROM ${src})`);
      for (const col of redo) profiles[col.i].histogram = toHistogram(hist[`h${col.i}`], binRanges.get(col.i)!);
    }

    // ---- 2. top values of text and boolean columns, one statement
    const topCols = cols.filter((col) => {
      const p = profiles[col.i];
      if ((col.kind !== 'text' && col.kind !== 'boolean') || p.count === 0) return false;
      return exact || p.distinct < MOSTLY_UNIQUE * p.count;
    });
    if (topCols.length > 0) {
      const parts = topCols.map((col) => {
        const v = `${col.src}::VARCHAR`;
        const p = profiles[col.i];
        // Every value distinct: the "top" values all have count 1; a sort-limit avoids grouping them all.
        const unique = exact && p.distinct === p.count;
        const inner = unique
          ? `SELECT ${v} AS v, 1::BIGINT AS n FROM ${src} WHERE ${col.src} IS NOT NULL ORDER BY v LIMIT ${TOP_VALUES}`
          : `SELECT ${v} AS v, count(*) AS n FROM ${src} WHERE ${col.src} IS NOT NULL GROUP BY ${v} ORDER BY n DESC, v LIMIT ${TOP_VALUES}`;
        return `SELECT ${col.i} AS col, list({'value': v, 'count': n} ORDER BY n DESC, v) AS top FROM (${inner})`;
      });
      for (const r of await rows(conn, parts.join(' UNION ALL '))) {
        const top = (r.top as { value: string; count: unknown }[] | null) ?? [];
        profiles[num(r.col)!].topValues = top.map((t) => ({ value: t.value, count: num(t.count)! }));
      }
    }

    // ---- 3a. personal data, on the first non-null values of each column
    const piiCols = cols.filter((col) => (col.kind === 'text' || INTEGER.test(col.type)) && profiles[col.i].count > 0);
    if (piiCols.length > 0) {
      const kindsFor = (col: Col): PiiKind[] => (col.kind === 'text' ? ['email', 'phone', 'payment_card', 'ip_address'] : ['payment_card']);
      const sample = (col: Col) => `(SELECT ${col.src}::VARCHAR AS v FROM ${src} WHERE ${col.src} IS NOT NULL LIMIT ${sampleSize})`;
      const parts = piiCols.map((col) => {
        const counts = (['email', 'phone', 'payment_card', 'ip_address'] as PiiKind[]).map((k) =>
          kindsFor(col).includes(k) ? `count(*) FILTER (WHERE ${piiCondition(k, 'v')}) AS ${k}` : `0::BIGINT AS ${k}`,
        );
        return `SELECT ${col.i} AS col, count(*) AS n, ${counts.join(', ')} FROM ${sample(col)}`;
      });
      const cardCandidates: { col: Col; n: number }[] = [];
      for (const r of await rows(conn, parts.join(' UNION ALL '))) {
        const col = cols[num(r.col)!];
        const n = num(r.n)!;
        const flagged = (k: PiiKind) => n > 0 && num(r[k])! >= PII_MATCH_SHARE * n;
        for (const k of ['email', 'phone', 'ip_address'] as PiiKind[]) if (flagged(k)) profiles[col.i].pii.push(k);
        if (flagged('payment_card')) cardCandidates.push({ col, n });
      }
      // Luhn on the values that look like card numbers (at most the sample size per column).
      for (const { col, n } of cardCandidates) {
        const values = await rows(conn, `SELECT regexp_replace(v, '[^0-9]', '', 'g') AS d FROM ${sample(col)} WHERE ${piiCondition('payment_card', 'v')}`);
        const valid = values.filter((r) => luhnValid(String(r.d))).length;
        if (valid >= PII_MATCH_SHARE * n) profiles[col.i].pii.push('payment_card');
      }
      for (const p of profiles) p.pii.sort();
    }

    // ---- 3b. text columns that are mostly numbers (sniffed CSV only)
    const numericLike = new Map<string, NumericLike>();
    const exclude = new Set(options.numericLike?.exclude ?? []);
    const textCols = options.numericLike ? cols.filter((c) => c.kind === 'text' && c.type === 'VARCHAR' && !exclude.has(c.name) && profiles[c.i].count > 0) : [];
    if (textCols.length > 0) {
      const exprs2 = textCols.flatMap((col) => [`count(${col.src}) AS k${col.i}`, `count(TRY_CAST(${col.src} AS DOUBLE)) AS nd${col.i}`, `count(TRY_CAST(${col.src} AS BIGINT)) AS nb${col.i}`]);
      const [r] = await rows(conn, `SELECT ${exprs2.join(', ')} FROM (SELECT * FROM ${src} LIMIT ${NUMERIC_LIKE_ROWS})`);
      for (const col of textCols) numericLike.set(col.name, { checked: num(r[`k${col.i}`])!, asDouble: num(r[`nd${col.i}`])!, asBigint: num(r[`nb${col.i}`])! });
    }

    return {
      profile: { rowCount, columns: profiles, exactDistinctBound: bound, piiSampleSize: sampleSize },
      numericLike,
    };
  });
}

/** Position of a numeric column's finite-value projection in the scan-1 projection list. */
function projectionIndex(cols: Col[], col: Col): number {
  // Each column contributes its own alias, numeric ones also their finite value right after it.
  let idx = 0;
  for (const c of cols) {
    if (c.i === col.i) return idx + 1;
    idx += c.kind === 'numeric' ? 2 : 1;
  }
  throw new Error(`column ${col.name} not found`);
}

function toQuantiles(qs: unknown[]): NonNullable<ColumnProfile['quantiles']> {
  const [p1, p5, p25, p50, p75, p95, p99] = qs.map((v) => num(v) as number);
  return { p1, p5, p25, p50, p75, p95, p99 };
}

/** The largest double below x. */
export function nextDown(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return -Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n);
  return view.getFloat64(0);
}

/** NumPy's bin edges over [lo, hi]: lo + k·step, as np.linspace computes them, with the last edge exactly hi. */
function binEdges(lo: number, hi: number): number[] {
  const step = (hi - lo) / HISTOGRAM_BINS;
  return Array.from({ length: HISTOGRAM_BINS + 1 }, (_, k) => (k === HISTOGRAM_BINS ? hi : k * step + lo));
}

/**
 * DuckDB's histogram(x, boundaries) counts x into the first bucket whose
 * boundary is ≥ x. NumPy's bins are [e_k, e_{k+1}) except the last, which is
 * closed; so the boundaries are the doubles just below e_1 … e_19, then e_20.
 */
function histogramExpression(x: string, lo: number, hi: number): string {
  const edges = binEdges(lo, hi);
  const bounds = [...edges.slice(1, HISTOGRAM_BINS).map(nextDown), hi];
  return `histogram(${x}, [${bounds.map(dbl).join(', ')}])`;
}

function toHistogram(map: unknown, { lo, hi }: { lo: number; hi: number }): HistogramBin[] {
  const edges = binEdges(lo, hi);
  const bounds = [...edges.slice(1, HISTOGRAM_BINS).map(nextDown), hi];
  const index = new Map(bounds.map((b, k) => [b, k]));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const e of (map as { key: unknown; value: unknown }[] | null) ?? []) {
    const k = e.key === null ? undefined : index.get(num(e.key)!);
    if (k !== undefined) counts[k] += num(e.value)!;
  }
  return counts.map((count, k) => ({ lower: edges[k], upper: edges[k + 1], count }));
}
