/**
 * The onnx flavor on the fixtures of test/fixtures/models (made by
 * make-fixtures.ts, whose coefficients define the expected values here):
 * package → loadModel → predict gives the hand-computed outputs and exactly
 * what onnxruntime gives on the same tensors; the ZipMap form gives the same
 * probabilities as the tensor form; columnar and row predict agree; inputs
 * that do not match the signature, corrupt and truncated files, and bad rows
 * are clear errors.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { CLASSIFIER_INPUTS, fixture, manifest, openTrackingHarness, type TrackingHarness } from '../../../test/fixtures/models/support.js';
import type { ModelManifest } from '../manifest.js';
import { writeModelPackage } from '../package.js';
import { loadModel } from '../load.js';
import type { LoadedModel } from '../types.js';

let h: TrackingHarness;
const open: LoadedModel[] = [];
beforeAll(async () => {
  h = await openTrackingHarness();
});
afterAll(async () => {
  for (const m of open) await m.close();
  await h?.dispose();
});

/** Packages `bytes` (an .onnx file) with `m` in a new run and loads it back. */
async function packaged(bytes: Uint8Array, m: ModelManifest): Promise<LoadedModel> {
  const runId = await h.newRun();
  const uri = await writeModelPackage(h.tracking, runId, { manifest: { ...m, training: { ...m.training, runId } }, files: { 'model.onnx': bytes } });
  const model = await loadModel(h.tracking, uri, { cacheDir: h.cacheDir });
  open.push(model);
  return model;
}
const fixtureBytes = (name: string) => new Uint8Array(fs.readFileSync(fixture(name)));

async function rejection(p: Promise<unknown>): Promise<FlywheelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

const sigmoid = (s: number) => 1 / (1 + Math.exp(-s));
// s = 0.5·age − 0.25·income + 1.0·visits − 2 (make-fixtures.ts): rows give s = −2, 1, 3.
const CLASSIFIER_ROWS = [
  { age: 1, income: 2, visits: 0 },
  { age: 4, income: 0, visits: 1 },
  { age: 10, income: 8, visits: 2, customer_id: 'c-17' },
];
// σ(−2), σ(1), σ(3), evaluated by hand: 1/(1+e²), 1/(1+e⁻¹), 1/(1+e⁻³).
const P_YES = [0.11920292202211755, 0.7310585786300049, 0.9525741268224334];

function expectClassifierOutputs(preds: { prediction: unknown; probability?: number[] }[]): void {
  expect(preds.map((p) => p.prediction)).toEqual(['no', 'yes', 'yes']);
  preds.forEach((p, i) => {
    expect(p.probability).toHaveLength(2);
    expect(p.probability![1]).toBeCloseTo(P_YES[i], 6);
    expect(p.probability![0]).toBeCloseTo(1 - P_YES[i], 6);
  });
}

