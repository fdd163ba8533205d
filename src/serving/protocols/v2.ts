/**
 * Open Inference Protocol (KServe V2) over REST, as pure functions: server and
 * model metadata, inference request → signature rows, predictions →
 * inference response. Field names follow the spec
 * (kserve/open-inference-protocol, specification/protocol/inference_rest.md);
 * routes live with the lead's wiring, not here.
 *
 * A request arrives in one of two layouts:
 *  (a) one tensor per signature input, named by the input, shape [N] or [N, 1];
 *  (b) a single tensor of shape [N, F] (F = number of signature inputs) whose
 *      columns follow signature order — what numpy/Triton clients send for
 *      tabular models.
 * Tensor data is row-major, flat or nested (nesting must match the shape).
 * Every problem is a 400 naming the input, because a V2 client only sees the
 * `{"error": message}` body.
 */
import { invalidArgument } from '../../core/errors.js';
import type { InputType, ModelSignature, ModelTask, SignatureInput } from '../../models/manifest.js';
import type { Prediction } from '../../models/types.js';
import { describeValue, prepareRows } from './rows.js';

export const V2_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

export interface V2MetadataTensor {
  name: string;
  datatype: V2Datatype;
  shape: number[];
}

export interface V2OutputTensor extends V2MetadataTensor {
  data: (number | string | boolean | null)[];
}

/** `GET /v2`: the server metadata response. No protocol extensions are implemented. */
export function serverMetadata(version: string): { name: string; version: string; extensions: string[] } {
  return { name: 'flywheel', version, extensions: [] };
}

const INPUT_DATATYPE: Record<InputType, V2Datatype> = { double: 'FP64', long: 'INT64', string: 'BYTES', boolean: 'BOOL' };

/** Output names: classifiers give `label` and `probabilities`, everything else `prediction`. */
export function v2OutputNames(task: ModelTask | null): string[] {
  return task === 'classification' ? ['label', 'probabilities'] : ['prediction'];
}

const INTEGER_LABEL = /^-?\d+$/;

/**
 * The datatype labels travel as: INT64 when every class label is an integer
 * (safe range), BYTES otherwise. Unknown classes (null) mean BYTES, so
 * metadata and responses always agree.
 */
export function labelDatatype(classes: readonly string[] | null): 'INT64' | 'BYTES' {
  if (!classes || classes.length === 0) return 'BYTES';
  return classes.every((c) => INTEGER_LABEL.test(c) && Number.isSafeInteger(Number(c))) ? 'INT64' : 'BYTES';
}

/** `GET /v2/models/{name}[/versions/{v}]`: the model metadata response. */
export function modelMetadata(m: {
  name: string;
  versions: string[];
  platform: string;
  signature: ModelSignature;
  task: ModelTask | null;
  classes: string[] | null;
}): { name: string; versions: string[]; platform: string; inputs: V2MetadataTensor[]; outputs: V2MetadataTensor[] } {
  const inputs = m.signature.inputs.map((i): V2MetadataTensor => ({ name: i.name, datatype: INPUT_DATATYPE[i.type], shape: [-1] }));
  const outputs: V2MetadataTensor[] =
    m.task === 'classification'
      ? [
          { name: 'label', datatype: labelDatatype(m.classes), shape: [-1] },
          { name: 'probabilities', datatype: 'FP64', shape: [-1, m.classes?.length ?? -1] },
        ]
      : [{ name: 'prediction', datatype: 'FP64', shape: [-1] }];
  return { name: m.name, versions: [...m.versions], platform: m.platform, inputs, outputs };
}

/** The inference error body the spec defines. */
export function v2Error(message: string): { error: string } {
  return { error: message };
}

// ---------------------------------------------------------------------------
// Inference request

const INTEGER_RANGE: Partial<Record<V2Datatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, 18446744073709551615],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [-9223372036854775808, 9223372036854775807],
};

/** Largest finite magnitudes: IEEE half and single precision. */
const FLOAT_MAX: Partial<Record<V2Datatype, number>> = { FP16: 65504, FP32: 3.4028234663852886e38, FP64: Number.MAX_VALUE };

const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether one element fits its datatype. `null` is accepted everywhere as a
 * missing value (the spec has no null; prepareRows then allows it only for
 * nullable inputs).
 */
