/**
 * loadDriftInputs: CSV files and dataset versions become the typed columns
 * driftReport takes (numbers → Float64Array with null → NaN, text and booleans
 * → strings with null), one-sided and date columns are skipped with a reason,
 * and kind mismatches, missing files and unknown datasets are refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../core/config.js';
import { FlywheelError } from '../../core/errors.js';
import { Engine } from '../../engine/index.js';
import { openContext } from '../../server/context.js';
import { loadDriftInputs, parseDriftSource } from './load.js';

let dir: string;
let engine: Engine;

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

async function rejection(p: Promise<unknown>): Promise<FlywheelError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FlywheelError);
    return e as FlywheelError;
  }
  throw new Error('expected a FlywheelError');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-drift-load-'));
  engine = await Engine.open({ threads: 1 });
  write('ref.csv', 'amount,count,color,flag,day,only_ref\n1.5,1,red,true,2024-01-01,x\n,2,,false,2024-01-02,y\n2.5,3,blue,true,2024-01-03,z\n');
  write('cur.csv', 'amount,count,color,flag,day,only_cur\n4.0,10,green,false,2024-02-01,1\n5.0,,red,,2024-02-02,2\n');
  write('mismatch.csv', 'amount,count\nlots,1\nmany,2\n');
});

afterAll(() => {
  engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('parseDriftSource', () => {
  it('tells files from dataset versions', () => {
    expect(parseDriftSource('data/ref.parquet')).toEqual({ kind: 'file', path: 'data/ref.parquet' });
    expect(parseDriftSource('churn@3')).toEqual({ kind: 'dataset', ref: 'churn@3' });
    expect(parseDriftSource('churn@latest')).toEqual({ kind: 'dataset', ref: 'churn@latest' });
    expect(() => parseDriftSource('churn')).toThrow(/neither a dataset version/);
  });
});

describe('loadDriftInputs on files', () => {
  it('reads numbers as Float64Array (null → NaN), text and booleans as strings, and lists skipped columns', async () => {
    const r = await loadDriftInputs(engine, null, path.join(dir, 'ref.csv'), path.join(dir, 'cur.csv'));
    expect(r.columns).toEqual(['amount', 'count', 'color', 'flag']);
    expect(r.kinds).toEqual({ amount: 'numeric', count: 'numeric', color: 'categorical', flag: 'categorical' });
    expect(r.reference.rows).toBe(3);
    expect(r.current.rows).toBe(2);
    const amount = r.reference.columns.amount as Float64Array;
    expect(amount).toBeInstanceOf(Float64Array);
    expect(Array.from(amount)).toEqual([1.5, Number.NaN, 2.5]);
    expect(Array.from(r.current.columns.count as Float64Array)).toEqual([10, Number.NaN]);
    expect(r.reference.columns.color).toEqual(['red', null, 'blue']);
    expect(r.reference.columns.flag).toEqual(['true', 'false', 'true']);
    expect(r.current.columns.flag).toEqual(['false', null]);
    expect(r.skipped).toEqual([
      { column: 'only_ref', reason: 'only in the reference data' },
      { column: 'only_cur', reason: 'only in the current data' },
      { column: 'day', reason: 'date column (dates and times are not compared)' },
    ]);
  });

  it('loads only the requested columns, and refuses one missing on a side', async () => {
    const r = await loadDriftInputs(engine, null, path.join(dir, 'ref.csv'), path.join(dir, 'cur.csv'), { columns: ['color'] });
    expect(r.columns).toEqual(['color']);
    expect(Object.keys(r.current.columns)).toEqual(['color']);
    const e = await rejection(loadDriftInputs(engine, null, path.join(dir, 'ref.csv'), path.join(dir, 'cur.csv'), { columns: ['only_ref'] }));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toMatch(/"only_ref" is not in the current data/);
  });

  it('refuses a column numeric on one side and text on the other, naming it', async () => {
    const e = await rejection(loadDriftInputs(engine, null, path.join(dir, 'ref.csv'), path.join(dir, 'mismatch.csv')));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toMatch(/column "amount" is DOUBLE in the reference data but VARCHAR in the current data/);
  });

  it('reports a missing file as not found', async () => {
    const e = await rejection(loadDriftInputs(engine, null, path.join(dir, 'ref.csv'), path.join(dir, 'absent.csv')));
    expect(e.code).toBe('FW_NOT_FOUND');
  });

  it('needs a store for a dataset version', async () => {
    const e = await rejection(loadDriftInputs(engine, null, 'churn@1', path.join(dir, 'cur.csv')));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
  });
});

describe('loadDriftInputs on dataset versions', () => {
  it('resolves NAME@V and NAME@latest through the data service', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-drift-load-home-'));
    const ctx = await openContext(resolveConfig({ home }), 'test');
    try {
      await ctx.data.add('orders', path.join(dir, 'ref.csv'));
      await ctx.data.add('orders', path.join(dir, 'cur.csv'), { allowSchemaChange: true });
      const r = await loadDriftInputs(ctx.engine, ctx.data, 'orders@1', 'orders@latest', { columns: ['amount', 'color'] });
      expect(r.reference.source).toBe('orders@1');
      expect(r.current.source).toBe('orders@2');
      expect(Array.from(r.reference.columns.amount as Float64Array)).toEqual([1.5, Number.NaN, 2.5]);
      expect(r.current.columns.color).toEqual(['green', 'red']);
      const e = await rejection(loadDriftInputs(ctx.engine, ctx.data, 'orders@1', 'nothing@1'));
      expect(e.code).toBe('FW_NOT_FOUND');
    } finally {
      await ctx.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
