/**
 * The metric arithmetic of evaluation, over typed arrays: binary
 * classification, regression, calibration and group fairness. No DuckDB and
 * no I/O here, so the same code serves a million-row predictions file (whose
 * columns `load.ts` fetches already sorted by score) and permutation
 * importance (which scores in-memory predictions).
 *
 * Everything is computed in one or two linear passes with per-group
 * accumulators, never by filtering rows per group: a grouping (a slice
 * column, the sensitive attribute, or "everything") maps each row to a small
 * integer code and each pass updates every grouping at once.
 *
 * Definitions follow scikit-learn 1.2.1 (see README "Evaluation"):
 * - precision/recall/f1: binary for the positive class; `_macro` and
 *   `_weighted` average over both classes (labels=[0, 1]) by support; a 0/0
 *   is 0, as with sklearn's default zero_division.
 * - roc_auc: trapezoidal area under the ROC curve over distinct thresholds
 *   (ties count half); null where only one class is present (sklearn raises).
 * - pr_auc: average precision, Σ (R_k − R_{k−1}) P_k over distinct
 *   thresholds, no interpolation; null where there is no positive label.
 * - log_loss: probabilities clipped to [ε, 1−ε], ε = 2^−52 (float64 machine
 *   epsilon, sklearn 1.2's eps="auto").
 * - brier: mean (p − y)².
 * - mae, rmse, r2 (1 when predictions are exact, 0 when the labels are
 *   constant and predictions are not: sklearn's force_finite), mape
 *   (|y − ŷ| / max(|y|, ε)).
 */
import { invalidArgument } from '../core/errors.js';

/** float64 machine epsilon (numpy.finfo(float64).eps): log loss clipping and MAPE's floor. */
export const FLOAT64_EPS = 2 ** -52;

/** A score at or above the threshold is predicted positive. */
export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_CALIBRATION_BINS = 10;

/** Which group each row belongs to: codes[i] in [0, size); null codes put every row in group 0. */
export interface Grouping {
  codes: Int32Array | null;
  size: number;
}

export const OVERALL: Grouping = { codes: null, size: 1 };

/** Columns of a binary classification, one entry per row. */
export interface BinaryColumns {
  /** 1 where the label is the positive class, else 0. */
  positive: Uint8Array;
  /** Probability of the positive class, in [0, 1]. */
  score: Float64Array;
  /** 1 where the prediction is the positive class (a predicted-label column, or score ≥ threshold). */
  predicted: Uint8Array;
}

export interface ConfusionCounts {
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  precision_macro: number;
  recall_macro: number;
  f1_macro: number;
  precision_weighted: number;
  recall_weighted: number;
  f1_weighted: number;
  roc_auc: number | null;
  pr_auc: number | null;
  log_loss: number;
  brier: number;
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  /** null with fewer than two rows (sklearn returns NaN and warns). */
  r2: number | null;
  mape: number;
}

/**
 * Per-group sums for binary classification. `add` must see each group's rows
 * in descending score order (the ranking metrics close a block of tied
 * scores when the score changes); the other sums do not care about order.
 */
export class BinaryAccumulator {
  readonly n: Float64Array;
  readonly positives: Float64Array;
  readonly predictedPositive: Float64Array;
  /** Predicted positive and labelled positive. */
  readonly truePositive: Float64Array;
  readonly logLoss: Float64Array;
  readonly brier: Float64Array;
  // Ranking state: cumulative counts above the current score, the counts at the previous threshold, the areas.
  private readonly rankTp: Float64Array;
  private readonly rankFp: Float64Array;
  private readonly prevTp: Float64Array;
  private readonly prevFp: Float64Array;
  private readonly lastScore: Float64Array;
  /** Σ Δfp·(tp + tp_prev)/2: the ROC area in count units (divide by P·N). */
  private readonly rocArea: Float64Array;
  /** Σ Δtp·precision: average precision times P. */
  private readonly apSum: Float64Array;

  constructor(readonly size: number) {
    const f = () => new Float64Array(size);
    this.n = f();
    this.positives = f();
    this.predictedPositive = f();
    this.truePositive = f();
    this.logLoss = f();
    this.brier = f();
    this.rankTp = f();
    this.rankFp = f();
    this.prevTp = f();
    this.prevFp = f();
    this.lastScore = new Float64Array(size).fill(Number.NaN);
    this.rocArea = f();
    this.apSum = f();
  }

  add(g: number, positive: number, score: number, predicted: number, logLoss: number, brier: number): void {
    if (score !== this.lastScore[g]) {
      this.closeBlock(g);
      this.lastScore[g] = score;
    }
    this.n[g]++;
    this.logLoss[g] += logLoss;
    this.brier[g] += brier;
    if (positive) {
      this.positives[g]++;
      this.rankTp[g]++;
      if (predicted) this.truePositive[g]++;
    } else {
      this.rankFp[g]++;
    }
    if (predicted) this.predictedPositive[g]++;
  }

