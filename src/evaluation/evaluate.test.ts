/**
 * `evaluatePredictions` on the fixture tables (test/fixtures/evaluation):
 * every metric, the confusion matrix, the calibration curve, per-slice
 * metrics and fairness against values computed independently — scikit-learn
 * 1.2.1 for the metrics, and for fairness numpy by hand from fairlearn's
 * documented definitions (fairlearn is not installed), all by
 * test/fixtures/evaluation/expected.py, pasted here as literals — then every
 * kind of bad input.
 *
 * The classification fixture has 60 rows, scores on a 0.1 grid (ties, 0, 1
 * and a score exactly at the 0.5 threshold), a slice column with a
 * one-class value ("east") and nulls, and a sensitive attribute with three
 * groups plus nulls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { Engine, sqlLiteral } from '../engine/index.js';
import { evaluatePredictions, type ClassificationReport, type EvaluateOptions, type RegressionReport } from './evaluate.js';

const FIXTURES = path.resolve(__dirname, '../../test/fixtures/evaluation');
const PREDICTIONS = path.join(FIXTURES, 'predictions.csv');
const REGRESSION = path.join(FIXTURES, 'regression.csv');
const CSV = `read_csv(${sqlLiteral(PREDICTIONS)}, header=true)`;

// From test/fixtures/evaluation/expected.py (scikit-learn 1.2.1; fairness by hand after fairlearn's definitions).
const SKLEARN = {
  overall: { count: 60, accuracy: 0.55, precision: 0.47058823529411764, recall: 0.64, f1: 0.5423728813559322, precision_macro: 0.5622171945701357, recall_macro: 0.5628571428571428, f1_macro: 0.5498749652681301, precision_weighted: 0.5774886877828054, recall_weighted: 0.55, f1_weighted: 0.5511253125868296, roc_auc: 0.7045714285714285, pr_auc: 0.6356891712782674, log_loss: 1.7322655267314986, brier: 0.2221666666666667, confusion_matrix: [[17, 18], [9, 16]] },
  overall_t03: { count: 60, accuracy: 0.5833333333333334, precision: 0.5, recall: 0.92, f1: 0.647887323943662, precision_macro: 0.6785714285714286, recall_macro: 0.6314285714285715, f1_macro: 0.5688416211555045, precision_weighted: 0.7083333333333334, recall_weighted: 0.5833333333333334, f1_weighted: 0.5556673373574782, roc_auc: 0.7045714285714285, pr_auc: 0.6356891712782674, log_loss: 1.7322655267314986, brier: 0.2221666666666667, confusion_matrix: [[12, 23], [2, 23]] },
  overall_pred: { count: 60, accuracy: 0.65, precision: 0.55, recall: 0.88, f1: 0.676923076923077, precision_macro: 0.7, recall_macro: 0.6828571428571428, f1_macro: 0.6475524475524477, precision_weighted: 0.725, recall_weighted: 0.65, f1_weighted: 0.6426573426573426, roc_auc: 0.7045714285714285, pr_auc: 0.6356891712782674, log_loss: 1.7322655267314986, brier: 0.2221666666666667, confusion_matrix: [[17, 18], [3, 22]] },
  calibration: [
    { bin: 0, count: 9, fraction_positive: 0.1111111111111111, mean_predicted: 0.044444444444444446 },
    { bin: 1, count: 5, fraction_positive: 0.2, mean_predicted: 0.2 },
    { bin: 2, count: 5, fraction_positive: 0.2, mean_predicted: 0.3 },
    { bin: 3, count: 7, fraction_positive: 0.8571428571428571, mean_predicted: 0.39999999999999997 },
    { bin: 4, count: 9, fraction_positive: 0.2222222222222222, mean_predicted: 0.5 },
    { bin: 5, count: 11, fraction_positive: 0.2727272727272727, mean_predicted: 0.5999999999999999 },
    { bin: 6, count: 4, fraction_positive: 1.0, mean_predicted: 0.7 },
    { bin: 7, count: 3, fraction_positive: 0.3333333333333333, mean_predicted: 0.8000000000000002 },
    { bin: 8, count: 3, fraction_positive: 1.0, mean_predicted: 0.9 },
    { bin: 9, count: 4, fraction_positive: 0.75, mean_predicted: 1.0 },
  ],
  calibration_5: [
    { bin: 0, count: 14, fraction_positive: 0.14285714285714285, mean_predicted: 0.09999999999999999 },
    { bin: 1, count: 12, fraction_positive: 0.5833333333333334, mean_predicted: 0.35833333333333334 },
    { bin: 2, count: 20, fraction_positive: 0.25, mean_predicted: 0.5549999999999999 },
    { bin: 3, count: 7, fraction_positive: 0.7142857142857143, mean_predicted: 0.7428571428571429 },
    { bin: 4, count: 7, fraction_positive: 0.8571428571428571, mean_predicted: 0.9571428571428572 },
  ],
  slices_region: {
    north: { count: 15, accuracy: 0.4666666666666667, precision: 0.6666666666666666, recall: 0.4, f1: 0.5, precision_macro: 0.5, recall_macro: 0.5, f1_macro: 0.4642857142857143, precision_weighted: 0.5555555555555555, recall_weighted: 0.4666666666666667, f1_weighted: 0.47619047619047616, roc_auc: 0.6200000000000001, pr_auc: 0.7926190476190477, log_loss: 3.0264441634647756, brier: 0.2913333333333333, confusion_matrix: [[3, 2], [6, 4]] },
    south: { count: 26, accuracy: 0.6153846153846154, precision: 0.6111111111111112, recall: 0.7857142857142857, f1: 0.6875000000000001, precision_macro: 0.6180555555555556, recall_macro: 0.6011904761904762, f1_macro: 0.59375, precision_weighted: 0.6175213675213675, recall_weighted: 0.6153846153846154, f1_weighted: 0.6009615384615385, roc_auc: 0.8303571428571429, pr_auc: 0.8704623878536921, log_loss: 0.4799088613982071, brier: 0.16461538461538458, confusion_matrix: [[5, 7], [3, 11]] },
    east: { count: 13, accuracy: 0.46153846153846156, precision: 0.0, recall: 0.0, f1: 0.0, precision_macro: 0.5, recall_macro: 0.23076923076923078, f1_macro: 0.3157894736842105, precision_weighted: 1.0, recall_weighted: 0.46153846153846156, f1_weighted: 0.631578947368421, roc_auc: null, pr_auc: null, log_loss: 3.3214796282552217, brier: 0.2761538461538462, confusion_matrix: [[6, 7], [0, 0]] },
    null: { count: 6, accuracy: 0.6666666666666666, precision: 0.3333333333333333, recall: 1.0, f1: 0.5, precision_macro: 0.6666666666666666, recall_macro: 0.8, f1_macro: 0.625, precision_weighted: 0.8888888888888888, recall_weighted: 0.6666666666666666, f1_weighted: 0.7083333333333334, roc_auc: 1.0, pr_auc: 1.0, log_loss: 0.4804005980411648, brier: 0.18166666666666667, confusion_matrix: [[3, 2], [0, 1]] },
  },
  fairness_sex: {
    demographic_parity_difference: 0.5894736842105264,
    demographic_parity_ratio: 0.25333333333333335,
    equalized_odds_difference: 0.875,
    groups: [
      { value: 'a', count: 20, selection_rate: 0.55, tpr: 0.5, fpr: 0.5833333333333334 },
      { value: 'b', count: 19, selection_rate: 0.7894736842105263, tpr: 0.7272727272727273, fpr: 0.875 },
      { value: 'c', count: 16, selection_rate: 0.4375, tpr: 0.75, fpr: 0.3333333333333333 },
      { value: null, count: 5, selection_rate: 0.2, tpr: 0.5, fpr: 0.0 },
    ],
  },
  regression: { count: 30, mae: 0.9243333333333337, rmse: 1.183910188035112, r2: 0.9025386880914223, mape: 297237575406452.8 },
  regression_segments: {
    x: { count: 18, mae: 0.6700000000000002, rmse: 0.9054403471362553, r2: 0.944323492634856, mape: 130103989235147.69 },
    y: { count: 12, mae: 1.3058333333333334, rmse: 1.5081031131855676, r2: 0.8280204205730657, mape: 547937954663410.44 },
  },
};

type Expected = Record<string, unknown>;

/** Equal within 1e-9 (relative for large values such as MAPE with zero labels); null must be null. */
function expectClose(actual: unknown, expected: unknown, where = ''): void {
  if (expected === null) return void expect(actual, where).toBeNull();
  if (typeof expected === 'number') {
    expect(typeof actual, where).toBe('number');
    const tol = 1e-9 * Math.max(1, Math.abs(expected));
    expect(Math.abs((actual as number) - expected), `${where}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), where).toBe(true);
    expect((actual as unknown[]).length, where).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${where}[${i}]`));
    return;
  }
  if (typeof expected === 'object') {
    for (const [k, e] of Object.entries(expected as Expected)) expectClose((actual as Expected)[k], e, `${where}.${k}`);
    return;
  }
  expect(actual, where).toBe(expected);
}

