/**
 * Column profiles of a Parquet file, computed by DuckDB. The costly part is
 * reading every row, so the profile reads them once (in a few scans of a few
 * columns each) and takes everything else from the Parquet metadata or from a
 * sample:
 *
 *   1. from the metadata, without a scan: row count, min and max of numeric
 *      columns and (when exact there) of text columns, and which columns the
 *      writer dictionary-encoded (few distinct values);
 *   2. scans of every row, SCAN_GROUP_COLUMNS columns at a time: non-null
 *      count, distinct count, mean, sample std, string lengths (min and max of
 *      dates, times and booleans come from the statistics, when they have them);
 *   3. one scan of the sample rows (below the bound: of every row): quantiles,
 *      the 20-bin histogram of numeric columns, and (at or above the bound)
 *      the top values of dictionary-encoded columns; then the top values of the
 *      other text and boolean columns, one statement;
 *   4. small reads: the first PII_SAMPLE_SIZE non-null values of each text
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
 *
 * Below `exactDistinctBound` rows everything is exact. At or above it:
 *   - counts, nulls, min, max, mean, std, string lengths and date ranges stay
 *     exact, over every row;
 *   - distinct counts are flagged approximate. Low-cardinality columns (those
 *     the writer dictionary-encoded, or whose estimate is under about 65,000)
 *     are still counted exactly; the others are estimated by hash sampling:
 *     64 × the number of distinct values whose 64-bit hash falls in 1/64 of
 *     the hash space (relative error about √(64/distinct): under 1% from a
 *     million distinct values; DuckDB's approx_count_distinct was both slower
 *     and off by up to 25%);
 *   - quantiles, histograms and top values come from a sample of about
 *     PROFILE_SAMPLE_ROWS rows: a row is in it when the hash of its row number
 *     is below a threshold, so the sample is uniform and the same file always
 *     gives the same profile. Histogram and top-value counts are then counts
 *     within the sample: the profile says `sampled: true` and gives
 *     `sampleRows`. Mostly-unique text columns get no top values. (A file
 *     with a column named file_row_number hides the reader's row number: its
 *     sample is drawn with random(), so it is uniform but not reproducible.)
 */
import { sqlIdent, sqlLiteral, type DuckDBConnection, type Engine } from '../engine/index.js';
import { luhnValid, piiCondition, PII_MATCH_SHARE, PII_SAMPLE_SIZE } from './pii.js';
import type { ColumnKind, ColumnProfile, DatasetProfile, HistogramBin, PiiKind } from './types.js';

export const DEFAULT_EXACT_DISTINCT_BOUND = 1_000_000;
export const HISTOGRAM_BINS = 20;
export const TOP_VALUES = 20;
/** Rows (about) in the sample of datasets at or above the exact bound that quantiles, histograms and top values come from. */
export const PROFILE_SAMPLE_ROWS = 100_000;
/** Distinct-count estimates keep values whose 64-bit hash has this many leading zero bits (1/64 of the hash space). */
const DISTINCT_HASH_BITS = 6;
/** A column with fewer distinct sampled hashes than this (about 65,000 distinct values) is counted exactly instead. */
const DISTINCT_EXACT_BELOW = 1024;
/** Columns per full scan: DuckDB's per-row cost of an aggregate grows with the number of columns its scan carries. */
const SCAN_GROUP_COLUMNS = 4;
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
}

/** A numeric column's value as DOUBLE, with NaN/±Infinity as NULL. */
const finite = (col: Col) => (isFloat(col.type) ? `CASE WHEN isfinite(${col.src}) THEN ${col.src}::DOUBLE END` : `${col.src}::DOUBLE`);

interface ColumnMeta {
  /** Min and max of the finite values (numeric columns), when the statistics give them. */
  range?: { lo: number; hi: number };
  /** Min and max (VARCHAR columns), when every row group has exact statistics. */
  textRange?: { min: string | null; max: string | null };
  /** Dictionary-encoded in most of its rows: few distinct values per row group. */
  dictionary: boolean;
}

/**
 * What the Parquet metadata says about each column, without a scan. Min and
 * max of numeric columns come from the row-group statistics where every row
 * group has them and they are finite (a row group holding NaN has none). FLOAT
 * columns get no range: their statistics print float32 values that do not
 * equal the same values widened to DOUBLE. Text min and max come from the
 * statistics when every row group with values has exact ones (compared by
 * DuckDB, byte-wise, as its min/max would). A column is "dictionary" when the
 * writer dictionary-encoded most of its values — a hint that it has few
 * distinct values, used only to choose how to count them.
 */
