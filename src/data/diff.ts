/**
 * `data diff A B`: what changed between two dataset versions. Schema changes
 * (added, removed, retyped columns), the row count delta, per-column
 * statistics side by side (from the stored profiles when the reader has
 * them, else profiled here), a drift score per common column, and — given
 * key columns — the rows added, removed and changed, with a sample of each.
 * Everything row-level runs in DuckDB over the two Parquet files; JavaScript
 * only sees aggregates and the samples.
 *
 * Drift is the population stability index, PSI = Σ_k (b_k − a_k)·ln(b_k / a_k)
 * over bin proportions of A (reference) and B, the same definition the
 * quality slice's PSI check uses, so the two agree:
 * - numeric and temporal columns (temporal as epoch seconds): 10 bins cut at
 *   A's deciles (linear-interpolation quantiles, numpy's default); bin k holds
 *   edge[k−1] < v ≤ edge[k], the first bin is open below and the last open
 *   above; NULLs and non-finite values are left out.
 * - text and boolean columns: one bin per category seen in either version
 *   (NULLs left out).
 * Proportions below 1e-4 — empty bins, categories one side lacks — are raised
 * to 1e-4, so PSI stays finite. PSI is null when either side has no values,
 * or when a column's kind changed (e.g. number → text): not comparable.
 *
 * Rows (with `key`): a FULL OUTER JOIN on the key (null-safe), B-only rows
 * are added, A-only rows removed, and a matched row is changed when any other
 * column present in both versions differs (`IS DISTINCT FROM`; columns whose
 * type changed are compared as DOUBLE when both are numeric, else as text).
 * A key that is not unique in either version is an error.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { invalidArgument } from '../core/errors.js';
import { sqlIdent, sqlLiteral, type Engine } from '../engine/index.js';
import { columnKind, computeProfile, DEFAULT_EXACT_DISTINCT_BOUND } from './profile.js';
import type { ColumnKind, ColumnProfile, ColumnSchema, DatasetProfile, DatasetReader, DatasetVersion } from './types.js';

export const PSI_BINS = 10;
/** Smallest proportion a PSI bin counts with. */
export const PSI_FLOOR = 1e-4;
export const DEFAULT_DIFF_SAMPLE = 5;
export const MAX_DIFF_SAMPLE = 1000;

/** A reader that may also hand out stored profiles (DataService does). */
export type DiffReader = DatasetReader & { profile?(ref: string): Promise<DatasetProfile> };

export interface DiffOptions {
  /** Key columns identifying a row in both versions; enables the row comparison. */
  key?: string[];
  /** Rows shown per kind of row change (default 5, at most 1000). */
  sample?: number;
}

export interface DiffSide {
  /** The ref as given. */
  ref: string;
  id: string;
  dataset: string;
  version: number;
  contentHash: string;
  rowCount: number;
}

export type Scalar = number | string | boolean | null;

export interface StatChange {
  a: Scalar;
  b: Scalar;
  /** b − a when both are numbers, else null. */
  delta: number | null;
}

export const DIFF_STATS = ['count', 'nulls', 'distinct', 'mean', 'std', 'min', 'max'] as const;
export type DiffStat = (typeof DIFF_STATS)[number];

export interface ColumnDrift {
  method: 'psi_deciles' | 'psi_categories';
  /** Null when a side has no values to bin. */
  psi: number | null;
}

export interface ColumnDiff {
  name: string;
  typeA: string;
  typeB: string;
  stats: Record<DiffStat, StatChange>;
  /** Null when the column's kind changed or cannot be binned (lists, structs…). */
  drift: ColumnDrift | null;
}

export type DiffRow = Record<string, unknown>;

export interface ChangedRow {
  /** The key columns' values. */
  key: DiffRow;
  /** Only the columns that differ: value in A and in B. */
  changes: Record<string, { a: unknown; b: unknown }>;
}

export interface RowDiff {
  key: string[];
  /** Columns compared on matched rows: those in both versions, key excluded. */
  compared: string[];
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  /** Matched rows whose value differs, per compared column. */
  changedByColumn: Record<string, number>;
  /** Up to `sample` rows of each kind, by key. Values are JSON-safe (dates as text, 64-bit integers as numbers when exact). */
  samples: { added: DiffRow[]; removed: DiffRow[]; changed: ChangedRow[] };
}

