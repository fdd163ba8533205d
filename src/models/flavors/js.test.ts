/**
 * The js flavor: a module's predict, packaged and loaded, gives what calling
 * the function directly gives (with load(dir) state read from the package's
 * own files, and from a TypeScript module); a module that throws or returns
 * the wrong shape is FW_PREDICTION_FAILED (the model's fault, not the input's),
 * and one that exports no predict a load error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { manifest, openTrackingHarness, type TrackingHarness } from '../../../test/fixtures/models/support.js';
import type { ModelManifest } from '../manifest.js';
import { writeModelPackage } from '../package.js';
import { loadModel } from '../load.js';
import type { LoadedModel } from '../types.js';

let h: TrackingHarness;
beforeAll(async () => {
  h = await openTrackingHarness();
});
afterAll(async () => {
  await h?.dispose();
});

const JS_MANIFEST = (module = 'predict.mjs'): ModelManifest =>
  manifest({
    flavor: 'js',
    files: { module },
    signature: { inputs: [{ name: 'x', type: 'double' }, { name: 'plan', type: 'string', nullable: true }], outputs: [{ name: 'prediction', type: 'string' }, { name: 'probability', type: 'double', shape: [-1, 2] }] },
  });

async function packaged(files: Record<string, string>, m: ModelManifest = JS_MANIFEST()): Promise<LoadedModel> {
  const runId = await h.newRun();
  const uri = await writeModelPackage(h.tracking, runId, { manifest: { ...m, training: { ...m.training, runId } }, files });
  return loadModel(h.tracking, uri, { cacheDir: h.cacheDir });
}

async function rejection(p: Promise<unknown>): Promise<FlywheelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

// A threshold read from the package's own weights file by load(dir); predict gets it as state.
const THRESHOLD_MODULE = `
import fs from 'node:fs';
import path from 'node:path';
export function load(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'weights.json'), 'utf8'));
}
export async function predict(rows, w) {
  return rows.map((r) => {
    const p = 1 / (1 + Math.exp(-(w.slope * r.x + w.bias)));
    return { prediction: p >= 0.5 ? 'yes' : 'no', probability: [1 - p, p] };
  });
}
`;
const ROWS = [{ x: -3, plan: 'pro' }, { x: 0.5, plan: null, extra: true }, { x: 4, plan: 'free' }];

describe('js flavor', () => {
  it('package → load → predict equals calling the module directly', async () => {
    const model = await packaged({ 'predict.mjs': THRESHOLD_MODULE, 'weights.json': '{"slope": 2, "bias": -1}' });
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-js-direct-'));
    try {
      fs.writeFileSync(path.join(scratch, 'predict.mjs'), THRESHOLD_MODULE);
      fs.writeFileSync(path.join(scratch, 'weights.json'), '{"slope": 2, "bias": -1}');
      const mod = await import(pathToFileURL(path.join(scratch, 'predict.mjs')).href);
      const direct = await mod.predict(ROWS, mod.load(scratch));
      expect(await model.predict(ROWS)).toEqual(direct);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    // By hand: p = σ(2x − 1) → σ(−7), σ(0), σ(7).
    const preds = await model.predict(ROWS);
    expect(preds.map((p) => p.prediction)).toEqual(['no', 'yes', 'yes']);
    expect(preds[1].probability).toEqual([0.5, 0.5]);
    expect(preds[2].probability![1]).toBeCloseTo(1 / (1 + Math.exp(-7)), 12);
    const cols = await model.predictColumns({ x: new Float64Array([-3, 0.5, 4]), plan: ['pro', null, 'free'] });
    expect(cols.prediction).toEqual(['no', 'yes', 'yes']);
    expect(Array.from(cols.probability!)).toEqual(preds.flatMap((p) => p.probability));
    await model.close();
  });

  it('takes a sync predict on a default export, numbers as predictions, and a TypeScript module', async () => {
    const m = await packaged({ 'model.mjs': 'export default { k: 10, predict(rows) { return rows.map((r) => r.x * this.k); } };' }, JS_MANIFEST('model.mjs'));
    expect(await m.predict([{ x: 1.5, plan: null }])).toEqual([{ prediction: 15 }]);
    const ts = await packaged({ 'model.ts': 'export function predict(rows: { x: number }[]): number[] { return rows.map((r) => r.x + 1); }' }, JS_MANIFEST('model.ts'));
    expect(await ts.predict([{ x: 1, plan: 'a' }, { x: 2, plan: 'b' }])).toEqual([{ prediction: 2 }, { prediction: 3 }]);
  });

  it('checks the signature before calling the module', async () => {
    const model = await packaged({ 'predict.mjs': 'export function predict() { throw new Error("should not be called"); }' });
    expect((await rejection(model.predict([{ x: 'high', plan: null }]))).message).toBe('row 0: field "x" must be a double (a number), got the string "high"');
  });

  it.each([
    ['throws', 'export function predict() { throw new TypeError("weights not loaded"); }', /predict threw: weights not loaded$/],
    ['returns no array', 'export function predict(rows) { return { predictions: rows }; }', /predict returned an object, not an array of 2 predictions$/],
    ['returns too few', 'export function predict(rows) { return [1]; }', /predict returned 1 predictions for 2 rows$/],
    ['returns a bad element', 'export function predict(rows) { return [1, [2]]; }', /predict returned an array of 1 for row 1; expected a number, a string or \{ prediction, probability\? \}$/],
    ['omits prediction', 'export function predict(rows) { return rows.map(() => ({ label: 1 })); }', /predict returned an object without a number or string "prediction" for row 0/],
    ['returns bad probabilities', 'export function predict(rows) { return rows.map(() => ({ prediction: "a", probability: [0.2, 0.3, 0.5] })); }', /predict returned 3 probabilities for row 0, but the manifest names 2 classes$/],
  ])('a module whose predict %s is FW_PREDICTION_FAILED', async (_what, source, message) => {
    const model = await packaged({ 'predict.mjs': source });
    const err = await rejection(model.predict([{ x: 1, plan: null }, { x: 2, plan: null }]));
    expect(err.code).toBe('FW_PREDICTION_FAILED');
    expect(err.message).toMatch(/^the js model predict\.mjs \(runs:\/[0-9a-f]{32}\/model\): predict/);
    expect(err.message).toMatch(message);
  });

  it('a module without predict, one that does not parse and a throwing load(dir) are load errors', async () => {
    expect((await rejection(packaged({ 'predict.mjs': 'export const score = 1;' }))).message).toBe('the js model module predict.mjs exports no predict(rows) function');
    expect((await rejection(packaged({ 'predict.mjs': 'export function predict( {' }))).message).toMatch(/^cannot load the js model module predict\.mjs: /);
    expect((await rejection(packaged({ 'predict.mjs': 'export function load() { throw new Error("no weights"); }\nexport function predict(r) { return r; }' }))).message).toBe(
      'the js model module predict.mjs: load(dir) threw: no weights',
    );
  });
});