describe('onnx flavor: known outputs', () => {
  it('a binary LinearClassifier with one input per column (a long among them)', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    expect(sigmoid(-2)).toBeCloseTo(P_YES[0], 15);
    expectClassifierOutputs(await model.predict(CLASSIFIER_ROWS));
  });

  it('equals onnxruntime-node called directly on the same tensors', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    const session = await ort.InferenceSession.create(fixture('linear-classifier.onnx'));
    const col = (k: 'age' | 'income') => new ort.Tensor('float32', Float32Array.from(CLASSIFIER_ROWS, (r) => r[k]), [3, 1]);
    const direct = await session.run({ age: col('age'), income: col('income'), visits: new ort.Tensor('int64', BigInt64Array.from(CLASSIFIER_ROWS, (r) => BigInt(r.visits)), [3, 1]) });
    await session.release();
    const probs = direct.probabilities.data as Float32Array;
    expect(await model.predict(CLASSIFIER_ROWS)).toEqual(
      (direct.label.data as string[]).map((label, i) => ({ prediction: label, probability: [probs[2 * i], probs[2 * i + 1]] })),
    );
  });

  it('the ZipMap (seq(map)) form of the same classifier gives the same predictions', async () => {
    const model = await packaged(fixtureBytes('linear-classifier-zipmap.onnx'), manifest());
    expectClassifierOutputs(await model.predict(CLASSIFIER_ROWS));
    const plain = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    expect(await model.predict(CLASSIFIER_ROWS)).toEqual(await plain.predict(CLASSIFIER_ROWS));
  });

  it('a multiclass classifier with integer labels (softmax of the three scores)', async () => {
    const model = await packaged(
      fixtureBytes('multiclass.onnx'),
      manifest({
        signature: { inputs: [{ name: 'x1', type: 'double' }, { name: 'x2', type: 'double' }], outputs: [{ name: 'prediction', type: 'long' }] },
        classes: ['0', '1', '2'],
      }),
    );
    const preds = await model.predict([{ x1: 1, x2: 0 }, { x1: 0, x2: 2 }]);
    expect(preds.map((p) => p.prediction)).toEqual([0, 1]);
    // Scores (x1, x2 + 0.5, −x1 − x2 − 0.5): (1, 0.5, −1.5) and (0, 2.5, −2.5); softmax by hand.
    const expected = [
      [0.5922010701861591, 0.35918810578253857, 0.048610824031302256],
      [0.07538874796299667, 0.9184229667642033, 0.006188285272800036],
    ];
    preds.forEach((p, i) => p.probability!.forEach((v, k) => expect(v).toBeCloseTo(expected[i][k], 6)));
  });

  it('a LinearRegressor taking one [N, 3] tensor, filled from the signature columns in order', async () => {
    const model = await packaged(
      fixtureBytes('linear-regressor.onnx'),
      manifest({ signature: { inputs: [{ name: 'a', type: 'double' }, { name: 'b', type: 'double' }, { name: 'c', type: 'long' }], outputs: [{ name: 'prediction', type: 'double' }] }, task: 'regression', classes: null }),
    );
    // y = 2a − b + 0.5c + 3
    expect(await model.predict([{ a: 1, b: 2, c: 3 }, { a: 0, b: 0, c: 0 }, { a: -1, b: 0.5, c: 10 }])).toEqual([{ prediction: 4.5 }, { prediction: 3 }, { prediction: 5.5 }]);
  });

  it('a TreeEnsembleRegressor of two stumps (leaves summed with the base value)', async () => {
    const model = await packaged(
      fixtureBytes('tree-regressor.onnx'),
      manifest({ signature: { inputs: [{ name: 'x0', type: 'double' }, { name: 'x1', type: 'double' }], outputs: [] }, task: null, classes: null }),
    );
    // x0 ≤ 0.5 → 1 else 3; x1 ≤ 2 → 10 else 20; + 0.5. The task (null) is read off the outputs: regression.
    expect(await model.predict([{ x0: 0.5, x1: 2 }, { x0: 1, x1: 3 }, { x0: 0, x1: 2.5 }])).toEqual([{ prediction: 11.5 }, { prediction: 23.5 }, { prediction: 21.5 }]);
  });

  it('string inputs: null as "", booleans as "true"/"false" (the built-in training\'s encoding)', async () => {
    const model = await packaged(
      fixtureBytes('category-regressor.onnx'),
      manifest({ signature: { inputs: [{ name: 'plan', type: 'string', nullable: true }, { name: 'active', type: 'boolean', nullable: true }], outputs: [] }, task: 'regression', classes: null }),
    );
    // y = 10·plan_code + active_code; a missing value maps to code −1.
    const rows = [{ plan: 'pro', active: true }, { plan: 'team', active: false }, { plan: null, active: null }, { plan: 'enterprise', active: true }];
    expect(await model.predict(rows)).toEqual([{ prediction: 11 }, { prediction: 20 }, { prediction: -11 }, { prediction: -9 }]);
    const cols = await model.predictColumns({ plan: ['pro', 'team', null, 'enterprise'], active: [true, false, null, true] });
    expect(Array.from(cols.prediction as Float32Array)).toEqual([11, 20, -11, -9]);
    const typed = await model.predictColumns({ plan: ['pro', 'team', null, 'enterprise'], active: new Float64Array([1, 0, NaN, 1]) });
    expect(Array.from(typed.prediction as Float32Array)).toEqual([11, 20, -11, -9]);
  });

  it('an empty batch gives no predictions', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    expect(await model.predict([])).toEqual([]);
  });
});

