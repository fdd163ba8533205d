/**
 * Permutation feature importance (as sklearn.inspection.permutation_importance
 * defines it): score the model on the data, then again with one feature's
 * column shuffled, `repeats` times per feature; a feature's importance is how
 * much the score gets worse. Written against a bare `predict(columns) →
 * scores` so any model (a loaded package, an ONNX session, a JS function)
 * can be plugged in by its caller.
 *
 * Shuffles come from a seeded generator (mulberry32), one stream per
 * feature derived from the seed and the feature's name, so results are
 * reproducible and do not depend on which other features are measured.
 */
import { invalidArgument } from '../core/errors.js';
import { classificationMetrics, regressionMetrics, type ClassificationMetrics, type RegressionMetrics } from './metrics.js';

/** Feature columns by name, all of one length. */
export type Columns = Record<string, ArrayLike<unknown>>;

/** Scores for each row: the positive-class probability (classification) or the predicted value (regression). */
export type PredictFn = (columns: Columns) => ArrayLike<number> | Promise<ArrayLike<number>>;

export type NamedMetric = keyof ClassificationMetrics | keyof RegressionMetrics;

export interface CustomMetric {
  name: string;
  /** true for scores (accuracy, AUC), false for losses (log loss, RMSE). */
  greaterIsBetter: boolean;
  compute(label: ArrayLike<unknown>, scores: ArrayLike<number>): number;
}

export interface PermutationOptions {
  predict: PredictFn;
  columns: Columns;
  /** True labels: 0/1 or booleans for classification metrics, numbers for regression metrics. */
  label: ArrayLike<unknown>;
  metric: NamedMetric | CustomMetric;
  /** Features to permute; default every column. */
  features?: string[];
  /** Shuffles per feature (default 5, sklearn's n_repeats). */
  repeats?: number;
  seed?: number;
  /** Threshold for the threshold metrics (accuracy, precision, recall, f1…); default 0.5. */
  threshold?: number;
}

export interface FeatureImportance {
  feature: string;
  importance_mean: number;
  /** Population standard deviation over the repeats (numpy's std, as sklearn reports). */
  importance_std: number;
  importances: number[];
}

export interface PermutationImportance {
  metric: string;
  greater_is_better: boolean;
  baseline: number;
  repeats: number;
  seed: number;
  /** Most important first. */
  features: FeatureImportance[];
}

const LOSSES = new Set(['log_loss', 'brier', 'mae', 'rmse', 'mape']);
const REGRESSION = new Set(['mae', 'rmse', 'r2', 'mape']);

/** A named metric as a scoring function over labels and scores. */
export function metricFunction(name: NamedMetric, threshold = 0.5): CustomMetric {
  const regression = REGRESSION.has(name);
  return {
    name,
    greaterIsBetter: !LOSSES.has(name),
    compute(label, scores) {
      const value = regression
        ? regressionMetrics(label as ArrayLike<number>, scores)[name as keyof RegressionMetrics]
        : classificationMetrics({ label, score: scores, threshold })[name as keyof ClassificationMetrics];
      if (typeof value !== 'number') throw invalidArgument(`${name} is undefined on this data (for example only one class among the labels).`);
      return value;
    },
  };
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed per feature: FNV-1a of the name, mixed with the user's seed. */
function featureSeed(seed: number, feature: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < feature.length; i++) h = Math.imul(h ^ feature.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A copy of `values` in the order of a Fisher–Yates shuffle (same kind of array as the input). */
function shuffled(values: ArrayLike<unknown>, random: () => number): ArrayLike<unknown> {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const out: { [i: number]: unknown; length: number } = ArrayBuffer.isView(values)
    ? new (values.constructor as new (n: number) => { [i: number]: unknown; length: number })(n)
    : new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = values[order[i]];
  return out as ArrayLike<unknown>;
}

export async function permutationImportance(o: PermutationOptions): Promise<PermutationImportance> {
  const names = Object.keys(o.columns);
  const n = o.label.length;
  for (const name of names) {
    if (o.columns[name].length !== n) throw invalidArgument(`column ${name} has ${o.columns[name].length} rows; the labels have ${n}.`);
  }
  if (n === 0) throw invalidArgument('no rows to compute permutation importance on.');
  const features = o.features ?? names;
  for (const f of features) if (!(f in o.columns)) throw invalidArgument(`feature ${f} is not among the columns (${names.join(', ')}).`);
  const repeats = o.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw invalidArgument(`repeats must be a whole number of at least 1, got ${repeats}.`);
  const seed = o.seed ?? 0;
  const metric = typeof o.metric === 'string' ? metricFunction(o.metric, o.threshold) : o.metric;

  const score = async (columns: Columns): Promise<number> => {
    const scores = await o.predict(columns);
    if (scores.length !== n) throw invalidArgument(`the model returned ${scores.length} scores for ${n} rows.`);
    return metric.compute(o.label, scores);
  };
  const baseline = await score(o.columns);
  const result: FeatureImportance[] = [];
  for (const feature of features) {
    const random = generator(featureSeed(seed, feature));
    const importances: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const permuted = await score({ ...o.columns, [feature]: shuffled(o.columns[feature], random) });
      importances.push(metric.greaterIsBetter ? baseline - permuted : permuted - baseline);
    }
    const mean = importances.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(importances.reduce((a, b) => a + (b - mean) * (b - mean), 0) / repeats);
    result.push({ feature, importance_mean: mean, importance_std: std, importances });
  }
  result.sort((a, b) => b.importance_mean - a.importance_mean);
  return { metric: metric.name, greater_is_better: metric.greaterIsBetter, baseline, repeats, seed, features: result };
}
