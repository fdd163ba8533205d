/**
 * trainTabular end to end: Parquet written by DuckDB → training → ONNX graph
 * run by onnxruntime-node.
 *
 * The synthetic data is generated in DuckDB from hashes of the row number (a
 * fixed seed): x1, x2 standard normal, cat ∈ {a, b, c}; the classification
 * target is drawn from P(yes) = σ(1.5·x1 − x2 + {a: 1, b: 0, c: −1}); the
 * regression target is 3·x1 − 2·x2 + {a: 2, b: 0, c: −2} + 0.5·noise.
 * 5% of x1 and 3% of cat are null. The true z's AUC on these rows is 0.865,
 * so the floors below leave room for sampling noise, not for a broken learner.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlLiteral } from '../../engine/index.js';
import { feedsFor, trainTabular, type RawColumns, type TrainTabularResult } from './index.js';

let engine: Engine;
let dir: string;
let data: string;

const SYNTHETIC = (rows: number) => `
  with u as (select i,
      (hash(i, 11) % 1000003 + 0.5) / 1000003 as u1, (hash(i, 12) % 1000003 + 0.5) / 1000003 as u2,
      (hash(i, 13) % 1000003 + 0.5) / 1000003 as u3, (hash(i, 14) % 1000003 + 0.5) / 1000003 as u4,
      (hash(i, 15) % 1000003 + 0.5) / 1000003 as u5, (hash(i, 16) % 1000003 + 0.5) / 1000003 as u6,
      (hash(i, 17) % 1000003 + 0.5) / 1000003 as u7
    from range(${rows}) t(i)),
  g as (select *, sqrt(-2 * ln(u1)) * cos(2 * pi() * u2) as n1, sqrt(-2 * ln(u1)) * sin(2 * pi() * u2) as n2,
      sqrt(-2 * ln(u6)) * cos(2 * pi() * u7) as noise,
      case when u3 < 0.3 then 'a' when u3 < 0.7 then 'b' else 'c' end as k from u),
  z as (select *, 1.5 * n1 - n2 + case k when 'a' then 1.0 when 'b' then 0 else -1.0 end as z from g)
  select case when u5 < 0.05 then null else n1 end as x1, n2 as x2,
    case when u5 > 0.97 then null else k end as cat,
    u6 > 0.5 as flag,
    cast(floor(u7 * 1000) as bigint) as code,
    case when u4 < 1 / (1 + exp(-z)) then 'yes' else 'no' end as y,
    u4 < 1 / (1 + exp(-z)) as y_bool,
    cast(case when z < -1 then 0 when z < 1 then 1 else 2 end as integer) as y3,
    3 * n1 - 2 * n2 + case k when 'a' then 2 when 'b' then 0 else -2 end + 0.5 * noise as yr
  from z`;

async function writeParquet(name: string, sql: string): Promise<string> {
  const file = path.join(dir, name);
  await engine.run(`copy (${sql}) to ${sqlLiteral(file)} (format parquet)`);
  return file;
}

beforeAll(async () => {
  engine = await Engine.open({ threads: 1 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-train-'));
  data = await writeParquet('synthetic.parquet', SYNTHETIC(4000));
});

afterAll(() => {
  engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const FEATURES = ['x1', 'x2', 'cat'];

describe('quality floors on the synthetic data (held-out 20%)', () => {
  it.each([
    ['logistic_regression', 0.82],
    ['gradient_boosting', 0.81],
    ['random_forest', 0.81],
  ])('%s classifies with AUC above %s', async (algo, floor) => {
    const r = await trainTabular({ engine, parquetPath: data, target: 'y', algo, features: FEATURES });
    expect(r.task).toBe('classification');
    expect(r.metrics.auc).toBeGreaterThan(floor);
    expect(r.metrics.accuracy).toBeGreaterThan(0.7);
    expect(r.metrics.log_loss).toBeLessThan(0.6); // a coin flip scores ln 2 ≈ 0.693
  });

  it.each([
    ['linear_regression', 0.92],
    ['gradient_boosting', 0.9],
    ['random_forest', 0.9],
  ])('%s regresses with R² above %s', async (algo, floor) => {
    const r = await trainTabular({ engine, parquetPath: data, target: 'yr', algo, features: FEATURES });
    expect(r.task).toBe('regression');
    expect(r.metrics.r2).toBeGreaterThan(floor);
    expect(r.metrics.rmse).toBeLessThan(1.2); // the target's sd is about 4
  });
});

/** Columns of the first rows of the data plus rows with missing and unseen values. */
async function servingRows(): Promise<{ columns: RawColumns; n: number }> {
  const rows = await engine.query<Record<string, unknown>>(`select x1, x2, cat, flag, code from read_parquet(${sqlLiteral(data)}) limit 200`);
  const extra: Record<string, unknown>[] = [
    { x1: null, x2: null, cat: null, flag: null, code: null }, // everything missing
    { x1: 0.5, x2: -1, cat: 'never-seen', flag: true, code: 123456789n }, // unseen category, large code
    { x1: 40, x2: -40, cat: 'a', flag: false, code: -5 }, // far outside the training range
    { x1: Number.NaN, x2: 0, cat: '', flag: null, code: 7 }, // NaN and '' are missing too
  ];
  const all = [...rows, ...extra];
  const columns: RawColumns = {};
  for (const c of ['x1', 'x2', 'cat', 'flag', 'code']) columns[c] = all.map((r) => r[c]);
  return { columns, n: all.length };
}

