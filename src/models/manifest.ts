/**
 * The model package's manifest (`flywheel-model.json`) and its signature: the
 * contract between whoever writes a package (built-in training, `models
 * import`, a user's script) and everything that loads one (flavors, serving,
 * evaluation, model cards). `parseManifest` is the one gate a manifest goes
 * through on the way in and on the way out, so a bad field is reported by
 * name when the package is written, not when a request is served.
 *
 * Signature rules at predict time (`validateRows`, `rowsToColumns`):
 * - every signature input must be present in every row (a key that is absent
 *   or `undefined` is "missing", even for nullable inputs: a typo in a field
 *   name should fail, not turn silently into nulls);
 * - `null` is accepted only for inputs declared `nullable`;
 * - types are checked, not coerced: double takes numbers (and bigints), long
 *   takes integers (numbers or bigints), boolean takes booleans, string takes
 *   strings;
 * - fields that the signature does not name are IGNORED: scoring rows usually
 *   carry ids and labels next to the features, and refusing them would force
 *   every caller to strip them first. (The `js` flavor receives rows as given.)
 */
import { invalidArgument } from '../core/errors.js';
import { validateArtifactPath } from '../artifacts/paths.js';

export const MANIFEST_FILE = 'flywheel-model.json';
export const MANIFEST_FORMAT = 1;

export const FLAVORS = ['onnx', 'js'] as const;
export type ModelFlavor = (typeof FLAVORS)[number];
export const TASKS = ['classification', 'regression'] as const;
export type ModelTask = (typeof TASKS)[number];
export const INPUT_TYPES = ['double', 'long', 'string', 'boolean'] as const;
export type InputType = (typeof INPUT_TYPES)[number];
export const OUTPUT_TYPES = ['double', 'long', 'string'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

export interface SignatureInput {
  name: string;
  type: InputType;
  /** Whether null is accepted; absent means false. */
  nullable?: boolean;
}

export interface SignatureOutput {
  name: string;
  type: OutputType;
  /** For tensor outputs such as class probabilities: [-1, number of classes]. */
  shape?: number[];
}

export interface ModelSignature {
  inputs: SignatureInput[];
  outputs: SignatureOutput[];
}

export interface ModelTraining {
  /** The run that produced the package (for an imported model, the import run). */
  runId: string;
  /** Dataset ref the model was trained on, e.g. "orders@3". */
  dataset: string | null;
  datasetVersionId: string | null;
  target: string | null;
}

export interface ModelManifest {
  format: 1;
  flavor: ModelFlavor;
  signature: ModelSignature;
  task: ModelTask | null;
  /** Classification label order; probability columns follow it. */
  classes: string[] | null;
  /** Flavor-specific role → path relative to the package: onnx `{ model }`, js `{ module, … }`. */
  files: Record<string, string>;
  /** What the built-in training's graph does (encoding, imputation), for model cards; serving does not read it. */
  preprocessing: Record<string, unknown> | null;
  training: ModelTraining;
  metrics: Record<string, number>;
  libraries: Record<string, string>;
  createdTime: number;
}

/** The file role each flavor needs in `files`. */
export const REQUIRED_FILE: Record<ModelFlavor, string> = { onnx: 'model', js: 'module' };

// ---------------------------------------------------------------------------
// Parsing

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldError(field: string, expected: string, got: unknown) {
  return invalidArgument(`${field} must be ${expected}, got ${describe(got)}`, { field });
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw fieldError(field, 'a non-empty string', v);
  return v;
}

function strOrNull(v: unknown, field: string): string | null {
  return v === null || v === undefined ? null : str(v, field);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw fieldError(field, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  return v as T;
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(v)) throw fieldError(field, 'an object', v);
  return v;
}

function uniqueNames(names: string[], field: string): void {
  const seen = new Set<string>();
  for (const [i, n] of names.entries()) {
    if (seen.has(n)) throw invalidArgument(`${field}[${i}].name: "${n}" appears twice`, { field: `${field}[${i}].name` });
    seen.add(n);
  }
}

/** Checks a signature object and returns a normalized copy (inputs' `nullable` always set). */
export function parseSignature(value: unknown, field = 'signature'): ModelSignature {
  const s = obj(value, field);
  if (!Array.isArray(s.inputs) || s.inputs.length === 0) throw fieldError(`${field}.inputs`, 'a non-empty array', s.inputs);
  const inputs = s.inputs.map((raw, i): SignatureInput => {
    const f = `${field}.inputs[${i}]`;
    const o = obj(raw, f);
    if (o.nullable !== undefined && typeof o.nullable !== 'boolean') throw fieldError(`${f}.nullable`, 'true or false', o.nullable);
    return { name: str(o.name, `${f}.name`), type: oneOf(o.type, INPUT_TYPES, `${f}.type`), nullable: o.nullable === true };
  });
  uniqueNames(inputs.map((x) => x.name), `${field}.inputs`);
  const rawOutputs = s.outputs ?? [];
  if (!Array.isArray(rawOutputs)) throw fieldError(`${field}.outputs`, 'an array', rawOutputs);
  const outputs = rawOutputs.map((raw, i): SignatureOutput => {
    const f = `${field}.outputs[${i}]`;
    const o = obj(raw, f);
    const out: SignatureOutput = { name: str(o.name, `${f}.name`), type: oneOf(o.type, OUTPUT_TYPES, `${f}.type`) };
    if (o.shape !== undefined) {
      if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || (d as number) < -1)) throw fieldError(`${f}.shape`, 'an array of integers (-1 for any size)', o.shape);
      out.shape = [...(o.shape as number[])];
    }
    return out;
  });
  uniqueNames(outputs.map((x) => x.name), `${field}.outputs`);
  return { inputs, outputs };
}

