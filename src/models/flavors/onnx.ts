/**
 * The `onnx` flavor: a package's `model.onnx` served through onnxruntime-node.
 *
 * Inputs are matched to the signature once, at load, in one of two ways:
 * - one input per signature column, with the same names, each [N, 1] or [N]
 *   (what scikit-learn-onnx and Flywheel's built-in training produce), or
 * - a single float/double input [N, F] taking the signature's (numeric)
 *   columns in signature order.
 * Anything else is a load error listing both sides. Outputs: classifiers
 * give a label output (`label`, `output_label`, or the first string/integer
 * output) and a probability output (`probabilities`, `output_probability`…;
 * a ZipMap's seq(map) form is unzipped at load, see onnx-graph.ts);
 * regressors give `variable` or their first numeric output.
 *
 * Rows are validated and written straight into the input tensors (a [N, F]
 * input is filled in place, column by column); the columnar path hands a
 * Float32Array of the right type to onnxruntime without copying it. Missing
 * values: null becomes NaN in float inputs (what ONNX Imputers look for) and
 * "" in string inputs; an integer or boolean input cannot hold one. A boolean
 * column fed to a string input is "true"/"false" (the built-in training's
 * convention for categorical booleans).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { FlywheelError, invalidArgument } from '../../core/errors.js';
import {
  checkColumns,
  readStringColumn,
  writeNumericColumn,
  type Column,
  type ColumnBatch,
  type InputType,
  type ModelManifest,
  type ModelSignature,
  type ModelTask,
  type OutputType,
  type SignatureInput,
} from '../manifest.js';
import type { ColumnarPredictions, LoadedModel, Prediction } from '../types.js';
import { classLabels, decodeModel, encodeModel, unzipMapOutputs } from './onnx-graph.js';

/** What onnxruntime says about one input or output. */
export interface ValueMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

type FeedType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';

const ACCEPTS: Record<InputType, readonly FeedType[]> = {
  double: ['float32', 'float64'],
  long: ['int64', 'int32', 'float32', 'float64'],
  // Strings "true"/"false" are how the built-in training's graphs take booleans (as a category).
  boolean: ['bool', 'float32', 'float64', 'int64', 'int32', 'string'],
  string: ['string'],
};

export interface ColumnFeed {
  name: string;
  input: SignatureInput;
  type: FeedType;
  /** [N] or [N, 1] */
  rank: 1 | 2;
}

export type InputPlan = { mode: 'columns'; feeds: ColumnFeed[] } | { mode: 'matrix'; name: string; type: 'float32' | 'float64'; inputs: SignatureInput[] };

export interface OutputPlan {
  task: ModelTask;
  /** Classifiers: the label output and its element type. */
  label?: string;
  labelType?: string;
  probabilities?: string;
  /** Number of probability columns when the model states it. */
  classCount?: number;
  /** Regressors: the value output. */
  value?: string;
}

const dimText = (d: number | string) => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' && d !== '' ? d : '?');
function describeMeta(m: ValueMeta): string {
  if (!m.isTensor) return `${m.name} (not a tensor)`;
  return `${m.name} (${m.type}[${(m.shape ?? []).map(dimText).join(',')}])`;
}
const isFixed = (d: number | string | undefined): d is number => typeof d === 'number' && d >= 0;

