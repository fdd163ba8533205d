/**
 * `trainTabular`: reads a Parquet table through DuckDB, splits it (seeded),
 * fits preprocessing and one of the built-in algorithms on the training rows,
 * scores the held-out rows, and exports the whole thing as one ONNX graph.
 *
 * Decisions users see:
 * - Task: given, or inferred — logistic_regression classifies,
 *   linear_regression regresses; tree ensembles classify string and boolean
 *   targets and integer targets holding only 0 and 1, and regress the rest.
 * - Rows with a null target are dropped (counted in the preprocessing record).
 * - A feature that is null in every row, a target with one class, or a
 *   classification target with more than 100 classes is FW_INVALID_ARGUMENT.
 * - Classes are sorted (strings by code unit, numbers ascending); boolean
 *   targets are the classes 0 (false) and 1 (true), integer labels in the graph.
 * - The in-process model returned holds the same float32 parameters as the
 *   graph, so its predictions and the graph's agree to float32 rounding.
 */
import { invalidArgument } from '../../core/errors.js';
import { FLYWHEEL_VERSION } from '../../core/version.js';
import { chooseFeatures, describeParquet, isNumericType, loadTable } from './data.js';
import { fitLinearRegression, fitLogisticBinary, fitLogisticMultinomial, linearScores, type LinearModel } from './linear.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { buildOnnx, type Estimator } from './onnx.js';
import { algorithmInfo, validateParams, type ResolvedParams } from './params.js';
import { fitPreprocessor, type Preprocessor } from './preprocess.js';
import { seededRandom, splitRows } from './random.js';
import { ensembleRaw, fitGradientBoosting, fitRandomForest } from './trees.js';
import type {
  ClassLabel,
  Preprocessing,
  RawColumns,
  Signature,
  SignatureType,
  TabularModel,
  TabularPrediction,
  Task,
  TrainTabularOptions,
  TrainTabularResult,
} from './types.js';

export const MAX_CLASSES = 100;

/** Names of the graph outputs behind the signature's outputs. */
export const ONNX_OUTPUT_NAMES = {
  classification: { prediction: 'label', probability: 'probabilities' },
  regression: { prediction: 'prediction' },
} as const;

const f32 = Math.fround;

export async function trainTabular(options: TrainTabularOptions): Promise<TrainTabularResult> {
  const { engine, parquetPath, algo } = options;
  algorithmInfo(algo); // unknown algorithm: fail before touching the data
  if (options.task !== undefined && options.task !== 'classification' && options.task !== 'regression') {
    throw invalidArgument(`task must be 'classification' or 'regression'; got ${JSON.stringify(options.task)}`);
  }
  const described = await describeParquet(engine, parquetPath);
  const { target, features } = chooseFeatures(described, options.target, options.features);

  const targetAsNumber = target.type !== 'string';
  const table = await loadTable(engine, parquetPath, target, features, targetAsNumber);
  const task = options.task ?? inferTask(algo, target.type, table.target.values);
  if (task === 'regression' && !isNumericType(target.type)) {
    throw invalidArgument(`regression needs a numeric target; '${target.name}' is ${target.type}`);
  }
  const params = validateParams(algo, task, options.params);
  if (table.rowCount < 3) {
    throw invalidArgument(`target '${target.name}' has ${table.rowCount} non-null rows; training needs at least 3 (some are held out)`);
  }
  const allNull = features.filter((f) => isAllMissing(table.columns[f.name]));
  if (allNull.length) {
    throw invalidArgument(`feature${allNull.length > 1 ? 's' : ''} ${allNull.map((f) => `'${f.name}'`).join(', ')} ${allNull.length > 1 ? 'are' : 'is'} null in every row; drop ${allNull.length > 1 ? 'them' : 'it'} from the features`);
  }

  // Targets: class indices for classification, values for regression.
  let classes: ClassLabel[] | null = null;
  let yIndex: Int32Array | null = null;
  let yValue: Float64Array | null = null;
  if (task === 'classification') {
    ({ classes, yIndex } = encodeClasses(target.name, target.type, table.target.values));
  } else {
    yValue = table.target.values as Float64Array;
  }

  const seed = params.seed as number;
  const testFraction = params.test_fraction as number;
  const { train, test } = splitRows(table.rowCount, testFraction, seed);
  if (yIndex && new Set(Array.from(train, (r) => yIndex![r])).size < 2) {
    throw invalidArgument(`the training rows of target '${target.name}' hold one class; add rows of the other classes or lower test_fraction`);
  }

  const linear = algo === 'logistic_regression' || algo === 'linear_regression';
  const pre = fitPreprocessor(features, table.columns, train, {
    impute: params.impute as 'mean' | 'median',
    standardize: linear && (params.standardize as boolean),
    maxCategories: params.max_categories as number,
  });
  const p = pre.width;
  const Xtrain = pre.transform(table.columns, table.rowCount, train);
  const pick = <A extends Int32Array | Float64Array>(a: A, rows: Uint32Array): A => {
    const out = new (a.constructor as { new (n: number): A })(rows.length);
    rows.forEach((r, i) => (out[i] = a[r]));
    return out;
  };

  const estimator = fitEstimator(algo, task, params, Xtrain, train.length, p, yIndex ? pick(yIndex, train) : pick(yValue!, train), classes?.length ?? 0);
  const model = new InProcessModel(task, classes, pre, estimator);

  // Held-out metrics, from the in-process model (the graph's twin).
  const Xtest = pre.transform(table.columns, table.rowCount, test);
  const predicted = model.predictDesign(Xtest, test.length);
  const metrics = task === 'classification'
    ? classificationMetrics(pick(yIndex!, test), predicted.probabilities!, predicted.labelIndex!, classes!.length)
    : regressionMetrics(pick(yValue!, test), predicted.prediction!);

  const preprocessing: Preprocessing = {
    format: 1,
    features: pre.features,
    designColumns: pre.designColumns,
    target: { name: target.name, type: target.type, droppedNullRows: table.droppedNullTargets },
    split: { testFraction, seed, trainRows: train.length, testRows: test.length },
    graphInputs: { missingNumeric: 'NaN', missingCategorical: '', booleanAs: 'true/false strings', numericAs: 'float32' },
  };
  const onnx = buildOnnx({
    features: pre.features,
    task,
    classes,
    estimator,
    producerVersion: FLYWHEEL_VERSION,
    metadata: { 'flywheel.algo': algo, 'flywheel.target': target.name },
  });
  const signature: Signature = {
    inputs: features.map((f) => ({ name: f.name, type: f.type, nullable: true })),
    outputs:
      task === 'classification'
        ? [
            { name: 'prediction', type: typeof classes![0] === 'string' ? 'string' : 'long' },
            { name: 'probability', type: 'double', shape: [-1, classes!.length] },
          ]
        : [{ name: 'prediction', type: 'double' }],
  };
  const featureImportance = importance(estimator, pre, linear && (params.standardize as boolean));
  return {
    onnx,
    signature,
    task,
    classes,
    preprocessing,
    metrics,
    ...(featureImportance ? { featureImportance } : {}),
    algo,
    params,
    model,
  };
}

