/**
 * MLflow scoring server `/invocations` (MLflow 2.x, mlflow/pyfunc/scoring_server):
 * the request formats MLflow clients and `mlflow models predict` send, turned
 * into signature rows, and the `{"predictions": …}` response. Pure functions;
 * the lead's routes call them.
 *
 * JSON bodies hold exactly one of `dataframe_split` ({columns, data, index?}),
 * `dataframe_records` (list of objects), `instances` or `inputs` (list of
 * objects, list of scalars for a one-input model, list of lists in signature
 * order, or an object of columns), plus optional `params`. `text/csv` bodies
 * are a header row and one record per line, as `pandas.DataFrame.to_csv()`
 * writes them. Error wording follows MLflow's where it has one, so messages
 * people search for still match.
 */
import { invalidArgument } from '../../core/errors.js';
import type { ModelSignature, SignatureInput } from '../../models/manifest.js';
import type { Prediction } from '../../models/types.js';
import { parseJsonBody } from '../../server/json-body.js';
import { describeValue, prepareRows } from './rows.js';

export const MLFLOW_INPUT_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const CONTENT_TYPES = ['text/csv', 'application/json'];

/** MLflow's REQUIRED_INPUT_FORMAT sentence, its set of keys printed as MLflow's errors show it. */
const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${[...MLFLOW_INPUT_FORMATS].sort().map((f) => `'${f}'`).join(', ')}}`;

const pyList = (keys: string[]) => `[${keys.map((k) => `'${k}'`).join(', ')}]`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface InvocationsRequest {
  rows: Record<string, unknown>[];
  params?: Record<string, unknown>;
}

/**
 * Parses an `/invocations` body (already-parsed JSON or raw text) by its
 * Content-Type and checks the rows with prepareRows. Unsupported content
 * types and charsets are 400s with MLflow's wording (MLflow answers 415).
 */
export function parseInvocations(body: unknown, contentType: string, signature: ModelSignature): InvocationsRequest {
  const [mime, ...paramParts] = (contentType ?? '').split(';').map((p) => p.trim());
  const mimeType = mime.toLowerCase();
  for (const part of paramParts) {
    if (part === '') continue;
    const [key, value = ''] = part.split('=').map((x) => x.trim());
    if (key.toLowerCase() !== 'charset') throw invalidArgument(`Unrecognized content type parameters: ${key}.`, { field: 'content-type' });
    if (value.replace(/^"|"$/g, '').toLowerCase() !== 'utf-8') throw invalidArgument('The scoring server only supports UTF-8', { field: 'content-type' });
  }
  if (mimeType === 'text/csv') {
    const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : null;
    if (text === null) throw invalidArgument(`a text/csv body must be text, got ${describeValue(body)}`);
    return { rows: prepareRows(signature, parseCsvRows(text, signature)) };
  }
  if (mimeType !== 'application/json') {
    throw invalidArgument(`This predictor only supports the following content types: Types: ${pyList(CONTENT_TYPES)}. Got '${contentType}'.`, { field: 'content-type' });
  }
  const json = typeof body === 'string' ? parseJsonBody(body) : Buffer.isBuffer(body) ? parseJsonBody(body.toString('utf8')) : body;
  if (Array.isArray(json)) throw invalidArgument(`${REQUIRED_INPUT_FORMAT}. Received a list.`);
  if (!isObject(json)) throw invalidArgument(`${REQUIRED_INPUT_FORMAT}. Received unexpected input type '${describeValue(json)}'.`);
  const formats = MLFLOW_INPUT_FORMATS.filter((f) => Object.hasOwn(json, f));
  if (formats.length !== 1) {
    throw invalidArgument(`${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${pyList(Object.keys(json))}.`);
  }
  const format = formats[0];
  const out: InvocationsRequest = { rows: [] };
  if (json.params !== undefined && json.params !== null) {
    if (!isObject(json.params)) throw invalidArgument(`params must be an object of parameter values, got ${describeValue(json.params)}`, { field: 'params' });
    out.params = json.params;
  }
  const value = json[format];
  let rows: unknown[];
  switch (format) {
    case 'dataframe_split':
      rows = rowsFromSplit(value, signature);
      break;
    case 'dataframe_records':
      if (!Array.isArray(value)) throw invalidArgument(`dataframe_records must be a list of records (objects), got ${describeValue(value)}`, { field: format });
      rows = value;
      break;
    case 'instances':
    case 'inputs':
      rows = rowsFromTfServing(format, value, signature);
      break;
  }
  out.rows = prepareRows(signature, rows);
  return out;
}

/** Pandas' split orient: `{columns, data, index?}`; without columns, values follow signature order. */
function rowsFromSplit(value: unknown, signature: ModelSignature): Record<string, unknown>[] {
  if (!isObject(value)) throw invalidArgument(`dataframe_split must be an object {columns, data, index?}, got ${describeValue(value)}`, { field: 'dataframe_split' });
  const data = value.data;
  if (!Array.isArray(data)) throw invalidArgument(`dataframe_split.data must be a list of rows (lists of values), got ${describeValue(data)}`, { field: 'dataframe_split.data' });
  let columns: string[];
  if (value.columns === undefined || value.columns === null) {
    columns = signature.inputs.map((i) => i.name);
  } else {
    if (!Array.isArray(value.columns) || value.columns.some((c) => typeof c !== 'string')) {
      throw invalidArgument(`dataframe_split.columns must be a list of column names, got ${describeValue(value.columns)}`, { field: 'dataframe_split.columns' });
    }
    columns = value.columns as string[];
  }
  if (value.index !== undefined && value.index !== null && (!Array.isArray(value.index) || value.index.length !== data.length)) {
    throw invalidArgument(`dataframe_split.index must be a list with one entry per row (${data.length}), got ${Array.isArray(value.index) ? `${value.index.length} entries` : describeValue(value.index)}`, { field: 'dataframe_split.index' });
  }
  return data.map((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw invalidArgument(`dataframe_split.data[${i}] must be a list of ${columns.length} values (one per column), got ${Array.isArray(row) ? `${row.length} values` : describeValue(row)}`, { row: i, field: 'dataframe_split.data' });
    }
    const r: Record<string, unknown> = {};
    for (let j = 0; j < columns.length; j++) r[columns[j]] = row[j];
    return r;
  });
}

/** TF-serving style `instances` / `inputs`: rows of objects, scalars (one input), positional lists, or an object of columns. */
function rowsFromTfServing(key: 'instances' | 'inputs', value: unknown, signature: ModelSignature): Record<string, unknown>[] {
  const names = signature.inputs.map((i) => i.name);
  if (isObject(value)) {
    const columns = Object.entries(value);
    let n = -1;
    for (const [name, col] of columns) {
      if (!Array.isArray(col)) throw invalidArgument(`${key}.${name} must be a list of values (one per row), got ${describeValue(col)}`, { field: name });
      if (n === -1) n = col.length;
      else if (col.length !== n) throw invalidArgument('The length of values for each input/column name are not the same', { field: name });
    }
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < Math.max(n, 0); i++) {
      const r: Record<string, unknown> = {};
      for (const [name, col] of columns) r[name] = (col as unknown[])[i];
      rows.push(r);
    }
    return rows;
  }
  if (!Array.isArray(value)) throw invalidArgument(`${key} must be a list of rows or an object of columns, got ${describeValue(value)}`, { field: key });
  return value.map((item, i) => {
    if (isObject(item)) return item;
    if (Array.isArray(item)) {
      if (item.length !== names.length) {
        throw invalidArgument(`${key}[${i}] must be a list of ${names.length} values in signature order (${names.join(', ')}), got ${item.length} values`, { row: i, field: key });
      }
      const r: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) r[names[j]] = item[j];
      return r;
    }
    if (names.length !== 1) {
      throw invalidArgument(`${key}[${i}] is a single value (${describeValue(item)}), which fits only a model with one input; this model's inputs are ${names.join(', ')}: send objects or lists of ${names.length} values`, { row: i, field: key });
    }
    return { [names[0]]: item };
  });
}