describe('onnx flavor: columnar predict', () => {
  it('agrees with row predict, from float32, float64 and plain arrays', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    const rows = await model.predict(CLASSIFIER_ROWS);
    for (const columns of [
      { age: new Float32Array([1, 4, 10]), income: new Float32Array([2, 0, 8]), visits: new BigInt64Array([0n, 1n, 2n]) },
      { age: new Float64Array([1, 4, 10]), income: new Float64Array([2, 0, 8]), visits: new Float64Array([0, 1, 2]) },
      { age: [1, 4, 10], income: [2, 0, 8], visits: [0, 1, 2] },
    ]) {
      const cols = await model.predictColumns(columns);
      expect(cols.n).toBe(3);
      expect(cols.probabilityColumns).toBe(2);
      expect(Array.from(cols.prediction as string[])).toEqual(rows.map((r) => r.prediction));
      expect(Array.from(cols.probability!)).toEqual(rows.flatMap((r) => r.probability));
    }
  });

  it('agrees with row predict for a [N, F] input and a regressor', async () => {
    const model = await packaged(
      fixtureBytes('linear-regressor.onnx'),
      manifest({ signature: { inputs: [{ name: 'a', type: 'double' }, { name: 'b', type: 'double' }, { name: 'c', type: 'double' }], outputs: [] }, task: 'regression', classes: null }),
    );
    const cols = await model.predictColumns({ a: new Float32Array([1, 0, -1]), b: new Float32Array([2, 0, 0.5]), c: new Float32Array([3, 0, 10]) });
    expect(Array.from(cols.prediction as Float32Array)).toEqual([4.5, 3, 5.5]);
  });
});

describe('onnx flavor: errors', () => {
  it('refuses at load an ONNX model whose inputs do not match the signature', async () => {
    const bytes = fixtureBytes('linear-classifier.onnx');
    const extra = await rejection(packaged(bytes, manifest({ signature: { inputs: [...CLASSIFIER_INPUTS, { name: 'tenure', type: 'double' }], outputs: [] } })));
    expect(extra.code).toBe('FW_INVALID_ARGUMENT');
    expect(extra.message).toMatch(/^The ONNX model's inputs do not match the signature: the model has no input tenure\. The model takes age \(float32\[N,1\]\), income \(float32\[N,1\]\), visits \(int64\[N,1\]\)/);
    const typed = await rejection(packaged(bytes, manifest({ signature: { inputs: [{ name: 'age', type: 'string' }, ...CLASSIFIER_INPUTS.slice(1)], outputs: [] } })));
    expect(typed.message).toMatch(/input age is float32, which cannot take the signature's string/);
    const width = await rejection(packaged(fixtureBytes('linear-regressor.onnx'), manifest({ signature: { inputs: [{ name: 'a', type: 'double' }, { name: 'b', type: 'double' }], outputs: [] }, task: 'regression', classes: null })));
    expect(width.message).toMatch(/its single input X takes 3 features, the signature names 2 columns/);
    const classes = await rejection(packaged(bytes, manifest({ classes: ['a', 'b', 'c'] })));
    expect(classes.message).toBe('the ONNX model gives 2 probability columns but the manifest names 3 classes (a, b, c)');
    const regressorAsClassifier = await rejection(packaged(fixtureBytes('tree-regressor.onnx'), manifest({ signature: { inputs: [{ name: 'x0', type: 'double' }, { name: 'x1', type: 'double' }], outputs: [] } })));
    expect(regressorAsClassifier.message).toMatch(/^The ONNX model has no label output for a classifier \(outputs: variable \(float32\[N,1\]\)\)/);
  });

  it('a corrupt or truncated file is an error at load, not a crash', async () => {
    const whole = fixtureBytes('linear-classifier.onnx');
    for (const bytes of [whole.subarray(0, Math.floor(whole.length / 2)), new Uint8Array(Buffer.from('this is not an onnx model at all')), new Uint8Array(0)]) {
      const err = await rejection(packaged(bytes, manifest()));
      expect(err.code).toBe('FW_INVALID_ARGUMENT');
      expect(err.message).toMatch(/^cannot load the ONNX model model\.onnx \(corrupt, truncated or not ONNX\?\): /);
    }
  });

  it('enforces the signature at predict time, naming the field and row', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    const missing = await rejection(model.predict([CLASSIFIER_ROWS[0], { age: 3, visits: 1 }]));
    expect(missing.message).toBe('row 1: field "income" is missing (the signature requires it)');
    expect(missing.details).toEqual({ row: 1, field: 'income' });
    expect((await rejection(model.predict([{ age: 3, income: '10', visits: 1 }]))).message).toBe('row 0: field "income" must be a double (a number), got the string "10"');
    expect((await rejection(model.predict([{ age: 3, income: 1, visits: null }]))).message).toBe('row 0: field "visits" is null, but the signature does not allow nulls for it');
    expect((await rejection(model.predictColumns({ age: [1], income: [2] }))).message).toBe('column "visits" is missing (the signature requires it)');
    // age is nullable: null reaches the model as NaN.
    const [withNull] = await model.predict([{ age: null, income: 1, visits: 1 }]);
    expect(Number.isNaN(withNull.probability![1])).toBe(true);
  });

  it('a null for a nullable long cannot reach an int64 input', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest({ signature: { inputs: [CLASSIFIER_INPUTS[0], CLASSIFIER_INPUTS[1], { name: 'visits', type: 'long', nullable: true }], outputs: [] } }));
    expect((await rejection(model.predict([CLASSIFIER_ROWS[0], { age: 1, income: 1, visits: null }]))).message).toBe(
      'row 1: field "visits" is null, but the model\'s input visits is int64 and cannot hold a missing value',
    );
  });

  it('predict after close is FW_INVALID_STATE', async () => {
    const model = await packaged(fixtureBytes('linear-classifier.onnx'), manifest());
    await model.close();
    expect((await rejection(model.predict(CLASSIFIER_ROWS))).code).toBe('FW_INVALID_STATE');
  });
});