async function runOnnx(r: TrainTabularResult, columns: RawColumns, n: number) {
  const session = await ort.InferenceSession.create(r.onnx);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feedsFor(r.preprocessing.features, columns, n))) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
  expect([...session.inputNames].sort()).toEqual(Object.keys(feeds).sort());
  return session.run(feeds);
}

describe('the ONNX graph predicts what the in-process model predicts', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['logistic_regression', 'y', {}],
    ['logistic_regression', 'y3', {}],
    ['gradient_boosting', 'y', { n_estimators: 30 }],
    ['gradient_boosting', 'y3', { n_estimators: 20 }],
    ['gradient_boosting', 'y_bool', { n_estimators: 20 }],
    ['random_forest', 'y', { n_estimators: 20 }],
    ['random_forest', 'y3', { n_estimators: 20 }],
    ['random_forest', 'y_bool', { n_estimators: 20 }],
  ];
  it.each(cases)('%s on %s', async (algo, target, params) => {
    const task = target === 'y3' ? 'classification' : undefined; // integers other than 0/1 regress unless told
    const r = await trainTabular({ engine, parquetPath: data, target, algo, task, params, features: ['x1', 'x2', 'cat', 'flag', 'code'] });
    const { columns, n } = await servingRows();
    const out = await runOnnx(r, columns, n);
    const mine = r.model.predict(columns, n);
    const k = r.classes!.length;
    expect(out.probabilities.dims).toEqual([n, k]);
    const probs = out.probabilities.data as Float32Array;
    for (let i = 0; i < n * k; i++) expect(probs[i]).toBeCloseTo(mine.probabilities![i], 5);
    const labels = Array.from(out.label.data as ArrayLike<unknown>, String);
    expect(labels).toEqual(Array.from(mine.labelIndex!, (c) => String(r.classes![c])));
  });

  it.each(['linear_regression', 'gradient_boosting', 'random_forest'])('%s on yr', async (algo) => {
    const r = await trainTabular({ engine, parquetPath: data, target: 'yr', algo, params: algo === 'linear_regression' ? {} : { n_estimators: 20 }, features: ['x1', 'x2', 'cat', 'flag', 'code'] });
    const { columns, n } = await servingRows();
    const out = await runOnnx(r, columns, n);
    expect(out.prediction.dims).toEqual([n, 1]);
    const got = out.prediction.data as Float32Array;
    const mine = r.model.predict(columns, n).prediction!;
    for (let i = 0; i < n; i++) expect(Math.abs(got[i] - mine[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(mine[i])));
  });

  it('binary boosting whose trees never split still yields the class prior', async () => {
    // min_samples_leaf above half the rows forbids every split: each tree is one leaf of ~0, so P(yes) is the training prior.
    const r = await trainTabular({ engine, parquetPath: data, target: 'y', algo: 'gradient_boosting', params: { n_estimators: 3, min_samples_leaf: 5000 }, features: FEATURES });
    const { columns, n } = await servingRows();
    const out = await runOnnx(r, columns, n);
    const mine = r.model.predict(columns, n).probabilities!;
    const p = out.probabilities.data as Float32Array;
    for (let i = 0; i < n * 2; i++) expect(p[i]).toBeCloseTo(mine[i], 6);
    expect(p[1]).toBeGreaterThan(0.3);
    expect(p[1]).toBeLessThan(0.7);
  });
});