function elementFits(datatype: V2Datatype, v: unknown): boolean {
  if (v === null) return true;
  if (datatype === 'BOOL') return typeof v === 'boolean';
  if (datatype === 'BYTES') return typeof v === 'string';
  const floatMax = FLOAT_MAX[datatype];
  if (floatMax !== undefined) {
    if (typeof v === 'string') return NON_FINITE.has(v);
    return typeof v === 'number' && Math.abs(v) <= floatMax;
  }
  const [lo, hi] = INTEGER_RANGE[datatype]!;
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

const DATATYPE_WORDS: Record<V2Datatype, string> = {
  BOOL: 'booleans',
  UINT8: 'integers from 0 to 255',
  UINT16: 'integers from 0 to 65535',
  UINT32: 'integers from 0 to 4294967295',
  UINT64: 'integers from 0 to 18446744073709551615',
  INT8: 'integers from -128 to 127',
  INT16: 'integers from -32768 to 32767',
  INT32: 'integers from -2147483648 to 2147483647',
  INT64: 'integers from -9223372036854775808 to 9223372036854775807',
  FP16: 'numbers within ±65504 (or "NaN", "Infinity", "-Infinity")',
  FP32: 'numbers within ±3.4028235e38 (or "NaN", "Infinity", "-Infinity")',
  FP64: 'numbers (or "NaN", "Infinity", "-Infinity")',
  BYTES: 'strings',
};

/** Which tensor datatypes can carry a signature input's values. */
function datatypeCarries(datatype: V2Datatype, type: InputType): boolean {
  switch (type) {
    case 'double':
    case 'long': // a float tensor may carry integral values (layout (b) mixes long and double columns); prepareRows checks them
      return datatype !== 'BOOL' && datatype !== 'BYTES';
    case 'boolean':
      return datatype === 'BOOL';
    case 'string':
      return datatype === 'BYTES';
  }
}

interface Tensor {
  name: string;
  shape: number[];
  datatype: V2Datatype;
  /** Flattened, row-major, elements checked against the datatype. */
  data: unknown[];
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Flattens nested data, checking at every level that the nesting matches the shape. */
function flattenNested(name: string, data: unknown[], shape: readonly number[]): unknown[] {
  const out: unknown[] = [];
  const walk = (node: unknown[], depth: number, path: string): void => {
    if (depth >= shape.length) {
      throw invalidArgument(`input "${name}": data${path} is nested deeper than shape ${shapeText(shape)}`, { field: name });
    }
    if (node.length !== shape[depth]) {
      throw invalidArgument(`input "${name}": data${path} has ${node.length} elements, but shape ${shapeText(shape)} says ${shape[depth]}`, { field: name });
    }
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < node.length; i++) {
      const v = node[i];
      if (leaf) {
        if (Array.isArray(v)) throw invalidArgument(`input "${name}": data${path}[${i}] is nested deeper than shape ${shapeText(shape)}`, { field: name });
        out.push(v);
      } else {
        if (!Array.isArray(v)) throw invalidArgument(`input "${name}": data${path}[${i}] must be an array of ${shape[depth + 1]} elements (shape ${shapeText(shape)}), got ${describeValue(v)}`, { field: name });
        walk(v, depth + 1, `${path}[${i}]`);
      }
    }
  };
  walk(data, 0, '');
  return out;
}

function parseTensor(raw: unknown, index: number): Tensor {
  const where = `inputs[${index}]`;
  if (!isObject(raw)) throw invalidArgument(`${where} must be a tensor object {name, shape, datatype, data}, got ${describeValue(raw)}`, { field: where });
  if (typeof raw.name !== 'string' || raw.name === '') throw invalidArgument(`${where}.name must be a non-empty string, got ${describeValue(raw.name)}`, { field: `${where}.name` });
  const name = raw.name;
  const datatype = raw.datatype;
  if (typeof datatype !== 'string' || !(V2_DATATYPES as readonly string[]).includes(datatype)) {
    throw invalidArgument(`input "${name}": datatype must be one of ${V2_DATATYPES.join(', ')}, got ${describeValue(datatype)}`, { field: name });
  }
  const dt = datatype as V2Datatype;
  const shape = raw.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw invalidArgument(`input "${name}": shape must be a non-empty array of non-negative integers, got ${Array.isArray(shape) ? JSON.stringify(shape) : describeValue(shape)}`, { field: name });
  }
  if (raw.parameters !== undefined && !isObject(raw.parameters)) throw invalidArgument(`input "${name}": parameters must be an object, got ${describeValue(raw.parameters)}`, { field: name });
  if (!Array.isArray(raw.data)) throw invalidArgument(`input "${name}": data must be an array, got ${describeValue(raw.data)}`, { field: name });
  const dims = shape as number[];
  const expected = dims.reduce((a, b) => a * b, 1);
  const nested = raw.data.some((v) => Array.isArray(v));
  const data = nested ? flattenNested(name, raw.data, dims) : raw.data;
  if (data.length !== expected) {
    throw invalidArgument(`input "${name}": shape ${shapeText(dims)} holds ${expected} elements, but data has ${data.length}`, { field: name });
  }
  for (let i = 0; i < data.length; i++) {
    if (!elementFits(dt, data[i])) {
      throw invalidArgument(`input "${name}": element ${i} must be one of ${dt}'s values (${DATATYPE_WORDS[dt]}), got ${describeValue(data[i])}`, { field: name, element: i });
    }
  }
  return { name, shape: dims, datatype: dt, data };
}

