/**
 * Turns a suite into SQL. Every row-level check becomes a condition that is
 * TRUE for a passing row, FALSE for a failing one and NULL for a row it does
 * not judge (a NULL value); all of them, plus the few aggregates other checks
 * need (row count, non-null counts, newest timestamp, mean, std, key range
 * of an integer `unique`), land in ONE scan of the data:
 *
 *   select count(*) as n, count("a") as nn_0,
 *          count_if(NOT "__fw_1") as bad_1, …
 *   from (select *, (cond_1) as "__fw_1", … from read_parquet('…'))
 *
 * Each condition is evaluated once, as a projected boolean column, and then
 * counted: `count_if(NOT c)` counts exactly the FALSE rows (NOT NULL is
 * NULL), which is where the null semantics of types.ts come from. Measured
 * on 10M rows, this costs about the same as one bare `count(*) … WHERE`
 * scan, where `count(*) FILTER (WHERE NOT (cond))` per check cost 1.3–1.5×
 * (bench/data.ts). User values are bound parameters, except regex patterns,
 * which are inlined with sqlLiteral so DuckDB compiles the pattern once
 * instead of per row.
 */
import { sqlIdent, sqlLiteral, type DuckDBValue } from '../engine/index.js';
import type { ColumnSchema } from '../data/types.js';
import type { Check, Suite } from './types.js';
import { SAMPLE_ROWS } from './types.js';

/** Collects bound parameter values and hands out their `$n` placeholders. */
export class Params {
  readonly values: DuckDBValue[] = [];
  add(value: DuckDBValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export type ColumnTypes = ReadonlyMap<string, string>;

export function columnTypes(schema: readonly ColumnSchema[] | readonly { name: string; type: string }[]): ColumnTypes {
  return new Map(schema.map((c) => [c.name, c.type.toUpperCase()]));
}

export type TypeFamily = 'integer' | 'float' | 'decimal' | 'boolean' | 'text' | 'date' | 'timestamp' | 'timestamptz' | 'time' | 'other';

/** The family of a DuckDB type name as DESCRIBE prints it. */
export function typeFamily(type: string | undefined): TypeFamily {
  const t = (type ?? '').toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(t)) return 'integer';
  if (t === 'FLOAT' || t === 'DOUBLE') return 'float';
  if (t.startsWith('DECIMAL')) return 'decimal';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'VARCHAR' || t.startsWith('ENUM')) return 'text';
  if (t === 'DATE') return 'date';
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return 'timestamptz';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (t.startsWith('TIME')) return 'time';
  return 'other';
}

export const isNumeric = (f: TypeFamily) => f === 'integer' || f === 'float' || f === 'decimal';
export const isTemporal = (f: TypeFamily) => f === 'date' || f === 'timestamp' || f === 'timestamptz';

/** An in_set value as the column's type wants it: text columns compare with text. */
function setValue(value: string | number | boolean, family: TypeFamily | undefined): DuckDBValue {
  if (family === 'text' || family === 'date' || family === 'timestamp' || family === 'timestamptz' || family === 'time') return String(value);
  return value;
}

function asText(column: string, types?: ColumnTypes): string {
  const c = sqlIdent(column);
  return types && typeFamily(types.get(column)) === 'text' ? c : `CAST(${c} AS VARCHAR)`;
}

/**
 * The per-row condition of a row-level check: TRUE passes, FALSE fails, NULL
 * is not judged. `types` (the dataset's columns) lets text columns skip a
 * cast and in_set values take the column's type; without it the SQL is still
 * correct. Returns null for checks that are not row-level.
 */