/** A slice (or the overall report) in the shape expected.py prints: count, the metrics, the confusion matrix. */
function flat(metrics: object, count: number, matrix: number[][]): Expected {
  return { count, ...metrics, confusion_matrix: matrix };
}

let engine: Engine;
let tmp: string;

beforeAll(async () => {
  engine = await Engine.open({ threads: 2 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-eval-'));
});

afterAll(() => {
  engine?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const classify = async (o: Partial<EvaluateOptions> = {}) =>
  (await evaluatePredictions(engine, { source: { path: PREDICTIONS }, label: 'label', score: 'score', ...o })) as ClassificationReport;

async function refusal(o: Partial<EvaluateOptions>): Promise<FlywheelError> {
  const err = await evaluatePredictions(engine, { source: { path: PREDICTIONS }, label: 'label', score: 'score', ...o }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

describe('classification metrics against scikit-learn', () => {
  it('reports every metric, the confusion matrix and the calibration curve at threshold 0.5', async () => {
    const r = await classify({ slices: ['region'], group: 'sex' });
    expect(r.task).toBe('classification');
    expect(r.rows).toBe(60);
    expect([r.positive, r.negative, r.threshold]).toEqual(['1', '0', 0.5]);
    expectClose(flat(r.metrics, r.rows, r.confusion_matrix.matrix), SKLEARN.overall, 'overall');
    expect(r.confusion_matrix).toMatchObject({ labels: ['0', '1'], tn: 17, fp: 18, fn: 9, tp: 16 });
    expect(r.calibration.n_bins).toBe(10);
    expectClose(r.calibration.bins, SKLEARN.calibration, 'calibration');
  });

  it('metrics that do not depend on the threshold are unchanged by it; the others follow it', async () => {
    const r = await classify({ threshold: 0.3 });
    expectClose(flat(r.metrics, r.rows, r.confusion_matrix.matrix), SKLEARN.overall_t03, 'threshold 0.3');
  });

  it('uses a predicted-label column instead of the threshold when --pred is given', async () => {
    const r = await classify({ pred: 'pred' });
    expect(r.threshold).toBeNull();
    expect(r.pred).toBe('pred');
    expectClose(flat(r.metrics, r.rows, r.confusion_matrix.matrix), SKLEARN.overall_pred, 'pred column');
  });

  it('bins the calibration curve as asked', async () => {
    const r = await classify({ calibrationBins: 5 });
    expectClose(r.calibration.bins, SKLEARN.calibration_5, 'calibration 5 bins');
  });

  it('reports each slice, nulls as their own slice last, and null ranking metrics where a slice has one class', async () => {
    const r = await classify({ slices: ['region'] });
    expect(Object.keys(r.slices)).toEqual(['region']);
    expect(r.slices.region.map((s) => s.value)).toEqual(['east', 'north', 'south', null]);
    for (const s of r.slices.region) {
      const key = (s.value ?? 'null') as keyof typeof SKLEARN.slices_region;
      expectClose(flat(s.metrics, s.count, s.confusion_matrix!.matrix), SKLEARN.slices_region[key], `slice ${key}`);
    }
    const east = r.slices.region[0];
    expect([east.metrics.roc_auc, east.metrics.pr_auc]).toEqual([null, null]);
  });

  it('computes fairness across the sensitive attribute as fairlearn defines it', async () => {
    const r = await classify({ group: 'sex' });
    expect(r.fairness).toHaveProperty('attribute', 'sex');
    expectClose(r.fairness, SKLEARN.fairness_sex, 'fairness');
    const groups = (r.fairness as { groups: { value: string | null; positives: number; negatives: number; count: number }[] }).groups;
    expect(groups.map((g) => g.value)).toEqual(['a', 'b', 'c', null]);
    for (const g of groups) expect(g.positives + g.negatives).toBe(g.count);
    expect((await classify()).fairness).toEqual({});
  });

  it('reads booleans, text labels with --positive, other numbers with --positive, Parquet, queries and tables alike', async () => {
    const parquet = path.join(tmp, 'p.parquet');
    await engine.run(`COPY (SELECT * FROM ${CSV}) TO ${sqlLiteral(parquet)} (FORMAT parquet)`);
    await engine.run(`CREATE TABLE fixture_predictions AS SELECT * FROM ${CSV}`);
    const variants: Partial<EvaluateOptions>[] = [
      { source: { path: parquet } },
      { source: { sql: `SELECT * FROM ${CSV}` } },
      { source: { sql: 'fixture_predictions' } },
      { source: { sql: `SELECT label = 1 AS label, score FROM ${CSV}` } },
      { label: 'label_text', positive: 'churn' },
      { source: { sql: `SELECT label + 1 AS label, score FROM ${CSV}` }, positive: '2' },
    ];
    for (const v of variants) {
      const r = await classify(v);
      expectClose(flat(r.metrics, r.rows, r.confusion_matrix.matrix), SKLEARN.overall, JSON.stringify(v));
    }
    const text = await classify({ label: 'label_text', positive: 'churn' });
    expect(text.confusion_matrix.labels).toEqual(['stay', 'churn']);
    // The other class as positive: recall becomes the negative class's recall of the 0/1 report.
    const flipped = await classify({ label: 'label_text', positive: 'stay', pred: undefined, threshold: undefined, source: { sql: `SELECT label_text, 1 - score AS score FROM ${CSV}` } });
    expect(flipped.confusion_matrix.labels).toEqual(['churn', 'stay']);
    expectClose(flipped.metrics.roc_auc, SKLEARN.overall.roc_auc, 'flipped roc_auc');
  });
});

describe('regression metrics against scikit-learn', () => {
  it('reports mae, rmse, r2 and mape overall and per slice (labels of 0 use float64 epsilon)', async () => {
    const r = (await evaluatePredictions(engine, { source: { path: REGRESSION }, label: 'y', score: 'yhat', slices: ['segment'] })) as RegressionReport;
    expect(r.task).toBe('regression');
    expectClose({ count: r.rows, ...r.metrics }, SKLEARN.regression, 'regression');
    expect(r.slices.segment.map((s) => s.value)).toEqual(['x', 'y']);
    for (const s of r.slices.segment) expectClose({ count: s.count, ...s.metrics }, SKLEARN.regression_segments[s.value as 'x' | 'y'], `segment ${s.value}`);
    expect(r.fairness).toEqual({});
    expect(Object.keys(r.metrics)).toEqual(['mae', 'rmse', 'r2', 'mape']);
  });

  it('infers regression from a numeric label that is not 0/1, and classification from 0/1', async () => {
    const r = await evaluatePredictions(engine, { source: { path: REGRESSION }, label: 'y', score: 'yhat' });
    expect(r.task).toBe('regression');
    expect((await classify()).task).toBe('classification');
  });
});

describe('bad input is refused with a clear FlywheelError', () => {
  const sql = (select: string) => ({ source: { sql: select } });

  it('one class only', async () => {
    const e = await refusal(sql(`SELECT * FROM ${CSV} WHERE region = 'east'`));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toMatch(/only one class \(0\)/);
  });

  it('labels that need --positive, or a --positive that is not a label', async () => {
    expect((await refusal({ label: 'label_text' })).message).toMatch(/values churn and stay; name the positive one with --positive/);
    expect((await refusal({ label: 'label_text', positive: 'maybe' })).message).toMatch(/--positive maybe is not a value/);
    expect((await refusal({ ...sql(`SELECT label + 1 AS label, score FROM ${CSV}`), task: 'classification' })).message).toMatch(/not 0 and 1; name the positive one/);
    expect((await refusal({ ...sql(`SELECT label = 1 AS label, score FROM ${CSV}`), positive: 'perhaps' })).message).toMatch(/expected true or false/);
  });

  it('more than two classes', async () => {
    expect((await refusal(sql(`SELECT CASE WHEN id < 5 THEN 'x' ELSE label_text END AS label, score FROM ${CSV}`))).message).toMatch(/3 distinct values/);
    const e = await refusal({ ...sql(`SELECT CASE WHEN id < 5 THEN 2 ELSE label END AS label, score FROM ${CSV}`), positive: '1' });
    expect(e.message).toMatch(/--label label has 3 distinct values/);
  });

  it('scores outside [0, 1], NaN or null scores, null labels', async () => {
    expect((await refusal(sql(`SELECT label, score * 2 AS score FROM ${CSV}`))).message).toMatch(/probabilities in \[0, 1\].*from 0 to 2/);
    expect((await refusal(sql(`SELECT label, CASE WHEN id = 3 THEN 'NaN'::DOUBLE ELSE score END AS score FROM ${CSV}`))).message).toMatch(/NaN or infinite in 1 rows/);
    expect((await refusal(sql(`SELECT label, CASE WHEN id < 2 THEN NULL ELSE score END AS score FROM ${CSV}`))).message).toMatch(/null in 2 of 60 rows/);
    expect((await refusal(sql(`SELECT CASE WHEN id = 0 THEN NULL ELSE label END AS label, score FROM ${CSV}`))).message).toMatch(/--label label is null in 1 of 60/);
  });

  it('empty input, a missing file, an unknown column, a non-numeric score', async () => {
    expect((await refusal(sql(`SELECT * FROM ${CSV} WHERE false`))).message).toMatch(/no rows/);
    const missing = await refusal({ source: { path: path.join(tmp, 'nope.parquet') } });
    expect(missing.code).toBe('FW_NOT_FOUND');
    expect((await refusal({ score: 'probability' })).message).toMatch(/--score probability: no such column; the predictions have id, label, label_text, score, pred, region, sex/);
    expect((await refusal({ score: 'region' })).message).toMatch(/--score region is VARCHAR; expected numbers/);
    const txt = path.join(tmp, 'p.txt');
    fs.writeFileSync(txt, 'label,score\n1,0.5\n');
    expect((await refusal({ source: { path: txt } })).message).toMatch(/expected a \.parquet, \.csv or \.tsv file/);
  });

  it('a predicted-label column with values outside the two labels', async () => {
    const e = await refusal({ ...sql(`SELECT label, score, CASE WHEN id = 7 THEN 5 ELSE pred END AS pred FROM ${CSV}`), pred: 'pred' });
    expect(e.message).toMatch(/--pred pred is null or neither 1 nor 0 in 1 rows/);
  });

  it('options that do not fit the task', async () => {
    expect((await refusal({ threshold: 1.5 })).message).toMatch(/--threshold must be a number in \[0, 1\]/);
    expect((await refusal({ threshold: 0.3, pred: 'pred' })).message).toMatch(/exclude each other/);
    const reg = { source: { path: REGRESSION }, label: 'y', score: 'yhat' };
    expect((await refusal({ ...reg, group: 'segment' })).message).toMatch(/--group \(fairness\) needs a classification task/);
    expect((await refusal({ ...reg, task: 'regression', pred: 'yhat' })).message).toMatch(/--pred is for classification/);
  });

  it('a slice column with too many values', async () => {
    const e = await refusal({ ...sql(`SELECT label, score, id * 1000 + range AS many FROM ${CSV}, range(20)`), slices: ['many'] });
    expect(e.code).toBe('FW_LIMIT_EXCEEDED');
    expect(e.message).toMatch(/column many has 1200 distinct values; slices and groups allow at most 1000/);
  });
});