  /** Ends the run of rows tied at the last score: one point of the ROC and PR curves. */
  private closeBlock(g: number): void {
    const tp = this.rankTp[g];
    const fp = this.rankFp[g];
    const dTp = tp - this.prevTp[g];
    const dFp = fp - this.prevFp[g];
    if (dFp > 0) this.rocArea[g] += (dFp * (tp + this.prevTp[g])) / 2;
    if (dTp > 0) this.apSum[g] += dTp * (tp / (tp + fp));
    this.prevTp[g] = tp;
    this.prevFp[g] = fp;
  }

  /** Call once after the last row. */
  finish(): void {
    for (let g = 0; g < this.size; g++) this.closeBlock(g);
  }

  confusion(g: number): ConfusionCounts {
    const n = this.n[g];
    const p = this.positives[g];
    const tp = this.truePositive[g];
    const fp = this.predictedPositive[g] - tp;
    const fn = p - tp;
    return { tn: n - p - fp, fp, fn, tp };
  }

  metrics(g: number): ClassificationMetrics {
    const n = this.n[g];
    const p = this.positives[g];
    const neg = n - p;
    const { tn, fp, fn, tp } = this.confusion(g);
    const pos = prf(tp, fp, fn);
    const negative = prf(tn, fn, fp);
    const weighted = (a: number, b: number) => (n === 0 ? 0 : (a * p + b * neg) / n);
    return {
      accuracy: n === 0 ? 0 : (tp + tn) / n,
      precision: pos.precision,
      recall: pos.recall,
      f1: pos.f1,
      precision_macro: (pos.precision + negative.precision) / 2,
      recall_macro: (pos.recall + negative.recall) / 2,
      f1_macro: (pos.f1 + negative.f1) / 2,
      precision_weighted: weighted(pos.precision, negative.precision),
      recall_weighted: weighted(pos.recall, negative.recall),
      f1_weighted: weighted(pos.f1, negative.f1),
      roc_auc: p > 0 && neg > 0 ? this.rocArea[g] / (p * neg) : null,
      pr_auc: p > 0 ? this.apSum[g] / p : null,
      log_loss: n === 0 ? 0 : this.logLoss[g] / n,
      brier: n === 0 ? 0 : this.brier[g] / n,
    };
  }
}

/** Precision, recall and F1 of one class from its counts; 0/0 is 0 (sklearn's zero_division default). */
function prf(tp: number, fp: number, fn: number): { precision: number; recall: number; f1: number } {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** −log of the probability given to the true class, clipped as sklearn 1.2 clips. */
function rowLogLoss(positive: number, score: number): number {
  const p = score < FLOAT64_EPS ? FLOAT64_EPS : score > 1 - FLOAT64_EPS ? 1 - FLOAT64_EPS : score;
  return positive ? -Math.log(p) : -Math.log(1 - p);
}

/**
 * One pass over the rows in descending score order (`order`, or the array
 * order when null: `load.ts` fetches rows already sorted), updating one
 * accumulator per grouping.
 */
export function binaryPass(cols: BinaryColumns, groupings: Grouping[], order: Uint32Array | null = null): BinaryAccumulator[] {
  const { positive, score, predicted } = cols;
  const n = score.length;
  // Row losses once, then one tight loop per grouping (a monomorphic call site the JIT inlines).
  const logLoss = new Float64Array(n);
  const brier = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = positive[i];
    const s = score[i];
    logLoss[i] = rowLogLoss(y, s);
    brier[i] = (s - y) * (s - y);
  }
  return groupings.map((grouping) => {
    const acc = new BinaryAccumulator(grouping.size);
    const c = grouping.codes;
    for (let r = 0; r < n; r++) {
      const i = order === null ? r : order[r];
      acc.add(c === null ? 0 : c[i], positive[i], score[i], predicted[i], logLoss[i], brier[i]);
    }
    acc.finish();
    return acc;
  });
}

/** Row indices in descending score order (for arrays that did not come sorted from DuckDB). */
export function descendingOrder(score: Float64Array): Uint32Array {
  const order = new Uint32Array(score.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => score[b] - score[a]);
}

export interface CalibrationBin {
  /** Bin index, 0-based; bins are (lower, upper], the first also holds 0. */
  bin: number;
  lower: number;
  upper: number;
  count: number;
  /** Mean score in the bin (sklearn's prob_pred). */
  mean_predicted: number;
  /** Share of positive labels in the bin (sklearn's prob_true). */
  fraction_positive: number;
}

export interface CalibrationCurve {
  strategy: 'uniform';
  n_bins: number;
  /** Non-empty bins only, as sklearn.calibration.calibration_curve returns them. */
  bins: CalibrationBin[];
}

