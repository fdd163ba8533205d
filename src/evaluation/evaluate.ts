/**
 * `evaluatePredictions`: the evaluation report of a predictions table —
 * overall metrics, confusion matrix and calibration curve, the same metrics
 * per slice of each slice column, and fairness across a sensitive attribute.
 * This is what `flywheel evaluate --predictions … --json` prints and what a
 * model evaluation (model + dataset → predictions) will report.
 *
 * Shape of the report (keys are stable; gates and model cards read them):
 * `metrics` holds only numbers (or null where a metric is undefined), so a
 * rule can name any key; the confusion matrix and the calibration curve sit
 * beside it; `slices` maps each slice column to its values in text order,
 * null last; `fairness` is `{}` without a sensitive attribute.
 */
import { invalidArgument } from '../core/errors.js';
import type { Engine } from '../engine/index.js';
import { loadPredictions, type GroupColumn, type PredictionSource, type Task } from './load.js';
import {
  binaryPass,
  calibrationCurve,
  DEFAULT_CALIBRATION_BINS,
  DEFAULT_THRESHOLD,
  fairnessFrom,
  OVERALL,
  regressionPass,
  thresholdScores,
  type BinaryAccumulator,
  type CalibrationCurve,
  type ClassificationMetrics,
  type FairnessMetrics,
  type RegressionAccumulator,
  type RegressionMetrics,
} from './metrics.js';

export interface EvaluateOptions {
  source: PredictionSource;
  /** The true label column. */
  label: string;
  /** Probability of the positive class (classification) or the predicted value (regression). */
  score: string;
  /** A predicted-label column; when given, threshold metrics use it instead of score ≥ threshold. */
  pred?: string;
  /** The sensitive attribute for fairness (classification only). */
  group?: string;
  /** Categorical columns to report metrics per value of. */
  slices?: string[];
  /** Default 0.5; a score equal to the threshold is predicted positive. */
  threshold?: number;
  /** Inferred when absent: booleans, text and 0/1 labels are classification, other numbers regression. */
  task?: Task;
  /** The positive label value (required for text labels and for numbers other than 0/1). */
  positive?: string;
  calibrationBins?: number;
}