/** Matches the model's inputs to the signature (see the module comment); a mismatch is FW_INVALID_ARGUMENT listing both. */
export function planInputs(signature: ModelSignature, metas: readonly ValueMeta[]): InputPlan {
  const sigNames = signature.inputs.map((i) => i.name);
  const byName = new Map(signature.inputs.map((i) => [i.name, i]));
  const mismatch = (why: string) =>
    invalidArgument(
      `The ONNX model's inputs do not match the signature: ${why}. The model takes ${metas.map(describeMeta).join(', ')}; ` +
        `the signature names ${signature.inputs.map((i) => `${i.name} (${i.type})`).join(', ')}. ` +
        `Expected one input per signature column with the same names ([N,1] or [N]), or a single float tensor [N, ${signature.inputs.length}].`,
    );
  for (const m of metas) if (!m.isTensor) throw mismatch(`input ${m.name} is not a tensor`);

  const named = metas.filter((m) => byName.has(m.name));
  if (named.length > 0 && (metas.length > 1 || signature.inputs.length === 1)) {
    const notInSignature = metas.filter((m) => !byName.has(m.name)).map((m) => m.name);
    const notInModel = sigNames.filter((n) => !metas.some((m) => m.name === n));
    if (notInSignature.length > 0 || notInModel.length > 0) {
      throw mismatch([notInSignature.length ? `the signature has no column ${notInSignature.join(', ')}` : '', notInModel.length ? `the model has no input ${notInModel.join(', ')}` : ''].filter(Boolean).join('; '));
    }
    const feeds = signature.inputs.map((input): ColumnFeed => {
      const m = metas.find((x) => x.name === input.name)!;
      const type = m.type as FeedType;
      if (!ACCEPTS[input.type].includes(type)) {
        throw mismatch(`input ${m.name} is ${m.type}, which cannot take the signature's ${input.type} (it takes ${ACCEPTS[input.type].join(', ')})`);
      }
      const shape = m.shape ?? [];
      if (shape.length > 2 || (shape.length === 2 && isFixed(shape[1]) && shape[1] !== 1)) throw mismatch(`input ${m.name} has shape [${shape.map(dimText).join(',')}], not [N,1] or [N]`);
      return { name: m.name, input, type, rank: shape.length === 1 ? 1 : 2 };
    });
    return { mode: 'columns', feeds };
  }
  if (metas.length === 1) {
    const m = metas[0];
    const shape = m.shape ?? [];
    if (m.type !== 'float32' && m.type !== 'float64') throw mismatch(`its single input ${m.name} is ${m.type}, not a float tensor`);
    if (shape.length !== 2 && shape.length !== 0) throw mismatch(`its single input ${m.name} has rank ${shape.length}, not [N, F]`);
    if (isFixed(shape[1]) && shape[1] !== signature.inputs.length) throw mismatch(`its single input ${m.name} takes ${shape[1]} features, the signature names ${signature.inputs.length} columns`);
    const text = signature.inputs.find((i) => i.type === 'string');
    if (text) throw mismatch(`the signature's column ${text.name} is a string, which a float tensor cannot hold`);
    return { mode: 'matrix', name: m.name, type: m.type, inputs: signature.inputs };
  }
  throw mismatch('no input of the model is named after a signature column');
}

const LABEL_NAMES = ['label', 'output_label', 'predicted_label'];
const PROBABILITY_NAMES = ['probabilities', 'output_probability', 'probability', 'probabilities_tensor', 'scores'];
const VALUE_NAMES = ['variable', 'prediction', 'predictions', 'output', 'y'];
const LABEL_TYPES = new Set(['string', 'int64', 'int32']);
const NUMERIC_TYPES = new Set(['float32', 'float64', 'int64', 'int32', 'float16']);

/** Classification when the model has a label output (by name, or a string/integer first output next to another). */
export function guessTask(outputs: readonly ValueMeta[]): ModelTask {
  if (outputs.some((o) => LABEL_NAMES.includes(o.name))) return 'classification';
  if (outputs.length >= 2 && outputs[0].isTensor && LABEL_TYPES.has(outputs[0].type ?? '')) return 'classification';
  return 'regression';
}

