/**
 * Quality suites on datasets added through the real DataService (not the
 * fake reader the slice's own tests use): validate a version, a referential
 * check across two datasets, drift against the previous version, and the
 * stored results reachable by version.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/core/config.js';
import { openContext, type AppContext } from '../src/server/context.js';
import { QualityService } from '../src/quality/service.js';
import { defineSuite } from '../src/quality/suite.js';
import { FIXTURES } from './fixtures/quality/support.js';

let ctx: AppContext & { close(): Promise<void> };
let quality: QualityService;
let home: string;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-quality-data-'));
  ctx = await openContext(resolveConfig({ home }, {}), 'tester');
  quality = new QualityService({ store: ctx.store, engine: ctx.engine, data: ctx.data });
  await ctx.data.add('orders', path.join(FIXTURES, 'orders.csv'));
  await ctx.data.add('customers', path.join(FIXTURES, 'customers.csv'));
  await ctx.data.add('drift', path.join(FIXTURES, 'psi_ref.csv'));
  await ctx.data.add('drift', path.join(FIXTURES, 'psi_cur.csv'));
});
afterAll(async () => {
  await ctx?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('quality on DataService versions', () => {
  it('validates a version and stores the result with it', async () => {
    const suite = defineSuite({
      name: 'orders_basic',
      dataset: 'orders',
      checks: [
        { type: 'row_count', min: 10, max: 10 },
        { type: 'unique', column: 'id' },
        { type: 'not_null', column: 'amount' },
        { type: 'referential', column: 'customer_id', ref_dataset: 'customers', ref_column: 'id' },
        { type: 'freshness', column: 'created_at', max_age: '24h' },
      ],
    });
    const result = await quality.validate('orders@1', suite, { now: Date.parse('2024-03-06T12:00:00Z') });
    expect(result.checks.map((c) => [c.type, c.success, c.unexpectedCount])).toEqual([
      ['row_count', true, null],
      ['unique', true, 0],
      ['not_null', false, 1],
      ['referential', false, 1],
      ['freshness', true, null],
    ]);
    const version = await ctx.data.resolve('orders@latest');
    expect(await quality.results(version.id)).toEqual([result]);
  });

  it('compares with the previous version', async () => {
    const suite = defineSuite({ name: 'drift', dataset: 'drift', checks: [{ type: 'psi', column: 'x', threshold: 0.1 }] });
    const r = await quality.validate('drift@2', suite);
    // numpy value, test/fixtures/quality/psi.py
    expect(r.checks[0].observed as number).toBeCloseTo(0.1433935719505386, 12);
    expect(r.checks[0].details).toMatchObject({ reference: 'drift@1' });
  });
});