export interface ConfusionMatrixReport {
  /** [negative, positive] label values; rows are true labels, columns predictions, as sklearn's confusion_matrix. */
  labels: [string, string];
  matrix: [[number, number], [number, number]];
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

export interface SliceReport<M> {
  /** The slice value as text; null for rows where the column is null. */
  value: string | null;
  count: number;
  metrics: M;
  confusion_matrix?: ConfusionMatrixReport;
}

export interface FairnessReport extends FairnessMetrics {
  attribute: string;
}

export interface ClassificationReport {
  task: 'classification';
  rows: number;
  label: string;
  score: string;
  positive: string;
  negative: string;
  /** null when predictions came from --pred. */
  threshold: number | null;
  pred: string | null;
  metrics: ClassificationMetrics;
  confusion_matrix: ConfusionMatrixReport;
  calibration: CalibrationCurve;
  slices: Record<string, SliceReport<ClassificationMetrics>[]>;
  fairness: FairnessReport | Record<string, never>;
}

export interface RegressionReport {
  task: 'regression';
  rows: number;
  label: string;
  score: string;
  metrics: RegressionMetrics;
  slices: Record<string, SliceReport<RegressionMetrics>[]>;
  fairness: Record<string, never>;
}

export type EvaluationReport = ClassificationReport | RegressionReport;

/** Codes in report order: the named values (sorted), then null. */
function reportOrder(size: number): number[] {
  return [...Array.from({ length: size - 1 }, (_, i) => i + 1), 0];
}

function checkOptions(o: EvaluateOptions): void {
  if (o.threshold !== undefined && (!Number.isFinite(o.threshold) || o.threshold < 0 || o.threshold > 1)) {
    throw invalidArgument(`--threshold must be a number in [0, 1], got ${o.threshold}.`);
  }
  if (o.threshold !== undefined && o.pred !== undefined) throw invalidArgument('--threshold and --pred exclude each other: --pred already holds the predicted labels.');
  if (o.task === 'regression') {
    if (o.group !== undefined) throw invalidArgument('--group (fairness) needs a classification task.');
    if (o.threshold !== undefined) throw invalidArgument('--threshold is for classification.');
  }
  if (o.calibrationBins !== undefined && (!Number.isInteger(o.calibrationBins) || o.calibrationBins < 1)) {
    throw invalidArgument(`calibration bins must be a whole number of at least 1, got ${o.calibrationBins}.`);
  }
}

/** Evaluates a predictions table on `engine`; bad input is a FlywheelError (FW_INVALID_ARGUMENT, FW_NOT_FOUND, FW_LIMIT_EXCEEDED). */
export async function evaluatePredictions(engine: Engine, o: EvaluateOptions): Promise<EvaluationReport> {
  checkOptions(o);
  const slices = [...new Set(o.slices ?? [])];
  const groupBy = [...new Set([...slices, ...(o.group === undefined ? [] : [o.group])])];
  const loaded = await loadPredictions(engine, { source: o.source, label: o.label, score: o.score, pred: o.pred, groupBy, task: o.task, positive: o.positive });
  const byColumn = new Map(loaded.groups.map((g, i) => [g.column, i + 1]));

  if (loaded.task === 'regression') {
    if (o.group !== undefined) throw invalidArgument('--group (fairness) needs a classification task; the label looks numeric (pass --task classification with --positive if it is a class).');
    if (o.threshold !== undefined) throw invalidArgument('--threshold is for classification.');
    const accs = regressionPass(loaded.label, loaded.prediction, [OVERALL, ...loaded.groups.map((g) => g.grouping)]);
    return {
      task: 'regression',
      rows: loaded.rows,
      label: o.label,
      score: o.score,
      metrics: accs[0].metrics(0),
      slices: Object.fromEntries(slices.map((c) => [c, regressionSlices(accs[byColumn.get(c)!], loaded.groups[byColumn.get(c)! - 1])])),
      fairness: {},
    };
  }

  const { positive, score } = loaded.columns;
  const threshold = o.pred === undefined ? (o.threshold ?? DEFAULT_THRESHOLD) : null;
  const predicted = loaded.columns.predicted ?? thresholdScores(score, threshold!);
  const accs = binaryPass({ positive, score, predicted }, [OVERALL, ...loaded.groups.map((g) => g.grouping)]);
  const labels: [string, string] = [loaded.negative, loaded.positive];
  let fairness: FairnessReport | Record<string, never> = {};
  if (o.group !== undefined) {
    const i = byColumn.get(o.group)!;
    const g = loaded.groups[i - 1];
    fairness = { attribute: o.group, ...fairnessFrom(accs[i], g.values, reportOrder(g.grouping.size)) };
  }
  return {
    task: 'classification',
    rows: loaded.rows,
    label: o.label,
    score: o.score,
    positive: loaded.positive,
    negative: loaded.negative,
    threshold,
    pred: o.pred ?? null,
    metrics: accs[0].metrics(0),
    confusion_matrix: confusionReport(accs[0], 0, labels),
    calibration: calibrationCurve(positive, score, o.calibrationBins ?? DEFAULT_CALIBRATION_BINS),
    slices: Object.fromEntries(slices.map((c) => [c, classificationSlices(accs[byColumn.get(c)!], loaded.groups[byColumn.get(c)! - 1], labels)])),
    fairness,
  };
}

function confusionReport(acc: BinaryAccumulator, g: number, labels: [string, string]): ConfusionMatrixReport {
  const { tn, fp, fn, tp } = acc.confusion(g);
  return { labels, matrix: [[tn, fp], [fn, tp]], tn, fp, fn, tp };
}

function classificationSlices(acc: BinaryAccumulator, group: GroupColumn, labels: [string, string]): SliceReport<ClassificationMetrics>[] {
  return reportOrder(group.grouping.size)
    .filter((g) => acc.n[g] > 0)
    .map((g) => ({ value: group.values[g], count: acc.n[g], metrics: acc.metrics(g), confusion_matrix: confusionReport(acc, g, labels) }));
}

function regressionSlices(acc: RegressionAccumulator, group: GroupColumn): SliceReport<RegressionMetrics>[] {
  return reportOrder(group.grouping.size)
    .filter((g) => acc.n[g] > 0)
    .map((g) => ({ value: group.values[g], count: acc.n[g], metrics: acc.metrics(g) }));
}
