/**
 * Reads a predictions table (a Parquet/CSV file or any DuckDB relation) into
 * the typed arrays `metrics.ts` works on, after checking it in SQL.
 *
 * Three statements on one connection: DESCRIBE (columns and types), one
 * profiling scan (row count, nulls, NaNs, score range, the two label values,
 * the distinct values of each slice/group column; numeric classes other than
 * 0/1 take one more scan to count their values), then one fetch of
 * exactly the columns needed: the label mapped to 0/1, the score as DOUBLE,
 * the predicted label mapped to 0/1, and each slice/group column as a small
 * integer code (an ENUM cast of its text, so the hashing happens in DuckDB).
 * For classification the fetch is `ORDER BY score DESC`, so ROC and PR
 * curves for every group come from one pass over the rows. JavaScript never
 * builds a row object.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FlywheelError, invalidArgument, isFlywheelError, notFound } from '../core/errors.js';
import type { DuckDBVector } from '@duckdb/node-api';
import { sqlIdent, sqlLiteral, type DuckDBConnection, type Engine } from '../engine/index.js';
import type { BinaryColumns, Grouping } from './metrics.js';

/** Where the predictions are: a file, or a SQL query / table name DuckDB can read on the engine. */
export type PredictionSource = { path: string } | { sql: string };

export type Task = 'classification' | 'regression';

/** More distinct values than this in a slice or group column is refused (per-slice reports of ids help nobody). */
export const MAX_GROUP_VALUES = 1000;

export interface LoadRequest {
  source: PredictionSource;
  label: string;
  score: string;
  pred?: string;
  /** Columns to group by (slices and the sensitive attribute), each fetched once. */
  groupBy: string[];
  task?: Task;
  positive?: string;
}

/** A slice/group column as codes: row i has value `values[codes[i]]`; code 0 is null. */
export interface GroupColumn {
  column: string;
  values: (string | null)[];
  grouping: Grouping;
}

export interface LoadedClassification {
  task: 'classification';
  rows: number;
  /** The positive and negative label values, as text. */
  positive: string;
  negative: string;
  /** Rows in descending score order; `predicted` is the --pred column's 0/1 or null (threshold later). */
  columns: Omit<BinaryColumns, 'predicted'> & { predicted: Uint8Array | null };
  groups: GroupColumn[];
}

export interface LoadedRegression {
  task: 'regression';
  rows: number;
  label: Float64Array;
  prediction: Float64Array;
  groups: GroupColumn[];
}

type Kind = 'boolean' | 'integer' | 'float' | 'decimal' | 'string' | 'other';

function kindOf(type: string): Kind {
  const t = type.toUpperCase();
  if (t === 'BOOLEAN') return 'boolean';
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(t)) return 'integer';
  if (t === 'FLOAT' || t === 'DOUBLE') return 'float';
  if (t.startsWith('DECIMAL')) return 'decimal';
  if (t === 'VARCHAR') return 'string';
  return 'other';
}

const isNumeric = (k: Kind) => k === 'integer' || k === 'float' || k === 'decimal';

/** The FROM-clause relation for a source; a file must exist and be Parquet, CSV or TSV. */
export function sourceRelation(source: PredictionSource): string {
  if ('sql' in source) {
    const sql = source.sql.trim().replace(/;+\s*$/, '');
    if (sql === '') throw invalidArgument('the predictions query is empty.');
    return /^(select|with|from|values|table)\b/i.test(sql) ? `(${sql})` : sqlIdent(sql);
  }
  const file = path.resolve(source.path);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw notFound(`predictions file ${source.path} does not exist.`);
  }
  if (!stat.isFile()) throw invalidArgument(`predictions path ${source.path} is not a file.`);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return `read_parquet(${sqlLiteral(file)})`;
  if (ext === '.csv') return `read_csv(${sqlLiteral(file)}, header=true)`;
  if (ext === '.tsv' || ext === '.tab') return `read_csv(${sqlLiteral(file)}, header=true, delim='\t')`;
  throw invalidArgument(`predictions file ${source.path}: expected a .parquet, .csv or .tsv file.`);
}

/** DuckDB errors while reading user data are the user's input problem: FW_INVALID_ARGUMENT with DuckDB's words. */
async function reading<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isFlywheelError(err)) throw err;
    throw invalidArgument(`cannot read the predictions (${what}): ${(err as Error).message.split('\n')[0]}`);
  }
}