/**
 * sklearn.calibration.calibration_curve(strategy="uniform"): edges as
 * numpy.linspace(0, 1, n_bins + 1) computes them, a score goes to the bin
 * `searchsorted(edges[1:-1], score)` (side left), so a score equal to an
 * edge falls in the lower bin.
 */
export function calibrationCurve(positive: Uint8Array, score: Float64Array, nBins = 10): CalibrationCurve {
  if (!Number.isInteger(nBins) || nBins < 1) throw invalidArgument(`calibration bins must be a whole number of at least 1, got ${nBins}.`);
  const step = 1 / nBins;
  const edges = new Float64Array(nBins + 1);
  for (let j = 0; j < nBins; j++) edges[j] = j * step;
  edges[nBins] = 1;
  const total = new Float64Array(nBins);
  const sums = new Float64Array(nBins);
  const trues = new Float64Array(nBins);
  for (let i = 0; i < score.length; i++) {
    const s = score[i];
    // Guess from the step, then settle on the count of inner edges strictly below s.
    let b = Math.min(nBins - 1, Math.max(0, Math.floor(s * nBins)));
    while (b > 0 && !(edges[b] < s)) b--;
    while (b < nBins - 1 && edges[b + 1] < s) b++;
    total[b]++;
    sums[b] += s;
    trues[b] += positive[i];
  }
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    if (total[b] === 0) continue;
    bins.push({ bin: b, lower: edges[b], upper: edges[b + 1], count: total[b], mean_predicted: sums[b] / total[b], fraction_positive: trues[b] / total[b] });
  }
  return { strategy: 'uniform', n_bins: nBins, bins };
}

export interface FairnessGroup {
  /** The attribute's value as text; null for rows where it is null. */
  value: string | null;
  count: number;
  positives: number;
  negatives: number;
  selection_rate: number;
  /** 0 when the group has no positive labels (fairlearn: confusion_matrix(normalize="true") with nan_to_num). */
  tpr: number;
  /** 0 when the group has no negative labels (same rule). */
  fpr: number;
}

export interface FairnessMetrics {
  demographic_parity_difference: number;
  /** null when no group has any positive prediction (min/max is 0/0; fairlearn gives NaN). */
  demographic_parity_ratio: number | null;
  equalized_odds_difference: number;
  groups: FairnessGroup[];
}

/**
 * fairlearn's between-groups disparities from per-group counts: selection
 * rate, TPR and FPR per group, then max − min (and min / max for the
 * demographic parity ratio). Groups are listed in `order` (codes); groups
 * with no rows are skipped.
 */
export function fairnessFrom(acc: BinaryAccumulator, values: (string | null)[], order: number[] = Array.from({ length: acc.size }, (_, g) => g)): FairnessMetrics {
  const groups: FairnessGroup[] = [];
  for (const g of order) {
    const n = acc.n[g];
    if (n === 0) continue;
    const { fp, tp } = acc.confusion(g);
    const positives = acc.positives[g];
    const negatives = n - positives;
    groups.push({
      value: values[g],
      count: n,
      positives,
      negatives,
      selection_rate: acc.predictedPositive[g] / n,
      tpr: positives === 0 ? 0 : tp / positives,
      fpr: negatives === 0 ? 0 : fp / negatives,
    });
  }
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const rates = groups.map((g) => g.selection_rate);
  const maxRate = Math.max(...rates);
  return {
    demographic_parity_difference: spread(rates),
    demographic_parity_ratio: maxRate === 0 ? null : Math.min(...rates) / maxRate,
    equalized_odds_difference: Math.max(spread(groups.map((g) => g.tpr)), spread(groups.map((g) => g.fpr))),
    groups,
  };
}

/** Per-group sums for regression; two passes because R² needs each group's mean first. */
export class RegressionAccumulator {
  readonly n: Float64Array;
  private readonly sumY: Float64Array;
  private readonly sumAbs: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly sumApe: Float64Array;
  private readonly ssTot: Float64Array;

  constructor(readonly size: number) {
    const f = () => new Float64Array(size);
    this.n = f();
    this.sumY = f();
    this.sumAbs = f();
    this.sumSq = f();
    this.sumApe = f();
    this.ssTot = f();
  }

  addFirst(g: number, y: number, yhat: number): void {
    const e = y - yhat;
    const ae = Math.abs(e);
    this.n[g]++;
    this.sumY[g] += y;
    this.sumAbs[g] += ae;
    this.sumSq[g] += e * e;
    this.sumApe[g] += ae / Math.max(Math.abs(y), FLOAT64_EPS);
  }

  mean(g: number): number {
    return this.sumY[g] / this.n[g];
  }

  addSecond(g: number, deviation: number): void {
    this.ssTot[g] += deviation * deviation;
  }

