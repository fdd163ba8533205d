/**
 * Every check type on small fixtures (test/fixtures/quality) with a passing
 * and a failing case. Expected counts are counted by hand from orders.csv
 * (10 rows) and customers.csv; drift numbers come from numpy
 * (test/fixtures/quality/psi.py) and hand arithmetic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/index.js';
import { FakeReader, csvSelect, tempDir, writeParquet } from '../../test/fixtures/quality/support.js';
import { validateParquet } from './runner.js';
import { defineSuite } from './suite.js';
import type { Check, CheckResult, ValidationResult } from './types.js';

let engine: Engine;
let reader: FakeReader;
let orders: string;

beforeAll(async () => {
  engine = await Engine.open({ threads: 1, memoryLimit: '256MB' });
  reader = new FakeReader();
  const dir = tempDir();
  orders = await writeParquet(engine, dir, 'orders', csvSelect('orders.csv'));
  reader.add('orders', orders);
  reader.add('customers', await writeParquet(engine, dir, 'customers', csvSelect('customers.csv')));
  // customers@2 also knows customer 99.
  reader.add('customers', await writeParquet(engine, dir, 'customers2', `${csvSelect('customers.csv')} UNION ALL SELECT 99, 'Zed'`));
  reader.add('mostly', await writeParquet(engine, dir, 'mostly', 'SELECT range AS x FROM range(10)'));
  reader.add('nums', await writeParquet(engine, dir, 'nums1', 'SELECT * FROM (VALUES (1.0), (2.0), (3.0), (4.0), (5.0)) t(x)'));
  reader.add('nums', await writeParquet(engine, dir, 'nums2', 'SELECT * FROM (VALUES (2.0), (3.0), (4.0), (5.0), (6.0)) t(x)'));
  reader.add('drift', await writeParquet(engine, dir, 'psi_ref', csvSelect('psi_ref.csv')));
  reader.add('drift', await writeParquet(engine, dir, 'psi_cur', csvSelect('psi_cur.csv')));
  reader.add('drift', await writeParquet(engine, dir, 'psi_same', csvSelect('psi_ref.csv')));
});
afterAll(() => engine?.close());

async function run(dataset: string, checks: Check[], extra: { ref?: string; now?: number } = {}): Promise<ValidationResult> {
  const version = await reader.resolve(extra.ref ?? dataset);
  const suite = defineSuite({ name: 't', dataset, checks });
  return validateParquet(await reader.parquetPath(version), suite, { engine, reader, version, now: extra.now });
}

async function one(dataset: string, check: Check, extra: { ref?: string; now?: number } = {}): Promise<CheckResult> {
  return (await run(dataset, [check], extra)).checks[0];
}

const ids = (r: CheckResult) => r.sampleFailingRows.map((row) => Number(row.id)).sort((a, b) => a - b);

describe('schema checks', () => {
  it('column_exists passes for a present column and fails for a missing one', async () => {
    expect(await one('orders', { type: 'column_exists', column: 'email' })).toMatchObject({ success: true, observed: 'VARCHAR' });
    expect(await one('orders', { type: 'column_exists', column: 'discount' })).toMatchObject({ success: false, observed: null });
  });

  it('column_type compares DuckDB type names, with common aliases', async () => {
    expect(await one('orders', { type: 'column_type', column: 'amount', dtype: 'DOUBLE' })).toMatchObject({ success: true, observed: 'DOUBLE' });
    expect(await one('orders', { type: 'column_type', column: 'id', dtype: ['int8'] })).toMatchObject({ success: true, observed: 'BIGINT' });
    expect(await one('orders', { type: 'column_type', column: 'id', dtype: 'VARCHAR' })).toMatchObject({ success: false, observed: 'BIGINT' });
  });
});

describe('row-level checks', () => {
  it('not_null counts NULLs against all rows', async () => {
    expect(await one('orders', { type: 'not_null', column: 'id' })).toMatchObject({ success: true, unexpectedCount: 0, evaluatedCount: 10 });
    const r = await one('orders', { type: 'not_null', column: 'amount' });
    expect(r).toMatchObject({ success: false, evaluatedCount: 10, unexpectedCount: 1, unexpectedPercent: 10, observed: 0.9 });
    expect(ids(r)).toEqual([4]);
  });

  it('in_set ignores NULLs (judged rows are the non-null ones)', async () => {
    expect(await one('orders', { type: 'in_set', column: 'status', values: ['paid', 'refund', 'shipped', 'cancelled'] })).toMatchObject({ success: true, unexpectedCount: 0 });
    const status = await one('orders', { type: 'in_set', column: 'status', values: ['paid', 'shipped'] });
    expect(status).toMatchObject({ success: false, evaluatedCount: 10, unexpectedCount: 2, unexpectedPercent: 20 });
    expect(ids(status)).toEqual([3, 8]);
    // region: eu, us, eu, us, eu, NULL, eu, us, apac, eu → 9 judged, 1 unexpected.
    const region = await one('orders', { type: 'in_set', column: 'region', values: ['eu', 'us'] });
    expect(region).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 1 });
    expect(region.unexpectedPercent).toBeCloseTo(100 / 9, 10);
    expect(ids(region)).toEqual([9]);
    // …while not_null on the same column counts the NULL.
    expect(await one('orders', { type: 'not_null', column: 'region' })).toMatchObject({ evaluatedCount: 10, unexpectedCount: 1 });
  });

  it('in_set on a number column takes numbers', async () => {
    expect(await one('orders', { type: 'in_set', column: 'customer_id', values: [10, 11, 12, 13, 14] })).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 1 });
  });

  it('between honours inclusive flags and ignores NULL amounts', async () => {
    // amounts: 20.5, 35, -5, NULL, 120, 0, 15, 42, -1, 60
    const base = { type: 'between', column: 'amount' } as const;
    expect(await one('orders', { ...base, min: -5, max: 120 })).toMatchObject({ success: true, evaluatedCount: 9, unexpectedCount: 0 });
    expect(await one('orders', { ...base, min: -5, max: 120, min_inclusive: false, max_inclusive: false })).toMatchObject({ success: false, unexpectedCount: 2 });
    expect(await one('orders', { ...base, min: 0 })).toMatchObject({ success: false, unexpectedCount: 2 });
    const strict = await one('orders', { ...base, min: 0, min_inclusive: false });
    expect(strict).toMatchObject({ success: false, unexpectedCount: 3 });
    expect(ids(strict)).toEqual([3, 6, 9]);
    const both = await one('orders', { ...base, min: 0, max: 100 });
    expect(both).toMatchObject({ unexpectedCount: 3 });
    expect(both.unexpectedPercent).toBeCloseTo(100 / 3, 10);
  });

  it('between compares timestamps with text bounds', async () => {
    // '2024-03-05' is midnight: rows 9 (07:00) and 10 (18:30) on the 5th are later.
    const r = await one('orders', { type: 'between', column: 'created_at', min: '2024-03-01', max: '2024-03-05' });
    expect(r).toMatchObject({ success: false, unexpectedCount: 2 });
    expect(ids(r)).toEqual([9, 10]);
    expect(r.sampleFailingRows[0].created_at).toBe('2024-03-05 07:00:00');
  });

  it('regex matches unanchored RE2 patterns and ignores NULLs', async () => {
    const r = await one('orders', { type: 'regex', column: 'email', pattern: '^[^@]+@[^@]+\\.[a-z]+$' });
    expect(r).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 1 });
    expect(r.sampleFailingRows).toEqual([expect.objectContaining({ id: '4', email: 'd@x' })]);
    expect(await one('orders', { type: 'regex', column: 'email', pattern: '@' })).toMatchObject({ success: true, unexpectedCount: 0 });
  });

  it('length bounds string length in characters', async () => {
    // paid 4, refund 6, shipped 7, cancelled 9
    expect(await one('orders', { type: 'length', column: 'status', min: 4, max: 9 })).toMatchObject({ success: true });
    const r = await one('orders', { type: 'length', column: 'status', min: 4, max: 7 });
    expect(r).toMatchObject({ success: false, unexpectedCount: 1 });
    expect(ids(r)).toEqual([8]);
  });

  it('sql evaluates a predicate per row; rows where it is NULL are not judged', async () => {
    // row 4 (amount NULL, paid) gives NULL; row 9 (-1, paid) is the one failure; row 3 is a refund.
    const r = await one('orders', { type: 'sql', expect: "amount >= 0 or status = 'refund'" });
    expect(r).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 1, columns: [] });
    expect(ids(r)).toEqual([9]);
    expect(await one('orders', { type: 'sql', expect: 'id between 1 and 10 -- every id' })).toMatchObject({ success: true, evaluatedCount: 10 });
  });

  it('keeps at most 20 sample rows', async () => {
    const r = await one('mostly', { type: 'sql', expect: 'x < 0' });
    expect(r.unexpectedCount).toBe(10);
    expect(r.sampleFailingRows).toHaveLength(10);
    const dir = tempDir();
    reader.add('big', await writeParquet(engine, dir, 'big', 'SELECT range AS x FROM range(50)'));
    const big = await one('big', { type: 'between', column: 'x', max: 9 });
    expect(big.unexpectedCount).toBe(40);
    expect(big.sampleFailingRows).toHaveLength(20);
    expect(big.sampleFailingRows[0]).toEqual({ x: '10' });
  });
});

describe('mostly', () => {
  // x = 0…9: "x <= 6" passes 7 of 10 rows, "x <= 5" passes 6.
  it('passes exactly at the threshold and fails one row below it', async () => {
    const at = await one('mostly', { type: 'between', column: 'x', max: 6, mostly: 0.7 });
    expect(at).toMatchObject({ success: true, unexpectedCount: 3, observed: 0.7, mostly: 0.7 });
    const below = await one('mostly', { type: 'between', column: 'x', max: 5, mostly: 0.7 });
    expect(below).toMatchObject({ success: false, unexpectedCount: 4, observed: 0.6 });
  });

  it('defaults to 1 (every judged row must pass)', async () => {
    expect(await one('mostly', { type: 'between', column: 'x', max: 8 })).toMatchObject({ success: false, mostly: 1, unexpectedCount: 1 });
  });

  it('also applies to unique and referential', async () => {
    // 8 of 9 customer ids exist in customers@1.
    expect(await one('orders', { type: 'referential', column: 'customer_id', ref_dataset: 'customers@1', ref_column: 'id', mostly: 8 / 9 })).toMatchObject({ success: true });
    expect(await one('orders', { type: 'referential', column: 'customer_id', ref_dataset: 'customers@1', ref_column: 'id', mostly: 0.9 })).toMatchObject({ success: false });
    // 3 of 9 customer ids are not duplicated.
    expect(await one('orders', { type: 'unique', column: 'customer_id', mostly: 0.33 })).toMatchObject({ success: true });
  });
});

describe('set-level checks', () => {
  it('unique counts every row of a duplicated value, ignoring NULLs', async () => {
    expect(await one('orders', { type: 'unique', column: 'id' })).toMatchObject({ success: true, evaluatedCount: 10, unexpectedCount: 0 });
    // customer_id 10, 11 and 12 appear twice each; row 10 has no customer.
    const r = await one('orders', { type: 'unique', column: 'customer_id' });
    expect(r).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 6, details: { duplicatedKeys: 3 } });
    expect(r.unexpectedPercent).toBeCloseTo(200 / 3, 10);
    expect(ids(r)).toEqual([1, 2, 3, 4, 8, 9]);
  });

  it('unique on integer keys: negative, NULL, spread wider than a bitmap, duplicated', async () => {
    const dir = tempDir();
    reader.add('keys', await writeParquet(engine, dir, 'keys_ok', 'SELECT * FROM (VALUES (-3), (NULL), (0), (7), (NULL), (-2)) t(k)'));
    reader.add('keys', await writeParquet(engine, dir, 'keys_dup', 'SELECT * FROM (VALUES (-3), (NULL), (7), (-3), (7), (7), (1)) t(k)'));
    reader.add('keys', await writeParquet(engine, dir, 'keys_wide', 'SELECT * FROM (VALUES (-9000000000000000000::BIGINT), (9000000000000000000), (5), (5)) t(k)'));
    reader.add('keys', await writeParquet(engine, dir, 'keys_null', 'SELECT CAST(NULL AS INTEGER) AS k FROM range(3)'));
    const check = { type: 'unique', column: 'k' } as const;
    expect(await one('keys', check, { ref: 'keys@1' })).toMatchObject({ success: true, evaluatedCount: 4, unexpectedCount: 0, details: { duplicatedKeys: 0 } });
    // -3 twice and 7 three times: 5 of 6 judged rows are duplicates of 2 keys.
    const dup = await one('keys', check, { ref: 'keys@2' });
    expect(dup).toMatchObject({ success: false, evaluatedCount: 6, unexpectedCount: 5, details: { duplicatedKeys: 2 } });
    expect(dup.sampleFailingRows.map((row) => Number(row.k))).toEqual([-3, -3, 7, 7, 7]);
    expect(await one('keys', check, { ref: 'keys@3' })).toMatchObject({ success: false, evaluatedCount: 4, unexpectedCount: 2, details: { duplicatedKeys: 1 } });
    expect(await one('keys', check, { ref: 'keys@4' })).toMatchObject({ success: true, evaluatedCount: 0, unexpectedCount: 0 });
  });

  it('unique on a compound key', async () => {
    // (10, paid) is the only repeated pair; the row without a customer is not judged.
    const r = await one('orders', { type: 'unique', columns: ['customer_id', 'status'] });
    expect(r).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 2, details: { duplicatedKeys: 1 }, columns: ['customer_id', 'status'] });
    expect(ids(r)).toEqual([1, 4]);
    expect(await one('orders', { type: 'unique', columns: ['id', 'status'] })).toMatchObject({ success: true });
  });

  it('row_count between min and max', async () => {
    expect(await one('orders', { type: 'row_count', min: 5, max: 10 })).toMatchObject({ success: true, observed: 10 });
    expect(await one('orders', { type: 'row_count', max: 9 })).toMatchObject({ success: false, observed: 10 });
    expect(await one('orders', { type: 'row_count', min: 11 })).toMatchObject({ success: false });
  });

  it('freshness measures the newest timestamp against a given now', async () => {
    const check = { type: 'freshness', column: 'created_at', max_age: '24h' } as const;
    // newest: 2024-03-05 18:30 (read as UTC)
    const fresh = await one('orders', check, { now: Date.parse('2024-03-06T12:00:00Z') });
    expect(fresh).toMatchObject({ success: true, observed: '2024-03-05T18:30:00.000Z', details: { ageMs: 17.5 * 3_600_000, maxAgeMs: 86_400_000 } });
    expect(await one('orders', check, { now: Date.parse('2024-03-06T18:30:00Z') })).toMatchObject({ success: true });
    expect(await one('orders', check, { now: Date.parse('2024-03-06T18:30:00.001Z') })).toMatchObject({ success: false });
    expect(await one('orders', { ...check, max_age: '1d6h' }, { now: Date.parse('2024-03-07T00:00:00Z') })).toMatchObject({ success: true });
  });

  it('referential looks values up in another dataset', async () => {
    const check = { type: 'referential', column: 'customer_id', ref_dataset: 'customers@1', ref_column: 'id' } as const;
    const r = await one('orders', check);
    expect(r).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 1, details: { reference: 'customers@1' } });
    expect(r.sampleFailingRows).toEqual([expect.objectContaining({ id: '7', customer_id: '99' })]);
    expect(await one('orders', { ...check, ref_dataset: 'customers' })).toMatchObject({ success: true, unexpectedCount: 0 });
  });
});

describe('distribution checks', () => {
  it('mean_within and std_within compare with the previous version', async () => {
    // mean 3 → 4: relative change 1/3. Sample std is √2.5 in both.
    const up = await one('nums', { type: 'mean_within', column: 'x', tolerance: 0.3 });
    expect(up).toMatchObject({ success: false, observed: 4, details: { reference: 'nums@1', referenceValue: 3 } });
    expect(up.details!.relativeChange).toBeCloseTo(1 / 3, 12);
    expect(await one('nums', { type: 'mean_within', column: 'x', tolerance: 0.34 })).toMatchObject({ success: true });
    const std = await one('nums', { type: 'std_within', column: 'x', tolerance: 0 });
    expect(std.success).toBe(true);
    expect(std.observed as number).toBeCloseTo(Math.sqrt(2.5), 12);
  });

  it('compares a file not yet committed with the latest version', async () => {
    // nums1's data (mean 3) against nums@2 (mean 4): |3 − 4| / 4 = 0.25.
    const suite = defineSuite({ name: 't', dataset: 'nums', checks: [{ type: 'mean_within', column: 'x', tolerance: 0.2 }] });
    const r = await validateParquet(await reader.parquetPath(await reader.resolve('nums@1')), suite, { engine, reader });
    expect(r.checks[0]).toMatchObject({ success: false, observed: 3, details: { reference: 'nums@2', referenceValue: 4, relativeChange: 0.25 } });
  });

  it('is skipped on the first version', async () => {
    expect(await one('nums', { type: 'mean_within', column: 'x', tolerance: 0 }, { ref: 'nums@1' })).toMatchObject({ success: true, skipped: true, observed: null });
  });

  it('psi over 10 quantile bins of the reference matches numpy', async () => {
    // Literals from test/fixtures/quality/psi.py.
    const r = await one('drift', { type: 'psi', column: 'x', reference: '@1', threshold: 0.1 }, { ref: 'drift@2' });
    expect(r.success).toBe(false);
    expect(r.observed as number).toBeCloseTo(0.1433935719505386, 12);
    expect(r.details).toMatchObject({ referenceCounts: [20, 20, 20, 20, 20, 20, 20, 20, 20, 20], currentCounts: [12, 12, 14, 21, 16, 22, 21, 14, 32, 36] });
    expect(await one('drift', { type: 'psi', column: 'x', reference: 'drift@1' }, { ref: 'drift@2' })).toMatchObject({ success: true });
    // Identical data: PSI 0.
    expect(await one('drift', { type: 'psi', column: 'x', reference: '@1', threshold: 1e-9 }, { ref: 'drift@3' })).toMatchObject({ success: true, observed: 0 });
  });

  it('mean and std of the numpy fixture', async () => {
    const mean = await one('drift', { type: 'mean_within', column: 'x', reference: '@1', tolerance: 0.05 }, { ref: 'drift@2' });
    expect(mean.observed as number).toBeCloseTo(55.593, 10);
    expect(mean.details!.referenceValue as number).toBeCloseTo(51.5659, 10);
    expect(mean.success).toBe(false); // 7.81% > 5%
    const std = await one('drift', { type: 'std_within', column: 'x', reference: '@1', tolerance: 0.1 }, { ref: 'drift@2' });
    expect(std.observed as number).toBeCloseTo(11.61962899104129, 10);
    expect(std.success).toBe(true); // 6.19% ≤ 10%
  });

  it('no_new_categories lists values absent from the reference', async () => {
    const dir = tempDir();
    reader.add('orders', await writeParquet(engine, dir, 'orders2', `${csvSelect('orders.csv')} UNION ALL SELECT 11, 12, 'lost', 1, NULL, NULL, 'eu'`));
    const r = await one('orders', { type: 'no_new_categories', column: 'status', reference: 'previous' }, { ref: 'orders@2' });
    expect(r).toMatchObject({ success: false, observed: 1, unexpectedCount: 1, evaluatedCount: 11, sampleFailingRows: [{ value: 'lost', count: 1 }] });
    expect(await one('orders', { type: 'no_new_categories', column: 'region', reference: 'previous' }, { ref: 'orders@2' })).toMatchObject({ success: true, observed: 0 });
  });
});

describe('results', () => {
  it('fail overall only when an error-severity check fails', async () => {
    const warnOnly = await run('orders', [
      { type: 'not_null', column: 'id' },
      { type: 'not_null', column: 'amount', severity: 'warn' },
    ]);
    expect(warnOnly.success).toBe(true);
    expect(warnOnly.statistics).toEqual({ checks: 2, passed: 1, failed: 1, errors: 0, warnings: 1 });
    const failing = await run('orders', [{ type: 'not_null', column: 'amount' }]);
    expect(failing.success).toBe(false);
    expect(failing.statistics).toEqual({ checks: 1, passed: 0, failed: 1, errors: 1, warnings: 0 });
  });

  it('validates a file that is not a version yet', async () => {
    const suite = defineSuite({ name: 's', dataset: 'orders', checks: [{ type: 'row_count', min: 1 }] });
    const r = await validateParquet(orders, suite, { engine, reader });
    expect(r).toMatchObject({ success: true, versionId: null, dataset: 'orders' });
  });

  it('refuses a suite bound to another dataset', async () => {
    const suite = defineSuite({ name: 's', dataset: 'customers', checks: [{ type: 'row_count', min: 1 }] });
    await expect(validateParquet(orders, suite, { engine, reader, dataset: 'orders' })).rejects.toThrow('suite "s" is bound to dataset customers, not orders');
  });
});