async function rowsOf(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

/** Loads and checks the columns for `evaluatePredictions`; every refusal is a FlywheelError naming the column. */
export async function loadPredictions(engine: Engine, req: LoadRequest): Promise<LoadedClassification | LoadedRegression> {
  const rel = sourceRelation(req.source);
  return engine.withConnection(async (conn) => {
    const described = await reading('columns', () => rowsOf(conn, `DESCRIBE SELECT * FROM ${rel}`));
    const types = new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
    const typeOf = (col: string, option: string): string => {
      const t = types.get(col);
      if (t === undefined) throw invalidArgument(`${option} ${col}: no such column; the predictions have ${[...types.keys()].join(', ')}.`);
      return t;
    };
    const labelType = typeOf(req.label, '--label');
    const scoreType = typeOf(req.score, '--score');
    if (req.pred !== undefined) typeOf(req.pred, '--pred');
    for (const g of req.groupBy) typeOf(g, '--slice/--group');
    const labelKind = kindOf(labelType);
    if (labelKind === 'other') throw invalidArgument(`--label ${req.label} is ${labelType}; expected booleans, numbers or text.`);
    if (!isNumeric(kindOf(scoreType))) throw invalidArgument(`--score ${req.score} is ${scoreType}; expected numbers.`);

    const profile = await reading('profile', () => rowsOf(conn, profileSql(rel, req, labelKind)));
    const p = profile[0];
    const rows = num(p.n);
    if (rows === 0) throw invalidArgument('the predictions table has no rows.');
    if (num(p.label_nulls) > 0) throw invalidArgument(`--label ${req.label} is null in ${num(p.label_nulls)} of ${rows} rows.`);
    if (num(p.label_nonfinite ?? 0) > 0) throw invalidArgument(`--label ${req.label} is NaN or infinite in ${num(p.label_nonfinite)} rows.`);
    if (num(p.score_nulls) > 0) throw invalidArgument(`--score ${req.score} is null in ${num(p.score_nulls)} of ${rows} rows.`);
    if (num(p.score_nonfinite) > 0) throw invalidArgument(`--score ${req.score} is NaN or infinite in ${num(p.score_nonfinite)} rows.`);

    const lo = p.label_lo as string;
    const hi = p.label_hi as string;
    // Numbers: whether every label is 0 or 1. Booleans and text: how many values there are.
    const zeroOne = isNumeric(labelKind) && num(p.label_not01) === 0;
    const task: Task = req.task ?? (isNumeric(labelKind) && !zeroOne && req.positive === undefined ? 'regression' : 'classification');
    const groups = req.groupBy.map((column, i) => groupValues(column, p[`g${i}`] as (string | null)[]));
    const codeExprs = groups.map((g, i) => codeSql(g, i));

    if (task === 'regression') {
      if (!isNumeric(labelKind)) throw invalidArgument(`--label ${req.label} is ${labelType}; regression needs numbers.`);
      if (req.pred !== undefined) throw invalidArgument('--pred is for classification; in regression --score is the prediction.');
      if (req.positive !== undefined) throw invalidArgument('--positive is for classification.');
      const sql = `SELECT CAST(${sqlIdent(req.label)} AS DOUBLE) AS y, CAST(${sqlIdent(req.score)} AS DOUBLE) AS s${codeExprs.map((e) => `, ${e}`).join('')} FROM ${rel}`;
      const cols = await fetchColumns(conn, sql, rows, ['f64', 'f64', ...groups.map(() => 'i32' as const)]);
      return { task, rows, label: cols[0] as Float64Array, prediction: cols[1] as Float64Array, groups: withCodes(groups, cols.slice(2) as Int32Array[]) };
    }

    const lit = (text: string) => `CAST(${sqlLiteral(text)} AS ${labelType})`;
    const L = sqlIdent(req.label);
    let distinct = p.label_distinct === undefined ? null : num(p.label_distinct);
    if (distinct === null && !zeroOne) {
      // Numbers other than 0/1 as classes: one more scan counts the values between min and max.
      const [{ k }] = await rowsOf(conn, `SELECT count(DISTINCT ${L}) FILTER (WHERE ${L} <> ${lit(lo)} AND ${L} <> ${lit(hi)}) AS k FROM ${rel}`);
      distinct = (lo === hi ? 1 : 2) + num(k);
    }
    if (distinct !== null && distinct > 2) throw invalidArgument(`--label ${req.label} has ${distinct} distinct values; classification here is binary (use --task regression for a numeric target).`);
    if (lo === hi) throw invalidArgument(`--label ${req.label} has only one class (${lo}); classification metrics need both classes.`);
    const positive = choosePositive(req.label, labelKind, lo, hi, req.positive);
    const negative = positive === hi ? lo : hi;
    if (num(p.score_min) < 0 || num(p.score_max) > 1) throw invalidArgument(`--score ${req.score} must be probabilities in [0, 1] for classification; found values from ${num(p.score_min)} to ${num(p.score_max)}.`);
    const predExpr =
      req.pred === undefined
        ? ''
        : `, CAST(CASE TRY_CAST(${sqlIdent(req.pred)} AS ${labelType}) WHEN ${lit(positive)} THEN 1 WHEN ${lit(negative)} THEN 0 ELSE 2 END AS UTINYINT) AS p`;
    const sql =
      `SELECT CAST(CASE WHEN ${L} = ${lit(positive)} THEN 1 WHEN ${L} = ${lit(negative)} THEN 0 ELSE 2 END AS UTINYINT) AS y, CAST(${sqlIdent(req.score)} AS DOUBLE) AS s${predExpr}` +
      `${codeExprs.map((e) => `, ${e}`).join('')} FROM ${rel} ORDER BY s DESC`;
    const kinds: ColumnKind[] = ['u8', 'f64', ...(req.pred === undefined ? [] : ['u8' as const]), ...groups.map(() => 'i32' as const)];
    const cols = await fetchColumns(conn, sql, rows, kinds);
    if (count(cols[0] as Uint8Array, 2) > 0) throw new FlywheelError('FW_INVALID_STATE', 'the predictions changed while being read.');
    const predicted = req.pred === undefined ? null : (cols[2] as Uint8Array);
    if (predicted) {
      const bad = count(predicted, 2);
      if (bad > 0) throw invalidArgument(`--pred ${req.pred} is null or neither ${positive} nor ${negative} in ${bad} rows.`);
    }
    const codeCols = cols.slice(predicted ? 3 : 2) as Int32Array[];
    return {
      task,
      rows,
      positive,
      negative,
      columns: { positive: cols[0] as Uint8Array, score: cols[1] as Float64Array, predicted },
      groups: withCodes(groups, codeCols),
    };
  });
}

function profileSql(rel: string, req: LoadRequest, labelKind: Kind): string {
  const L = sqlIdent(req.label);
  const S = sqlIdent(req.score);
  const parts = [
    'count(*) AS n',
    `count(*) FILTER (WHERE ${L} IS NULL) AS label_nulls`,
    `CAST(min(${L}) AS VARCHAR) AS label_lo`,
    `CAST(max(${L}) AS VARCHAR) AS label_hi`,
    `count(*) FILTER (WHERE ${S} IS NULL) AS score_nulls`,
    `count(*) FILTER (WHERE NOT isfinite(CAST(${S} AS DOUBLE))) AS score_nonfinite`,
    `min(CAST(${S} AS DOUBLE)) AS score_min`,
    `max(CAST(${S} AS DOUBLE)) AS score_max`,
  ];
  if (isNumeric(labelKind)) {
    parts.push(`count(*) FILTER (WHERE NOT isfinite(CAST(${L} AS DOUBLE))) AS label_nonfinite`);
    parts.push(`count(*) FILTER (WHERE ${L} <> 0 AND ${L} <> 1) AS label_not01`);
  } else {
    parts.push(`count(DISTINCT ${L}) AS label_distinct`);
  }
  // Distinct first, text after: the cast then runs on a handful of values, not on every row.
  req.groupBy.forEach((g, i) => parts.push(`list_transform(list(DISTINCT ${sqlIdent(g)}) FILTER (WHERE ${sqlIdent(g)} IS NOT NULL), x -> CAST(x AS VARCHAR)) AS g${i}`));
  return `SELECT ${parts.join(', ')} FROM ${rel}`;
}

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);