async function columnMeta(conn: DuckDBConnection, file: string, cols: Col[]): Promise<Map<number, ColumnMeta>> {
  const byName = new Map(cols.map((c) => [c.name, c]));
  const meta = await rows(
    conn,
    `SELECT row_group_id AS g, path_in_schema AS p, num_values AS n, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls, encodings LIKE '%DICTIONARY%' AS dict FROM parquet_metadata(${sqlLiteral(file)})`,
  );
  const acc = new Map<string, { lo: number; hi: number; ok: boolean; values: number; dictValues: number; chunks: number }>();
  for (const m of meta) {
    const name = String(m.p);
    const col = byName.get(name);
    if (!col) continue;
    const a = acc.get(name) ?? { lo: Infinity, hi: -Infinity, ok: col.kind === 'numeric' && col.type !== 'FLOAT', values: 0, dictValues: 0, chunks: 0 };
    a.chunks++;
    const n = num(m.n) ?? 0;
    a.values += n;
    if (m.dict === true) a.dictValues += n;
    const allNull = num(m.nulls) !== null && num(m.nulls) === num(m.n);
    if (a.ok && !allNull) {
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
  const out = new Map<number, ColumnMeta>();
  const rowGroups = new Set(meta.map((m) => num(m.g))).size;
  for (const [name, a] of acc) {
    // A top-level column named like a nested field's path ("s, a") shares its entries: ignore both.
    if (a.chunks !== rowGroups) continue;
    out.set(byName.get(name)!.i, {
      ...(a.ok && a.lo <= a.hi ? { range: { lo: a.lo, hi: a.hi } } : {}),
      dictionary: a.values > 0 && a.dictValues * 2 > a.values,
    });
  }
  const text = cols.filter((c) => c.type === 'VARCHAR' && out.has(c.i));
  if (text.length > 0) {
    const ranges = await rows(
      conn,
      `SELECT path_in_schema AS p, min(stats_min_value) AS mn, max(stats_max_value) AS mx,
              bool_and(stats_null_count = num_values OR (stats_min_value IS NOT NULL AND stats_max_value IS NOT NULL AND coalesce(min_is_exact AND max_is_exact, false))) AS exact
       FROM parquet_metadata(${sqlLiteral(file)}) WHERE path_in_schema IN (${text.map((c) => sqlLiteral(c.name)).join(', ')}) GROUP BY p`,
    );
    for (const r of ranges) {
      const m = out.get(byName.get(String(r.p))!.i)!;
      if (r.exact === true) m.textRange = { min: r.mn === null ? null : String(r.mn), max: r.mx === null ? null : String(r.mx) };
    }
  }
  return out;
}

/** NumPy's histogram range for data from min to max. */
function binRange(min: number, max: number): { lo: number; hi: number } {
  return min === max ? { lo: min - 0.5, hi: max + 0.5 } : { lo: min, hi: max };
}

/**
 * The sample of a large file: rows whose row-number hash is below a threshold
 * chosen to keep about PROFILE_SAMPLE_ROWS of them. `where` is a condition
 * over `file_row_number` (the Parquet reader's virtual column; random() when a
 * real column hides it), or TRUE for every row when the file is small enough.
 */
function sampleCondition(cols: Col[], rowCount: number): { where: string; sampled: boolean } {
  if (rowCount <= PROFILE_SAMPLE_ROWS) return { where: 'TRUE', sampled: false };
  if (cols.some((c) => c.name.toLowerCase() === 'file_row_number')) return { where: `random() < ${PROFILE_SAMPLE_ROWS / rowCount}`, sampled: true };
  const threshold = (2n ** 64n * BigInt(PROFILE_SAMPLE_ROWS)) / BigInt(rowCount);
  return { where: `hash(file_row_number) < ${threshold}::UBIGINT`, sampled: true };
}

/** Top values of one column as SQL rows (col, top) over the rows matching `where`. */
function topValuesQuery(src: string, col: Col, where: string, unique: boolean): string {
  const v = `${col.src}::VARCHAR`;
  // Every value distinct: the "top" values all have count 1; a sort-limit avoids grouping them all.
  const inner = unique
    ? `SELECT ${v} AS v, 1::BIGINT AS n FROM ${src} WHERE ${col.src} IS NOT NULL AND ${where} ORDER BY v LIMIT ${TOP_VALUES}`
    : `SELECT ${v} AS v, count(*) AS n FROM ${src} WHERE ${col.src} IS NOT NULL AND ${where} GROUP BY ${v} ORDER BY n DESC, v LIMIT ${TOP_VALUES}`;
  return `SELECT ${col.i} AS col, list({'value': v, 'count': n} ORDER BY n DESC, v) AS top FROM (${inner})`;
}

/** Top values inside an aggregate: the counts of the non-null values of `v`, most frequent first (ties by value), first TOP_VALUES. */
function topValuesAggregate(v: string): string {
  return `list_slice(list_sort(list_transform(map_entries(histogram(${v})), lambda e: {'n': -(e.value::BIGINT), 'value': e.key})), 1, ${TOP_VALUES})`;
}

function toTopValues(list: unknown): { value: string; count: number }[] {
  return ((list as { value: string; count?: unknown; n?: unknown }[] | null) ?? []).map((t) => ({ value: t.value, count: t.count !== undefined ? num(t.count)! : -num(t.n)! }));
}

/** Runs `SELECT exprs FROM (SELECT projection FROM src)` for each group of columns; returns all results in one record. */
async function scanGroups(conn: DuckDBConnection, src: string, groups: { projection: string[]; exprs: string[] }[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const g of groups) {
    if (g.exprs.length === 0) continue;
    const [r] = await rows(conn, `SELECT ${g.exprs.join(', ')} FROM (SELECT ${g.projection.length > 0 ? g.projection.join(', ') : '1 AS one'} FROM ${src})`);
    Object.assign(out, r);
  }
  return out;
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
      return { i, name: String(d.column_name), type, kind: columnKind(type), src: sqlIdent(String(d.column_name)) };
    });
    const [{ n }] = await rows(conn, `SELECT count(*) AS n FROM ${src}`);
    const rowCount = num(n) ?? 0;
    const exact = rowCount < bound;
    // ---- 4. small reads, on connections of their own: they overlap the scans' serial moments
    const pii = engine.withConnection((c) => piiKinds(c, src, cols, sampleSize));
    const numericLike = options.numericLike
      ? engine.withConnection((c) => numericLikeCounts(c, src, cols, new Set(options.numericLike!.exclude ?? [])))
      : Promise.resolve(new Map<string, NumericLike>());
    // Awaited below; a failure before that must not go unhandled meanwhile.
    pii.catch(() => undefined);
    numericLike.catch(() => undefined);

    try {
      // ---- 1. the metadata
      const meta = await columnMeta(conn, parquetPath, cols);
      // At or above the bound: quantiles, histograms and top values over the sample rows only.
      const sampling = exact ? { where: 'TRUE', sampled: false } : sampleCondition(cols, rowCount);

      // ---- 2. scans of every row, a few columns at a time (DuckDB's cost per aggregate grows with the width of its input)
      const groups: { projection: string[]; exprs: string[] }[] = [];
      const minMax: string[] = [];
      /** Columns whose distinct count is estimated from hashes (at or above the bound). */
      const hashed = new Set<number>();
      for (const col of cols) {
        const { i, kind } = col;
        const m = meta.get(i);
        if (i % SCAN_GROUP_COLUMNS === 0) groups.push({ projection: [], exprs: [] });
        const { projection, exprs } = groups[groups.length - 1];
        const c = `c${i}`;
        projection.push(`${col.src} AS ${c}`);
        exprs.push(`count(${c}) AS nn${i}`);
        if (exact || m?.dictionary) exprs.push(`count(DISTINCT ${kind === 'other' ? `${c}::VARCHAR` : c}) AS d${i}`);
        else {
          // The distinct values whose hash falls in 1/2^DISTINCT_HASH_BITS of the hash space.
          hashed.add(i);
          projection.push(`CASE WHEN ${col.src} IS NOT NULL THEN hash(${col.src}) END AS hh${i}`);
          exprs.push(`count(DISTINCT hh${i}) FILTER (WHERE (hh${i} >> ${64 - DISTINCT_HASH_BITS}) = 0) AS d${i}`);
        }
        if (kind === 'numeric') {
          projection.push(`${finite(col)} AS f${i}`);
          exprs.push(`avg(f${i}) AS mean${i}`, `stddev_samp(f${i}) AS sd${i}`);
          // min/max of the finite values as doubles (the JS numbers they become anyway), from the statistics when they have them.
          if (!m?.range) exprs.push(`min(f${i}) AS lo${i}`, `max(f${i}) AS hi${i}`);
        } else if (kind === 'text') {
          projection.push(`length(${c}::VARCHAR) AS len${i}`);
          if (!m?.textRange) exprs.push(`min(${c}::VARCHAR) AS mn${i}`, `max(${c}::VARCHAR) AS mx${i}`);
          exprs.push(`min(len${i}) AS lmin${i}`, `avg(len${i}) AS lmean${i}`, `max(len${i}) AS lmax${i}`);
        } else if (kind === 'temporal' || kind === 'boolean') {
          // Answered from the row-group statistics when they have them.
          minMax.push(`min(${col.src})${kind === 'temporal' ? '::VARCHAR' : ''} AS mn${i}`, `max(${col.src})${kind === 'temporal' ? '::VARCHAR' : ''} AS mx${i}`);
        }
      }
      const agg = await scanGroups(conn, src, groups);
      if (minMax.length > 0) Object.assign(agg, (await rows(conn, `SELECT ${minMax.join(', ')} FROM ${src}`))[0]);
      for (const [i, m] of meta) {
        // A column with values has a range; an all-null one has no statistics, so is never here.
        if (m.range) Object.assign(agg, { [`lo${i}`]: m.range.lo, [`hi${i}`]: m.range.hi });
        if (m.textRange) Object.assign(agg, { [`mn${i}`]: m.textRange.min, [`mx${i}`]: m.textRange.max });
      }

      // Hash-sampled distinct counts: 2^bits × the distinct hashes kept, unless few were kept; then count exactly.
      const recount = cols.filter((c) => hashed.has(c.i) && (num(agg[`d${c.i}`]) ?? 0) < DISTINCT_EXACT_BELOW);
      if (recount.length > 0) {
        const [r] = await rows(conn, `SELECT ${recount.map((c) => `count(DISTINCT ${c.kind === 'other' ? `${c.src}::VARCHAR` : c.src}) AS d${c.i}`).join(', ')} FROM ${src}`);
        for (const c of recount) {
          agg[`d${c.i}`] = r[`d${c.i}`];
          hashed.delete(c.i);
        }
      }

      const profiles: ColumnProfile[] = cols.map(({ i, name, type, kind }) => {
        const count = num(agg[`nn${i}`]) ?? 0;
        const d = num(agg[`d${i}`]) ?? 0;
        const p: ColumnProfile = {
          name,
          type,
          kind,
          count,
          nulls: rowCount - count,
          distinct: hashed.has(i) ? Math.min(count, d * 2 ** DISTINCT_HASH_BITS) : d,
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
        } else if (kind === 'text' && count > 0) {
          p.length = { min: num(agg[`lmin${i}`])!, mean: num(agg[`lmean${i}`])!, max: num(agg[`lmax${i}`])! };
        } else if (kind === 'temporal' && p.min !== null && p.max !== null) {
          p.dateRange = { min: String(p.min), max: String(p.max) };
        }
        return p;
      });

      // ---- 3. quantiles and histograms (and, at or above the bound, top values of dictionary-encoded columns): one scan of the sample
      const textLike = (col: Col) => (col.kind === 'text' || col.kind === 'boolean') && profiles[col.i].count > 0;
      const topCols = cols.filter((col) => textLike(col) && (exact || profiles[col.i].distinct < MOSTLY_UNIQUE * profiles[col.i].count));
      const topInScan = new Set(exact ? [] : topCols.filter((c) => meta.get(c.i)?.dictionary).map((c) => c.i));
      const q = `[${QUANTILES.join(', ')}]`;
      const bins = new Map<number, { lo: number; hi: number }>();
      const distProjection: string[] = [];
      const distExprs: string[] = sampling.sampled ? ['count(*) AS sample_rows'] : [];
      for (const col of cols) {
        const { i } = col;
        if (col.kind === 'numeric') {
          const lo = num(agg[`lo${i}`]);
          const hi = num(agg[`hi${i}`]);
          if (lo === null || hi === null) continue; // no finite values
          bins.set(i, binRange(lo, hi));
          distProjection.push(`${finite(col)} AS f${i}`);
          distExprs.push(`quantile_cont(f${i}, ${q}) AS q${i}`);
          distExprs.push(`${histogramExpression(`f${i}`, bins.get(i)!.lo, bins.get(i)!.hi)} AS h${i}`);
        } else if (topInScan.has(i)) {
          distProjection.push(`${col.src}::VARCHAR AS t${i}`);
          distExprs.push(`${topValuesAggregate(`t${i}`)} AS t${i}`);
        }
      }
      // ...and the top values of the other text and boolean columns, one statement on a connection of its own (at the same time)
      const topQueries = topCols.filter((c) => !topInScan.has(c.i)).map((col) => topValuesQuery(src, col, sampling.where, exact && profiles[col.i].distinct === profiles[col.i].count));
      const [dist, tops] = await Promise.all([
        distExprs.length > 0
          ? rows(conn, `SELECT ${distExprs.join(', ')} FROM (SELECT ${distProjection.length > 0 ? distProjection.join(', ') : '1 AS one'} FROM ${src} WHERE ${sampling.where})`).then((r) => r[0])
          : Promise.resolve({} as Record<string, unknown>),
        topQueries.length > 0 ? engine.withConnection((c) => rows(c, topQueries.join(' UNION ALL '))) : Promise.resolve([]),
      ]);
      for (const [i, range] of bins) {
        const qs = dist[`q${i}`] as unknown[] | null | undefined;
        if (qs) profiles[i].quantiles = toQuantiles(qs);
        profiles[i].histogram = toHistogram(dist[`h${i}`], range);
      }
      for (const i of topInScan) profiles[i].topValues = toTopValues(dist[`t${i}`]);
      for (const r of tops) profiles[num(r.col)!].topValues = toTopValues(r.top);

      for (const [i, kinds] of await pii) profiles[i].pii = kinds;
      return {
        profile: {
          rowCount,
          columns: profiles,
          exactDistinctBound: bound,
          piiSampleSize: sampleSize,
          sampled: sampling.sampled,
          ...(sampling.sampled ? { sampleRows: num(dist.sample_rows) ?? 0 } : {}),
        },
        numericLike: await numericLike,
      };
    } catch (err) {
      // Let the small reads finish before the caller may close the engine.
      await Promise.allSettled([pii, numericLike]);
      throw err;
    }
  });
}