export function rowCondition(check: Check, params: Params, types?: ColumnTypes): string | null {
  switch (check.type) {
    case 'not_null':
      return `${sqlIdent(check.column)} IS NOT NULL`;
    case 'in_set': {
      const family = types ? typeFamily(types.get(check.column)) : undefined;
      return `${sqlIdent(check.column)} IN (${check.values.map((v) => params.add(setValue(v, family))).join(', ')})`;
    }
    case 'between': {
      const c = sqlIdent(check.column);
      const parts: string[] = [];
      if (check.min !== undefined) parts.push(`${c} ${check.min_inclusive === false ? '>' : '>='} ${params.add(check.min)}`);
      if (check.max !== undefined) parts.push(`${c} ${check.max_inclusive === false ? '<' : '<='} ${params.add(check.max)}`);
      return parts.join(' AND ');
    }
    case 'regex':
      return `regexp_matches(${asText(check.column, types)}, ${sqlLiteral(check.pattern)})`;
    case 'length': {
      const len = `length(${asText(check.column, types)})`;
      const parts: string[] = [];
      if (check.min !== undefined) parts.push(`${len} >= ${params.add(check.min)}`);
      if (check.max !== undefined) parts.push(`${len} <= ${params.add(check.max)}`);
      return parts.join(' AND ');
    }
    case 'sql':
      // Newlines end any trailing `--` comment inside the expression.
      return `\n${check.expect}\n`;
    default:
      return null;
  }
}

/** Where each check finds its numbers in the scan's single result row. */
export interface ScanSlots {
  /** Rows failing the check (row-level checks). */
  bad?: string;
  /** Rows judged: `n` for not_null, a column's non-null count, or the non-null predicate count for sql. */
  evaluated?: string;
  /** Epoch ms of the newest value (freshness). */
  newest?: string;
  /** Mean or sample std of the column (mean_within / std_within). */
  stat?: string;
  /** Smallest and largest key of a one-column integer `unique`: bounds a bitmap of the keys seen. */
  keyMin?: string;
  keyMax?: string;
}

export interface RowScan {
  sql: string;
  params: DuckDBValue[];
  /** By check index. */
  slots: Map<number, ScanSlots>;
}

/** The `read_parquet(…)` source for a file. */
export function parquetSource(file: string): string {
  return `read_parquet(${sqlLiteral(file)})`;
}

/**
 * Compiles the suite's row-level checks and per-column aggregates into one
 * query over `source`. Always has `n` (the row count), which row_count uses.
 */
export function compileRowScan(suite: Suite, source: string, types: ColumnTypes): RowScan {
  const params = new Params();
  const select: string[] = ['count(*) AS "n"'];
  const projected: string[] = [];
  const prefix = conditionPrefix(types);
  const slots = new Map<number, ScanSlots>();
  const nonNull = new Map<string, string>();
  const nonNullOf = (column: string) => {
    let alias = nonNull.get(column);
    if (!alias) {
      alias = `nn_${nonNull.size}`;
      nonNull.set(column, alias);
      select.push(`count(${sqlIdent(column)}) AS "${alias}"`);
    }
    return alias;
  };

  suite.checks.forEach((check, i) => {
    const cond = rowCondition(check, params, types);
    if (cond !== null) {
      const column = sqlIdent(`${prefix}${i}`);
      projected.push(`${wrap(cond)} AS ${column}`);
      const bad = `bad_${i}`;
      select.push(`count_if(NOT ${column}) AS "${bad}"`);
      let evaluated: string;
      if (check.type === 'not_null') evaluated = 'n';
      else if (check.type === 'sql') {
        evaluated = `ev_${i}`;
        select.push(`count(${column}) AS "${evaluated}"`);
      } else evaluated = nonNullOf((check as { column: string }).column);
      slots.set(i, { bad, evaluated });
      return;
    }
    switch (check.type) {
      case 'unique': {
        // Judged rows (no NULL in the key) are counted by the unique query itself.
        const columns = check.columns ?? [];
        if (columns.length === 1 && BITMAP_KEY_TYPES.has((types.get(columns[0]) ?? '').toUpperCase())) {
          const c = sqlIdent(columns[0]);
          select.push(`min(${c}) AS "kmin_${i}"`, `max(${c}) AS "kmax_${i}"`);
          slots.set(i, { keyMin: `kmin_${i}`, keyMax: `kmax_${i}`, evaluated: nonNullOf(columns[0]) });
        }
        break;
      }
      case 'referential':
      case 'no_new_categories':
        slots.set(i, { evaluated: nonNullOf(check.column) });
        break;
      case 'freshness': {
        const newest = `newest_${i}`;
        const c = sqlIdent(check.column);
        const family = typeFamily(types.get(check.column));
        // Naive timestamps and dates are read as UTC; TIMESTAMPTZ is an instant already.
        const expr = family === 'timestamptz' ? `epoch_ms(max(${c}))` : `epoch_ms(CAST(max(${c}) AS TIMESTAMP))`;
        select.push(`${expr} AS "${newest}"`);
        slots.set(i, { newest });
        break;
      }
      case 'mean_within':
      case 'std_within': {
        const stat = `stat_${i}`;
        select.push(`${statExpr(check.type, check.column)} AS "${stat}"`);
        slots.set(i, { stat });
        break;
      }
      default:
        break;
    }
  });
  const from = projected.length > 0 ? `(SELECT *,\n    ${projected.join(',\n    ')}\n  FROM ${source})` : source;
  return { sql: `SELECT\n  ${select.join(',\n  ')}\nFROM ${from}`, params: params.values, slots };
}