/** Picks the outputs predict reads (see the module comment). */
export function planOutputs(task: ModelTask | null, outputs: readonly ValueMeta[]): OutputPlan {
  const t = task ?? guessTask(outputs);
  const listed = outputs.map(describeMeta).join(', ') || 'none';
  const tensorNamed = (names: string[]) => outputs.find((o) => names.includes(o.name));
  if (t === 'classification') {
    const label = tensorNamed(LABEL_NAMES) ?? outputs.find((o) => o.isTensor && LABEL_TYPES.has(o.type ?? ''));
    if (!label) throw invalidArgument(`The ONNX model has no label output for a classifier (outputs: ${listed}); expected one named label or output_label, of strings or integers.`);
    if (!label.isTensor || !LABEL_TYPES.has(label.type ?? '')) throw invalidArgument(`The ONNX model's label output ${describeMeta(label)} is not a tensor of strings or integers.`);
    const prob = tensorNamed(PROBABILITY_NAMES) ?? outputs.find((o) => o !== label && o.isTensor && (o.type === 'float32' || o.type === 'float64') && (o.shape?.length ?? 2) === 2);
    if (prob && (!prob.isTensor || (prob.type !== 'float32' && prob.type !== 'float64'))) {
      throw invalidArgument(`The ONNX model's probability output ${describeMeta(prob)} is not a float tensor [N, classes] (a ZipMap that does not feed the output directly cannot be unzipped).`);
    }
    const classCount = prob && isFixed(prob.shape?.[1]) ? (prob.shape![1] as number) : undefined;
    return { task: t, label: label.name, labelType: label.type, probabilities: prob?.name, classCount };
  }
  const value = tensorNamed(VALUE_NAMES) ?? outputs.find((o) => o.isTensor && NUMERIC_TYPES.has(o.type ?? ''));
  if (!value || !value.isTensor || !NUMERIC_TYPES.has(value.type ?? '')) throw invalidArgument(`The ONNX model has no numeric output for a regressor (outputs: ${listed}).`);
  const width = value.shape?.[1];
  if ((value.shape?.length ?? 0) > 2 || (isFixed(width) && width !== 1)) {
    throw invalidArgument(`The ONNX model's output ${describeMeta(value)} is not one value per row, as a regressor's is (outputs: ${listed}); is it a classifier?`);
  }
  return { task: t, value: value.name };
}

/** The signature output type of a label tensor. */
export function labelOutputType(tensorType: string | undefined): OutputType {
  return tensorType === 'string' ? 'string' : 'long';
}

/** Signature inputs read off a model that takes one named input per column (float → nullable double, ints → long, string, bool → boolean). */
export function signatureInputsFromOnnx(inputs: readonly ValueMeta[], file: string): SignatureInput[] {
  if (inputs.length === 1 && (inputs[0].shape?.length ?? 0) === 2 && !(inputs[0].shape![1] === 1)) {
    throw invalidArgument(`${file} takes a single tensor ${describeMeta(inputs[0])}, whose columns have no names: give --signature or --data to name them.`);
  }
  return inputs.map((m): SignatureInput => {
    switch (m.type) {
      case 'float32':
      case 'float64':
      case 'float16':
        // NaN is how ONNX models see a missing float, so null can reach them.
        return { name: m.name, type: 'double', nullable: true };
      case 'int64':
      case 'int32':
      case 'int16':
      case 'int8':
      case 'uint8':
        return { name: m.name, type: 'long', nullable: false };
      case 'string':
        return { name: m.name, type: 'string', nullable: false };
      case 'bool':
        return { name: m.name, type: 'boolean', nullable: false };
      default:
        throw invalidArgument(`${file}: input ${describeMeta(m)} has a type a signature cannot describe`);
    }
  });
}

export interface OpenedSession {
  session: ort.InferenceSession;
  inputs: ValueMeta[];
  outputs: ValueMeta[];
  /** Class labels declared in the graph, when there is a classifier node. */
  graphClasses: string[] | null;
}

/**
 * Opens an inference session on ONNX bytes; a file onnxruntime cannot load
 * (corrupt, truncated, unsupported operator) is FW_INVALID_ARGUMENT naming it.
 * A graph with non-tensor outputs is decoded and its ZipMaps unzipped first.
 */
export async function openOnnxSession(bytes: Uint8Array, file: string, options: { sessionOptions?: ort.InferenceSession.SessionOptions; readClasses?: boolean } = {}): Promise<OpenedSession> {
  const create = async (b: Uint8Array) => {
    try {
      return await ort.InferenceSession.create(b, options.sessionOptions ?? {});
    } catch (err) {
      throw invalidArgument(`cannot load the ONNX model ${file} (corrupt, truncated or not ONNX?): ${String((err as Error).message ?? err).split('\n')[0]}`);
    }
  };
  let session = await create(bytes);
  let graphClasses: string[] | null = null;
  const hasMaps = session.outputMetadata.some((m) => !m.isTensor);
  if (hasMaps || options.readClasses) {
    const model = decodeModel(bytes, file);
    graphClasses = classLabels(model);
    if (hasMaps && unzipMapOutputs(model).length > 0) {
      await session.release();
      session = await create(encodeModel(model));
    }
  }
  const meta = (m: ort.InferenceSession.ValueMetadata): ValueMeta => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false });
  return { session, inputs: session.inputMetadata.map(meta), outputs: session.outputMetadata.map(meta), graphClasses };
}

