/**
 * The built-in algorithms and their params: one table that validates user
 * input (CLI flags, pipeline YAML, SDK calls) and fills in defaults.
 *
 * Values may arrive as strings (`--param C=0.5`, YAML scalars), so numbers and
 * booleans are parsed here; anything unknown or out of range is a
 * FW_INVALID_ARGUMENT that lists what is accepted.
 */
import { invalidArgument } from '../../core/errors.js';
import type { Task } from './types.js';

type ParamValue = string | number | boolean;

interface ParamSpec {
  kind: 'number' | 'integer' | 'boolean' | 'enum' | 'max_features';
  default: ParamValue | ((task: Task) => ParamValue);
  min?: number;
  max?: number;
  /** min is exclusive. */
  above?: boolean;
  values?: readonly string[];
  doc: string;
}

export interface AlgorithmInfo {
  name: string;
  tasks: readonly Task[];
  description: string;
  params: Readonly<Record<string, ParamSpec>>;
}

const COMMON: Record<string, ParamSpec> = {
  test_fraction: { kind: 'number', default: 0.2, min: 0, above: true, max: 0.9, doc: 'share of rows held out for the reported metrics' },
  seed: { kind: 'integer', default: 42, min: 0, max: 2 ** 31 - 1, doc: 'seed of the held-out split and of any randomness in training' },
  impute: { kind: 'enum', default: 'mean', values: ['mean', 'median'], doc: 'statistic that replaces missing numeric values' },
  max_categories: { kind: 'integer', default: 50, min: 1, max: 10_000, doc: 'most frequent categories kept per categorical column; the rest encode as unseen' },
};

const TREE: Record<string, ParamSpec> = {
  n_estimators: { kind: 'integer', default: 100, min: 1, max: 10_000, doc: 'number of trees (per class for multiclass boosting)' },
  min_samples_leaf: { kind: 'integer', default: 1, min: 1, max: 1e9, doc: 'fewest training rows in a leaf' },
  max_bins: { kind: 'integer', default: 255, min: 2, max: 255, doc: 'histogram bins per feature' },
};

export const algorithms: readonly AlgorithmInfo[] = [
  {
    name: 'logistic_regression',
    tasks: ['classification'],
    description: 'L2-regularised logistic regression (binary by Newton, multinomial by L-BFGS), as scikit-learn LogisticRegression(C)',
    params: {
      ...COMMON,
      C: { kind: 'number', default: 1, min: 0, above: true, doc: 'inverse L2 strength: minimises C·Σ log loss + ½‖w‖² (intercept not penalised)' },
      standardize: { kind: 'boolean', default: true, doc: 'scale numeric features to mean 0, sd 1 (training split)' },
      max_iter: { kind: 'integer', default: 500, min: 1, max: 100_000, doc: 'solver iterations' },
      tol: { kind: 'number', default: 1e-8, min: 0, above: true, doc: 'stop when the largest gradient entry of the mean loss is below this' },
    },
  },
  {
    name: 'linear_regression',
    tasks: ['regression'],
    description: 'least squares, or ridge when alpha > 0 (closed form), as scikit-learn LinearRegression / Ridge(alpha)',
    params: {
      ...COMMON,
      alpha: { kind: 'number', default: 0, min: 0, doc: 'L2 penalty: minimises ‖y − Xw − b‖² + alpha‖w‖²; 0 = least squares (minimum-norm when collinear)' },
      standardize: { kind: 'boolean', default: true, doc: 'scale numeric features to mean 0, sd 1 (training split)' },
    },
  },
  {
    name: 'random_forest',
    tasks: ['classification', 'regression'],
    description: 'bagged histogram CART trees (Gini / squared error), probabilities or values averaged',
    params: {
      ...COMMON,
      ...TREE,
      max_depth: { kind: 'integer', default: 10, min: 1, max: 30, doc: 'deepest level of a tree (root is 0)' },
      max_features: { kind: 'max_features', default: (task) => (task === 'classification' ? 'sqrt' : 'all'), values: ['sqrt', 'log2', 'all'], doc: "features tried per split: 'sqrt', 'log2', 'all' or a fraction in (0, 1]" },
      bootstrap: { kind: 'boolean', default: true, doc: 'train each tree on a bootstrap sample of the rows' },
    },
  },
  {
    name: 'gradient_boosting',
    tasks: ['classification', 'regression'],
    description: 'histogram gradient boosting (squared error, binary or multiclass log loss), as scikit-learn HistGradientBoosting with depth-limited trees',
    params: {
      ...COMMON,
      ...TREE,
      min_samples_leaf: { ...TREE.min_samples_leaf, default: 20 },
      max_depth: { kind: 'integer', default: 6, min: 1, max: 30, doc: 'deepest level of a tree (root is 0)' },
      learning_rate: { kind: 'number', default: 0.1, min: 0, above: true, max: 10, doc: 'shrinkage of each tree' },
      l2_regularization: { kind: 'number', default: 0, min: 0, doc: 'λ in leaf value −G/(H+λ)' },
    },
  },
];