function inferTask(algo: string, type: SignatureType, values: Float64Array | string[]): Task {
  if (algo === 'logistic_regression') return 'classification';
  if (algo === 'linear_regression') return 'regression';
  if (type === 'string' || type === 'boolean') return 'classification';
  if (type === 'long' && (values as Float64Array).every((v) => v === 0 || v === 1)) return 'classification';
  return 'regression';
}

function isAllMissing(col: Float64Array | (string | null)[]): boolean {
  if (col instanceof Float64Array) return col.every((v) => Number.isNaN(v));
  return col.every((v) => v === null || v === '');
}

function encodeClasses(name: string, type: SignatureType, values: Float64Array | string[]): { classes: ClassLabel[]; yIndex: Int32Array } {
  let classes: ClassLabel[];
  if (typeof values[0] === 'string') {
    classes = [...new Set(values as string[])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } else {
    const nums = values as Float64Array;
    const bad = nums.find((v) => !Number.isInteger(v));
    if (bad !== undefined) {
      throw invalidArgument(`classification needs integer, string or boolean labels; target '${name}' holds ${bad} (use task 'regression')`);
    }
    classes = [...new Set(nums)].sort((a, b) => a - b);
    if (type === 'boolean') classes = [0, 1];
  }
  const present = new Set<ClassLabel>(values as ArrayLike<ClassLabel> as ClassLabel[]);
  if (present.size < 2) {
    throw invalidArgument(`target '${name}' has a single class (${JSON.stringify([...present][0])}); classification needs at least two`);
  }
  if (classes.length > MAX_CLASSES) {
    throw invalidArgument(`target '${name}' has ${classes.length} classes; at most ${MAX_CLASSES} (for a numeric target use task 'regression')`);
  }
  const index = new Map<ClassLabel, number>(classes.map((c, i) => [c, i]));
  const yIndex = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) yIndex[i] = index.get(values[i])!;
  return { classes, yIndex };
}

function maxFeaturesCount(setting: string | number, p: number): number {
  if (setting === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(p)));
  if (setting === 'log2') return Math.max(1, Math.floor(Math.log2(p)));
  if (setting === 'all') return p;
  return Math.max(1, Math.floor((setting as number) * p));
}