// ---------------------------------------------------------------------------
// Feeds

function numericFeed(type: FeedType, n: number): Float32Array | Float64Array {
  return type === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Float64 values (NaN for null) → the integer or boolean array an input wants; NaN has no place there. */
function exactFeed(values: ArrayLike<number | bigint | null>, feed: ColumnFeed): BigInt64Array | Int32Array | Uint8Array {
  const n = values.length;
  const out = feed.type === 'int64' ? new BigInt64Array(n) : feed.type === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'bigint') {
      if (feed.type === 'int64') (out as BigInt64Array)[i] = v;
      else (out as Int32Array)[i] = Number(v);
      continue;
    }
    if (v === null || Number.isNaN(v)) {
      throw invalidArgument(`row ${i}: field "${feed.input.name}" is null, but the model's input ${feed.name} is ${feed.type} and cannot hold a missing value`, { row: i, field: feed.input.name });
    }
    if (feed.type === 'int64') (out as BigInt64Array)[i] = BigInt(Math.trunc(v as number));
    else if (feed.type === 'bool') out[i] = v ? 1 : 0;
    else out[i] = v as number;
  }
  return out;
}

function tensorOf(feed: ColumnFeed, data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[], n: number): ort.Tensor {
  const dims = feed.rank === 1 ? [n] : [n, 1];
  return new ort.Tensor(feed.type, data as never, dims);
}

/** Rows → feeds, validating every value (the signature's errors, with row index and field). */
function feedsFromRows(plan: InputPlan, rows: readonly Record<string, unknown>[]): Record<string, ort.Tensor> {
  const n = rows.length;
  if (plan.mode === 'matrix') {
    const f = plan.inputs.length;
    const data = numericFeed(plan.type, n * f);
    plan.inputs.forEach((input, j) => writeNumericColumn(rows, input, data, j, f));
    return { [plan.name]: new ort.Tensor(plan.type, data, [n, f]) };
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const feed of plan.feeds) {
    if (feed.type === 'string' && feed.input.type === 'boolean') {
      const data = new Float64Array(n);
      writeNumericColumn(rows, feed.input, data);
      feeds[feed.name] = tensorOf(feed, booleanStrings(data), n);
    } else if (feed.type === 'string') {
      const values = readStringColumn(rows, feed.input).map((v) => v ?? '');
      feeds[feed.name] = tensorOf(feed, values, n);
    } else if (feed.type === 'float32' || feed.type === 'float64') {
      const data = numericFeed(feed.type, n);
      writeNumericColumn(rows, feed.input, data);
      feeds[feed.name] = tensorOf(feed, data, n);
    } else {
      // Integer and boolean inputs: validated through the float path (exact below 2^53), then converted.
      const data = new Float64Array(n);
      writeNumericColumn(rows, feed.input, data);
      feeds[feed.name] = tensorOf(feed, exactFeed(data, feed), n);
    }
  }
  return feeds;
}

/** A value of a numeric-like column as a number: null → NaN, booleans 1/0, bigints rounded. */
function numberAt(col: Column, i: number): number {
  const v = col[i] as unknown;
  return v === null ? NaN : typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v === true ? 1 : v === false ? 0 : NaN;
}

function floatColumn(col: Column, type: 'float32' | 'float64'): Float32Array | Float64Array {
  if (type === 'float32' && col instanceof Float32Array) return col;
  if (type === 'float64' && col instanceof Float64Array) return col;
  const out = numericFeed(type, col.length);
  for (let i = 0; i < col.length; i++) out[i] = numberAt(col, i);
  return out;
}

function booleanStrings(values: ArrayLike<number>): string[] {
  return Array.from(values, (v) => (Number.isNaN(v) ? '' : v ? 'true' : 'false'));
}