/** Which of the two label values (as DuckDB prints them) is positive: booleans and 0/1 default to true/1; text needs --positive. */
function choosePositive(column: string, kind: Kind, lo: string, hi: string, positive: string | undefined): string {
  const values = `${lo} and ${hi}`;
  if (kind === 'boolean') {
    if (positive === undefined) return 'true';
    const p = positive.trim().toLowerCase();
    if (TRUE_WORDS.has(p)) return 'true';
    if (FALSE_WORDS.has(p)) return 'false';
    throw invalidArgument(`--positive ${positive}: --label ${column} holds booleans; expected true or false.`);
  }
  if (kind === 'string') {
    if (positive === undefined) throw invalidArgument(`--label ${column} has the values ${values}; name the positive one with --positive.`);
    if (positive === lo || positive === hi) return positive;
    throw invalidArgument(`--positive ${positive} is not a value of --label ${column} (${values}).`);
  }
  const a = Number(lo);
  const b = Number(hi);
  if (positive === undefined) {
    if (a === 0 && b === 1) return hi;
    throw invalidArgument(`--label ${column} has the values ${values}, not 0 and 1; name the positive one with --positive.`);
  }
  const v = positive.trim() === '' ? Number.NaN : Number(positive);
  if (v === a) return lo;
  if (v === b) return hi;
  throw invalidArgument(`--positive ${positive} is not a value of --label ${column} (${values}).`);
}

