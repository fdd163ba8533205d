/**
 * The evaluation slice's public surface: evaluating a predictions table
 * (file or DuckDB relation), the in-memory metric functions,
 * permutation feature importance against any `predict(columns)`, and
 * evaluating a model on a dataset version (model.ts).
 */
export { evaluatePredictions } from './evaluate.js';
export type { ClassificationReport, ConfusionMatrixReport, EvaluateOptions, EvaluationReport, FairnessReport, RegressionReport, SliceReport } from './evaluate.js';
export { MAX_GROUP_VALUES, type PredictionSource, type Task } from './load.js';
export { calibrationCurve, classificationMetrics, DEFAULT_CALIBRATION_BINS, DEFAULT_THRESHOLD, FLOAT64_EPS, regressionMetrics } from './metrics.js';
export type { CalibrationCurve, ClassificationMetrics, FairnessGroup, FairnessMetrics, RegressionMetrics } from './metrics.js';
export { metricFunction, permutationImportance } from './permutation.js';
export type { Columns, CustomMetric, FeatureImportance, NamedMetric, PermutationImportance, PermutationOptions, PredictFn } from './permutation.js';
export { renderEvaluation } from './render.js';
export { registerEvaluateCommands } from './commands.js';
export { EVAL_TAG_PREFIX, EVALUATION_ARTIFACT, evaluateModel, evaluationTagKey, latestEvaluation } from './model.js';
export type { EvaluateModelOptions, ImportanceOptions, LatencyReport, ModelEvaluation } from './model.js';