function checkCarries(t: Tensor, input: SignatureInput): void {
  if (!datatypeCarries(t.datatype, input.type)) {
    throw invalidArgument(
      `input "${t.name}": datatype ${t.datatype} cannot carry signature input "${input.name}" of type ${input.type} (send ${INPUT_DATATYPE[input.type]})`,
      { field: input.name },
    );
  }
}

/** Layout (b): one [N, F] tensor, columns in signature order. */
function rowsFromMatrix(t: Tensor, signature: ModelSignature): Record<string, unknown>[] {
  const f = signature.inputs.length;
  for (const input of signature.inputs) checkCarries(t, input);
  const n = t.shape[0];
  const rows = new Array<Record<string, unknown>>(n);
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (let j = 0; j < f; j++) row[signature.inputs[j].name] = t.data[i * f + j];
    rows[i] = row;
  }
  return rows;
}

/** Layout (a): one [N] or [N, 1] tensor per signature input. */
function rowsFromColumns(tensors: Tensor[], signature: ModelSignature): Record<string, unknown>[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const known = new Set(signature.inputs.map((i) => i.name));
  const unknown = tensors.filter((t) => !known.has(t.name)).map((t) => `"${t.name}"`);
  const inputList = signature.inputs.map((i) => i.name).join(', ');
  if (unknown.length > 0) {
    throw invalidArgument(`unknown input${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: the model's inputs are ${inputList}`, { field: unknown[0].slice(1, -1) });
  }
  const missing = signature.inputs.filter((i) => !byName.has(i.name)).map((i) => `"${i.name}"`);
  if (missing.length > 0) {
    throw invalidArgument(`missing input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: the model's inputs are ${inputList}`, { field: missing[0].slice(1, -1) });
  }
  let n = -1;
  let first = '';
  for (const input of signature.inputs) {
    const t = byName.get(input.name)!;
    if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1))) {
      throw invalidArgument(`input "${t.name}": shape must be [N] or [N, 1] (one value per row), got ${shapeText(t.shape)}`, { field: t.name });
    }
    checkCarries(t, input);
    if (n === -1) {
      n = t.shape[0];
      first = t.name;
    } else if (t.shape[0] !== n) {
      throw invalidArgument(`input "${t.name}" has ${t.shape[0]} rows, but input "${first}" has ${n}: every input needs one value per row`, { field: t.name });
    }
  }
  const rows = new Array<Record<string, unknown>>(n);
  for (let i = 0; i < n; i++) rows[i] = {};
  for (const input of signature.inputs) {
    const data = byName.get(input.name)!.data;
    for (let i = 0; i < n; i++) rows[i][input.name] = data[i];
  }
  return rows;
}

export interface V2InferRequest {
  id?: string;
  /** Rows checked by prepareRows: only signature inputs, doubles converted. */
  rows: Record<string, unknown>[];
  parameters?: Record<string, unknown>;
  /** Output names the client asked for, in its order; absent means all. */
  requestedOutputs?: string[];
}

/**
 * Parses an `$inference_request` into signature rows. `options.task` names
 * the outputs a requested output must be one of (without it, any of
 * label/probabilities/prediction is accepted).
 */