function stringRecord(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = str(x, `${field}.${k}`);
  return out;
}

/**
 * Checks a manifest (parsed JSON or an object built in code) and returns a
 * normalized copy. Every problem is FW_INVALID_ARGUMENT naming the field
 * (`manifest.signature.inputs[2].type must be one of …`). Unknown top-level
 * fields are dropped, so a newer writer's additions do not break this reader.
 */
export function parseManifest(value: unknown, field = 'manifest'): ModelManifest {
  const m = obj(value, field);
  if (m.format !== MANIFEST_FORMAT) {
    throw invalidArgument(`${field}.format must be ${MANIFEST_FORMAT} (the package format this Flywheel reads), got ${describe(m.format)}`, { field: `${field}.format` });
  }
  const flavor = oneOf(m.flavor, FLAVORS, `${field}.flavor`);
  const signature = parseSignature(m.signature, `${field}.signature`);
  const task = m.task === null || m.task === undefined ? null : oneOf(m.task, TASKS, `${field}.task`);

  let classes: string[] | null = null;
  if (m.classes !== null && m.classes !== undefined) {
    if (!Array.isArray(m.classes) || m.classes.length < 2) throw fieldError(`${field}.classes`, 'null or an array of at least two class labels', m.classes);
    classes = m.classes.map((c, i) => str(c, `${field}.classes[${i}]`));
    if (new Set(classes).size !== classes.length) throw invalidArgument(`${field}.classes holds the same label twice`, { field: `${field}.classes` });
    if (task === 'regression') throw invalidArgument(`${field}.classes must be null for a regression model`, { field: `${field}.classes` });
  }

  const files = stringRecord(m.files, `${field}.files`);
  for (const [role, rel] of Object.entries(files)) {
    let normalized: string;
    try {
      normalized = validateArtifactPath(rel);
    } catch (err) {
      throw invalidArgument(`${field}.files.${role}: ${(err as Error).message}`, { field: `${field}.files.${role}` });
    }
    if (normalized === MANIFEST_FILE) throw invalidArgument(`${field}.files.${role} may not name the manifest itself`, { field: `${field}.files.${role}` });
    files[role] = normalized;
  }
  const required = REQUIRED_FILE[flavor];
  if (!files[required]) throw invalidArgument(`${field}.files.${required} is required for the ${flavor} flavor`, { field: `${field}.files.${required}` });

  let preprocessing: Record<string, unknown> | null = null;
  if (m.preprocessing !== null && m.preprocessing !== undefined) preprocessing = obj(m.preprocessing, `${field}.preprocessing`);

  const t = obj(m.training, `${field}.training`);
  const training: ModelTraining = {
    runId: str(t.runId, `${field}.training.runId`),
    dataset: strOrNull(t.dataset, `${field}.training.dataset`),
    datasetVersionId: strOrNull(t.datasetVersionId, `${field}.training.datasetVersionId`),
    target: strOrNull(t.target, `${field}.training.target`),
  };

  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(m.metrics ?? {}, `${field}.metrics`))) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw fieldError(`${field}.metrics.${k}`, 'a finite number', v);
    metrics[k] = v;
  }
  const libraries = stringRecord(m.libraries ?? {}, `${field}.libraries`);
  if (typeof m.createdTime !== 'number' || !Number.isSafeInteger(m.createdTime) || m.createdTime < 0) {
    throw fieldError(`${field}.createdTime`, 'a time in milliseconds since 1970', m.createdTime);
  }
  return { format: MANIFEST_FORMAT, flavor, signature, task, classes, files, preprocessing, training, metrics, libraries, createdTime: m.createdTime };
}

