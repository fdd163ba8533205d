/**
 * `diffVersions` on two hand-made versions of a small table
 * (test/fixtures/diff/v1.csv → v2.csv): schema changes, row count, the rows
 * added, removed and changed by key (counted by hand from the files), the
 * statistics side by side, and PSI per column against values NumPy computed
 * (test/fixtures/diff/psi.py). Also: date and boolean columns, identical
 * versions, duplicate keys, and a reader without stored profiles.
 *
 * What v2 does to v1, by id: removes 3 and 7; adds 21, 22, 23 (segment D is
 * new); changes 5 (amount 20 → 21), 10 (segment C → A), 12 (amount 37.5 →
 * NULL) and 15 (qty 3 → 3.5, which makes qty DOUBLE); keeps 18's NULL amount
 * (not a change); drops column city and adds country.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataHarness, type DataHarness } from '../../test/support/data.js';
import { diffVersions, psiFromCounts } from './diff.js';
import type { DatasetReader } from './types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/diff');

let h: DataHarness;

beforeAll(async () => {
  h = await openDataHarness();
  await h.data.add('shop', path.join(FIXTURES, 'v1.csv'));
  await h.data.add('shop', path.join(FIXTURES, 'v2.csv'), { allowSchemaChange: true });
  await h.data.add('dups', path.join(FIXTURES, 'dup.csv'));
});
afterAll(async () => {
  await h?.dispose();
});

describe('diffVersions', () => {
  it('reports schema changes and the row count delta', async () => {
    const d = await diffVersions(h.data, h.engine, 'shop@1', 'shop@2');
    expect(d.a).toMatchObject({ ref: 'shop@1', dataset: 'shop', version: 1, rowCount: 20 });
    expect(d.b).toMatchObject({ ref: 'shop@2', dataset: 'shop', version: 2, rowCount: 21 });
    expect(d.sameContent).toBe(false);
    expect(d.rowCount).toEqual({ a: 20, b: 21, delta: 1 });
    expect(d.schema.added.map((c) => [c.name, c.type])).toEqual([['country', 'VARCHAR']]);
    expect(d.schema.removed.map((c) => [c.name, c.type])).toEqual([['city', 'VARCHAR']]);
    expect(d.schema.retyped).toEqual([{ name: 'qty', from: 'BIGINT', to: 'DOUBLE' }]);
    expect(d.columns.map((c) => c.name)).toEqual(['id', 'segment', 'amount', 'qty']);
    expect(d.rows).toBeNull();
  });

  it('compares per-column statistics', async () => {
    const d = await diffVersions(h.data, h.engine, 'shop@1', 'shop@2');
    const amount = d.columns.find((c) => c.name === 'amount')!;
    // 19 of 20 amounts present in v1 (id 18 empty); 19 of 21 in v2 (ids 12, 18 empty).
    expect(amount.stats.count).toEqual({ a: 19, b: 19, delta: 0 });
    expect(amount.stats.nulls).toEqual({ a: 1, b: 2, delta: 1 });
    expect(amount.stats.min).toEqual({ a: 10, b: 10, delta: 0 });
    expect(amount.stats.max).toEqual({ a: 57.5, b: 90, delta: 32.5 });
    // NumPy (psi.py): means 32.76315789473684 → 42.1578947368421, sample std 14.503226098060459 → 23.478744898062676.
    expect(amount.stats.mean.a).toBeCloseTo(32.76315789473684, 10);
    expect(amount.stats.mean.b).toBeCloseTo(42.1578947368421, 10);
    expect(amount.stats.std.a).toBeCloseTo(14.503226098060459, 10);
    expect(amount.stats.std.b).toBeCloseTo(23.478744898062676, 10);
    const segment = d.columns.find((c) => c.name === 'segment')!;
    expect(segment.stats.distinct).toEqual({ a: 3, b: 4, delta: 1 });
    expect(segment.stats.min).toEqual({ a: 'A', b: 'A', delta: null });
    expect(segment.stats.max).toEqual({ a: 'C', b: 'D', delta: null });
  });

  it('scores drift with PSI as NumPy computes it', async () => {
    const d = await diffVersions(h.data, h.engine, 'shop@1', 'shop@2');
    const drift = Object.fromEntries(d.columns.map((c) => [c.name, c.drift]));
    // Literals from test/fixtures/diff/psi.py.
    expect(drift.id!.method).toBe('psi_deciles');
    expect(drift.id!.psi).toBeCloseTo(0.1991508056984252, 10);
    expect(drift.amount!.method).toBe('psi_deciles');
    expect(drift.amount!.psi).toBeCloseTo(0.2541217756474895, 10);
    // qty changed type BIGINT → DOUBLE: both numeric, still binned.
    expect(drift.qty!.psi).toBeCloseTo(0.31073682427611143, 10);
    // Categories A,B,C,D; D absent from v1 counts as 1e-4.
    expect(drift.segment!.method).toBe('psi_categories');
    expect(drift.segment!.psi).toBeCloseTo(0.6736345341983477, 10);
  });

  it('counts added, removed and changed rows by key, with samples', async () => {
    const d = await diffVersions(h.data, h.engine, 'shop@1', 'shop@2', { key: ['id'], sample: 2 });
    const rows = d.rows!;
    expect(rows.key).toEqual(['id']);
    expect(rows.compared).toEqual(['segment', 'amount', 'qty']);
    expect(rows.added).toBe(3);
    expect(rows.removed).toBe(2);
    expect(rows.changed).toBe(4);
    // 18 matched ids (v1's 20 minus 3 and 7), 4 of them changed.
    expect(rows.unchanged).toBe(14);
    expect(rows.changedByColumn).toEqual({ segment: 1, amount: 2, qty: 1 });
    expect(rows.samples.added).toEqual([
      { id: 21, segment: 'D', amount: 80, qty: 1, country: 'FR' },
      { id: 22, segment: 'D', amount: 85, qty: 2, country: 'DE' },
    ]);
    expect(rows.samples.removed).toEqual([
      { id: 3, segment: 'B', amount: 15, qty: 1, city: 'berlin' },
      { id: 7, segment: 'A', amount: 25, qty: 2, city: 'rome' },
    ]);
    expect(rows.samples.changed).toEqual([
      { key: { id: 5 }, changes: { amount: { a: 20, b: 21 } } },
      { key: { id: 10 }, changes: { segment: { a: 'C', b: 'A' } } },
    ]);
  });

  it('shows every changed row when the sample is large enough, NULLs included', async () => {
    const d = await diffVersions(h.data, h.engine, 'shop@1', 'shop@2', { key: ['id'] });
    expect(d.rows!.samples.added.map((r) => r.id)).toEqual([21, 22, 23]);
    expect(d.rows!.samples.changed.slice(2)).toEqual([
      { key: { id: 12 }, changes: { amount: { a: 37.5, b: null } } },
      { key: { id: 15 }, changes: { qty: { a: 3, b: 3.5 } } },
    ]);
  });

  it('works with a compound key', async () => {
    // (id, segment): id 10 changed segment, so it is one removed and one added row instead of a change.
    const d = await diffVersions(h.data, h.engine, 'shop@1', 'shop@2', { key: ['id', 'segment'], sample: 0 });
    expect(d.rows).toMatchObject({ added: 4, removed: 3, changed: 3, unchanged: 14, samples: { added: [], removed: [], changed: [] } });
  });

  it('finds nothing between a version and itself', async () => {
    const d = await diffVersions(h.data, h.engine, 'shop@2', 'shop@latest', { key: ['id'] });
    expect(d.sameContent).toBe(true);
    expect(d.rowCount.delta).toBe(0);
    expect(d.schema).toEqual({ added: [], removed: [], retyped: [] });
    expect(d.columns.map((c) => c.drift?.psi)).toEqual([0, 0, 0, 0, 0]);
    expect(d.rows).toMatchObject({ added: 0, removed: 0, changed: 0, unchanged: 21 });
  });

  it('refuses a key that is not unique, naming the key and a duplicate value', async () => {
    await expect(diffVersions(h.data, h.engine, 'dups@1', 'shop@1', { key: ['id'] })).rejects.toThrow(
      'Key (id) is not unique in dups@1: id=3 appears 3 times',
    );
    await expect(diffVersions(h.data, h.engine, 'shop@1', 'dups@1', { key: ['id', 'segment'] })).rejects.toThrow(
      'Key (id, segment) is not unique in dups@1: id=2, segment=B appears 2 times',
    );
    await expect(diffVersions(h.data, h.engine, 'shop@1', 'shop@2', { key: ['segment'] })).rejects.toThrow(
      'Key (segment) is not unique in shop@1: segment=A appears 10 times',
    );
  });

  it('bins dates by time and booleans by value', async () => {
    const day = (d: number) => `2024-01-${String(d).padStart(2, '0')}`;
    const csv = (days: number[], trues: number) => ['id,day,flag', ...days.map((d, i) => `${i + 1},${day(d)},${i < trues}`)].join('\n') + '\n';
    await h.data.add('events', h.write('e1.csv', csv([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 7)));
    await h.data.add('events', h.write('e2.csv', csv([6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 5)));
    const d = await diffVersions(h.data, h.engine, 'events@1', 'events@2', { key: ['id'] });
    const drift = Object.fromEntries(d.columns.map((c) => [c.name, c.drift]));
    expect(d.columns.map((c) => [c.name, c.typeA])).toEqual([
      ['id', 'BIGINT'],
      ['day', 'DATE'],
      ['flag', 'BOOLEAN'],
    ]);
    // psi.py: "day" and "flag".
    expect(drift.day).toEqual({ method: 'psi_deciles', psi: expect.closeTo(4.346303496465605, 10) });
    expect(drift.flag).toEqual({ method: 'psi_categories', psi: expect.closeTo(0.16945957207744072, 10) });
    // Every row changed its day; rows 6 and 7 also their flag (true → false).
    expect(d.rows).toMatchObject({ changed: 10, changedByColumn: { day: 10, flag: 2 } });
    expect(d.rows!.samples.changed[0]).toEqual({ key: { id: 1 }, changes: { day: { a: '2024-01-01', b: '2024-01-06' } } });
  });

  it('refuses a key column missing from a version', async () => {
    await expect(diffVersions(h.data, h.engine, 'shop@1', 'shop@2', { key: ['city'] })).rejects.toThrow('Key column "city" is not in shop@2');
  });

  it('profiles the versions itself when the reader stores no profiles', async () => {
    const bare: DatasetReader = { resolve: (ref) => h.data.resolve(ref), parquetPath: (v) => h.data.parquetPath(v) };
    const d = await diffVersions(bare, h.engine, 'shop@1', 'shop@2');
    const amount = d.columns.find((c) => c.name === 'amount')!;
    expect(amount.stats.nulls).toEqual({ a: 1, b: 2, delta: 1 });
    expect(amount.stats.mean.b).toBeCloseTo(42.1578947368421, 10);
  });
});

describe('psiFromCounts', () => {
  it('floors empty bins at 1e-4', () => {
    // By hand: a = [.5, .5, 1e-4], b = [.5, .25, .25]:
    // (.25 − .5)·ln(.25/.5) + (.25 − 1e-4)·ln(.25/1e-4) = 0.17328679513998632 + 1.9552290981129874
    expect(psiFromCounts([2, 2, 0], [2, 1, 1])).toBeCloseTo(2.1285158932529735, 12);
    expect(psiFromCounts([0, 0], [1, 1])).toBeNull();
  });
});
