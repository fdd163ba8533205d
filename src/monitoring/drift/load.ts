/**
 * Reads the two sides of a drift comparison — each a dataset version
 * (`NAME@V`, `NAME@latest`) or a CSV/Parquet file — into the columnar
 * ColumnSets `driftReport` takes, with DuckDB.
 *
 * Per side: DESCRIBE (names and types), count(*), then one streamed SELECT of
 * the compared columns, copied chunk by chunk into typed arrays (JavaScript
 * never builds a row object). Numeric columns (any DuckDB integer, float or
 * decimal type) become Float64Array with null → NaN (done in SQL, so a chunk
 * is one `set`); VARCHAR and BOOLEAN become (string | null)[] (booleans as
 * "true"/"false"). Text columns with few distinct values are fetched as ENUM
 * codes and mapped through the dictionary, so each value is one shared string.
 *
 * Which columns are compared: the requested ones (each must exist on both
 * sides, FW_INVALID_ARGUMENT otherwise), else every column present on both.
 * Columns on one side only, dates/timestamps and other types are returned as
 * `skipped` with the reason. A column numeric on one side and text on the
 * other is FW_INVALID_ARGUMENT naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBVector } from '@duckdb/node-api';
import { FlywheelError, invalidArgument, isFlywheelError, notFound } from '../../core/errors.js';
import type { DatasetVersion } from '../../data/types.js';
import { sqlIdent, sqlLiteral, type DuckDBConnection, type Engine } from '../../engine/index.js';
import type { ColumnSet, ColumnValues } from './report.js';

/** What resolves dataset references (the data slice's DataService has both). */
export interface DatasetVersions {
  resolve(ref: string): Promise<DatasetVersion>;
  parquetPath(version: DatasetVersion): Promise<string>;
}

export type DriftSource = { kind: 'file'; path: string } | { kind: 'dataset'; ref: string };

export type LoadedKind = 'numeric' | 'categorical';

export interface SkippedColumn {
  column: string;
  reason: string;
}

export interface LoadedSide {
  /** The source as the user named it, or the resolved `name@version` for datasets. */
  source: string;
  rows: number;
  columns: ColumnSet;
  /** DuckDB type of each loaded column. */
  types: Record<string, string>;
}

export interface DriftInputs {
  reference: LoadedSide;
  current: LoadedSide;
  /** Compared columns, in reference order. */
  columns: string[];
  kinds: Record<string, LoadedKind>;
  skipped: SkippedColumn[];
}

/** Text columns with at most this many distinct values are fetched as dictionary codes. */
const DICTIONARY_MAX_VALUES = 65536;

const FILE_EXTENSIONS = /\.(parquet|pq|csv|tsv|tab)$/i;

/** A file when the argument names an existing file or ends in a data file extension; NAME@VERSION otherwise. */
export function parseDriftSource(spec: string): DriftSource {
  const s = spec.trim();
  if (s === '') throw invalidArgument('a drift source is empty: give a dataset version NAME@VERSION or a CSV/Parquet file.');
  if (FILE_EXTENSIONS.test(s) || s.includes('/') || s.includes(path.sep) || fs.existsSync(s)) return { kind: 'file', path: s };
  if (/^[^@\s]+@[^@\s]+$/.test(s)) return { kind: 'dataset', ref: s };
  throw invalidArgument(`"${spec}" is neither a dataset version (NAME@VERSION, NAME@latest) nor a .csv/.parquet file.`);
}

function fileRelation(file: string): string {
  const abs = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw notFound(`file ${file} does not exist.`);
  }
  if (!stat.isFile()) throw invalidArgument(`${file} is not a file.`);
  const ext = path.extname(abs).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return `read_parquet(${sqlLiteral(abs)})`;
  if (ext === '.csv') return `read_csv(${sqlLiteral(abs)}, header=true)`;
  if (ext === '.tsv' || ext === '.tab') return `read_csv(${sqlLiteral(abs)}, header=true, delim='\t')`;
  throw invalidArgument(`${file}: expected a .parquet, .csv or .tsv file.`);
}

async function relationOf(spec: string, datasets: DatasetVersions | null): Promise<{ rel: string; source: string }> {
  const src = parseDriftSource(spec);
  if (src.kind === 'file') return { rel: fileRelation(src.path), source: src.path };
  if (!datasets) throw invalidArgument(`${src.ref} is a dataset version, but no project store is open to resolve it.`);
  const version = await datasets.resolve(src.ref);
  return { rel: `read_parquet(${sqlLiteral(await datasets.parquetPath(version))})`, source: `${version.dataset}@${version.version}` };
}

