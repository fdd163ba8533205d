/**
 * Feature preprocessing fitted on the training split: numeric imputation
 * (mean or median) and optional standardisation, categorical one-hot encoding
 * with the categories seen in training.
 *
 * The fitted statistics are rounded to float32 when fitted, because the ONNX
 * graph stores them as float32: training, in-process prediction and the graph
 * then all apply the very same numbers. The result is both the executable
 * transform and the `FeatureEncoding` records written into the package.
 */
import { invalidArgument } from '../../core/errors.js';
import { isNumericType, type SourceColumn } from './data.js';
import type { CategoricalFeature, FeatureEncoding, NumericFeature, RawColumns } from './types.js';

export interface PreprocessOptions {
  impute: 'mean' | 'median';
  standardize: boolean;
  maxCategories: number;
}

const f32 = Math.fround;

/** A raw value as a number; null, undefined, '' and NaN are missing (NaN). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined || v === '') return Number.NaN;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** A raw value as a category key; null, undefined and '' are missing (null). Booleans are 'true' / 'false'. */
export function toCategory(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number' && Number.isNaN(v)) return null;
  return String(v);
}

export class Preprocessor {
  readonly width: number;
  private readonly lookups: (Map<string | null, number> | null)[];

  constructor(readonly features: FeatureEncoding[]) {
    this.width = features.reduce((s, f) => s + f.columns.length, 0);
    this.lookups = features.map((f) => (f.kind === 'categorical' ? new Map(f.categories.map((c, i) => [c, i])) : null));
  }

  get designColumns(): string[] {
    return this.features.flatMap((f) => f.columns);
  }

  /** Encodes the rows (all, or the listed indices) as a row-major design matrix. */
  transform(columns: RawColumns, rowCount: number, rows?: Uint32Array): Float64Array {
    const n = rows ? rows.length : rowCount;
    const width = this.width;
    const out = new Float64Array(n * width);
    let offset = 0;
    this.features.forEach((f, k) => {
      const col = columns[f.name];
      if (!col) throw invalidArgument(`missing input column '${f.name}'`);
      if (f.kind === 'numeric') {
        const fill = f.impute.value;
        const shift = f.scale?.offset ?? 0;
        const mul = f.scale?.scale ?? 1;
        for (let r = 0; r < n; r++) {
          let v = toNumber(col[rows ? rows[r] : r]);
          if (Number.isNaN(v)) v = fill;
          v = f32(v);
          out[r * width + offset] = f.scale ? (v - shift) * mul : v;
        }
      } else {
        const lookup = this.lookups[k]!;
        for (let r = 0; r < n; r++) {
          const at = lookup.get(toCategory(col[rows ? rows[r] : r]));
          if (at !== undefined) out[r * width + offset + at] = 1;
        }
      }
      offset += f.columns.length;
    });
    return out;
  }
}

/** Fits imputation, scaling and one-hot categories on the training rows. */
export function fitPreprocessor(
  features: SourceColumn[],
  columns: RawColumns,
  train: Uint32Array,
  options: PreprocessOptions,
): Preprocessor {
  const encodings: FeatureEncoding[] = features.map((f) =>
    isNumericType(f.type) ? fitNumeric(f, columns[f.name], train, options) : fitCategorical(f, columns[f.name], train, options),
  );
  return new Preprocessor(encodings);
}

function fitNumeric(f: SourceColumn, col: ArrayLike<unknown>, train: Uint32Array, options: PreprocessOptions): NumericFeature {
  const values: number[] = [];
  for (const r of train) {
    const v = toNumber(col[r]);
    if (!Number.isNaN(v)) values.push(v);
  }
  if (values.length === 0) throw invalidArgument(`feature '${f.name}' has no values in the training rows (all null)`);
  let fill: number;
  if (options.impute === 'median') {
    values.sort((a, b) => a - b);
    const m = values.length >> 1;
    fill = values.length % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
  } else {
    fill = values.reduce((s, v) => s + v, 0) / values.length;
  }
  fill = f32(fill);
  const encoding: NumericFeature = {
    name: f.name,
    kind: 'numeric',
    type: f.type as 'double' | 'long',
    impute: { strategy: options.impute, value: fill },
    columns: [f.name],
  };
  if (options.standardize) {
    // Statistics of the imputed float32 column, population sd (as scikit-learn's StandardScaler after SimpleImputer).
    const n = train.length;
    let sum = 0;
    for (const r of train) {
      const v = toNumber(col[r]);
      sum += f32(Number.isNaN(v) ? fill : v);
    }
    const mean = sum / n;
    let ss = 0;
    for (const r of train) {
      const v = toNumber(col[r]);
      const d = f32(Number.isNaN(v) ? fill : v) - mean;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / n);
    encoding.scale = { offset: f32(mean), scale: f32(sd > 0 ? 1 / sd : 1) };
  }
  return encoding;
}

function fitCategorical(f: SourceColumn, col: ArrayLike<unknown>, train: Uint32Array, options: PreprocessOptions): CategoricalFeature {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const r of train) {
    const c = toCategory(col[r]);
    if (c === null) missing++;
    else counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  if (counts.size === 0) throw invalidArgument(`feature '${f.name}' has no values in the training rows (all null)`);
  const byValue = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  // Keep the most frequent (ties: smaller value first), then list them in value order.
  const kept = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || byValue(a[0], b[0]))
    .slice(0, options.maxCategories)
    .map(([c]) => c)
    .sort(byValue);
  const categories: (string | null)[] = missing > 0 ? [...kept, null] : kept;
  return {
    name: f.name,
    kind: 'categorical',
    type: f.type as 'string' | 'boolean',
    categories,
    unseen: 'zeros',
    droppedCategories: counts.size - kept.length,
    columns: categories.map((c) => `${f.name}=${c === null ? '<missing>' : c}`),
  };
}