export interface DatasetDiff {
  a: DiffSide;
  b: DiffSide;
  /** Same stored content (hash): nothing else can differ. */
  sameContent: boolean;
  rowCount: { a: number; b: number; delta: number };
  schema: {
    added: ColumnSchema[];
    removed: ColumnSchema[];
    retyped: { name: string; from: string; to: string }[];
  };
  /** Columns present in both versions, in B's order. */
  columns: ColumnDiff[];
  /** Row-level changes; null without key columns. */
  rows: RowDiff | null;
}

// ------------------------------------------------------------------ helpers

const MARK = '__flywheel_diff_present';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : Number(v));
const dbl = (v: number) => `${sqlLiteral(String(v))}::DOUBLE`;

function side(ref: string, v: DatasetVersion): DiffSide {
  return { ref, id: v.id, dataset: v.dataset, version: v.version, contentHash: v.contentHash, rowCount: v.rowCount };
}

function statChange(a: Scalar | undefined, b: Scalar | undefined): StatChange {
  const av = a ?? null;
  const bv = b ?? null;
  return { a: av, b: bv, delta: typeof av === 'number' && typeof bv === 'number' ? bv - av : null };
}

/** How a column is binned for PSI, from its kinds in A and B; null when not comparable. */
function driftMethod(ka: ColumnKind, kb: ColumnKind): ColumnDrift['method'] | null {
  if (ka !== kb) return null;
  if (ka === 'numeric' || ka === 'temporal') return 'psi_deciles';
  if (ka === 'text' || ka === 'boolean') return 'psi_categories';
  return null;
}

/** The value PSI bins a numeric or temporal column by. */
function binValue(column: string, kind: ColumnKind): string {
  return kind === 'temporal' ? `epoch(CAST(${sqlIdent(column)} AS TIMESTAMP))` : `CAST(${sqlIdent(column)} AS DOUBLE)`;
}

/** An expression for `column` of side `t` that compares across a type change. */
function comparable(t: 'a' | 'b', column: string, typeA: string, typeB: string): string {
  const c = `${t}.${sqlIdent(column)}`;
  if (typeA === typeB) return c;
  const bothNumeric = columnKind(typeA) === 'numeric' && columnKind(typeB) === 'numeric';
  return bothNumeric ? `CAST(${c} AS DOUBLE)` : `CAST(${c} AS VARCHAR)`;
}

async function jsonRows(conn: DuckDBConnection, sql: string): Promise<DiffRow[]> {
  const reader = await conn.runAndReadAll(sql);
  const types = reader.columnTypes().map(String);
  const names = reader.columnNames();
  return reader.getRowObjectsJson().map((r) => {
    const out: DiffRow = {};
    names.forEach((name, i) => {
      const v = (r as Record<string, unknown>)[name];
      const wide = typeof v === 'string' && /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT)$/.test(types[i]) && Number.isSafeInteger(Number(v));
      out[name] = wide || (typeof v === 'string' && types[i].startsWith('DECIMAL')) ? Number(v) : v;
    });
    return out;
  });
}

async function profileOf(reader: DiffReader, engine: Engine, v: DatasetVersion, file: string): Promise<DatasetProfile> {
  if (reader.profile) {
    const stored = await reader.profile(`${v.dataset}@${v.version}`);
    const names = new Set(stored.columns.map((c) => c.name));
    if (v.schema.every((c) => names.has(c.name))) return stored;
  }
  return (await computeProfile(engine, file)).profile;
}

// ------------------------------------------------------------------ PSI

/** PSI of bin counts `b` against reference counts `a` (same bins), proportions floored at PSI_FLOOR; null when a side is empty. */
export function psiFromCounts(a: number[], b: number[]): number | null {
  const ta = a.reduce((s, x) => s + x, 0);
  const tb = b.reduce((s, x) => s + x, 0);
  if (ta === 0 || tb === 0) return null;
  let psi = 0;
  for (let k = 0; k < a.length; k++) {
    const pa = Math.max(a[k] / ta, PSI_FLOOR);
    const pb = Math.max(b[k] / tb, PSI_FLOOR);
    psi += (pb - pa) * Math.log(pb / pa);
  }
  return psi;
}

interface DecileColumn {
  name: string;
  kind: ColumnKind;
}