describe('loadModel URIs', () => {
  it('resolves models:/ URIs through the resolver it is given, and asks for one otherwise', async () => {
    const runId = await h.newRun();
    const uri = await writeModelPackage(h.tracking, runId, { manifest: manifest({ training: { runId, dataset: null, datasetVersionId: null, target: null } }), files: { 'model.onnx': fixtureBytes('linear-classifier.onnx') } });
    const asked: string[] = [];
    const model = await loadModel(h.tracking, 'models:/churn@champion', {
      cacheDir: h.cacheDir,
      resolveModelUri: async (u) => {
        asked.push(u);
        return { source: `mlflow-artifacts:/elsewhere/${runId}`, packageUri: uri };
      },
    });
    open.push(model);
    expect(asked).toEqual(['models:/churn@champion']);
    expect(model.source).toBe(uri);
    expectClassifierOutputs(await model.predict(CLASSIFIER_ROWS));
    expect((await rejection(loadModel(h.tracking, 'models:/churn/3'))).message).toMatch(/needs the registry \(pass resolveModelUri\)/);
  });
});

describe('labelColumn', () => {
  it('gives 32-bit labels as an Int32Array and wider ones as exact doubles', async () => {
    const ort = await import('onnxruntime-node');
    const { labelColumn } = await import('./onnx.js');
    const small = labelColumn(new ort.Tensor('int64', BigInt64Array.from([0n, 1n, -7n, 2147483647n, -2147483648n]), [5]));
    expect(small).toBeInstanceOf(Int32Array);
    expect([...small]).toEqual([0, 1, -7, 2147483647, -2147483648]);
    const wide = labelColumn(new ort.Tensor('int64', BigInt64Array.from([1n, 2147483648n, -5000000000n, 9007199254740991n]), [4]));
    expect(wide).toBeInstanceOf(Float64Array);
    expect([...wide]).toEqual([1, 2147483648, -5000000000, 9007199254740991]);
    // A wide label late in the batch, after small ones were compacted in place, and negative small ones around it.
    const late = labelColumn(new ort.Tensor('int64', BigInt64Array.from([3n, -1n, 5n, 7n, -9n, 4294967296n, -2n, 11n]), [8]));
    expect(late).toBeInstanceOf(Float64Array);
    expect([...late]).toEqual([3, -1, 5, 7, -9, 4294967296, -2, 11]);
  });
});