/** Personal-data kinds of each text (and integer) column, from its first `sampleSize` non-null values. */
async function piiKinds(conn: DuckDBConnection, src: string, cols: Col[], sampleSize: number): Promise<Map<number, PiiKind[]>> {
  const out = new Map<number, PiiKind[]>();
  const piiCols = cols.filter((col) => col.kind === 'text' || INTEGER.test(col.type));
  if (piiCols.length === 0) return out;
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
    const kinds = (['email', 'phone', 'ip_address'] as PiiKind[]).filter(flagged);
    if (flagged('payment_card')) cardCandidates.push({ col, n });
    out.set(col.i, kinds);
  }
  // Luhn on the values that look like card numbers (at most the sample size per column).
  for (const { col, n } of cardCandidates) {
    const values = await rows(conn, `SELECT regexp_replace(v, '[^0-9]', '', 'g') AS d FROM ${sample(col)} WHERE ${piiCondition('payment_card', 'v')}`);
    const valid = values.filter((r) => luhnValid(String(r.d))).length;
    if (valid >= PII_MATCH_SHARE * n) out.get(col.i)!.push('payment_card');
  }
  for (const kinds of out.values()) kinds.sort();
  return out;
}

/** For every text column except `exclude`: how many of the leading NUMERIC_LIKE_ROWS rows' values parse as numbers. */
async function numericLikeCounts(conn: DuckDBConnection, src: string, cols: Col[], exclude: Set<string>): Promise<Map<string, NumericLike>> {
  const out = new Map<string, NumericLike>();
  const textCols = cols.filter((c) => c.kind === 'text' && c.type === 'VARCHAR' && !exclude.has(c.name));
  if (textCols.length === 0) return out;
  const exprs = textCols.flatMap((col) => [`count(${col.src}) AS k${col.i}`, `count(TRY_CAST(${col.src} AS DOUBLE)) AS nd${col.i}`, `count(TRY_CAST(${col.src} AS BIGINT)) AS nb${col.i}`]);
  const [r] = await rows(conn, `SELECT ${exprs.join(', ')} FROM (SELECT * FROM ${src} LIMIT ${NUMERIC_LIKE_ROWS})`);
  for (const col of textCols) out.set(col.name, { checked: num(r[`k${col.i}`])!, asDouble: num(r[`nd${col.i}`])!, asBigint: num(r[`nb${col.i}`])! });
  return out;
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