/** Decile PSI of several numeric/temporal columns: one pass over A for the edges, one pass per side for the bin counts. */
async function decilePsi(conn: DuckDBConnection, fileA: string, fileB: string, cols: DecileColumn[], exact: boolean): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  if (cols.length === 0) return out;
  const probs = Array.from({ length: PSI_BINS - 1 }, (_, k) => (k + 1) / PSI_BINS);
  const quantile = exact ? 'quantile_cont' : 'approx_quantile';
  const edgeExprs = cols.map((c, i) => {
    const x = binValue(c.name, c.kind);
    return `${quantile}(${x}, [${probs.join(', ')}]) FILTER (WHERE isfinite(${x})) AS e${i}`;
  });
  const edgeRow = (await conn.runAndReadAll(`SELECT ${edgeExprs.join(', ')} FROM read_parquet(${sqlLiteral(fileA)})`)).getRowObjectsJS()[0];
  const edges = cols.map((_, i) => (edgeRow[`e${i}`] as unknown[] | null)?.map((v) => num(v) as number) ?? null);

  const binExprs: string[] = [];
  cols.forEach((c, i) => {
    const e = edges[i];
    if (!e) return;
    const x = binValue(c.name, c.kind);
    for (let k = 0; k < PSI_BINS; k++) {
      const conds = [`isfinite(${x})`];
      if (k > 0) conds.push(`${x} > ${dbl(e[k - 1])}`);
      if (k < PSI_BINS - 1) conds.push(`${x} <= ${dbl(e[k])}`);
      binExprs.push(`count(*) FILTER (WHERE ${conds.join(' AND ')}) AS c${i}_${k}`);
    }
  });
  if (binExprs.length > 0) {
    const countsOf = async (file: string) => (await conn.runAndReadAll(`SELECT ${binExprs.join(', ')} FROM read_parquet(${sqlLiteral(file)})`)).getRowObjectsJS()[0];
    const [ca, cb] = [await countsOf(fileA), await countsOf(fileB)];
    cols.forEach((c, i) => {
      if (!edges[i]) return;
      const bins = (row: Record<string, unknown>) => Array.from({ length: PSI_BINS }, (_, k) => num(row[`c${i}_${k}`]) ?? 0);
      out.set(c.name, psiFromCounts(bins(ca), bins(cb)));
    });
  }
  for (const c of cols) if (!out.has(c.name)) out.set(c.name, null);
  return out;
}

/** PSI over the categories of one column in either version, summed in DuckDB. */
async function categoryPsi(conn: DuckDBConnection, fileA: string, fileB: string, column: string): Promise<number | null> {
  const c = sqlIdent(column);
  const counts = (file: string) => `SELECT CAST(${c} AS VARCHAR) AS v, count(*)::DOUBLE AS n FROM read_parquet(${sqlLiteral(file)}) WHERE ${c} IS NOT NULL GROUP BY 1`;
  const sql = `
    WITH ca AS (${counts(fileA)}), cb AS (${counts(fileB)}),
         ta AS (SELECT sum(n) AS t FROM ca), tb AS (SELECT sum(n) AS t FROM cb),
         p AS (
           SELECT greatest(coalesce(ca.n, 0) / ta.t, ${PSI_FLOOR}) AS pa, greatest(coalesce(cb.n, 0) / tb.t, ${PSI_FLOOR}) AS pb
           FROM ca FULL OUTER JOIN cb ON ca.v = cb.v CROSS JOIN ta CROSS JOIN tb
         )
    SELECT sum((pb - pa) * ln(pb / pa)) AS psi FROM p`;
  const [row] = (await conn.runAndReadAll(sql)).getRowObjectsJS();
  return num(row.psi);
}

// ------------------------------------------------------------------ rows

function checkSample(sample: number | undefined): number {
  const n = sample ?? DEFAULT_DIFF_SAMPLE;
  if (!Number.isInteger(n) || n < 0 || n > MAX_DIFF_SAMPLE) throw invalidArgument(`sample must be a whole number from 0 to ${MAX_DIFF_SAMPLE}, got ${sample}`);
  return n;
}

async function assertUniqueKey(conn: DuckDBConnection, file: string, key: string[], label: string): Promise<void> {
  const cols = key.map(sqlIdent).join(', ');
  const sql = `SELECT ${key.map((k, i) => `CAST(${sqlIdent(k)} AS VARCHAR) AS k${i}`).join(', ')}, count(*) AS n
    FROM read_parquet(${sqlLiteral(file)}) GROUP BY ${cols} HAVING count(*) > 1 ORDER BY n DESC, ${cols} LIMIT 1`;
  const [dup] = (await conn.runAndReadAll(sql)).getRowObjectsJS();
  if (!dup) return;
  const value = key.map((k, i) => `${k}=${dup[`k${i}`] === null ? 'NULL' : String(dup[`k${i}`])}`).join(', ');
  throw invalidArgument(`Key (${key.join(', ')}) is not unique in ${label}: ${value} appears ${num(dup.n)} times; choose key columns that identify one row`, {
    key,
    dataset: label,
    duplicate: value,
  });
}