describe('what the result records', () => {
  it('signature, classes, preprocessing and importance of a classifier', async () => {
    const r = await trainTabular({ engine, parquetPath: data, target: 'y', algo: 'logistic_regression', features: ['x1', 'cat', 'flag', 'code'] });
    expect(r.signature).toEqual({
      inputs: [
        { name: 'x1', type: 'double', nullable: true },
        { name: 'cat', type: 'string', nullable: true },
        { name: 'flag', type: 'boolean', nullable: true },
        { name: 'code', type: 'long', nullable: true },
      ],
      outputs: [
        { name: 'prediction', type: 'string' },
        { name: 'probability', type: 'double', shape: [-1, 2] },
      ],
    });
    expect(r.classes).toEqual(['no', 'yes']);
    const [x1, cat, flag] = r.preprocessing.features;
    expect(x1).toMatchObject({ kind: 'numeric', impute: { strategy: 'mean' }, scale: { offset: expect.any(Number), scale: expect.any(Number) } });
    expect(cat).toMatchObject({ kind: 'categorical', categories: ['a', 'b', 'c', null], unseen: 'zeros' });
    expect(flag).toMatchObject({ kind: 'categorical', categories: ['false', 'true'] });
    expect(r.preprocessing.designColumns).toEqual(['x1', 'cat=a', 'cat=b', 'cat=c', 'cat=<missing>', 'flag=false', 'flag=true', 'code']);
    expect(r.preprocessing.split).toEqual({ testFraction: 0.2, seed: 42, trainRows: 3200, testRows: 800 });
    expect(Object.keys(r.featureImportance!)).toEqual(['x1', 'cat', 'flag', 'code']);
    expect(Object.values(r.featureImportance!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // x1 drives the outcome; flag and code are noise.
    expect(r.featureImportance!.x1).toBeGreaterThan(r.featureImportance!.flag + r.featureImportance!.code);
    expect(r.params).toMatchObject({ C: 1, standardize: true, seed: 42 });
  });

  it('integer labels stay integers; booleans are the classes 0 and 1', async () => {
    const multi = await trainTabular({ engine, parquetPath: data, target: 'y3', algo: 'gradient_boosting', params: { n_estimators: 5 }, features: FEATURES });
    expect(multi.task).toBe('regression'); // integers other than 0/1 regress unless asked
    const asClasses = await trainTabular({ engine, parquetPath: data, target: 'y3', algo: 'gradient_boosting', task: 'classification', params: { n_estimators: 5 }, features: FEATURES });
    expect(asClasses.classes).toEqual([0, 1, 2]);
    expect(asClasses.signature.outputs[0]).toEqual({ name: 'prediction', type: 'long' });
    const bool = await trainTabular({ engine, parquetPath: data, target: 'y_bool', algo: 'random_forest', params: { n_estimators: 5 }, features: FEATURES });
    expect(bool.task).toBe('classification');
    expect(bool.classes).toEqual([0, 1]);
  });

  it('the same seed gives the same model, byte for byte', async () => {
    const train = () => trainTabular({ engine, parquetPath: data, target: 'y', algo: 'random_forest', params: { n_estimators: 5, seed: 7 }, features: FEATURES });
    const [a, b] = [await train(), await train()];
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    const c = await trainTabular({ engine, parquetPath: data, target: 'y', algo: 'random_forest', params: { n_estimators: 5, seed: 8 }, features: FEATURES });
    expect(Buffer.from(a.onnx).equals(Buffer.from(c.onnx))).toBe(false);
  });
});

describe('bad input', () => {
  const invalid = (message: RegExp) => expect.objectContaining({ code: 'FW_INVALID_ARGUMENT', message: expect.stringMatching(message) });

  it('a feature null in every row is named', async () => {
    const file = await writeParquet('empty-feature.parquet', `select x1, cast(null as double) as blank, y from (${SYNTHETIC(50)})`);
    await expect(trainTabular({ engine, parquetPath: file, target: 'y', algo: 'logistic_regression' })).rejects.toThrow(invalid(/feature 'blank' is null in every row/));
  });

  it('a target with one class', async () => {
    const file = await writeParquet('one-class.parquet', `select x1, 'yes' as y from (${SYNTHETIC(50)})`);
    await expect(trainTabular({ engine, parquetPath: file, target: 'y', algo: 'random_forest' })).rejects.toThrow(invalid(/target 'y' has a single class \("yes"\)/));
  });

  it('rows with a null target are dropped and counted', async () => {
    const file = await writeParquet('null-target.parquet', `select x1, x2, case when x2 > 1 then null else yr end as yr from (${SYNTHETIC(500)})`);
    const [{ dropped }] = await engine.query<{ dropped: number }>(`select count(*)::int as dropped from read_parquet(${sqlLiteral(file)}) where yr is null`);
    expect(dropped).toBeGreaterThan(0);
    const r = await trainTabular({ engine, parquetPath: file, target: 'yr', algo: 'linear_regression' });
    expect(r.preprocessing.target.droppedNullRows).toBe(dropped);
    expect(r.preprocessing.split.trainRows + r.preprocessing.split.testRows).toBe(500 - dropped);
  });

  it('unknown algorithm and unknown param list what is known', async () => {
    await expect(trainTabular({ engine, parquetPath: data, target: 'y', algo: 'svm' })).rejects.toThrow(invalid(/unknown algorithm 'svm'; known: logistic_regression, linear_regression, random_forest, gradient_boosting/));
    await expect(trainTabular({ engine, parquetPath: data, target: 'y', algo: 'random_forest', params: { trees: 5 } })).rejects.toThrow(invalid(/unknown param 'trees' for random_forest; known: .*n_estimators/));
  });

  it('missing columns, unsupported types and impossible tasks', async () => {
    await expect(trainTabular({ engine, parquetPath: data, target: 'nope', algo: 'random_forest' })).rejects.toThrow(invalid(/target column 'nope' is not in the data/));
    await expect(trainTabular({ engine, parquetPath: data, target: 'y', algo: 'random_forest', features: ['x1', 'ghost'] })).rejects.toThrow(invalid(/feature column 'ghost'/));
    const stamped = await writeParquet('stamped.parquet', `select x1, timestamp '2024-01-01' as at, y from (${SYNTHETIC(50)})`);
    await expect(trainTabular({ engine, parquetPath: stamped, target: 'y', algo: 'random_forest' })).rejects.toThrow(invalid(/unsupported type: at \(TIMESTAMP\)/));
    await expect(trainTabular({ engine, parquetPath: data, target: 'y', algo: 'linear_regression' })).rejects.toThrow(invalid(/regression needs a numeric target/));
    await expect(trainTabular({ engine, parquetPath: data, target: 'yr', algo: 'logistic_regression', features: FEATURES })).rejects.toThrow(invalid(/classification needs integer, string or boolean labels/));
  });
});