export type ResolvedParams = Record<string, ParamValue>;

export function algorithmInfo(algo: string): AlgorithmInfo {
  const info = algorithms.find((a) => a.name === algo);
  if (!info) {
    throw invalidArgument(`unknown algorithm '${algo}'; known: ${algorithms.map((a) => a.name).join(', ')}`);
  }
  return info;
}

/** Checks `params` against the algorithm's table and returns every param with defaults filled in. */
export function validateParams(algo: string, task: Task, params: Record<string, unknown> = {}): ResolvedParams {
  const info = algorithmInfo(algo);
  if (!info.tasks.includes(task)) {
    throw invalidArgument(`algorithm '${algo}' does not do ${task}; it does ${info.tasks.join(', ')}`);
  }
  const known = Object.keys(info.params);
  for (const key of Object.keys(params)) {
    if (!(key in info.params)) {
      throw invalidArgument(`unknown param '${key}' for ${algo}; known: ${known.join(', ')}`);
    }
  }
  const out: ResolvedParams = {};
  for (const [key, spec] of Object.entries(info.params)) {
    const given = params[key];
    if (given === undefined || given === null) {
      out[key] = typeof spec.default === 'function' ? spec.default(task) : spec.default;
    } else {
      out[key] = parseValue(algo, key, spec, given);
    }
  }
  return out;
}

function parseValue(algo: string, key: string, spec: ParamSpec, given: unknown): ParamValue {
  const bad = (expected: string) => invalidArgument(`param '${key}' of ${algo} must be ${expected}; got ${JSON.stringify(given)}`);
  if (spec.kind === 'boolean') {
    if (typeof given === 'boolean') return given;
    if (given === 'true' || given === 'false') return given === 'true';
    throw bad('true or false');
  }
  if (spec.kind === 'enum' || (spec.kind === 'max_features' && typeof given === 'string' && spec.values!.includes(given))) {
    if (typeof given === 'string' && spec.values!.includes(given)) return given;
    throw bad(`one of ${spec.values!.join(', ')}`);
  }
  const n = typeof given === 'number' ? given : typeof given === 'string' && given.trim() !== '' ? Number(given) : Number.NaN;
  if (spec.kind === 'max_features') {
    if (Number.isFinite(n) && n > 0 && n <= 1) return n;
    throw bad(`one of ${spec.values!.join(', ')} or a fraction in (0, 1]`);
  }
  const range = `${spec.above ? '>' : '≥'} ${spec.min ?? '-∞'}${spec.max !== undefined ? ` and ≤ ${spec.max}` : ''}`;
  const expected = `${spec.kind === 'integer' ? 'an integer' : 'a number'} ${range}`;
  if (!Number.isFinite(n) || (spec.kind === 'integer' && !Number.isInteger(n))) throw bad(expected);
  if (spec.min !== undefined && (spec.above ? n <= spec.min : n < spec.min)) throw bad(expected);
  if (spec.max !== undefined && n > spec.max) throw bad(expected);
  return n;
}