async function diffRows(
  conn: DuckDBConnection,
  files: { a: string; b: string },
  versions: { a: DatasetVersion; b: DatasetVersion },
  key: string[],
  sample: number,
): Promise<RowDiff> {
  const typesA = new Map(versions.a.schema.map((c) => [c.name, c.type]));
  const typesB = new Map(versions.b.schema.map((c) => [c.name, c.type]));
  const labelA = `${versions.a.dataset}@${versions.a.version}`;
  const labelB = `${versions.b.dataset}@${versions.b.version}`;
  if (key.length === 0) throw invalidArgument('Give at least one key column');
  if (new Set(key).size !== key.length) throw invalidArgument(`Key column listed twice: ${key.join(', ')}`);
  for (const k of key) {
    for (const [types, label] of [[typesA, labelA], [typesB, labelB]] as const) {
      if (!types.has(k)) throw invalidArgument(`Key column "${k}" is not in ${label} (columns: ${[...types.keys()].join(', ')})`, { column: k });
    }
  }
  if (typesA.has(MARK) || typesB.has(MARK)) throw invalidArgument(`Column name "${MARK}" is reserved by diff`);
  await assertUniqueKey(conn, files.a, key, labelA);
  await assertUniqueKey(conn, files.b, key, labelB);

  const keySet = new Set(key);
  const compared = versions.b.schema.map((c) => c.name).filter((n) => typesA.has(n) && !keySet.has(n));
  const withMark = (t: 'a' | 'b', file: string) => `${t} AS (SELECT *, TRUE AS ${sqlIdent(MARK)} FROM read_parquet(${sqlLiteral(file)}))`;
  const from = `WITH ${withMark('a', files.a)}, ${withMark('b', files.b)}
    SELECT __SELECT__ FROM a FULL OUTER JOIN b ON ${key
      .map((k) => `${comparable('a', k, typesA.get(k)!, typesB.get(k)!)} IS NOT DISTINCT FROM ${comparable('b', k, typesA.get(k)!, typesB.get(k)!)}`)
      .join(' AND ')}`;
  const select = (list: string, rest = '') => from.replace('__SELECT__', list) + rest;
  const inA = `a.${sqlIdent(MARK)}`;
  const inB = `b.${sqlIdent(MARK)}`;
  const differs = compared.map((c) => `(${comparable('a', c, typesA.get(c)!, typesB.get(c)!)} IS DISTINCT FROM ${comparable('b', c, typesA.get(c)!, typesB.get(c)!)})`);
  const anyDiffers = differs.length > 0 ? differs.join(' OR ') : 'FALSE';
  const matched = `${inA} AND ${inB}`;

  const counts = (
    await conn.runAndReadAll(
      select(
        [
          `count(*) FILTER (WHERE ${inA} IS NULL) AS added`,
          `count(*) FILTER (WHERE ${inB} IS NULL) AS removed`,
          `count(*) FILTER (WHERE ${matched}) AS matched`,
          `count(*) FILTER (WHERE ${matched} AND (${anyDiffers})) AS changed`,
          ...differs.map((d, i) => `count(*) FILTER (WHERE ${matched} AND ${d}) AS d${i}`),
        ].join(', '),
      ),
    )
  ).getRowObjectsJS()[0];
  const changed = num(counts.changed) ?? 0;
  const result: RowDiff = {
    key,
    compared,
    added: num(counts.added) ?? 0,
    removed: num(counts.removed) ?? 0,
    changed,
    unchanged: (num(counts.matched) ?? 0) - changed,
    changedByColumn: Object.fromEntries(compared.map((c, i) => [c, num(counts[`d${i}`]) ?? 0])),
    samples: { added: [], removed: [], changed: [] },
  };
  if (sample === 0) return result;

  const orderBy = (t: 'a' | 'b') => ` ORDER BY ${key.map((k) => `${t}.${sqlIdent(k)}`).join(', ')} LIMIT ${sample}`;
  if (result.added > 0) result.samples.added = await jsonRows(conn, select(`b.* EXCLUDE (${sqlIdent(MARK)})`, ` WHERE ${inA} IS NULL${orderBy('b')}`));
  if (result.removed > 0) result.samples.removed = await jsonRows(conn, select(`a.* EXCLUDE (${sqlIdent(MARK)})`, ` WHERE ${inB} IS NULL${orderBy('a')}`));
  if (changed > 0) {
    const list = [
      ...key.map((k, i) => `a.${sqlIdent(k)} AS k${i}`),
      ...compared.flatMap((c, i) => [`a.${sqlIdent(c)} AS a${i}`, `b.${sqlIdent(c)} AS b${i}`, `${differs[i]} AS f${i}`]),
    ].join(', ');
    const rows = await jsonRows(conn, select(list, ` WHERE ${matched} AND (${anyDiffers})${orderBy('a')}`));
    result.samples.changed = rows.map((r) => ({
      key: Object.fromEntries(key.map((k, i) => [k, r[`k${i}`]])),
      changes: Object.fromEntries(compared.flatMap((c, i) => (r[`f${i}`] ? [[c, { a: r[`a${i}`], b: r[`b${i}`] }]] : []))),
    }));
  }
  return result;
}