  metrics(g: number): RegressionMetrics {
    const n = this.n[g];
    const ssRes = this.sumSq[g];
    const ssTot = this.ssTot[g];
    let r2: number | null;
    if (n < 2) r2 = null;
    else if (ssRes === 0) r2 = 1;
    else if (ssTot === 0) r2 = 0;
    else r2 = 1 - ssRes / ssTot;
    return { mae: this.sumAbs[g] / n, rmse: Math.sqrt(ssRes / n), r2, mape: this.sumApe[g] / n };
  }
}

export function regressionPass(label: Float64Array, prediction: Float64Array, groupings: Grouping[]): RegressionAccumulator[] {
  const accs = groupings.map((g) => new RegressionAccumulator(g.size));
  const n = label.length;
  groupings.forEach((grouping, j) => {
    const acc = accs[j];
    const c = grouping.codes;
    for (let i = 0; i < n; i++) acc.addFirst(c === null ? 0 : c[i], label[i], prediction[i]);
    const means = new Float64Array(grouping.size);
    for (let g = 0; g < grouping.size; g++) means[g] = acc.n[g] > 0 ? acc.mean(g) : 0;
    for (let i = 0; i < n; i++) {
      const g = c === null ? 0 : c[i];
      acc.addSecond(g, label[i] - means[g]);
    }
  });
  return accs;
}

// ---- The array API: one table of labels and scores, already in memory ----

function toFloat64(values: ArrayLike<number>, what: string): Float64Array {
  const out = values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw invalidArgument(`${what} must be finite numbers; row ${i} is ${String(values[i])}.`);
  }
  return out;
}

/** 0/1 from booleans or the numbers 0 and 1. */
export function toPositive(values: ArrayLike<unknown>, what: string): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v !== false && v !== 0) throw invalidArgument(`${what} must be 0/1 or booleans; row ${i} is ${JSON.stringify(v) ?? String(v)}.`);
  }
  return out;
}

export interface ArrayClassificationInput {
  /** 0/1 or booleans; 1 (true) is the positive class. */
  label: ArrayLike<unknown>;
  /** Probability of the positive class, in [0, 1]. */
  score: ArrayLike<number>;
  /** Predicted labels (0/1 or booleans); default score ≥ threshold. */
  predicted?: ArrayLike<unknown>;
  threshold?: number;
}

/** Validated columns for a binary classification held in memory. */
export function binaryColumns(input: ArrayClassificationInput): BinaryColumns {
  const score = toFloat64(input.score, 'scores');
  const positive = toPositive(input.label, 'labels');
  if (positive.length !== score.length) throw invalidArgument(`labels and scores differ in length (${positive.length} and ${score.length}).`);
  if (score.length === 0) throw invalidArgument('no rows to evaluate.');
  for (let i = 0; i < score.length; i++) {
    if (score[i] < 0 || score[i] > 1) throw invalidArgument(`scores must be probabilities in [0, 1]; row ${i} is ${score[i]}.`);
  }
  let predicted: Uint8Array;
  if (input.predicted !== undefined) {
    predicted = toPositive(input.predicted, 'predicted labels');
    if (predicted.length !== score.length) throw invalidArgument(`predicted labels and scores differ in length (${predicted.length} and ${score.length}).`);
  } else {
    predicted = thresholdScores(score, input.threshold ?? 0.5);
  }
  return { positive, score, predicted };
}

/** 1 where score ≥ threshold (a score equal to the threshold is predicted positive). */
export function thresholdScores(score: Float64Array, threshold: number): Uint8Array {
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) throw invalidArgument(`threshold must be a number in [0, 1], got ${threshold}.`);
  const out = new Uint8Array(score.length);
  for (let i = 0; i < score.length; i++) out[i] = score[i] >= threshold ? 1 : 0;
  return out;
}

/** Every classification metric of in-memory labels and scores. */
export function classificationMetrics(input: ArrayClassificationInput): ClassificationMetrics & { confusion_matrix: ConfusionCounts } {
  const cols = binaryColumns(input);
  const [acc] = binaryPass(cols, [OVERALL], descendingOrder(cols.score));
  return { ...acc.metrics(0), confusion_matrix: acc.confusion(0) };
}

/** Every regression metric of in-memory labels and predictions. */
export function regressionMetrics(label: ArrayLike<number>, prediction: ArrayLike<number>): RegressionMetrics {
  const y = toFloat64(label, 'labels');
  const yhat = toFloat64(prediction, 'predictions');
  if (y.length !== yhat.length) throw invalidArgument(`labels and predictions differ in length (${y.length} and ${yhat.length}).`);
  if (y.length === 0) throw invalidArgument('no rows to evaluate.');
  return regressionPass(y, yhat, [OVERALL])[0].metrics(0);
}
