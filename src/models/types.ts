/**
 * What a loaded model offers whatever its flavor: the manifest, batch predict
 * over rows, a columnar predict over typed arrays for throughput, and close.
 * Serving, evaluation and promotion gates are written against this alone.
 */
import type { ColumnBatch, ModelManifest } from './manifest.js';

/** One row's prediction: the label or value, and for classifiers the class probabilities in `manifest.classes` order. */
export interface Prediction {
  prediction: number | string;
  probability?: number[];
}

/** Predictions of a column batch, as arrays rather than one object per row. */
export interface ColumnarPredictions {
  n: number;
  /** Labels (strings, or numbers for integer labels) or regression values. */
  prediction: Float32Array | Float64Array | Int32Array | string[] | number[];
  /** Class probabilities, row-major n × `probabilityColumns`, in `manifest.classes` order. */
  probability?: Float32Array | Float64Array;
  probabilityColumns?: number;
}

export interface LoadedModel {
  readonly manifest: ModelManifest;
  /** Where the package was read from (`runs:/<runId>/model`) and the local directory holding its files. */
  readonly source: string;
  readonly dir: string;
  /** Validates the rows against the signature (extra fields ignored) and predicts them as one batch. */
  predict(rows: readonly Record<string, unknown>[]): Promise<Prediction[]>;
  /** The same as predict over columns: numeric inputs as typed arrays (Float32Array avoids a copy for float ONNX inputs), strings as arrays. */
  predictColumns(columns: ColumnBatch): Promise<ColumnarPredictions>;
  /** Releases the session or module state; predict after close is FW_INVALID_STATE. */
  close(): Promise<void>;
}

/**
 * Turns `models:/name@alias` or `models:/name/3` into where the package is (the
 * registry's `resolveModelUri` fits): `packageUri` (`runs:/<runId>/<path>`)
 * when given, else `source`.
 */
export type ModelUriResolver = (uri: string) => Promise<{ source: string; packageUri?: string | null }>;