/** Columns → feeds; float columns of the input's own type are passed without a copy. */
function feedsFromColumns(plan: InputPlan, columns: ColumnBatch, n: number): Record<string, ort.Tensor> {
  if (plan.mode === 'matrix') {
    const f = plan.inputs.length;
    if (f === 1) return { [plan.name]: new ort.Tensor(plan.type, floatColumn(columns[plan.inputs[0].name], plan.type), [n, 1]) };
    const data = numericFeed(plan.type, n * f);
    plan.inputs.forEach((input, j) => {
      const col = columns[input.name];
      for (let i = 0, k = j; i < n; i++, k += f) data[k] = numberAt(col, i);
    });
    return { [plan.name]: new ort.Tensor(plan.type, data, [n, f]) };
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const feed of plan.feeds) {
    const col = columns[feed.input.name];
    if (feed.type === 'string' && feed.input.type === 'boolean') feeds[feed.name] = tensorOf(feed, booleanStrings(floatColumn(col, 'float64')), n);
    else if (feed.type === 'string') feeds[feed.name] = tensorOf(feed, (col as (string | null)[]).map((v) => v ?? ''), n);
    else if (feed.type === 'float32' || feed.type === 'float64') feeds[feed.name] = tensorOf(feed, floatColumn(col, feed.type), n);
    else if (feed.type === 'int64' && col instanceof BigInt64Array) feeds[feed.name] = tensorOf(feed, col, n);
    else if (feed.type === 'int32' && col instanceof Int32Array) feeds[feed.name] = tensorOf(feed, col, n);
    else feeds[feed.name] = tensorOf(feed, exactFeed(col instanceof BigInt64Array ? col : floatColumn(col, 'float64'), feed), n);
  }
  return feeds;
}

// ---------------------------------------------------------------------------
// The loaded model

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * Integer labels as numbers: an Int32Array when every int64 label fits in 32
 * bits, else exact doubles; string labels as they are. An int64 label is read
 * as two 32-bit words: Number(bigint) per value costs more than the model
 * itself for cheap models. Exported for tests.
 *
 * The 32-bit case is compacted in place into the front half of the runtime's
 * own output buffer (which nothing else holds): allocating a fresh array per
 * batch was most of the flavor's cost over a bare session.run at batch sizes
 * of 10,000 (young-generation collections). Writing label i to word i never
 * overwrites a word not yet read (word i <= word 2i).
 */