/** Parses the text of `flywheel-model.json`. */
export function parseManifestJson(text: string, source = MANIFEST_FILE): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  return parseManifest(value);
}

// ---------------------------------------------------------------------------
// Signatures from data

/** A column of a dataset version's schema (data/types.ts ColumnSchema has this shape). */
export interface SchemaColumn {
  name: string;
  /** DuckDB logical type name: BIGINT, DOUBLE, DECIMAL(18,3), VARCHAR, BOOLEAN… */
  type: string;
  nullable: boolean;
}

const LONG_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT', 'INT1', 'INT2', 'INT4', 'INT8', 'LONG', 'SHORT', 'SIGNED']);
const DOUBLE_TYPES = new Set(['DOUBLE', 'FLOAT', 'REAL', 'FLOAT4', 'FLOAT8', 'NUMERIC', 'DECIMAL']);
const STRING_TYPES = new Set(['VARCHAR', 'TEXT', 'STRING', 'CHAR', 'BPCHAR', 'ENUM']);
const BOOLEAN_TYPES = new Set(['BOOLEAN', 'BOOL', 'LOGICAL']);

/** The signature type of a DuckDB type, or null when a signature cannot hold it (dates, blobs, lists…). */
export function signatureTypeOf(duckdbType: string): InputType | null {
  const base = duckdbType.trim().toUpperCase().replace(/\s*\(.*$/s, '');
  if (DOUBLE_TYPES.has(base)) return 'double';
  if (LONG_TYPES.has(base)) return 'long';
  if (STRING_TYPES.has(base)) return 'string';
  if (BOOLEAN_TYPES.has(base)) return 'boolean';
  return null;
}

/**
 * Signature inputs from a DuckDB/Parquet schema, in schema order, without the
 * `exclude`d columns (the target, ids). A column of a type a signature cannot
 * hold is an error naming it, unless it is excluded.
 */
export function inferSignatureInputs(schema: readonly SchemaColumn[], options: { exclude?: readonly string[] } = {}): SignatureInput[] {
  const exclude = new Set(options.exclude ?? []);
  for (const name of exclude) {
    if (!schema.some((c) => c.name === name)) throw invalidArgument(`column "${name}" is not in the data (columns: ${schema.map((c) => c.name).join(', ')})`, { field: name });
  }
  const inputs: SignatureInput[] = [];
  for (const c of schema) {
    if (exclude.has(c.name)) continue;
    const type = signatureTypeOf(c.type);
    if (!type) {
      throw invalidArgument(`column "${c.name}" has type ${c.type}, which a model signature cannot hold (double, long, string, boolean): cast it in a transform or leave it out`, { field: c.name });
    }
    inputs.push({ name: c.name, type, nullable: c.nullable });
  }
  if (inputs.length === 0) throw invalidArgument('the data has no columns left to use as model inputs');
  return inputs;
}

/** The outputs every package of a task declares: `prediction`, plus `probability` [-1, classes] for classifiers that give them. */
export function standardOutputs(task: ModelTask | null, options: { labelType?: OutputType; classCount?: number | null; probabilities?: boolean } = {}): SignatureOutput[] {
  if (task === 'classification') {
    const outputs: SignatureOutput[] = [{ name: 'prediction', type: options.labelType ?? 'string' }];
    if (options.probabilities !== false) outputs.push({ name: 'probability', type: 'double', shape: [-1, options.classCount ?? -1] });
    return outputs;
  }
  return [{ name: 'prediction', type: options.labelType ?? 'double' }];
}

// ---------------------------------------------------------------------------
// Rows at predict time

const TYPE_WORDS: Record<InputType, string> = {
  double: 'a double (a number)',
  long: 'a long (an integer)',
  string: 'a string',
  boolean: 'a boolean',
};

function badValue(row: number, input: SignatureInput, value: unknown) {
  if (value === undefined) return invalidArgument(`row ${row}: field "${input.name}" is missing (the signature requires it)`, { row, field: input.name });
  if (value === null) return invalidArgument(`row ${row}: field "${input.name}" is null, but the signature does not allow nulls for it`, { row, field: input.name });
  return invalidArgument(`row ${row}: field "${input.name}" must be ${TYPE_WORDS[input.type]}, got ${describe(value)}`, { row, field: input.name });
}

function notARow(row: number, value: unknown) {
  return invalidArgument(`row ${row} must be an object of field values, got ${describe(value)}`, { row });
}

function checkRowsArray(rows: unknown): asserts rows is Record<string, unknown>[] {
  if (!Array.isArray(rows)) throw invalidArgument(`rows must be an array of objects, got ${describe(rows)}`);
}

/** Checks every row against the signature; throws FW_INVALID_ARGUMENT naming the first bad field and its row index. */
export function validateRows(signature: ModelSignature, rows: readonly unknown[]): void {
  checkRowsArray(rows);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw notARow(i, row);
    const r = row as Record<string, unknown>;
    for (const input of signature.inputs) {
      const v = r[input.name];
      if (!valueFits(input, v)) throw badValue(i, input, v);
    }
  }
}