type TypeKind = LoadedKind | 'temporal' | 'other';

function kindOfType(type: string): TypeKind {
  const t = type.toUpperCase();
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(t) || t === 'FLOAT' || t === 'DOUBLE' || t.startsWith('DECIMAL')) return 'numeric';
  if (t === 'VARCHAR' || t === 'BOOLEAN') return 'categorical';
  if (t === 'DATE' || t.startsWith('TIMESTAMP') || t.startsWith('TIME') || t === 'INTERVAL') return 'temporal';
  return 'other';
}

async function reading<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isFlywheelError(err)) throw err;
    throw invalidArgument(`cannot read ${what}: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function describe(conn: DuckDBConnection, rel: string, source: string): Promise<Map<string, string>> {
  const rows = await reading(source, async () => (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${rel}`)).getRowObjectsJS());
  return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

/** Decides the compared columns and the skipped ones from both sides' types. */
export function planColumns(
  refTypes: Map<string, string>,
  curTypes: Map<string, string>,
  requested?: readonly string[],
): { columns: string[]; kinds: Record<string, LoadedKind>; skipped: SkippedColumn[] } {
  const skipped: SkippedColumn[] = [];
  const columns: string[] = [];
  const kinds: Record<string, LoadedKind> = {};
  let names: string[];
  if (requested) {
    if (requested.length === 0) throw invalidArgument('no columns to compare: the column list is empty.');
    for (const c of requested) {
      if (!refTypes.has(c)) throw invalidArgument(`column "${c}" is not in the reference data (it has ${[...refTypes.keys()].join(', ')}).`, { column: c });
      if (!curTypes.has(c)) throw invalidArgument(`column "${c}" is not in the current data (it has ${[...curTypes.keys()].join(', ')}).`, { column: c });
    }
    names = [...new Set(requested)];
  } else {
    names = [];
    for (const c of refTypes.keys()) {
      if (curTypes.has(c)) names.push(c);
      else skipped.push({ column: c, reason: 'only in the reference data' });
    }
    for (const c of curTypes.keys()) if (!refTypes.has(c)) skipped.push({ column: c, reason: 'only in the current data' });
  }
  for (const c of names) {
    const rt = refTypes.get(c)!;
    const ct = curTypes.get(c)!;
    const rk = kindOfType(rt);
    const ck = kindOfType(ct);
    if (rk !== ck) {
      throw invalidArgument(`column "${c}" is ${rt} in the reference data but ${ct} in the current data; drift compares like with like.`, { column: c });
    }
    if (rk === 'temporal') {
      if (requested) throw invalidArgument(`column "${c}" is ${rt}; drift compares numeric and text columns, not dates or times.`, { column: c });
      skipped.push({ column: c, reason: `${rt.toLowerCase()} column (dates and times are not compared)` });
    } else if (rk === 'other') {
      if (requested) throw invalidArgument(`column "${c}" is ${rt}; drift compares numeric and text columns.`, { column: c });
      skipped.push({ column: c, reason: `unsupported type ${rt}` });
    } else {
      columns.push(c);
      kinds[c] = rk;
    }
  }
  return { columns, kinds, skipped };
}

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : Number(v));

/** Distinct text values of each text column (or null when more than the dictionary allows). */
async function dictionaries(conn: DuckDBConnection, rel: string, textColumns: string[], source: string): Promise<Map<string, string[] | null>> {
  const out = new Map<string, string[] | null>();
  if (textColumns.length === 0) return out;
  const counts = textColumns.map((c, i) => `approx_count_distinct(CAST(${sqlIdent(c)} AS VARCHAR)) AS n${i}`);
  const [row] = await reading(source, async () => (await conn.runAndReadAll(`SELECT ${counts.join(', ')} FROM ${rel}`)).getRowObjectsJS());
  const small = textColumns.filter((_c, i) => num(row![`n${i}`]) <= DICTIONARY_MAX_VALUES / 2);
  for (const c of textColumns) out.set(c, null);
  if (small.length === 0) return out;
  const lists = small.map((c, i) => `list(DISTINCT CAST(${sqlIdent(c)} AS VARCHAR)) FILTER (WHERE ${sqlIdent(c)} IS NOT NULL) AS d${i}`);
  const [lrow] = await reading(source, async () => (await conn.runAndReadAll(`SELECT ${lists.join(', ')} FROM ${rel}`)).getRowObjectsJS());
  small.forEach((c, i) => {
    const values = (lrow![`d${i}`] as string[] | null) ?? [];
    out.set(c, values.length <= DICTIONARY_MAX_VALUES ? values : null);
  });
  return out;
}