export function labelColumn(t: ort.Tensor): string[] | Float64Array | Int32Array {
  if (t.type === 'string') return t.data as string[];
  const data = t.data as ArrayLike<number | bigint>;
  const n = data.length;
  if (data instanceof BigInt64Array && LITTLE_ENDIAN) {
    const words = new Int32Array(data.buffer, data.byteOffset, n * 2);
    let wide = n;
    for (let i = 0; i < n; i++) {
      const low = words[2 * i];
      if (words[2 * i + 1] !== low >> 31) {
        wide = i;
        break;
      }
      words[i] = low;
    }
    if (wide === n) return new Int32Array(data.buffer, data.byteOffset, n);
    // Labels before the first wide one are compacted already (word j holds label j); the rest are untouched.
    const lo = new Uint32Array(data.buffer, data.byteOffset, n * 2);
    const out = new Float64Array(n);
    for (let i = 0; i < wide; i++) out[i] = words[i];
    for (let i = wide; i < n; i++) out[i] = words[2 * i + 1] * 4294967296 + lo[2 * i];
    return out;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(data[i]);
  return out;
}

export class OnnxModel implements LoadedModel {
  private closed = false;

  constructor(
    readonly manifest: ModelManifest,
    readonly source: string,
    readonly dir: string,
    private readonly session: ort.InferenceSession,
    readonly inputPlan: InputPlan,
    readonly outputPlan: OutputPlan,
  ) {}

  private fetchList: string[] | undefined | null = null;

  /** The outputs to fetch; undefined (fetch everything, the runtime's fastest path) when that is all of them. */
  private fetches(): string[] | undefined {
    if (this.fetchList === null) {
      const p = this.outputPlan;
      const wanted = p.task === 'classification' ? [p.label!, ...(p.probabilities ? [p.probabilities] : [])] : [p.value!];
      const all = this.session.outputNames;
      this.fetchList = all.length === wanted.length && all.every((n) => wanted.includes(n)) ? undefined : wanted;
    }
    return this.fetchList;
  }

  private async run(feeds: Record<string, ort.Tensor>, n: number): Promise<ColumnarPredictions> {
    if (this.closed) throw new FlywheelError('FW_INVALID_STATE', `the model ${this.source} is closed`);
    if (n === 0) return { n: 0, prediction: [] };
    let out: ort.InferenceSession.ReturnType;
    try {
      const fetches = this.fetches();
      out = await (fetches === undefined ? this.session.run(feeds) : this.session.run(feeds, fetches));
    } catch (err) {
      // onnxruntime failing on inputs that passed the signature is the model's fault, not the caller's.
      throw new FlywheelError('FW_PREDICTION_FAILED', `the ONNX model ${this.source} failed on this batch: ${String((err as Error).message ?? err).split('\n')[0]}`);
    }
    const p = this.outputPlan;
    if (p.task === 'regression') {
      const t = out[p.value!] as ort.Tensor;
      const data = t.data as Float32Array | Float64Array;
      const stride = data.length / n;
      if (stride === 1) return { n, prediction: data instanceof Float32Array || data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>, Number) };
      // Several targets: the first is the prediction.
      const first = new Float64Array(n);
      for (let i = 0; i < n; i++) first[i] = Number(data[i * stride]);
      return { n, prediction: first };
    }
    const result: ColumnarPredictions = { n, prediction: labelColumn(out[p.label!] as ort.Tensor) };
    if (p.probabilities) {
      const t = out[p.probabilities] as ort.Tensor;
      const k = t.dims.length === 2 ? t.dims[1] : t.data.length / n;
      const classes = this.manifest.classes;
      if (classes && k !== classes.length) {
        throw new FlywheelError('FW_PREDICTION_FAILED', `the ONNX model ${this.source} returned ${k} probability columns but its manifest names ${classes.length} classes (${classes.join(', ')})`);
      }
      result.probability = t.data as Float32Array;
      result.probabilityColumns = k;
    }
    return result;
  }

  async predict(rows: readonly Record<string, unknown>[]): Promise<Prediction[]> {
    if (!Array.isArray(rows)) throw invalidArgument('rows must be an array of objects');
    const cols = await this.run(feedsFromRows(this.inputPlan, rows), rows.length);
    const out = new Array<Prediction>(cols.n);
    const pred = cols.prediction;
    const prob = cols.probability;
    const k = cols.probabilityColumns ?? 0;
    for (let i = 0; i < cols.n; i++) {
      const p: Prediction = { prediction: pred[i] };
      if (prob) {
        const row = new Array<number>(k);
        for (let j = 0, o = i * k; j < k; j++) row[j] = prob[o + j];
        p.probability = row;
      }
      out[i] = p;
    }
    return out;
  }

  async predictColumns(columns: ColumnBatch): Promise<ColumnarPredictions> {
    const n = checkColumns(this.manifest.signature, columns);
    return this.run(feedsFromColumns(this.inputPlan, columns, n), n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

/** Loads the onnx flavor of a package in `dir`. */
export async function loadOnnxModel(manifest: ModelManifest, dir: string, source: string, options: { sessionOptions?: ort.InferenceSession.SessionOptions } = {}): Promise<OnnxModel> {
  const file = path.join(dir, manifest.files.model);
  const bytes = await fs.readFile(file);
  const opened = await openOnnxSession(bytes, manifest.files.model, options);
  try {
    const inputPlan = planInputs(manifest.signature, opened.inputs);
    const outputPlan = planOutputs(manifest.task, opened.outputs);
    const classes = manifest.classes;
    if (classes && outputPlan.classCount !== undefined && outputPlan.classCount !== classes.length) {
      throw invalidArgument(`the ONNX model gives ${outputPlan.classCount} probability columns but the manifest names ${classes.length} classes (${classes.join(', ')})`);
    }
    return new OnnxModel(manifest, source, dir, opened.session, inputPlan, outputPlan);
  } catch (err) {
    await opened.session.release();
    throw err;
  }
}
