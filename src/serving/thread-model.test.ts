/**
 * Models run in worker threads (thread-model.ts) on real packages: an ONNX
 * LinearClassifier fixture and js modules written to a package directory.
 * Thread predict gives what in-process predict gives (rows and columns);
 * errors keep their FlywheelError code and message; a call that throws does
 * not break the next; close() lets in-flight calls finish; a thread killed
 * by its model fails only the calls it held and is replaced; a load error
 * leaves no thread behind; and the main event loop keeps running while a
 * model busy-loops in its thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { fixture, manifest } from '../../test/fixtures/models/support.js';
import { loadModelFromDir } from '../models/load.js';
import { MANIFEST_FILE, type ModelManifest } from '../models/manifest.js';
import type { LoadedModel } from '../models/types.js';
import { fromWireError, loadModelInThread, modelThreadCount } from './thread-model.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-thread-model-'));
const open: LoadedModel[] = [];
afterAll(async () => {
  for (const m of open) await m.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

let dirs = 0;
/** Writes a package directory: the manifest and its files. */
function packageDir(m: ModelManifest, files: Record<string, string | Uint8Array>): string {
  const dir = path.join(scratch, `pkg-${++dirs}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(m));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
  return dir;
}

async function inThread(dir: string, threads?: number): Promise<LoadedModel> {
  const model = await loadModelInThread(dir, { threads });
  open.push(model);
  return model;
}

async function inProcess(dir: string): Promise<LoadedModel> {
  const model = await loadModelFromDir(dir);
  open.push(model);
  return model;
}

async function rejection(p: Promise<unknown>): Promise<FlywheelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

const jsManifest = (module = 'predict.mjs'): ModelManifest =>
  manifest({
    flavor: 'js',
    files: { module },
    signature: { inputs: [{ name: 'x', type: 'double' }], outputs: [] },
    task: 'classification',
    classes: ['no', 'yes'],
  });
const jsPackage = (source: string) => packageDir(jsManifest(), { 'predict.mjs': source });

// p = σ(2x − 1); label yes when p ≥ 0.5.
const LOGISTIC_MODULE = `
export function predict(rows) {
  return rows.map((r) => {
    const p = 1 / (1 + Math.exp(-(2 * r.x - 1)));
    return { prediction: p >= 0.5 ? 'yes' : 'no', probability: [1 - p, p] };
  });
}
`;

// s = 0.5·age − 0.25·income + 1.0·visits − 2 (test/fixtures/models/make-fixtures.ts): these rows give s = −2, 1, 3.
const CLASSIFIER_ROWS = [
  { age: 1, income: 2, visits: 0 },
  { age: 4, income: 0, visits: 1 },
  { age: 10, income: 8, visits: 2, customer_id: 'c-17' },
];
const P_YES = [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(-3))];

describe('thread model: same predictions as in-process', () => {
  it('onnx: rows and columns', async () => {
    const dir = packageDir(manifest(), { 'model.onnx': fs.readFileSync(fixture('linear-classifier.onnx')) });
    const [threaded, local] = [await inThread(dir), await inProcess(dir)];
    expect(threaded.manifest).toEqual(manifest());
    expect(threaded.dir).toBe(dir);
    expect(threaded.source).toBe(dir);

    const rows = await threaded.predict(CLASSIFIER_ROWS);
    expect(rows.map((p) => p.prediction)).toEqual(['no', 'yes', 'yes']);
    rows.forEach((p, i) => expect(p.probability![1]).toBeCloseTo(P_YES[i], 6));
    expect(rows).toEqual(await local.predict(CLASSIFIER_ROWS));

    const columns = () => ({ age: new Float32Array([1, 4, 10]), income: new Float32Array([2, 0, 8]), visits: new BigInt64Array([0n, 1n, 2n]) });
    const cols = await threaded.predictColumns(columns());
    const expected = await local.predictColumns(columns());
    expect(cols.n).toBe(3);
    expect(cols.probabilityColumns).toBe(2);
    expect(Array.from(cols.prediction as string[])).toEqual(['no', 'yes', 'yes']);
    // The probabilities come back as the runtime's Float32Array (transferred), equal value for value.
    expect(cols.probability).toBeInstanceOf(Float32Array);
    expect(Array.from(cols.probability!)).toEqual(Array.from(expected.probability!));
    // The caller's input arrays are copied, not taken away.
    const input = columns();
    await threaded.predictColumns(input);
    expect(Array.from(input.age)).toEqual([1, 4, 10]);
  });

  it('js: rows and columns', async () => {
    const dir = jsPackage(LOGISTIC_MODULE);
    const [threaded, local] = [await inThread(dir), await inProcess(dir)];
    const rows = [{ x: -3 }, { x: 0.5, note: 'extra fields pass' }, { x: 4 }];
    const preds = await threaded.predict(rows);
    expect(preds.map((p) => p.prediction)).toEqual(['no', 'yes', 'yes']);
    expect(preds[1].probability).toEqual([0.5, 0.5]);
    expect(preds).toEqual(await local.predict(rows));

    const cols = await threaded.predictColumns({ x: new Float64Array([-3, 0.5, 4]) });
    const expected = await local.predictColumns({ x: new Float64Array([-3, 0.5, 4]) });
    expect(cols.prediction).toEqual(['no', 'yes', 'yes']);
    expect(cols.probability).toBeInstanceOf(Float64Array);
    expect(cols).toEqual(expected);
  });

  it('onnx: a [N, 3] regressor and string/boolean inputs with nulls, rows as in-process', async () => {
    const regressor = packageDir(
      manifest({ signature: { inputs: [{ name: 'a', type: 'double' }, { name: 'b', type: 'double' }, { name: 'c', type: 'long' }], outputs: [] }, task: 'regression', classes: null }),
      { 'model.onnx': fs.readFileSync(fixture('linear-regressor.onnx')) },
    );
    // y = 2a − b + 0.5c + 3
    const rows = [{ a: 1, b: 2, c: 3 }, { a: 0, b: 0, c: 0 }, { a: -1, b: 0.5, c: 10 }];
    expect(await (await inThread(regressor)).predict(rows)).toEqual([{ prediction: 4.5 }, { prediction: 3 }, { prediction: 5.5 }]);

    const category = packageDir(
      manifest({ signature: { inputs: [{ name: 'plan', type: 'string', nullable: true }, { name: 'active', type: 'boolean', nullable: true }], outputs: [] }, task: 'regression', classes: null }),
      { 'model.onnx': fs.readFileSync(fixture('category-regressor.onnx')) },
    );
    // y = 10·plan_code + active_code; a missing value maps to code −1 (make-fixtures.ts).
    const catRows = [{ plan: 'pro', active: true }, { plan: 'team', active: false }, { plan: null, active: null }, { plan: 'enterprise', active: true }];
    const threaded = await inThread(category);
    expect(await threaded.predict(catRows)).toEqual([{ prediction: 11 }, { prediction: 20 }, { prediction: -11 }, { prediction: -9 }]);
    expect(await threaded.predict(catRows)).toEqual(await (await inProcess(category)).predict(catRows));
  });

  it('js: labels of mixed types and ragged probabilities come back exactly', async () => {
    const dir = jsPackage(`
export function predict(rows) {
  return rows.map((r, i) => (i === 0 ? 7 : i === 1 ? 'seven' : { prediction: 'x', probability: [0.25, 0.75] }));
}
`);
    const rows = [{ x: 1 }, { x: 2 }, { x: 3 }];
    const preds = await (await inThread(dir)).predict(rows);
    expect(preds).toEqual([{ prediction: 7 }, { prediction: 'seven' }, { prediction: 'x', probability: [0.25, 0.75] }]);
    expect(preds).toEqual(await (await inProcess(dir)).predict(rows));
    const numbers = await (await inThread(jsPackage('export function predict(rows) { return rows.map((r) => r.x / 3); }'))).predict(rows);
    expect(numbers).toEqual([{ prediction: 1 / 3 }, { prediction: 2 / 3 }, { prediction: 1 }]);
  });

  it('js: a TypeScript module loads in the thread too', async () => {
    const dir = packageDir(jsManifest('model.ts'), { 'model.ts': 'export function predict(rows: { x: number }[]): number[] { return rows.map((r) => r.x + 1); }' });
    expect(await (await inThread(dir)).predict([{ x: 1 }, { x: 2 }])).toEqual([{ prediction: 2 }, { prediction: 3 }]);
  });

  it('an empty batch gives no predictions', async () => {
    const threaded = await inThread(jsPackage(LOGISTIC_MODULE));
    expect(await threaded.predict([])).toEqual([]);
  });
});

describe('thread model: errors', () => {
  it('a missing field is FW_INVALID_ARGUMENT naming the row and field, as in-process', async () => {
    const dir = jsPackage(LOGISTIC_MODULE);
    const [threaded, local] = [await inThread(dir), await inProcess(dir)];
    const err = await rejection(threaded.predict([{ x: 1 }, { y: 2 }]));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toBe('row 1: field "x" is missing (the signature requires it)');
    expect(err.details).toEqual({ row: 1, field: 'x' });
    const direct = await rejection(local.predict([{ x: 1 }, { y: 2 }]));
    expect([err.code, err.message, err.details]).toEqual([direct.code, direct.message, direct.details]);
    const colErr = await rejection(threaded.predictColumns({ y: new Float64Array(1) }));
    expect(colErr.code).toBe('FW_INVALID_ARGUMENT');
    expect(colErr.message).toBe('column "x" is missing (the signature requires it)');
  });

  it('onnx: a bad row is FW_INVALID_ARGUMENT naming the row and field, as in-process', async () => {
    const dir = packageDir(manifest(), { 'model.onnx': fs.readFileSync(fixture('linear-classifier.onnx')) });
    const bad = [{ age: 1, income: 2, visits: 0 }, { age: 1, income: 'high', visits: 0 }];
    const err = await rejection((await inThread(dir)).predict(bad));
    const direct = await rejection((await inProcess(dir)).predict(bad));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toMatch(/^row 1: field "income" /);
    expect([err.code, err.message, err.details]).toEqual([direct.code, direct.message, direct.details]);
  });

  it('a model that throws on one call fails that call with its code; the next call works', async () => {
    const dir = jsPackage(`
export function predict(rows) {
  if (rows.some((r) => r.x < 0)) throw new RangeError('negative x');
  return rows.map((r) => r.x * 2);
}
`);
    const [threaded, local] = [await inThread(dir), await inProcess(dir)];
    const err = await rejection(threaded.predict([{ x: -1 }]));
    const direct = await rejection(local.predict([{ x: -1 }]));
    // The js flavor reports a throwing module as FW_PREDICTION_FAILED with what it threw; the thread keeps that.
    expect(err.code).toBe(direct.code);
    expect(err.message).toBe(direct.message);
    expect(err.message).toMatch(/predict threw: negative x$/);
    expect(await threaded.predict([{ x: 3 }])).toEqual([{ prediction: 6 }]);
  });

  it('an error without a Flywheel code becomes FW_PREDICTION_FAILED with its message', () => {
    const plain = fromWireError({ message: 'std::bad_alloc' });
    expect(plain).toBeInstanceOf(FlywheelError);
    expect([plain.code, plain.message]).toEqual(['FW_PREDICTION_FAILED', 'std::bad_alloc']);
    const unknown = fromWireError({ code: 'ERR_SOMETHING', message: 'x' });
    expect(unknown.code).toBe('FW_PREDICTION_FAILED');
    const known = fromWireError({ code: 'FW_NOT_FOUND', message: 'gone', details: { field: 'f' } });
    expect([known.code, known.message, known.details]).toEqual(['FW_NOT_FOUND', 'gone', { field: 'f' }]);
  });

  it('a thread killed by its model fails the calls it held and is replaced for later calls', async () => {
    // x = 0 takes 300 ms; x = -1 exits the thread; x = -2 throws from a timer (an uncaught error kills the thread).
    const threaded = await inThread(
      jsPackage(`
import { threadId } from 'node:worker_threads';
export async function predict(rows) {
  const x = rows[0].x;
  if (x === -1) process.exit(7);
  if (x === -2) { setTimeout(() => { throw new Error('boom in a timer'); }, 0); return new Promise(() => {}); }
  if (x === 0) await new Promise((r) => setTimeout(r, 300));
  return rows.map(() => threadId);
}
`),
    );
    const first = (await threaded.predict([{ x: 1 }]))[0].prediction;
    const slow = rejection(threaded.predict([{ x: 0 }]));
    const exiting = await rejection(threaded.predict([{ x: -1 }]));
    expect(exiting.code).toBe('FW_PREDICTION_FAILED');
    expect(exiting.message).toMatch(/exited with code 7 during the call$/);
    expect((await slow).code).toBe('FW_PREDICTION_FAILED');

    const second = (await threaded.predict([{ x: 1 }]))[0].prediction;
    expect(second).not.toBe(first);

    const thrown = await rejection(threaded.predict([{ x: -2 }]));
    expect(thrown.code).toBe('FW_PREDICTION_FAILED');
    expect(thrown.message).toMatch(/failed: boom in a timer during the call$/);
    const third = (await threaded.predict([{ x: 1 }]))[0].prediction;
    expect([first, second]).not.toContain(third);
  });

  it('a corrupt ONNX file rejects the load with its FlywheelError and leaves no thread running', async () => {
    const before = modelThreadCount();
    const dir = packageDir(manifest(), { 'model.onnx': 'this is not an onnx model at all' });
    const err = await rejection(loadModelInThread(dir, { threads: 2 }));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toMatch(/^cannot load the ONNX model model\.onnx \(corrupt, truncated or not ONNX\?\): /);
    expect(modelThreadCount()).toBe(before);
    const missing = await rejection(loadModelInThread(path.join(scratch, 'no-such-package')));
    expect(missing.code).toBe('FW_NOT_FOUND');
    expect(modelThreadCount()).toBe(before);
  });

  it('refuses a thread count that is not a positive integer', async () => {
    expect((await rejection(loadModelInThread(scratch, { threads: 0 }))).code).toBe('FW_INVALID_ARGUMENT');
  });
});

describe('thread model: lifecycle and concurrency', () => {
  it('close() lets in-flight calls finish, then stops the threads; later calls are FW_INVALID_STATE', async () => {
    const before = modelThreadCount();
    const threaded = await loadModelInThread(jsPackage('export async function predict(rows) { await new Promise((r) => setTimeout(r, 150)); return rows.map((r) => r.x + 1); }'), { threads: 2 });
    expect(modelThreadCount()).toBe(before + 2);
    const calls = [1, 2, 3].map((x) => threaded.predict([{ x }]));
    const closed = threaded.close();
    expect(await Promise.all(calls)).toEqual([[{ prediction: 2 }], [{ prediction: 3 }], [{ prediction: 4 }]]);
    await closed;
    expect(modelThreadCount()).toBe(before);
    expect((await rejection(threaded.predict([{ x: 1 }]))).code).toBe('FW_INVALID_STATE');
  });

  it('the main event loop keeps running while a model busy-loops 200 ms in its thread', async () => {
    const threaded = await inThread(jsPackage('export function predict(rows) { const end = Date.now() + 200; while (Date.now() < end); return rows.map(() => 1); }'));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      expect(await threaded.predict([{ x: 0 }])).toEqual([{ prediction: 1 }]);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(1);
  });

  it('with two threads, concurrent calls run on both', async () => {
    const threaded = await inThread(
      jsPackage(`
import { threadId } from 'node:worker_threads';
export async function predict(rows) { await new Promise((r) => setTimeout(r, 50)); return rows.map(() => threadId); }
`),
      2,
    );
    const ids = await Promise.all([1, 2, 3, 4].map((x) => threaded.predict([{ x }])));
    expect(new Set(ids.map((p) => p[0].prediction)).size).toBe(2);
  });
});
