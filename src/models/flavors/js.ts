/**
 * The `js` flavor, Flywheel's counterpart of MLflow's pyfunc: the package
 * holds a JavaScript or TypeScript module (`files.module`) exporting
 * `predict(rows, state?)`, sync or async, and optionally `load(dir)`, called
 * once with the package directory (its result is passed to every predict as
 * `state`: weights read from the package's other files, a session…). The
 * exports may also sit on a default-exported object.
 *
 * predict receives the rows as given (validated against the signature; extra
 * fields are left in) and must return one prediction per row: a number, a
 * string, or `{ prediction, probability? }`. Anything else, or a throw, is
 * FW_INVALID_ARGUMENT saying what came back: the module is user input, and
 * FW_INTERNAL would hide its message behind "see the server log".
 *
 * The module runs in this process with Node's resolution from the package's
 * cache directory, so it should import only Node built-ins or be bundled.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FlywheelError, invalidArgument } from '../../core/errors.js';
import { checkColumns, columnsToRows, validateRows, type ColumnBatch, type ModelManifest } from '../manifest.js';
import type { ColumnarPredictions, LoadedModel, Prediction } from '../types.js';

type PredictFn = (rows: readonly Record<string, unknown>[], state?: unknown) => unknown;
type LoadFn = (dir: string) => unknown;

let tsxRegistered = false;
async function registerTsx(): Promise<void> {
  // Node 20 cannot strip types; tsx's loader does (as for pipeline modules). Not needed when already running under tsx.
  if (tsxRegistered || process.execArgv.some((a) => a.includes('tsx'))) return;
  const { register } = await import('tsx/esm/api');
  register();
  tsxRegistered = true;
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}`;
  return `${typeof v} ${String(v)}`;
}

/** What the model itself got wrong (it threw, or answered in the wrong shape): not the caller's input, so not a 4xx. */
const predictionFailed = (message: string, details?: Record<string, unknown>) => new FlywheelError('FW_PREDICTION_FAILED', message, details);

/** Checks what predict returned and turns it into one Prediction per row. */
export function normalizePredictions(result: unknown, n: number, where: string, classes: string[] | null): Prediction[] {
  if (!Array.isArray(result)) throw predictionFailed(`${where} returned ${describeValue(result)}, not an array of ${n} predictions`);
  if (result.length !== n) throw predictionFailed(`${where} returned ${result.length} predictions for ${n} rows`);
  const out = new Array<Prediction>(n);
  for (let i = 0; i < n; i++) {
    const v = result[i];
    if (typeof v === 'number' || typeof v === 'string') {
      out[i] = { prediction: v };
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw predictionFailed(`${where} returned ${describeValue(v)} for row ${i}; expected a number, a string or { prediction, probability? }`, { row: i });
    }
    const o = v as Record<string, unknown>;
    if (typeof o.prediction !== 'number' && typeof o.prediction !== 'string') {
      throw predictionFailed(`${where} returned an object without a number or string "prediction" for row ${i} (got ${describeValue(o.prediction)})`, { row: i });
    }
    const p: Prediction = { prediction: o.prediction };
    if (o.probability !== undefined) {
      if (!Array.isArray(o.probability) || o.probability.some((x) => typeof x !== 'number')) {
        throw predictionFailed(`${where} returned a "probability" for row ${i} that is not an array of numbers`, { row: i });
      }
      if (classes && o.probability.length !== classes.length) {
        throw predictionFailed(`${where} returned ${o.probability.length} probabilities for row ${i}, but the manifest names ${classes.length} classes`, { row: i });
      }
      p.probability = o.probability as number[];
    }
    out[i] = p;
  }
  return out;
}

/** Row predictions → columns (numbers in a Float64Array when every prediction is a number). */
export function predictionsToColumns(preds: Prediction[]): ColumnarPredictions {
  const n = preds.length;
  const allNumbers = preds.every((p) => typeof p.prediction === 'number');
  const result: ColumnarPredictions = {
    n,
    prediction: allNumbers ? Float64Array.from(preds, (p) => p.prediction as number) : preds.map((p) => String(p.prediction)),
  };
  const k = preds[0]?.probability?.length;
  if (k !== undefined && preds.every((p) => p.probability?.length === k)) {
    const prob = new Float64Array(n * k);
    preds.forEach((p, i) => prob.set(p.probability!, i * k));
    result.probability = prob;
    result.probabilityColumns = k;
  }
  return result;
}

export class JsModel implements LoadedModel {
  private closed = false;

  constructor(
    readonly manifest: ModelManifest,
    readonly source: string,
    readonly dir: string,
    private readonly fn: PredictFn,
    private readonly state: unknown,
  ) {}

  async predict(rows: readonly Record<string, unknown>[]): Promise<Prediction[]> {
    if (this.closed) throw new FlywheelError('FW_INVALID_STATE', `the model ${this.source} is closed`);
    validateRows(this.manifest.signature, rows);
    const where = `the js model ${this.manifest.files.module} (${this.source}): predict`;
    let result: unknown;
    try {
      result = await this.fn(rows, this.state);
    } catch (err) {
      if (err instanceof FlywheelError) throw err;
      throw predictionFailed(`${where} threw: ${firstLine(err)}`);
    }
    return normalizePredictions(result, rows.length, where, this.manifest.classes);
  }

  async predictColumns(columns: ColumnBatch): Promise<ColumnarPredictions> {
    const n = checkColumns(this.manifest.signature, columns);
    return predictionsToColumns(await this.predict(columnsToRows(this.manifest.signature, columns, n)));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Loads the js flavor of a package in `dir`: imports the module and runs its `load(dir)` once. */
export async function loadJsModel(manifest: ModelManifest, dir: string, source: string): Promise<JsModel> {
  const rel = manifest.files.module;
  const file = path.join(dir, rel);
  if (/\.[mc]?ts$/i.test(file)) await registerTsx();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw invalidArgument(`cannot load the js model module ${rel}: ${firstLine(err)}`);
  }
  const def = typeof mod.default === 'object' && mod.default !== null ? (mod.default as Record<string, unknown>) : {};
  // Functions found on a default-exported object keep it as `this`.
  const own = <T>(name: string) => (typeof mod[name] === 'function' ? mod[name] : typeof def[name] === 'function' ? (def[name] as (...a: unknown[]) => unknown).bind(def) : (mod[name] ?? def[name])) as T | undefined;
  const predict = own<PredictFn>('predict');
  const load = own<LoadFn>('load');
  if (typeof predict !== 'function') throw invalidArgument(`the js model module ${rel} exports no predict(rows) function`);
  if (load !== undefined && typeof load !== 'function') throw invalidArgument(`the js model module ${rel} exports a "load" that is not a function`);
  let state: unknown;
  if (load) {
    try {
      state = await load(dir);
    } catch (err) {
      if (err instanceof FlywheelError) throw err;
      throw invalidArgument(`the js model module ${rel}: load(dir) threw: ${firstLine(err)}`);
    }
  }
  return new JsModel(manifest, source, dir, predict, state);
}