function valueFits(input: SignatureInput, v: unknown): boolean {
  switch (input.type) {
    case 'double':
      return typeof v === 'number' || typeof v === 'bigint' || (v === null && input.nullable === true);
    case 'long':
      return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint' || (v === null && input.nullable === true);
    case 'string':
      return typeof v === 'string' || (v === null && input.nullable === true);
    case 'boolean':
      return typeof v === 'boolean' || (v === null && input.nullable === true);
  }
}

export type NumericArray = Float32Array | Float64Array;
/** A column of values: typed arrays for numbers (NaN for null, booleans as 1/0), or plain arrays (null for missing). */
export type Column = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | (string | null)[] | (number | null)[] | (boolean | null)[];
export type ColumnBatch = Record<string, Column>;

/**
 * Validates one numeric-like input (double, long, boolean) over all rows and
 * writes it into `out` at `offset + i * stride`: stride 1 fills a column, a
 * stride of F fills column `offset` of a row-major [N, F] matrix directly.
 * Null becomes NaN, a boolean 1 or 0, a bigint its nearest number.
 */
export function writeNumericColumn(rows: readonly Record<string, unknown>[], input: SignatureInput, out: NumericArray, offset = 0, stride = 1): void {
  const name = input.name;
  const nullable = input.nullable === true;
  const type = input.type;
  for (let i = 0, k = offset; i < rows.length; i++, k += stride) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null) throw notARow(i, row);
    const v = row[name];
    if (typeof v === 'number') {
      if (type === 'boolean' || (type === 'long' && !Number.isInteger(v))) throw badValue(i, input, v);
      out[k] = v;
    } else if (typeof v === 'boolean' && type === 'boolean') {
      out[k] = v ? 1 : 0;
    } else if (typeof v === 'bigint' && type !== 'boolean') {
      out[k] = Number(v);
    } else if (v === null && nullable) {
      out[k] = NaN;
    } else {
      throw badValue(i, input, v);
    }
  }
}