// ---------------------------------------------------------------------------
// CSV

/** Splits CSV text into records (RFC 4180: quoted fields may hold commas, quotes as "" and newlines). */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') {
      quoted = true;
      fieldStarted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
      fieldStarted = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      fieldStarted = false;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted) throw invalidArgument('Failed to parse input as CSV: a quoted field is not closed');
  if (fieldStarted || field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  // blank lines (a trailing newline, or empty lines between records) carry no row
  return records.filter((r) => !(r.length === 1 && r[0] === ''));
}

const NUMBER = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const NON_FINITE_CSV: Record<string, string> = { nan: 'NaN', inf: 'Infinity', '+inf': 'Infinity', '-inf': '-Infinity', infinity: 'Infinity', '+infinity': 'Infinity', '-infinity': '-Infinity' };

/** One CSV cell as its signature input's value; what does not parse stays a string so prepareRows names it. */
function csvValue(cell: string, input: SignatureInput | undefined): unknown {
  if (cell === '') return null; // pandas reads an empty cell as a missing value
  if (!input || input.type === 'string') return cell;
  const t = cell.trim();
  if (input.type === 'boolean') {
    const lower = t.toLowerCase();
    return lower === 'true' ? true : lower === 'false' ? false : cell;
  }
  if (NUMBER.test(t)) return Number(t);
  const nonFinite = NON_FINITE_CSV[t.toLowerCase()];
  return nonFinite ?? cell;
}

function parseCsvRows(text: string, signature: ModelSignature): Record<string, unknown>[] {
  const records = parseCsvRecords(text);
  if (records.length === 0) throw invalidArgument('Failed to parse input as CSV: the body is empty (expected a header row, then one row per record)');
  const header = records[0];
  const inputs = new Map(signature.inputs.map((i) => [i.name, i]));
  const columnInputs = header.map((h) => inputs.get(h));
  const rows: Record<string, unknown>[] = [];
  for (let i = 1; i < records.length; i++) {
    const rec = records[i];
    if (rec.length !== header.length) {
      throw invalidArgument(`Failed to parse input as CSV: line ${i + 1} has ${rec.length} fields, the header ${header.length}`, { row: i - 1 });
    }
    const r: Record<string, unknown> = {};
    for (let j = 0; j < header.length; j++) r[header[j]] = csvValue(rec[j], columnInputs[j]);
    rows.push(r);
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Response

/** MLflow's response body: `{"predictions": [...]}` (labels or values), plus Flywheel's prediction ids. */
export function invocationsResponse(predictions: Prediction[], predictionIds: string[]): { predictions: (number | string)[]; prediction_ids: string[] } {
  return { predictions: predictions.map((p) => p.prediction), prediction_ids: [...predictionIds] };
}