export function parseInferRequest(body: unknown, signature: ModelSignature, options: { task?: ModelTask | null } = {}): V2InferRequest {
  if (!isObject(body)) throw invalidArgument(`the inference request must be a JSON object {id?, parameters?, inputs, outputs?}, got ${describeValue(body)}`);
  const out: V2InferRequest = { rows: [] };
  if (body.id !== undefined) {
    if (typeof body.id !== 'string') throw invalidArgument(`id must be a string, got ${describeValue(body.id)}`, { field: 'id' });
    out.id = body.id;
  }
  if (body.parameters !== undefined) {
    if (!isObject(body.parameters)) throw invalidArgument(`parameters must be an object, got ${describeValue(body.parameters)}`, { field: 'parameters' });
    out.parameters = body.parameters;
  }
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw invalidArgument(`inputs must be a non-empty array of tensors, got ${describeValue(body.inputs)}`, { field: 'inputs' });
  const tensors = body.inputs.map(parseTensor);
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw invalidArgument(`input "${t.name}" appears twice`, { field: t.name });
    seen.add(t.name);
  }
  const f = signature.inputs.length;
  const single = tensors.length === 1 ? tensors[0] : null;
  const namesAColumn = single !== null && signature.inputs.some((i) => i.name === single.name);
  let rows: Record<string, unknown>[];
  if (single && !namesAColumn && single.shape.length === 2 && single.shape[1] === f) {
    rows = rowsFromMatrix(single, signature);
  } else if (single && !namesAColumn && f > 1) {
    throw invalidArgument(
      `input "${single.name}" is not a signature input (the model's inputs are ${signature.inputs.map((i) => i.name).join(', ')}); send one tensor per input, or a single tensor of shape [N, ${f}] with columns in that order (got shape ${shapeText(single.shape)})`,
      { field: single.name },
    );
  } else {
    rows = rowsFromColumns(tensors, signature);
  }
  out.rows = prepareRows(signature, rows);
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw invalidArgument(`outputs must be an array of {name}, got ${describeValue(body.outputs)}`, { field: 'outputs' });
    const allowed = options.task !== undefined ? v2OutputNames(options.task) : ['label', 'probabilities', 'prediction'];
    const names: string[] = [];
    body.outputs.forEach((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string') throw invalidArgument(`outputs[${i}] must be an object {name}, got ${describeValue(o)}`, { field: `outputs[${i}]` });
      if (!allowed.includes(o.name)) throw invalidArgument(`unknown output "${o.name}": the model's outputs are ${allowed.join(', ')}`, { field: `outputs[${i}].name` });
      if (names.includes(o.name)) throw invalidArgument(`output "${o.name}" is requested twice`, { field: `outputs[${i}].name` });
      names.push(o.name);
    });
    out.requestedOutputs = names;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Inference response

function labelValue(label: number | string, datatype: 'INT64' | 'BYTES'): number | string {
  return datatype === 'INT64' ? Number(label) : String(label);
}

/**
 * Builds the `$inference_response`: data flat and row-major, the prediction
 * ids under `parameters.prediction_ids` (one per row, in row order). For a
 * classifier, `probabilities` is left out when the model gave none.
 */
export function inferResponse(r: {
  modelName: string;
  modelVersion: string;
  id?: string;
  predictions: Prediction[];
  task: ModelTask | null;
  classes: string[] | null;
  requestedOutputs?: string[];
  predictionIds: string[];
}): { model_name: string; model_version: string; id?: string; parameters: { prediction_ids: string[] }; outputs: V2OutputTensor[] } {
  const n = r.predictions.length;
  const available = new Map<string, () => V2OutputTensor>();
  if (r.task === 'classification') {
    const datatype = labelDatatype(r.classes);
    available.set('label', () => ({ name: 'label', datatype, shape: [n], data: r.predictions.map((p) => labelValue(p.prediction, datatype)) }));
    if (n === 0 || r.predictions.every((p) => Array.isArray(p.probability))) {
      const k = n > 0 ? r.predictions[0].probability!.length : (r.classes?.length ?? 0);
      available.set('probabilities', () => {
        const data = new Array<number>(n * k);
        for (let i = 0; i < n; i++) {
          const p = r.predictions[i].probability!;
          for (let j = 0; j < k; j++) data[i * k + j] = p[j];
        }
        return { name: 'probabilities', datatype: 'FP64', shape: [n, k], data };
      });
    }
  } else {
    available.set('prediction', () => ({ name: 'prediction', datatype: 'FP64', shape: [n], data: r.predictions.map((p) => Number(p.prediction)) }));
  }
  const names = r.requestedOutputs ?? [...available.keys()];
  const outputs: V2OutputTensor[] = [];
  for (const name of names) {
    const build = available.get(name);
    if (!build) {
      if (name === 'probabilities' && r.task === 'classification') throw invalidArgument('output "probabilities" was requested, but this model gives no class probabilities', { field: 'outputs' });
      throw invalidArgument(`unknown output "${name}": the model's outputs are ${[...available.keys()].join(', ')}`, { field: 'outputs' });
    }
    outputs.push(build());
  }
  return {
    model_name: r.modelName,
    model_version: r.modelVersion,
    ...(r.id !== undefined ? { id: r.id } : {}),
    parameters: { prediction_ids: [...r.predictionIds] },
    outputs,
  };
}
