/**
 * Binds a parsed suite to the data it will run on, before anything runs:
 * every column a check names must exist in the Parquet file with a type the
 * check can work with, regex patterns must compile (RE2, as DuckDB uses),
 * custom `sql` predicates must be one boolean expression over the row (no
 * subqueries, no parameters) that DuckDB can bind, and `referential` targets
 * are resolved through the DatasetReader. Each problem is reported as
 * FW_INVALID_ARGUMENT naming the check (`checks[3] (between)`) and field.
 *
 * `column_exists` and `column_type` are exempt: a missing column is what they
 * report, as a failed check.
 */
import { FlywheelError, invalidArgument, isFlywheelError } from '../core/errors.js';
import { sqlLiteral, type Engine } from '../engine/index.js';
import type { DatasetReader, DatasetVersion } from '../data/types.js';
import type { Check, Suite } from './types.js';
import { columnTypes, isNumeric, isTemporal, parquetSource, typeFamily, type ColumnTypes, type TypeFamily } from './compile.js';

export interface ParquetColumn {
  name: string;
  type: string;
}

export interface BoundReference {
  ref: string;
  version: DatasetVersion;
  source: string;
  columns: ParquetColumn[];
}

export interface BoundSuite {
  suite: Suite;
  /** `read_parquet('…')` of the data checked. */
  source: string;
  columns: ParquetColumn[];
  types: ColumnTypes;
  /** Resolved `ref_dataset` of each referential check, by check index. */
  referential: Map<number, BoundReference>;
}

/** Column names and DuckDB types of a Parquet file (reads only its footer). */
export async function describeParquet(engine: Engine, source: string): Promise<ParquetColumn[]> {
  const rows = await engine.query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

function duckMessage(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0];
}

class Binder {
  constructor(
    private readonly engine: Engine,
    private readonly reader: DatasetReader,
    private readonly suite: Suite,
    private readonly source: string,
    private readonly columns: ParquetColumn[],
    private readonly types: ColumnTypes,
  ) {}

  private fail(i: number, message: string): never {
    const check = this.suite.checks[i];
    throw invalidArgument(`suite "${this.suite.name}": checks[${i}] (${check.type}): ${message}`, { check: i, type: check.type });
  }

  /** The column's type family; fails when the dataset has no such column. */
  private column(i: number, name: string): TypeFamily {
    if (!this.types.has(name)) {
      const list = this.columns.map((c) => c.name).join(', ');
      this.fail(i, `column "${name}" is not in dataset ${this.suite.dataset} (columns: ${list})`);
    }
    return typeFamily(this.types.get(name));
  }

  private async castable(value: string, type: string): Promise<boolean> {
    const [row] = await this.engine.query<{ ok: boolean }>(`SELECT TRY_CAST($1 AS ${type}) IS NOT NULL AS ok`, [value]);
    return row.ok;
  }

  /** A user value compared with column `name`: numbers for numeric columns, castable text for temporal ones. */
  private async comparable(i: number, name: string, field: string, value: string | number | boolean): Promise<void> {
    const type = this.types.get(name)!;
    const family = typeFamily(type);
    if (isNumeric(family) && typeof value !== 'number') this.fail(i, `column "${name}" is ${type}, so ${field} must be a number (got ${JSON.stringify(value)})`);
    if (family === 'boolean' && typeof value !== 'boolean') this.fail(i, `column "${name}" is BOOLEAN, so ${field} must be true or false (got ${JSON.stringify(value)})`);
    if (family === 'text' && typeof value !== 'string') this.fail(i, `column "${name}" is ${type}, so ${field} must be a string (text compares as text)`);
    if ((isTemporal(family) || family === 'time') && !(typeof value === 'string' && (await this.castable(value, type)))) {
      this.fail(i, `column "${name}" is ${type}, so ${field} must be a ${type} written as text (got ${JSON.stringify(value)})`);
    }
  }

  async check(i: number, check: Check): Promise<BoundReference | undefined> {
    switch (check.type) {
      case 'column_exists':
      case 'column_type':
      case 'row_count':
        return undefined;
      case 'not_null':
      case 'length':
      case 'no_new_categories':
        this.column(i, check.column);
        return undefined;
      case 'unique':
        for (const c of check.columns ?? []) this.column(i, c);
        return undefined;
      case 'in_set':
        this.column(i, check.column);
        for (const [k, v] of check.values.entries()) {
          // Text columns take any value as text.
          if (typeFamily(this.types.get(check.column)) !== 'text') await this.comparable(i, check.column, `values[${k}]`, v);
        }
        return undefined;
      case 'between':
        if (this.column(i, check.column) === 'boolean') this.fail(i, `column "${check.column}" is BOOLEAN; between needs an ordered type`);
        if (check.min !== undefined) await this.comparable(i, check.column, '"min"', check.min);
        if (check.max !== undefined) await this.comparable(i, check.column, '"max"', check.max);
        return undefined;
      case 'regex':
        this.column(i, check.column);
        try {
          await this.engine.query(`SELECT regexp_matches('', ${sqlLiteral(check.pattern)}) AS m`);
        } catch (err) {
          this.fail(i, `field "pattern" is not a valid RE2 regular expression: ${duckMessage(err).replace(/^Invalid Input Error: /, '')}`);
        }
        return undefined;
      case 'freshness': {
        const family = this.column(i, check.column);
        if (!isTemporal(family)) this.fail(i, `column "${check.column}" is ${this.types.get(check.column)}; freshness needs a DATE or TIMESTAMP column`);
        return undefined;
      }
      case 'mean_within':
      case 'std_within':
      case 'psi': {
        const family = this.column(i, check.column);
        if (!isNumeric(family)) this.fail(i, `column "${check.column}" is ${this.types.get(check.column)}; ${check.type} needs a numeric column`);
        return undefined;
      }
      case 'sql':
        await this.sqlPredicate(i, check.expect);
        return undefined;
      case 'referential':
        return this.reference(i, check.column, check.ref_dataset, check.ref_column ?? check.column);
    }
  }