function groupValues(column: string, listed: (string | null)[] | null): Omit<GroupColumn, 'grouping'> & { size: number } {
  const values = [...new Set((listed ?? []).filter((v): v is string => v !== null))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  if (values.length > MAX_GROUP_VALUES) {
    throw new FlywheelError('FW_LIMIT_EXCEEDED', `column ${column} has ${values.length} distinct values; slices and groups allow at most ${MAX_GROUP_VALUES}.`);
  }
  return { column, values: [null, ...values], size: values.length + 1 };
}

/** Code of a row's value: 1 + its position in the sorted distinct values, 0 for null. */
function codeSql(g: { column: string; values: (string | null)[] }, i: number): string {
  const named = g.values.slice(1) as string[];
  if (named.length === 0) return `0::INTEGER AS c${i}`;
  const enumType = `ENUM(${named.map((v) => sqlLiteral(v)).join(', ')})`;
  return `coalesce(CAST(enum_code(CAST(CAST(${sqlIdent(g.column)} AS VARCHAR) AS ${enumType})) AS INTEGER) + 1, 0) AS c${i}`;
}

function withCodes(groups: (Omit<GroupColumn, 'grouping'> & { size: number })[], codes: Int32Array[]): GroupColumn[] {
  return groups.map((g, i) => ({ column: g.column, values: g.values, grouping: { codes: codes[i], size: g.size } }));
}

type ColumnKind = 'u8' | 'f64' | 'i32';

function count(values: Uint8Array, v: number): number {
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === v) k++;
  return k;
}

/** Runs `sql` and copies each result column into a typed array, chunk by chunk. */
async function fetchColumns(conn: DuckDBConnection, sql: string, rows: number, kinds: ColumnKind[]): Promise<(Uint8Array | Float64Array | Int32Array)[]> {
  const out = kinds.map((k) => (k === 'u8' ? new Uint8Array(rows) : k === 'f64' ? new Float64Array(rows) : new Int32Array(rows)));
  const result = await conn.stream(sql);
  let offset = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const m = chunk.rowCount;
    if (offset + m > rows) throw new FlywheelError('FW_INVALID_STATE', 'the predictions changed while being read.');
    for (let c = 0; c < kinds.length; c++) copyVector(chunk.getColumnVector(c), out[c], offset, m);
    offset += m;
  }
  if (offset !== rows) throw new FlywheelError('FW_INVALID_STATE', 'the predictions changed while being read.');
  return out;
}

/**
 * Copies one chunk's column into `target` at `offset`. The columns fetched
 * here are never null (the SQL guarantees it), so when the vector exposes its
 * data as a typed array of the target's type (node-api's fixed-width vectors
 * keep it in `items`) one `set` copies it; otherwise item by item.
 */
function copyVector(vector: DuckDBVector, target: Uint8Array | Float64Array | Int32Array, offset: number, m: number): void {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof (target.constructor as typeof Uint8Array) && (items as Uint8Array).length === m) {
    (target as Uint8Array).set(items as Uint8Array, offset);
    return;
  }
  for (let i = 0; i < m; i++) target[offset + i] = vector.getItem(i) as number;
}