function fitEstimator(
  algo: string,
  task: Task,
  params: ResolvedParams,
  X: Float64Array,
  n: number,
  p: number,
  y: Int32Array | Float64Array,
  k: number,
): Estimator {
  const roundLinear = (m: LinearModel): LinearModel => ({ ...m, coef: m.coef.map(f32), intercept: m.intercept.map(f32) });
  switch (algo) {
    case 'logistic_regression': {
      const o = { C: params.C as number, maxIter: params.max_iter as number, tol: params.tol as number };
      const m = k === 2 ? fitLogisticBinary(X, n, p, Float64Array.from(y), o) : fitLogisticMultinomial(X, n, p, y as Int32Array, k, o);
      return { kind: 'linear', task, binary: k === 2, ...roundLinear(m) };
    }
    case 'linear_regression': {
      const m = fitLinearRegression(X, n, p, y as Float64Array, params.alpha as number);
      return { kind: 'linear', task, binary: false, ...roundLinear(m) };
    }
    case 'gradient_boosting':
      return {
        kind: 'trees',
        ensemble: fitGradientBoosting(X, n, p, y, task, k, {
          nEstimators: params.n_estimators as number,
          learningRate: params.learning_rate as number,
          maxDepth: params.max_depth as number,
          minSamplesLeaf: params.min_samples_leaf as number,
          l2: params.l2_regularization as number,
          maxBins: params.max_bins as number,
        }),
      };
    case 'random_forest':
      return {
        kind: 'trees',
        ensemble: fitRandomForest(X, n, p, y, task, k, {
          nEstimators: params.n_estimators as number,
          maxDepth: params.max_depth as number,
          minSamplesLeaf: params.min_samples_leaf as number,
          maxBins: params.max_bins as number,
          maxFeatures: maxFeaturesCount(params.max_features as string | number, p),
          bootstrap: params.bootstrap as boolean,
          random: seededRandom((params.seed as number) ^ 0x5bd1e995),
        }),
      };
    default:
      throw invalidArgument(`unknown algorithm '${algo}'`);
  }
}

/** The fitted model in this process: preprocessing + estimator, as the graph computes them. */
class InProcessModel implements TabularModel {
  constructor(
    readonly task: Task,
    readonly classes: ClassLabel[] | null,
    private readonly pre: Preprocessor,
    private readonly estimator: Estimator,
  ) {}

  predict(columns: RawColumns, rowCount: number): TabularPrediction {
    return this.predictDesign(this.pre.transform(columns, rowCount), rowCount);
  }

  predictDesign(X: Float64Array, n: number): TabularPrediction {
    const p = this.pre.width;
    const est = this.estimator;
    const scores = est.kind === 'linear' ? linearScores(X, n, p, est) : ensembleRaw(est.ensemble, X, n, p);
    if (this.task === 'regression') return { prediction: scores };
    const k = this.classes!.length;
    const probabilities = new Float64Array(n * k);
    const m = scores.length / n; // scores per row
    const forest = est.kind === 'trees' && est.ensemble.kind === 'random_forest';
    for (let i = 0; i < n; i++) {
      if (forest && m === k) {
        for (let c = 0; c < k; c++) probabilities[i * k + c] = scores[i * m + c];
      } else if (m === 1) {
        const q = forest ? scores[i] : sigmoid(scores[i]);
        probabilities[i * k] = 1 - q;
        probabilities[i * k + 1] = q;
      } else {
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, scores[i * m + c]);
        let sum = 0;
        for (let c = 0; c < k; c++) sum += probabilities[i * k + c] = Math.exp(scores[i * m + c] - max);
        for (let c = 0; c < k; c++) probabilities[i * k + c] /= sum;
      }
    }
    const labelIndex = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[i * k + c] > probabilities[i * k + best]) best = c;
      labelIndex[i] = best;
    }
    return { labelIndex, probabilities };
  }
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Per input feature, normalised to sum 1; linear models only when standardised (else scales differ). */
function importance(est: Estimator, pre: Preprocessor, standardized: boolean): Record<string, number> | undefined {
  const p = pre.width;
  const perColumn = new Float64Array(p);
  if (est.kind === 'trees') {
    perColumn.set(est.ensemble.gain);
  } else {
    if (!standardized) return undefined;
    for (let j = 0; j < est.coef.length; j++) perColumn[j % p] += Math.abs(est.coef[j]);
  }
  const out: Record<string, number> = {};
  let at = 0;
  let total = 0;
  for (const f of pre.features) {
    let s = 0;
    for (let j = 0; j < f.columns.length; j++) s += perColumn[at + j];
    at += f.columns.length;
    out[f.name] = s;
    total += s;
  }
  if (!(total > 0)) return undefined;
  for (const key of Object.keys(out)) out[key] /= total;
  return out;
}

