/**
 * Types of built-in tabular training: what `trainTabular` takes and returns,
 * and the preprocessing record that goes into a model package's manifest.
 *
 * The preprocessing record describes exactly what the exported ONNX graph does
 * before the estimator (imputation, scaling, one-hot encoding), so a model card
 * can show it and a reader can reproduce the graph's inputs by hand.
 */
import type { Engine } from '../../engine/index.js';

export type Task = 'classification' | 'regression';

/** A value type in a model signature (see the model package contract). */
export type SignatureType = 'double' | 'long' | 'string' | 'boolean';

export interface SignatureColumn {
  name: string;
  type: SignatureType;
  nullable?: boolean;
  shape?: number[];
}

export interface Signature {
  inputs: SignatureColumn[];
  outputs: SignatureColumn[];
}

/** A class label as it appears in the data: strings, or integers (booleans are 0 = false, 1 = true). */
export type ClassLabel = string | number;

export interface NumericFeature {
  name: string;
  kind: 'numeric';
  /** Signature type of the source column. */
  type: 'double' | 'long';
  /** Missing values (null, NaN) are replaced by this training-split statistic (stored as float32, as in the graph). */
  impute: { strategy: 'mean' | 'median'; value: number };
  /** Present for linear models with `standardize`: graph computes (x - offset) * scale. */
  scale?: { offset: number; scale: number };
  /** Names of the design-matrix columns this feature produces (one). */
  columns: string[];
}

export interface CategoricalFeature {
  name: string;
  kind: 'categorical';
  type: 'string' | 'boolean';
  /**
   * Categories seen in the training split, each its own 0/1 column, in this order.
   * `null` stands for "missing" when missing values were seen in training: missing
   * is then a category of its own. The graph receives missing as "" (empty string).
   */
  categories: (string | null)[];
  /** Values not in `categories` (unseen, rare beyond max_categories, or missing never seen in training) encode as all zeros. */
  unseen: 'zeros';
  /** Distinct training values dropped because of max_categories (they encode as unseen). */
  droppedCategories: number;
  columns: string[];
}

export type FeatureEncoding = NumericFeature | CategoricalFeature;

export interface Preprocessing {
  format: 1;
  features: FeatureEncoding[];
  /** The estimator's input, in order: every feature's `columns` concatenated. */
  designColumns: string[];
  target: {
    name: string;
    type: SignatureType;
    /** Rows whose target is null are dropped before training (never imputed). */
    droppedNullRows: number;
  };
  split: { testFraction: number; seed: number; trainRows: number; testRows: number };
  /** How the ONNX graph expects missing values on input: numeric NaN, categorical "". */
  graphInputs: { missingNumeric: 'NaN'; missingCategorical: ''; booleanAs: 'true/false strings'; numericAs: 'float32' };
}

/** Raw input columns, one array per feature, values as users have them (null = missing). */
export type RawColumns = Record<string, ArrayLike<unknown>>;

/** What an in-process model predicts for a batch. */
export interface TabularPrediction {
  /** Classification: index into `classes` per row. */
  labelIndex?: Int32Array;
  /** Classification: row-major n × classes.length probabilities. */
  probabilities?: Float64Array;
  /** Regression: the predicted value per row. */
  prediction?: Float64Array;
}

/** The trained model in this process: the same parameters the ONNX graph holds. */
export interface TabularModel {
  readonly task: Task;
  readonly classes: ClassLabel[] | null;
  predict(columns: RawColumns, rowCount: number): TabularPrediction;
}

export interface TrainTabularOptions {
  engine: Engine;
  /** A Parquet file (any path DuckDB's read_parquet accepts). */
  parquetPath: string;
  target: string;
  algo: string;
  /** Inferred when absent: see inferTask in train.ts. */
  task?: Task;
  params?: Record<string, unknown>;
  /** Feature columns; default every column but the target. */
  features?: string[];
}

export interface TrainTabularResult {
  onnx: Uint8Array;
  signature: Signature;
  task: Task;
  classes: ClassLabel[] | null;
  preprocessing: Preprocessing;
  /** Held-out split: classification auc, accuracy, log_loss; regression rmse, mae, r2. */
  metrics: Record<string, number>;
  /** Per input feature, sums to 1 (trees: total split gain; linear: |standardized coefficient|). */
  featureImportance?: Record<string, number>;
  /** The algorithm and every param value used (defaults filled in), for logging to the run. */
  algo: string;
  params: Record<string, string | number | boolean>;
  model: TabularModel;
}
