/**
 * What a suite compiles to: all row-level checks in one scan of the Parquet
 * file, the quarantine predicate for `data add`, and the errors binding a
 * suite to a dataset raises before anything runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlLiteral } from '../engine/index.js';
import { FakeReader, csvSelect, tempDir, writeParquet } from '../../test/fixtures/quality/support.js';
import { bindSuite } from './bind.js';
import { columnTypes, compileRowScan, failingRowsPredicate, parquetSource } from './compile.js';
import { validateParquet } from './runner.js';
import { defineSuite } from './suite.js';
import type { Check } from './types.js';

let engine: Engine;
let reader: FakeReader;
let orders: string;

const ORDERS_COLUMNS = [
  { name: 'id', type: 'BIGINT' },
  { name: 'customer_id', type: 'BIGINT' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'amount', type: 'DOUBLE' },
  { name: 'email', type: 'VARCHAR' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'region', type: 'VARCHAR' },
];

beforeAll(async () => {
  engine = await Engine.open({ threads: 1, memoryLimit: '256MB' });
  reader = new FakeReader();
  const dir = tempDir();
  orders = await writeParquet(engine, dir, 'orders', csvSelect('orders.csv'));
  reader.add('orders', orders);
  reader.add('customers', await writeParquet(engine, dir, 'customers', csvSelect('customers.csv')));
});
afterAll(() => engine?.close());

const suiteOf = (checks: Check[]) => defineSuite({ name: 'orders_suite', dataset: 'orders', checks });

describe('compileRowScan', () => {
  it('puts every row-level check and column aggregate into one read_parquet scan', () => {
    const suite = suiteOf([
      { type: 'not_null', column: 'id' },
      { type: 'in_set', column: 'status', values: ['paid', 'refund'] },
      { type: 'between', column: 'amount', min: 0, max: 100 },
      { type: 'regex', column: 'email', pattern: "^[^@]+@x\\.com$" },
      { type: 'length', column: 'status', min: 1, max: 10 },
      { type: 'sql', expect: "amount >= 0 or status = 'refund'" },
      { type: 'freshness', column: 'created_at', max_age: '1d' },
      { type: 'row_count', min: 1 },
      { type: 'unique', column: 'id' },
    ]);
    const scan = compileRowScan(suite, parquetSource(orders), columnTypes(ORDERS_COLUMNS));
    expect(scan.sql.match(/read_parquet\(/g)).toHaveLength(1);
    // Each condition is projected once and counted where FALSE.
    expect(scan.sql.match(/count_if\(NOT "__fw_\d+"\)/g)).toHaveLength(6);
    for (const i of [0, 1, 2, 3, 4, 5]) expect(scan.sql).toContain(`AS "bad_${i}"`);
    expect(scan.sql).toContain('"id" IS NOT NULL) AS "__fw_0"');
    // The one-column integer unique gets the key range for its bitmap.
    expect(scan.sql).toContain('min("id") AS "kmin_8"');
    expect(scan.sql).toContain('count(*) AS "n"');
    expect(scan.sql).toContain('"newest_6"');
    // User values are parameters; the regex pattern is a literal (compiled once by DuckDB).
    expect(scan.params).toEqual(['paid', 'refund', 0, 100, 1, 10]);
    expect(scan.sql).toContain(`regexp_matches("email", ${sqlLiteral('^[^@]+@x\\.com$')})`);
    expect(scan.sql).not.toContain("'paid'");
  });

  it('names projected conditions so they cannot collide with a column', () => {
    const scan = compileRowScan(suiteOf([{ type: 'not_null', column: '__FW_0' }]), parquetSource('/x.parquet'), new Map([['__FW_0', 'VARCHAR']]));
    expect(scan.sql).toContain('("__FW_0" IS NOT NULL) AS "___fw_0"');
  });

  it('quotes column names', () => {
    const scan = compileRowScan(suiteOf([{ type: 'not_null', column: 'we"ird col' }]), parquetSource('/x.parquet'), new Map([['we"ird col', 'VARCHAR']]));
    expect(scan.sql).toContain('"we""ird col" IS NOT NULL');
  });
});

describe('failingRowsPredicate', () => {
  it('selects exactly the rows failing an error-severity row check', async () => {
    const suite = suiteOf([
      { type: 'not_null', column: 'amount' }, // row 4
      { type: 'in_set', column: 'status', values: ['paid', 'refund', 'shipped'] }, // row 8
      { type: 'between', column: 'amount', min: 0, severity: 'warn' }, // warn: not quarantined
      { type: 'unique', column: 'customer_id' }, // set-level: not part of it
      { type: 'regex', column: 'email', pattern: '@', mostly: 0.5 }, // NULL email (row 5) is not a failure
    ]);
    const pred = failingRowsPredicate(suite);
    const source = parquetSource(orders);
    const bad = await engine.query<{ id: bigint }>(`SELECT id FROM ${source} WHERE ${pred.sql} ORDER BY id`, pred.params);
    const good = await engine.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${source} WHERE NOT ${pred.sql}`, pred.params);
    expect(bad.map((r) => Number(r.id))).toEqual([4, 8]);
    expect(Number(good[0].n)).toBe(8);
  });

  it('splits a file with COPY, parameters bound', async () => {
    const suite = suiteOf([{ type: 'between', column: 'amount', min: 0, max: 50 }]);
    const pred = failingRowsPredicate(suite, ORDERS_COLUMNS);
    const out = `${tempDir()}/bad.parquet`;
    await engine.run(`COPY (SELECT * FROM ${parquetSource(orders)} WHERE ${pred.sql}) TO ${sqlLiteral(out)} (FORMAT parquet)`, pred.params);
    const rows = await engine.query<{ id: bigint }>(`SELECT id FROM ${parquetSource(out)} ORDER BY id`);
    // amounts -5, 120, -1, 60 fall outside 0…50; the NULL amount is not judged.
    expect(rows.map((r) => Number(r.id))).toEqual([3, 5, 9, 10]);
  });

  it('is "false" when no row-level error check exists', () => {
    expect(failingRowsPredicate(suiteOf([{ type: 'row_count', min: 1 }]))).toEqual({ sql: 'false', params: [] });
  });
});

describe('binding a suite to a dataset', () => {
  const bindError = async (check: Check) => {
    try {
      await bindSuite(engine, reader, suiteOf([{ type: 'row_count', min: 1 }, check]), orders);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a bind error');
  };

  it('rejects unknown columns before running, naming the check', async () => {
    expect(await bindError({ type: 'not_null', column: 'amout' })).toBe(
      'suite "orders_suite": checks[1] (not_null): column "amout" is not in dataset orders (columns: id, customer_id, status, amount, email, created_at, region)',
    );
    expect(await bindError({ type: 'unique', columns: ['id', 'day'] })).toMatch(/^suite "orders_suite": checks\[1\] \(unique\): column "day" is not in dataset orders/);
  });

  it('leaves missing columns to column_exists and column_type, which fail as checks', async () => {
    await expect(bindSuite(engine, reader, suiteOf([{ type: 'column_exists', column: 'nope' }]), orders)).resolves.toBeDefined();
  });

  it('rejects a bad regex', async () => {
    expect(await bindError({ type: 'regex', column: 'email', pattern: '([a-z]+' })).toBe(
      'suite "orders_suite": checks[1] (regex): field "pattern" is not a valid RE2 regular expression: missing ): ([a-z]+',
    );
  });

  it('rejects values of the wrong type for the column', async () => {
    expect(await bindError({ type: 'between', column: 'amount', min: '0' })).toBe('suite "orders_suite": checks[1] (between): column "amount" is DOUBLE, so "min" must be a number (got "0")');
    expect(await bindError({ type: 'between', column: 'created_at', max: 'yesterday' })).toBe(
      'suite "orders_suite": checks[1] (between): column "created_at" is TIMESTAMP, so "max" must be a TIMESTAMP written as text (got "yesterday")',
    );
    expect(await bindError({ type: 'in_set', column: 'id', values: [1, 'two'] })).toBe('suite "orders_suite": checks[1] (in_set): column "id" is BIGINT, so values[1] must be a number (got "two")');
    expect(await bindError({ type: 'freshness', column: 'status', max_age: '1d' })).toBe('suite "orders_suite": checks[1] (freshness): column "status" is VARCHAR; freshness needs a DATE or TIMESTAMP column');
    expect(await bindError({ type: 'psi', column: 'status' })).toBe('suite "orders_suite": checks[1] (psi): column "status" is VARCHAR; psi needs a numeric column');
  });

  it('accepts only one boolean expression over the row as sql', async () => {
    const at = 'suite "orders_suite": checks[1] (sql): field "expect"';
    expect(await bindError({ type: 'sql', expect: 'amount >=' })).toBe(`${at} does not parse: syntax error at end of input`);
    expect(await bindError({ type: 'sql', expect: 'amount > 0, 1' })).toMatch(/must be a single expression over the row/);
    expect(await bindError({ type: 'sql', expect: 'true FROM read_csv(\'/etc/passwd\')' })).toMatch(/must be a single expression over the row/);
    expect(await bindError({ type: 'sql', expect: "amount > (SELECT count(*) FROM read_csv('/etc/passwd'))" })).toBe(`${at} may not contain a subquery`);
    expect(await bindError({ type: 'sql', expect: 'amount > $1' })).toBe(`${at} may not contain a parameter`);
    expect(await bindError({ type: 'sql', expect: 'amount + 1' })).toBe(`${at} must be a true/false expression; it gives DOUBLE`);
    expect(await bindError({ type: 'sql', expect: 'amout > 0' })).toMatch(/^suite "orders_suite": checks\[1\] \(sql\): field "expect" does not apply to dataset orders: Binder Error: Referenced column "amout" not found/);
    expect(await bindError({ type: 'sql', expect: 'sum(amount) > 0' })).toMatch(/does not apply to dataset orders/);
  });

  it('resolves referential targets through the reader', async () => {
    expect(await bindError({ type: 'referential', column: 'customer_id', ref_dataset: 'clients' })).toBe(
      'suite "orders_suite": checks[1] (referential): field "ref_dataset": Dataset version clients not found',
    );
    expect(await bindError({ type: 'referential', column: 'customer_id', ref_dataset: 'customers', ref_column: 'customer_id' })).toBe(
      'suite "orders_suite": checks[1] (referential): column "customer_id" is not in customers (columns: id, name)',
    );
    expect(await bindError({ type: 'referential', column: 'status', ref_dataset: 'customers', ref_column: 'id' })).toBe(
      'suite "orders_suite": checks[1] (referential): column "status" (VARCHAR) cannot be compared with customers column "id" (BIGINT)',
    );
  });

  it('fails validation with the bind error, before scanning', async () => {
    await expect(validateParquet(orders, suiteOf([{ type: 'not_null', column: 'nope' }]), { engine, reader })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
  });
});
