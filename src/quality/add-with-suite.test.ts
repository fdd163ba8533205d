/**
 * Adding data with a suite through the real DataService: a passing suite
 * makes the version and stores its result; a failing error check leaves no
 * version and no blob; with quarantine the failing rows go to
 * `orders__quarantine` (naming the checks they failed) and the rest become
 * the version; a check on the whole set still refuses the add. Expected rows
 * and counts are hand counts on test/fixtures/quality/orders.csv (see the
 * comments in the suite files).
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { openDataHarness, type DataHarness } from '../../test/support/data.js';
import { FIXTURES } from '../../test/fixtures/quality/support.js';
import { addWithSuite, FAILED_CHECKS_COLUMN, quarantineRequest, SuiteFailedError, type SuiteAddDeps } from './add-with-suite.js';
import { QualityService } from './service.js';
import { defineSuite, loadSuiteFile } from './suite.js';

const ORDERS = path.join(FIXTURES, 'orders.csv');
const suiteFile = (name: string) => loadSuiteFile(path.join(FIXTURES, 'suites', name));

let h: DataHarness;
let quality: QualityService;
let deps: SuiteAddDeps;
beforeEach(async () => {
  h = await openDataHarness();
  quality = new QualityService({ store: h.store, engine: h.engine, data: h.data });
  deps = { data: h.data, engine: h.engine, quality };
});
afterEach(async () => h.dispose());

async function failure(promise: Promise<unknown>): Promise<SuiteFailedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SuiteFailedError);
  return err as SuiteFailedError;
}

async function ids(ref: string): Promise<number[]> {
  return (await h.data.head(ref, 100)).rows.map((r) => r.id as number);
}

describe('addWithSuite without quarantine', () => {
  it('commits the version when the suite passes and stores the result with it', async () => {
    const { add, validation } = await addWithSuite(deps, 'orders', ORDERS, { message: 'march' }, { suite: suiteFile('orders-warn-only.yaml') });
    expect(add).toMatchObject({ created: true, version: { dataset: 'orders', version: 1, rowCount: 10, message: 'march' } });
    expect(add.setAside).toBeUndefined();
    // amount < 0 for ids 3 and 9 (a warning); id 4's amount is NULL: 2 of 9.
    expect(validation).toMatchObject({ suite: 'orders_warn_only', versionId: add.version.id, dataset: 'orders', success: true, statistics: { checks: 2, passed: 1, failed: 1, errors: 0, warnings: 1 } });
    expect(validation!.checks[1]).toMatchObject({ name: 'between(amount)', success: false, evaluatedCount: 9, unexpectedCount: 2 });
    expect(await quality.results(add.version.id)).toEqual([validation]);
  });

  it('refuses the add when an error check fails: no version, no blob, the check named', async () => {
    const err = await failure(addWithSuite(deps, 'orders', ORDERS, {}, { suite: suiteFile('orders.yaml') }));
    expect([err.code, err.status]).toEqual(['FW_SUITE_FAILED', 422]);
    expect(err.message).toBe('Not added: orders failed suite orders_basic: regex(email) (1 unexpected)');
    expect(err.details).toEqual({ dataset: 'orders', suite: 'orders_basic', failedChecks: ['regex(email)'], validation: err.validation });
    expect(err.validation).toMatchObject({ versionId: null, success: false, statistics: { checks: 5, errors: 1, warnings: 1 } });
    expect(await h.data.ls({ includeDeleted: true })).toEqual([]);
    expect(h.blobs()).toEqual([]);
  });

  it('refuses a suite bound to another dataset before reading the source', async () => {
    await expect(addWithSuite(deps, 'sales', '/no/such/file.csv', {}, { suite: suiteFile('orders.yaml') })).rejects.toMatchObject({
      code: 'FW_INVALID_ARGUMENT',
      message: 'suite "orders_basic" is bound to dataset orders, not sales',
    });
  });

  it('makes no version and stores no result when skipUnchanged finds the content unchanged', async () => {
    await addWithSuite(deps, 'orders', ORDERS, {}, { suite: suiteFile('orders-warn-only.yaml') });
    const again = await addWithSuite(deps, 'orders', ORDERS, { skipUnchanged: true }, { suite: suiteFile('orders-warn-only.yaml') });
    expect(again).toMatchObject({ add: { created: false, version: { version: 1 } }, validation: null });
    expect(await quality.results(again.add.version.id)).toHaveLength(1);
  });
});

describe('addWithSuite with quarantine', () => {
  it('keeps the passing rows as the version and sets the failing ones aside with the checks they failed', async () => {
    const { add, validation } = await addWithSuite(deps, 'orders', ORDERS, {}, { suite: suiteFile('orders-quarantine.yaml'), quarantine: true });
    expect(add.version).toMatchObject({ dataset: 'orders', version: 1, rowCount: 6 });
    expect(await ids('orders@1')).toEqual([1, 2, 5, 6, 7, 8]);
    expect(add.setAside).toMatchObject({ rows: 4, reason: 'failing suite orders_quarantine', version: { dataset: 'orders__quarantine', version: 1, rowCount: 4 } });
    expect(add.setAside!.version.tags).toMatchObject({ 'flywheel.source_dataset': 'orders', 'flywheel.source_version': '1' });
    const bad = await h.data.head('orders__quarantine@1', 100);
    expect(bad.columns.map((c) => c.name)).toEqual(['id', 'customer_id', 'status', 'amount', 'email', 'created_at', 'region', FAILED_CHECKS_COLUMN]);
    expect(bad.rows.map((r) => [r.id, r[FAILED_CHECKS_COLUMN]])).toEqual([
      [3, 'between(amount)'],
      [4, 'regex(email)'],
      [9, 'in_set(region), between(amount)'],
      [10, 'not_null(customer_id)'],
    ]);
    // The result stored is that of the rows kept: every error check passes, the warning still fails (ids 5, 8).
    expect(validation).toMatchObject({ versionId: add.version.id, success: true, statistics: { checks: 7, passed: 6, errors: 0, warnings: 1 } });
    expect(validation!.checks.map((c) => [c.name, c.success, c.unexpectedCount])).toEqual([
      ['not_null(customer_id)', true, 0],
      ['in_set(region)', true, 0],
      ['between(amount)', true, 0],
      ['regex(email)', true, 0],
      ['unique(id)', true, 0],
      ['row_count', true, null],
      ['length(status)', false, 2],
    ]);
    expect(await quality.results(add.version.id)).toEqual([validation]);
    expect(h.blobs()).toHaveLength(2);
  });

  it('a check on the whole set still refuses the add: no version, no quarantine, no blob', async () => {
    const suite = defineSuite({
      name: 'orders_keys',
      dataset: 'orders',
      checks: [
        { type: 'regex', column: 'email', pattern: '^[^@]+@[^@]+\\.[a-z]+$' },
        { type: 'unique', column: 'customer_id' },
      ],
    });
    const err = await failure(addWithSuite(deps, 'orders', ORDERS, {}, { suite, quarantine: true }));
    // Without id 4: customer ids 11 (ids 2, 8) and 12 (ids 3, 9) repeat: 4 of 8 non-null rows.
    expect(err.message).toBe(
      'Not added: orders failed suite orders_keys: unique(customer_id) (4 unexpected). --quarantine sets aside only rows failing row-level checks; these judge the whole dataset',
    );
    expect(err.validation.checks.map((c) => [c.name, c.success, c.evaluatedCount, c.unexpectedCount])).toEqual([
      ['regex(email)', true, 8, 0],
      ['unique(customer_id)', false, 8, 4],
    ]);
    expect(await h.data.ls({ includeDeleted: true })).toEqual([]);
    expect(h.blobs()).toEqual([]);
  });

  it('sets nothing aside when every row passes', async () => {
    const suite = defineSuite({ name: 'ids', dataset: 'orders', checks: [{ type: 'not_null', column: 'id' }] });
    const plain = await h.data.add('plain', ORDERS);
    const { add } = await addWithSuite(deps, 'orders', ORDERS, {}, { suite, quarantine: true });
    expect(add.setAside).toBeUndefined();
    expect(add.version.contentHash).toBe(plain.version.contentHash);
    expect((await h.data.ls()).map((d) => d.name)).toEqual(['orders', 'plain']);
  });

  it('reports a suite problem before moving any row', async () => {
    const suite = defineSuite({ name: 'typo', dataset: 'orders', checks: [{ type: 'not_null', column: 'amout' }] });
    const err = await addWithSuite(deps, 'orders', ORDERS, {}, { suite, quarantine: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).message).toBe(
      'suite "typo": checks[0] (not_null): column "amout" is not in dataset orders (columns: id, customer_id, status, amount, email, created_at, region)',
    );
    expect(h.blobs()).toEqual([]);
  });
});

describe('quarantineRequest', () => {
  const schema = [
    { name: 'id', type: 'BIGINT', nullable: false },
    { name: FAILED_CHECKS_COLUMN, type: 'VARCHAR', nullable: true },
  ];

  it('is null when the suite has no row-level error check', () => {
    const suite = defineSuite({ name: 's', dataset: 'd', checks: [{ type: 'unique', column: 'id' }, { type: 'not_null', column: 'id', severity: 'warn' }] });
    expect(quarantineRequest(suite, schema)).toBeNull();
  });

  it('names the label column so that it does not clash with the data', () => {
    const suite = defineSuite({ name: 's', dataset: 'd', checks: [{ type: 'between', column: 'id', min: 1, max: 9 }] });
    const r = quarantineRequest(suite, schema)!;
    expect(Object.keys(r.annotate!)).toEqual([`${FAILED_CHECKS_COLUMN}_1`]);
    expect(r.params).toEqual([1, 9]);
  });
});