/** Integer key types DuckDB's bitstring_agg takes (a one-column `unique` on them is checked with a bitmap). */
const BITMAP_KEY_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);

/** A name prefix for projected conditions that no column of the data starts with (DuckDB names are case-insensitive). */
function conditionPrefix(types: ColumnTypes): string {
  const names = [...types.keys()].map((name) => name.toLowerCase());
  let prefix = '__fw_';
  while (names.some((name) => name.startsWith(prefix))) prefix = `_${prefix}`;
  return prefix;
}

/** The mean (avg) or sample standard deviation of a column, as DOUBLE. */
export function statExpr(type: 'mean_within' | 'std_within', column: string): string {
  const c = `CAST(${sqlIdent(column)} AS DOUBLE)`;
  return type === 'mean_within' ? `avg(${c})` : `stddev_samp(${c})`;
}

function wrap(cond: string): string {
  return `(${cond})`;
}

/** Up to 20 rows failing one row-level check, in file order. */
export function compileSampleQuery(check: Check, source: string, types: ColumnTypes): { sql: string; params: DuckDBValue[] } {
  const params = new Params();
  const cond = rowCondition(check, params, types);
  if (cond === null) throw new Error(`${check.type} is not a row-level check`);
  return { sql: `SELECT * FROM ${source} WHERE NOT ${wrap(cond)} LIMIT ${SAMPLE_ROWS}`, params: params.values };
}

/**
 * The SQL predicate that is TRUE for a row failing any row-level check of
 * severity error (never NULL, so `WHERE NOT (…)` selects exactly the other
 * rows). For `data add --quarantine`: bad rows = `WHERE <sql>`, good rows =
 * `WHERE NOT (<sql>)`. `mostly` is ignored here — every failing row is
 * quarantined. Set-level checks (unique, referential, distributions) cannot be
 * decided row by row and are not part of it. Parameters are `$1…$n`; embed the
 * predicate in a statement that has no other parameters. Pass the file's
 * columns when known, so in_set values take the columns' types.
 */
export function failingRowsPredicate(suite: Suite, columns?: readonly { name: string; type: string }[]): { sql: string; params: DuckDBValue[] } {
  const params = new Params();
  const types = columns ? columnTypes(columns) : undefined;
  const parts: string[] = [];
  for (const check of suite.checks) {
    if (check.severity === 'warn') continue;
    const cond = rowCondition(check, params, types);
    if (cond !== null) parts.push(`coalesce(NOT ${wrap(cond)}, false)`);
  }
  return { sql: parts.length > 0 ? `(${parts.join(' OR ')})` : 'false', params: params.values };
}