/** Reads one side's compared columns into typed arrays. */
async function loadSide(conn: DuckDBConnection, rel: string, source: string, columns: string[], kinds: Record<string, LoadedKind>, types: Map<string, string>): Promise<LoadedSide> {
  const [countRow] = await reading(source, async () => (await conn.runAndReadAll(`SELECT count(*) AS n FROM ${rel}`)).getRowObjectsJS());
  const rows = num(countRow!.n);
  const text = columns.filter((c) => kinds[c] === 'categorical');
  const dicts = await dictionaries(conn, rel, text, source);
  const exprs = columns.map((c, i) => {
    const col = sqlIdent(c);
    if (kinds[c] === 'numeric') return `coalesce(CAST(${col} AS DOUBLE), 'NaN'::DOUBLE) AS c${i}`;
    const dict = dicts.get(c);
    if (!dict) return `CAST(${col} AS VARCHAR) AS c${i}`;
    if (dict.length === 0) return `-1::INTEGER AS c${i}`;
    const enumType = `ENUM(${dict.map((v) => sqlLiteral(v)).join(', ')})`;
    return `coalesce(CAST(enum_code(CAST(CAST(${col} AS VARCHAR) AS ${enumType})) AS INTEGER), -1) AS c${i}`;
  });
  const targets: (Float64Array | (string | null)[])[] = columns.map((c) => (kinds[c] === 'numeric' ? new Float64Array(rows) : new Array<string | null>(rows)));
  const result = await reading(source, () => conn.stream(`SELECT ${exprs.join(', ') || '1'} FROM ${rel}`));
  let offset = 0;
  for (;;) {
    const chunk = await reading(source, () => result.fetchChunk());
    if (!chunk || chunk.rowCount === 0) break;
    const m = chunk.rowCount;
    if (offset + m > rows) throw new FlywheelError('FW_INVALID_STATE', `${source} changed while being read.`);
    for (let c = 0; c < columns.length; c++) {
      const vector = chunk.getColumnVector(c);
      const target = targets[c]!;
      if (target instanceof Float64Array) copyDoubles(vector, target, offset, m);
      else {
        const dict = dicts.get(columns[c]!);
        if (dict) copyCodes(vector, dict, target, offset, m);
        else for (let i = 0; i < m; i++) target[offset + i] = vector.getItem(i) as string | null;
      }
    }
    offset += m;
  }
  if (offset !== rows) throw new FlywheelError('FW_INVALID_STATE', `${source} changed while being read.`);
  const set: Record<string, ColumnValues> = {};
  const loadedTypes: Record<string, string> = {};
  columns.forEach((c, i) => {
    set[c] = targets[i]!;
    loadedTypes[c] = types.get(c)!;
  });
  return { source, rows, columns: set, types: loadedTypes };
}

/** Fixed-width vectors expose their data as `items`; the SQL makes these columns non-null. */
function copyDoubles(vector: DuckDBVector, target: Float64Array, offset: number, m: number): void {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array && items.length === m) target.set(items, offset);
  else for (let i = 0; i < m; i++) target[offset + i] = Number(vector.getItem(i));
}

function copyCodes(vector: DuckDBVector, dict: string[], target: (string | null)[], offset: number, m: number): void {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Int32Array && items.length === m) {
    for (let i = 0; i < m; i++) {
      const code = items[i]!;
      target[offset + i] = code < 0 ? null : dict[code]!;
    }
  } else {
    for (let i = 0; i < m; i++) {
      const code = Number(vector.getItem(i));
      target[offset + i] = code < 0 ? null : dict[code]!;
    }
  }
}

export interface LoadDriftOptions {
  /** Compare only these columns (each must be on both sides). */
  columns?: readonly string[];
}

/**
 * Loads `reference` and `current` (each NAME@VERSION or a file path) for
 * driftReport. `datasets` may be null when both are files.
 */
export async function loadDriftInputs(engine: Engine, datasets: DatasetVersions | null, reference: string, current: string, options: LoadDriftOptions = {}): Promise<DriftInputs> {
  const ref = await relationOf(reference, datasets);
  const cur = await relationOf(current, datasets);
  return engine.withConnection(async (conn) => {
    const refTypes = await describe(conn, ref.rel, ref.source);
    const curTypes = await describe(conn, cur.rel, cur.source);
    const plan = planColumns(refTypes, curTypes, options.columns);
    const referenceSide = await loadSide(conn, ref.rel, ref.source, plan.columns, plan.kinds, refTypes);
    const currentSide = await loadSide(conn, cur.rel, cur.source, plan.columns, plan.kinds, curTypes);
    return { reference: referenceSide, current: currentSide, ...plan };
  });
}