  /** One boolean expression over the row: parsed by DuckDB, then bound against the file. */
  private async sqlPredicate(i: number, expr: string): Promise<void> {
    if (expr.includes('\0')) this.fail(i, 'field "expect" holds a NUL byte');
    // json_serialize_sql takes only a constant, so the text goes in as a literal.
    const [row] = await this.engine.query<{ j: string }>(`SELECT json_serialize_sql(${sqlLiteral(`SELECT \n${expr}\n`)}) AS j`);
    const tree = JSON.parse(row.j) as { error: boolean; error_message?: string; statements?: { node: Record<string, any> }[] };
    if (tree.error) this.fail(i, `field "expect" does not parse: ${tree.error_message}`);
    const node = tree.statements?.length === 1 ? tree.statements[0].node : undefined;
    const plain =
      node?.type === 'SELECT_NODE' &&
      node.select_list?.length === 1 &&
      node.from_table?.type === 'EMPTY' &&
      node.where_clause === null &&
      (node.group_expressions ?? []).length === 0 &&
      node.having === null &&
      node.qualify === null &&
      (node.modifiers ?? []).length === 0 &&
      (node.cte_map?.map ?? []).length === 0;
    if (!plain) this.fail(i, 'field "expect" must be a single expression over the row, such as "amount >= 0 or status = \'refund\'"');
    const forbidden = findClass(node!.select_list[0], new Set(['SUBQUERY', 'PARAMETER', 'WINDOW']));
    if (forbidden) this.fail(i, `field "expect" may not contain ${forbidden === 'SUBQUERY' ? 'a subquery' : forbidden === 'PARAMETER' ? 'a parameter' : 'a window function'}`);
    await this.engine.withConnection(async (conn) => {
      try {
        const typed = await conn.prepare(`SELECT (\n${expr}\n) AS v FROM ${this.source}`);
        const type = typed.columnType(0).toString();
        typed.destroySync();
        if (type !== 'BOOLEAN') this.fail(i, `field "expect" must be a true/false expression; it gives ${type}`);
        (await conn.prepare(`SELECT count(*) FILTER (WHERE NOT (\n${expr}\n)) FROM ${this.source}`)).destroySync();
      } catch (err) {
        if (isFlywheelError(err)) throw err;
        this.fail(i, `field "expect" does not apply to dataset ${this.suite.dataset}: ${duckMessage(err)}`);
      }
    });
  }

  private async reference(i: number, column: string, ref: string, refColumn: string): Promise<BoundReference> {
    const family = this.column(i, column);
    let version: DatasetVersion;
    let source: string;
    try {
      version = await this.reader.resolve(ref);
      source = parquetSource(await this.reader.parquetPath(version));
    } catch (err) {
      if (isFlywheelError(err)) throw new FlywheelError(err.code, `suite "${this.suite.name}": checks[${i}] (referential): field "ref_dataset": ${err.message}`);
      throw err;
    }
    const columns = await describeParquet(this.engine, source);
    const target = columns.find((c) => c.name === refColumn);
    if (!target) this.fail(i, `column "${refColumn}" is not in ${ref} (columns: ${columns.map((c) => c.name).join(', ')})`);
    const other = typeFamily(target.type);
    if (isNumeric(family) !== isNumeric(other) && (family === 'text' || other === 'text')) {
      this.fail(i, `column "${column}" (${this.types.get(column)}) cannot be compared with ${ref} column "${refColumn}" (${target.type})`);
    }
    return { ref, version, source, columns };
  }
}

function findClass(node: unknown, classes: Set<string>): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const hit = findClass(n, classes);
      if (hit) return hit;
    }
    return undefined;
  }
  if (node && typeof node === 'object') {
    const cls = (node as { class?: unknown }).class;
    if (typeof cls === 'string' && classes.has(cls)) return cls;
    for (const v of Object.values(node)) {
      const hit = findClass(v, classes);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Checks the suite against the Parquet file at `parquetPath`; throws on the first problem. */
export async function bindSuite(engine: Engine, reader: DatasetReader, suite: Suite, parquetPath: string): Promise<BoundSuite> {
  const source = parquetSource(parquetPath);
  let columns: ParquetColumn[];
  try {
    columns = await describeParquet(engine, source);
  } catch (err) {
    throw invalidArgument(`cannot read Parquet file ${parquetPath}: ${duckMessage(err)}`);
  }
  const types = columnTypes(columns);
  const binder = new Binder(engine, reader, suite, source, columns, types);
  const referential = new Map<number, BoundReference>();
  for (const [i, check] of suite.checks.entries()) {
    const ref = await binder.check(i, check);
    if (ref) referential.set(i, ref);
  }
  return { suite, source, columns, types, referential };
}