// ------------------------------------------------------------------ the diff

/** Compares version `refB` with `refA` (the reference). */
export async function diffVersions(reader: DiffReader, engine: Engine, refA: string, refB: string, options: DiffOptions = {}): Promise<DatasetDiff> {
  const sample = checkSample(options.sample);
  const key = options.key?.map((k) => k.trim()).filter((k) => k !== '');
  const [va, vb] = await Promise.all([reader.resolve(refA), reader.resolve(refB)]);
  const [fa, fb] = await Promise.all([reader.parquetPath(va), reader.parquetPath(vb)]);
  const [pa, pb] = [await profileOf(reader, engine, va, fa), await profileOf(reader, engine, vb, fb)];

  const colsA = new Map(va.schema.map((c) => [c.name, c]));
  const colsB = new Map(vb.schema.map((c) => [c.name, c]));
  const schema: DatasetDiff['schema'] = {
    added: vb.schema.filter((c) => !colsA.has(c.name)),
    removed: va.schema.filter((c) => !colsB.has(c.name)),
    retyped: vb.schema.flatMap((c) => {
      const old = colsA.get(c.name);
      return old && old.type !== c.type ? [{ name: c.name, from: old.type, to: c.type }] : [];
    }),
  };
  const common = vb.schema.filter((c) => colsA.has(c.name)).map((c) => c.name);
  const profA = new Map<string, ColumnProfile>(pa.columns.map((c) => [c.name, c]));
  const profB = new Map<string, ColumnProfile>(pb.columns.map((c) => [c.name, c]));

  return engine.withConnection(async (conn) => {
    const methods = new Map(common.map((name) => [name, driftMethod(columnKind(colsA.get(name)!.type), columnKind(colsB.get(name)!.type))]));
    const deciles = common.filter((n) => methods.get(n) === 'psi_deciles').map((name) => ({ name, kind: columnKind(colsA.get(name)!.type) }));
    const psi = await decilePsi(conn, fa, fb, deciles, va.rowCount < DEFAULT_EXACT_DISTINCT_BOUND);
    for (const name of common) if (methods.get(name) === 'psi_categories') psi.set(name, await categoryPsi(conn, fa, fb, name));

    const columns: ColumnDiff[] = common.map((name) => {
      const a = profA.get(name);
      const b = profB.get(name);
      const method = methods.get(name) ?? null;
      return {
        name,
        typeA: colsA.get(name)!.type,
        typeB: colsB.get(name)!.type,
        stats: Object.fromEntries(DIFF_STATS.map((s) => [s, statChange(a?.[s], b?.[s])])) as Record<DiffStat, StatChange>,
        drift: method ? { method, psi: psi.get(name) ?? null } : null,
      };
    });
    const rows = key && key.length > 0 ? await diffRows(conn, { a: fa, b: fb }, { a: va, b: vb }, key, sample) : null;
    if (options.key && !rows) throw invalidArgument('Give at least one key column');
    return {
      a: side(refA, va),
      b: side(refB, vb),
      sameContent: va.contentHash === vb.contentHash,
      rowCount: { a: va.rowCount, b: vb.rowCount, delta: vb.rowCount - va.rowCount },
      schema,
      columns,
      rows,
    };
  });
}