/** Validates one string input over all rows and returns its values (null kept as null). */
export function readStringColumn(rows: readonly Record<string, unknown>[], input: SignatureInput): (string | null)[] {
  const out = new Array<string | null>(rows.length);
  const nullable = input.nullable === true;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null) throw notARow(i, row);
    const v = row[input.name];
    if (typeof v === 'string') out[i] = v;
    else if (v === null && nullable) out[i] = null;
    else throw badValue(i, input, v);
  }
  return out;
}

/**
 * Rows → one array per signature input, validating as it goes (same errors as
 * `validateRows`). Numeric-like inputs become Float64Array (or Float32Array
 * with `{ float32: true }`, or per input through `float32For`), strings arrays.
 */
export function rowsToColumns(
  signature: ModelSignature,
  rows: readonly unknown[],
  options: { float32?: boolean; float32For?: (input: SignatureInput) => boolean } = {},
): { n: number; columns: ColumnBatch } {
  checkRowsArray(rows);
  const n = rows.length;
  const columns: ColumnBatch = {};
  for (const input of signature.inputs) {
    if (input.type === 'string') {
      columns[input.name] = readStringColumn(rows, input);
    } else {
      const f32 = options.float32For ? options.float32For(input) : options.float32 === true;
      const out = f32 ? new Float32Array(n) : new Float64Array(n);
      writeNumericColumn(rows, input, out);
      columns[input.name] = out;
    }
  }
  return { n, columns };
}

const isTypedArray = (v: unknown): v is Exclude<Column, unknown[]> => ArrayBuffer.isView(v) && !(v instanceof DataView);

/**
 * Checks a column batch against the signature: every input present, all of
 * one length, string inputs as arrays of strings (null where nullable),
 * numeric-like inputs as typed arrays or arrays of numbers (booleans for
 * boolean inputs; null where nullable). Returns the row count. Typed arrays are not scanned (NaN in
 * them is the missing-value marker numeric models already understand).
 */
export function checkColumns(signature: ModelSignature, columns: unknown): number {
  if (!isPlainObject(columns)) throw invalidArgument(`columns must be an object of arrays keyed by input name, got ${describe(columns)}`);
  let n = -1;
  for (const input of signature.inputs) {
    const col = columns[input.name];
    if (col === undefined) throw invalidArgument(`column "${input.name}" is missing (the signature requires it)`, { field: input.name });
    const typed = isTypedArray(col);
    if (!typed && !Array.isArray(col)) throw invalidArgument(`column "${input.name}" must be an array, got ${describe(col)}`, { field: input.name });
    const len = (col as ArrayLike<unknown>).length;
    if (n === -1) n = len;
    else if (len !== n) throw invalidArgument(`column "${input.name}" has ${len} values, other columns ${n}`, { field: input.name });
    if (input.type === 'string') {
      if (typed) throw invalidArgument(`column "${input.name}" must be an array of strings, got a typed array`, { field: input.name });
      for (let i = 0; i < len; i++) {
        const v = (col as unknown[])[i];
        if (typeof v !== 'string' && !(v === null && input.nullable)) throw badValue(i, input, v);
      }
    } else if (!typed) {
      for (let i = 0; i < len; i++) {
        const v = (col as unknown[])[i];
        const fits = typeof v === 'number' ? input.type !== 'long' || Number.isInteger(v) : typeof v === 'boolean' ? input.type === 'boolean' : v === null && input.nullable === true;
        if (!fits) throw badValue(i, input, v);
      }
    }
  }
  return n;
}

/** Column batch → row objects with the signature's inputs (for flavors that take rows). */
export function columnsToRows(signature: ModelSignature, columns: ColumnBatch, n: number): Record<string, unknown>[] {
  const rows = new Array<Record<string, unknown>>(n);
  for (let i = 0; i < n; i++) rows[i] = {};
  for (const input of signature.inputs) {
    const col = columns[input.name] as ArrayLike<unknown>;
    const typed = isTypedArray(col);
    for (let i = 0; i < n; i++) {
      let v = col[i];
      if (typed) {
        if (typeof v === 'bigint') v = Number(v);
        if (typeof v === 'number' && Number.isNaN(v)) v = input.nullable ? null : v;
        else if (input.type === 'boolean') v = v !== 0;
      }
      rows[i][input.name] = v;
    }
  }
  return rows;
}
