/**
 * `evaluateModel`: a model (registered version, alias or run package) scored
 * on a dataset version, and the report of `evaluatePredictions` on those
 * scores — what `flywheel evaluate MODEL --data NAME@V` and the pipeline step
 * `uses: evaluate` run, and what model cards and promotion gates read back
 * (`latestEvaluation`).
 *
 * The data never becomes row objects: DuckDB streams the signature's inputs
 * as typed arrays (strings as arrays) in batches, `predictColumns` scores each
 * batch, and the scores go back into DuckDB through an appender keyed by the
 * Parquet file's row number. The label, slice and group columns are then
 * joined from the dataset's own Parquet file inside `evaluatePredictions`, so
 * they are read once, by DuckDB, and never cross into JS.
 *
 * Recording (on by default) makes the evaluation a tracking run: params,
 * every numeric metric, `fairness.*`, latency, the full result as the artifact
 * `evaluation.json`, the lineage edges run —consumes→ dataset version (and
 * model version), and on a registered version the tag
 * `flywheel.eval.<dataset>/<version>` = run id, which is how
 * `latestEvaluation` finds it again.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import { FlywheelError, invalidArgument, isFlywheelError } from '../core/errors.js';
import type { DataService } from '../data/service.js';
import type { DatasetVersion } from '../data/types.js';
import { sqlIdent, sqlLiteral, type Engine } from '../engine/index.js';
import { recordEdges, type LineageEdge } from '../lineage/service.js';
import type { Column, ColumnBatch, ModelManifest, SignatureInput } from '../models/manifest.js';
import { loadModel } from '../models/load.js';
import type { ColumnarPredictions, LoadedModel } from '../models/types.js';
import type { RegistryService } from '../registry/service.js';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import { evaluatePredictions, type EvaluationReport } from './evaluate.js';
import { permutationImportance, type Columns, type PermutationImportance } from './permutation.js';

/** Rows scored per `predictColumns` call. */
export const EVALUATION_BATCH_ROWS = 50_000;
/** Batch-1 calls timed for the latency figures. */
export const LATENCY_CALLS = 200;
const LATENCY_WARMUP = 5;
const DEFAULT_IMPORTANCE_ROWS = 2000;
/** Run artifact holding the full evaluation (a ModelEvaluation as JSON). */
export const EVALUATION_ARTIFACT = 'evaluation.json';
/** Prefix of the model-version tags naming evaluation runs: `flywheel.eval.<dataset>/<version>`. */
export const EVAL_TAG_PREFIX = 'flywheel.eval.';

export interface ImportanceOptions {
  /** Shuffles per feature (default 5). */
  repeats?: number;
  /** Rows sampled for it (default 2000). */
  sampleRows?: number;
  seed?: number;
}

export interface EvaluateModelOptions {
  engine: Engine;
  tracking: TrackingApi;
  data: Pick<DataService, 'resolve' | 'parquetPath'>;
  /** Resolves `models:/…`, `name@alias`, `name/3`, and tags evaluated versions; optional for `runs:/…` models without recording. */
  registry?: Pick<RegistryService, 'resolveModelUri' | 'setModelVersionTag'>;
  /** For the lineage edges; without it none are recorded. */
  store?: Pick<Store, 'db'>;
  /** `models:/churn@challenger`, `churn@challenger`, `churn/3` or `runs:/<runId>/model`. */
  model: string;
  /** `orders@3`, or a version already resolved. */
  dataset: string | DatasetVersion;
  /** The true label column; default the manifest's training.target. */
  label?: string;
  slices?: string[];
  /** Sensitive attribute for fairness (classification). */
  group?: string;
  threshold?: number;
  /** The positive class; default the manifest's classes[1]. */
  positive?: string;
  /** Permutation importance; off unless given. */
  importance?: ImportanceOptions | false;
  /** Default true: record the evaluation as a tracking run (see the module comment). */
  record?: boolean;
  /** Record on this open run (a pipeline step's) instead of creating one; it is left open. */
  runId?: string;
  /** Measure batch-1 latency (default true). */
  latency?: boolean;
}

export interface LatencyReport {
  p50_ms: number;
  p99_ms: number;
  batch1_calls: number;
}

export interface ModelEvaluation {
  report: EvaluationReport;
  /** The URI as given. */
  modelUri: string;
  /** Where the package was read from (`runs:/<runId>/model`). */
  packageUri: string;
  name: string | null;
  version: number | null;
  /** `orders@3` */
  dataset: string;
  datasetVersionId: string;
  rowCount: number;
  featureImportance: PermutationImportance | null;
  latency: LatencyReport | null;
  /** The run the evaluation is recorded on; null with record: false. */
  runId: string | null;
  createdTime: number;
}

type Kind = 'f64' | 'str';
interface Input {
  name: string;
  kind: Kind;
}

/** Resolves, loads, scores, evaluates and (by default) records. Bad input is a FlywheelError; a run it created ends FAILED. */
export async function evaluateModel(o: EvaluateModelOptions): Promise<ModelEvaluation> {
  checkOptions(o);
  const { version, ref } = await resolveDataset(o);
  const resolved = await resolveModel(o);
  const model = await loadModel(o.tracking, resolved.packageUri);
  const record = o.record !== false;
  let runId: string | null = o.runId ?? null;
  let created = false;
  try {
    if (record && runId === null) {
      const experiment = await o.tracking.ensureExperiment(`evaluate/${resolved.name ?? resolved.runId ?? 'model'}`);
      const run = await o.tracking.createRun({ experimentId: experiment.experimentId, runName: `${resolved.name ? `${resolved.name}/${resolved.version}` : o.model} on ${ref}` });
      runId = run.info.runId;
      created = true;
    }
    const result = await evaluateLoaded(o, model, resolved, version, ref, record ? runId : null);
    if (record) await recordEvaluation(o, result, version, resolved.modelVersionId);
    if (created) await o.tracking.endRun(runId!, 'FINISHED');
    return result;
  } catch (err) {
    if (created) {
      await o.tracking.logBatch(runId!, { tags: [{ key: 'flywheel.error', value: (err as Error).message.slice(0, 5000) }] }).catch(() => undefined);
      await o.tracking.endRun(runId!, 'FAILED').catch(() => undefined);
    }
    throw err;
  } finally {
    await model.close();
  }
}

function checkOptions(o: EvaluateModelOptions): void {
  if (typeof o.model !== 'string' || o.model.trim() === '') throw invalidArgument('a model is required (models:/NAME@ALIAS, NAME@ALIAS, NAME/VERSION or runs:/RUN_ID/model).');
  if (o.threshold !== undefined && (!Number.isFinite(o.threshold) || o.threshold < 0 || o.threshold > 1)) throw invalidArgument(`threshold must be a number in [0, 1], got ${o.threshold}.`);
  const imp = o.importance;
  if (imp) {
    if (imp.repeats !== undefined && (!Number.isInteger(imp.repeats) || imp.repeats < 1)) throw invalidArgument(`importance repeats must be a whole number of at least 1, got ${imp.repeats}.`);
    if (imp.sampleRows !== undefined && (!Number.isInteger(imp.sampleRows) || imp.sampleRows < 1)) throw invalidArgument(`importance sampleRows must be a whole number of at least 1, got ${imp.sampleRows}.`);
  }
}

async function resolveDataset(o: EvaluateModelOptions): Promise<{ version: DatasetVersion; ref: string }> {
  const version = typeof o.dataset === 'string' ? await o.data.resolve(o.dataset) : o.dataset;
  return { version, ref: `${version.dataset}@${version.version}` };
}

interface ResolvedForEval {
  name: string | null;
  version: number | null;
  runId: string | null;
  packageUri: string;
  modelVersionId: string | null;
}

async function resolveModel(o: EvaluateModelOptions): Promise<ResolvedForEval> {
  const uri = o.model.trim();
  if (!o.registry) {
    const m = /^runs:\/+([^/]+)\/.+$/.exec(uri);
    if (!m) throw invalidArgument(`${uri} names a registered model; evaluating it needs the registry.`);
    return { name: null, version: null, runId: m[1], packageUri: uri, modelVersionId: null };
  }
  const r = await o.registry.resolveModelUri(uri);
  if (!r.packageUri) throw invalidArgument(`${uri}: the version's files are not a run's artifacts (source ${r.source}); only Flywheel model packages can be evaluated.`);
  return { name: r.name, version: r.version, runId: r.runId, packageUri: r.packageUri, modelVersionId: r.modelVersion?.id ?? null };
}

/** The inputs of the signature with how they are fetched: numbers and booleans as doubles (null → NaN), text as strings. */
function plannedInputs(manifest: ModelManifest): Input[] {
  return manifest.signature.inputs.map((i: SignatureInput) => ({ name: i.name, kind: i.type === 'string' ? 'str' : 'f64' }));
}

function inputExpr(i: Input): string {
  const c = sqlIdent(i.name);
  return i.kind === 'str' ? `CAST(${c} AS VARCHAR)` : `coalesce(CAST(${c} AS DOUBLE), 'NaN'::DOUBLE)`;
}

interface ScoreFn {
  task: 'classification' | 'regression';
  /** Column of `probability` holding the positive class (classification). */
  positiveIndex: number;
  scores(p: ColumnarPredictions, out: Float64Array, offset: number): void;
}

function scoreFn(manifest: ModelManifest, positive: string | undefined): ScoreFn {
  const task = manifest.task;
  if (task !== 'classification' && task !== 'regression') throw invalidArgument('the model has no task in its manifest (classification or regression); it cannot be evaluated.');
  if (task === 'regression') {
    if (positive !== undefined) throw invalidArgument('positive is for classification models.');
    return {
      task,
      positiveIndex: -1,
      scores(p, out, offset) {
        const pred = p.prediction;
        for (let i = 0; i < p.n; i++) out[offset + i] = Number(pred[i]);
      },
    };
  }
  const classes = manifest.classes ?? [];
  if (classes.length !== 2) throw invalidArgument(`the model has ${classes.length} classes (${classes.join(', ')}); evaluation supports binary classification only for now.`);
  let index = 1;
  if (positive !== undefined) {
    index = classes.findIndex((c) => c === positive || (c.trim() !== '' && positive.trim() !== '' && Number(c) === Number(positive)));
    if (index === -1) throw invalidArgument(`positive ${positive} is not one of the model's classes (${classes.join(', ')}).`);
  }
  return {
    task,
    positiveIndex: index,
    scores(p, out, offset) {
      const prob = p.probability;
      const k = p.probabilityColumns ?? 0;
      if (!prob || k !== 2) throw invalidArgument('the classifier returned no class probabilities; classification metrics need them.');
      for (let i = 0; i < p.n; i++) out[offset + i] = prob[i * 2 + index];
    },
  };
}

async function evaluateLoaded(o: EvaluateModelOptions, model: LoadedModel, resolved: ResolvedForEval, version: DatasetVersion, ref: string, runId: string | null): Promise<ModelEvaluation> {
  const manifest = model.manifest;
  const label = o.label ?? manifest.training?.target ?? undefined;
  if (!label) throw invalidArgument('the model manifest names no training target; pass the label column.');
  const score = scoreFn(manifest, o.positive);
  if (score.task === 'regression' && o.threshold !== undefined) throw invalidArgument('threshold is for classification.');
  const parquet = await o.data.parquetPath(version);
  const columns = new Set(version.schema.map((c) => c.name));
  for (const [what, col] of [['label', label], ...(o.slices ?? []).map((s) => ['slice', s]), ...(o.group ? [['group', o.group]] : [])] as [string, string][]) {
    if (!columns.has(col)) throw invalidArgument(`${what} column ${col} is not in ${ref} (columns: ${[...columns].join(', ')}).`);
  }
  const inputs = plannedInputs(manifest);
  for (const i of inputs) if (!columns.has(i.name)) throw invalidArgument(`the model needs the column ${i.name}, which ${ref} does not have.`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-eval-'));
  try {
    const predictions = path.join(tmp, 'predictions.parquet');
    const rowCount = await scoreDataset(o.engine, model, inputs, score, parquet, predictions);
    if (rowCount === 0) throw invalidArgument(`${ref} has no rows to evaluate.`);
    // The dataset's label, slice and group columns joined to the scores by row number.
    const keep = [...new Set([label, ...(o.slices ?? []), ...(o.group ? [o.group] : [])])];
    const scoreName = uniqueName('score', keep);
    const sql =
      `SELECT ${keep.map((c) => `d.${sqlIdent(c)}`).join(', ')}, p.score AS ${sqlIdent(scoreName)} ` +
      `FROM read_parquet(${sqlLiteral(parquet)}, file_row_number = true) d JOIN read_parquet(${sqlLiteral(predictions)}) p ON d.file_row_number = p.row`;
    const report = await evaluatePredictions(o.engine, {
      source: { sql },
      label,
      score: scoreName,
      slices: o.slices,
      group: o.group,
      threshold: o.threshold,
      task: score.task,
      positive: score.task === 'classification' ? (o.positive ?? manifest.classes![1]) : undefined,
    });
    const featureImportance = o.importance ? await importance(o, model, inputs, score, report, parquet, label) : null;
    const latency = o.latency === false ? null : await measureLatency(o.engine, model, inputs, parquet);
    return {
      report,
      modelUri: o.model,
      packageUri: resolved.packageUri,
      name: resolved.name,
      version: resolved.version,
      dataset: ref,
      datasetVersionId: version.id,
      rowCount,
      featureImportance,
      latency,
      runId,
      createdTime: Date.now(),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function uniqueName(base: string, taken: string[]): string {
  let name = base;
  for (let i = 1; taken.includes(name); i++) name = `${base}_${i}`;
  return name;
}

/** Wraps DuckDB errors on the dataset as the user's input problem. */
async function reading<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isFlywheelError(err)) throw err;
    throw invalidArgument(`cannot read ${what}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** A batch of input columns being filled chunk by chunk. */
class Batch {
  n = 0;
  rows: Float64Array;
  readonly cols: (Float64Array | (string | null)[])[];
  constructor(
    readonly inputs: Input[],
    readonly capacity: number,
  ) {
    this.rows = new Float64Array(capacity);
    this.cols = inputs.map((i) => (i.kind === 'f64' ? new Float64Array(capacity) : new Array<string | null>(capacity)));
  }
  /** The filled part as a ColumnBatch (views, no copies for numbers). */
  columns(): ColumnBatch {
    const out: ColumnBatch = {};
    this.inputs.forEach((i, c) => {
      const col = this.cols[c];
      out[i.name] = (col instanceof Float64Array ? col.subarray(0, this.n) : this.n === this.capacity ? col : col.slice(0, this.n)) as Column;
    });
    return out;
  }
}

function copyDoubles(vector: DuckDBVector, target: Float64Array, offset: number, m: number): void {
  // node-api's fixed-width vectors expose their data as `items`; the SQL makes these columns non-null.
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array && items.length === m) target.set(items, offset);
  else for (let i = 0; i < m; i++) target[offset + i] = Number(vector.getItem(i));
}

/** Streams the inputs (plus the Parquet row number) in batches of `batchRows`, calling `onBatch` for each full or final batch. */
async function streamInputs(conn: DuckDBConnection, sql: string, inputs: Input[], batchRows: number, onBatch: (b: Batch) => Promise<void>): Promise<number> {
  const result = await reading('the dataset', () => conn.stream(sql));
  let batch = new Batch(inputs, batchRows);
  let total = 0;
  for (;;) {
    const chunk = await reading('the dataset', () => result.fetchChunk());
    if (!chunk || chunk.rowCount === 0) break;
    let start = 0;
    const m = chunk.rowCount;
    while (start < m) {
      const take = Math.min(m - start, batch.capacity - batch.n);
      const rowVec = chunk.getColumnVector(0);
      for (let i = 0; i < take; i++) batch.rows[batch.n + i] = Number(rowVec.getItem(start + i));
      inputs.forEach((inp, c) => {
        const vec = chunk.getColumnVector(c + 1);
        const col = batch.cols[c];
        if (col instanceof Float64Array) {
          if (start === 0 && take === m) copyDoubles(vec, col, batch.n, m);
          else for (let i = 0; i < take; i++) col[batch.n + i] = Number(vec.getItem(start + i));
        } else {
          for (let i = 0; i < take; i++) col[batch.n + i] = vec.getItem(start + i) as string | null;
        }
      });
      batch.n += take;
      start += take;
      total += take;
      if (batch.n === batch.capacity) {
        await onBatch(batch);
        batch = new Batch(inputs, batchRows);
      }
    }
  }
  if (batch.n > 0) await onBatch(batch);
  return total;
}

/** Scores every row of `parquet` and writes (row, score, prediction) to `out`; returns the row count. */
async function scoreDataset(engine: Engine, model: LoadedModel, inputs: Input[], score: ScoreFn, parquet: string, out: string): Promise<number> {
  const select = `SELECT file_row_number, ${inputs.map(inputExpr).join(', ') || '1'} FROM read_parquet(${sqlLiteral(parquet)}, file_row_number = true)`;
  return engine.withConnection((reader) =>
    engine.withConnection(async (writer) => {
      // A table of its own name in the shared in-memory database (the appender wants a plain table), dropped afterwards.
      const table = `fw_predictions_${randomUUID().replaceAll('-', '')}`;
      await writer.run(`CREATE TABLE ${table} (row BIGINT, score DOUBLE, prediction VARCHAR)`);
      const appender = await writer.createAppender(table);
      let closed = false;
      try {
        let scores = new Float64Array(0);
        const n = await streamInputs(reader, select, inputs, EVALUATION_BATCH_ROWS, async (b) => {
          const p = await model.predictColumns(b.columns());
          if (p.n !== b.n) throw invalidArgument(`the model returned ${p.n} predictions for ${b.n} rows.`);
          if (scores.length < b.n) scores = new Float64Array(b.n);
          score.scores(p, scores, 0);
          const pred = p.prediction;
          for (let i = 0; i < b.n; i++) {
            appender.appendBigInt(BigInt(b.rows[i]));
            const s = scores[i];
            if (Number.isNaN(s)) appender.appendNull();
            else appender.appendDouble(s);
            appender.appendVarchar(String(pred[i]));
            appender.endRow();
          }
        });
        appender.closeSync();
        closed = true;
        await writer.run(`COPY ${table} TO ${sqlLiteral(out)} (FORMAT parquet)`);
        return n;
      } finally {
        if (!closed) {
          try {
            appender.closeSync();
          } catch {
            // The error that got us here is the one to report.
          }
        }
        await writer.run(`DROP TABLE IF EXISTS ${table}`);
      }
    }),
  );
}

/** Permutation importance on a seeded sample: roc_auc for classification, r2 for regression. */
async function importance(o: EvaluateModelOptions, model: LoadedModel, inputs: Input[], score: ScoreFn, report: EvaluationReport, parquet: string, label: string): Promise<PermutationImportance> {
  const opts = o.importance || {};
  const seed = opts.seed ?? 0;
  const rows = opts.sampleRows ?? DEFAULT_IMPORTANCE_ROWS;
  const L = sqlIdent(label);
  const labelExpr =
    report.task === 'classification' ? `CAST(CASE WHEN CAST(${L} AS VARCHAR) = ${sqlLiteral(report.positive)} THEN 1 ELSE 0 END AS DOUBLE)` : `CAST(${L} AS DOUBLE)`;
  // file_row_number stands in for the row id column streamInputs expects; the label rides as the first input.
  const labelInput: Input = { name: '\u0000label', kind: 'f64' };
  const sql =
    `SELECT file_row_number, ${labelExpr}, ${inputs.map(inputExpr).join(', ')} FROM read_parquet(${sqlLiteral(parquet)}, file_row_number = true) ` +
    // A hash of row number and seed orders the rows: the same sample on every run and thread count.
    `WHERE ${L} IS NOT NULL ORDER BY hash(file_row_number, ${Math.trunc(seed)}::BIGINT), file_row_number LIMIT ${rows}`;
  let sample: Batch | null = null;
  await o.engine.withConnection((conn) =>
    streamInputs(conn, sql, [labelInput, ...inputs], rows, async (b) => {
      sample = b;
    }),
  );
  const b = sample as Batch | null;
  if (b === null || b.n === 0) throw invalidArgument('no rows to compute permutation importance on.');
  const cols = b.columns();
  const labelCol = cols[labelInput.name] as Float64Array;
  delete cols[labelInput.name];
  const labels = report.task === 'classification' ? Uint8Array.from(labelCol) : labelCol;
  return permutationImportance({
    predict: async (columns: Columns) => {
      const p = await model.predictColumns(columns as ColumnBatch);
      const out = new Float64Array(p.n);
      score.scores(p, out, 0);
      return out;
    },
    columns: cols as Columns,
    label: labels,
    metric: report.task === 'classification' ? 'roc_auc' : 'r2',
    repeats: opts.repeats,
    seed,
    threshold: o.threshold,
  });
}

function percentile(sorted: number[], q: number): number {
  // Nearest rank: the smallest value with at least q of the calls at or below it.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** p50/p99 of batch-1 predictColumns calls over the first rows of the dataset (after a few warm-up calls). */
async function measureLatency(eng: Engine, model: LoadedModel, inputs: Input[], parquet: string): Promise<LatencyReport | null> {
  const sql = `SELECT file_row_number, ${inputs.map(inputExpr).join(', ') || '1'} FROM read_parquet(${sqlLiteral(parquet)}, file_row_number = true) LIMIT ${LATENCY_CALLS}`;
  let first: Batch | null = null;
  await eng.withConnection((conn) =>
    streamInputs(conn, sql, inputs, LATENCY_CALLS, async (b) => {
      first = b;
    }),
  );
  const b = first as Batch | null;
  if (b === null || b.n === 0) return null;
  const one = (i: number): ColumnBatch => {
    const out: ColumnBatch = {};
    inputs.forEach((inp, c) => {
      const col = b.cols[c];
      out[inp.name] = (col instanceof Float64Array ? col.subarray(i, i + 1) : [col[i]]) as Column;
    });
    return out;
  };
  for (let i = 0; i < Math.min(LATENCY_WARMUP, b.n); i++) await model.predictColumns(one(i));
  const times: number[] = [];
  for (let i = 0; i < b.n; i++) {
    const batch = one(i);
    const t0 = performance.now();
    await model.predictColumns(batch);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { p50_ms: percentile(times, 0.5), p99_ms: percentile(times, 0.99), batch1_calls: times.length };
}

/** The version tag naming the evaluation run of a dataset version: `flywheel.eval.orders/3`. */
export function evaluationTagKey(datasetRef: string): string {
  const at = datasetRef.lastIndexOf('@');
  return `${EVAL_TAG_PREFIX}${at === -1 ? datasetRef : `${datasetRef.slice(0, at)}/${datasetRef.slice(at + 1)}`}`;
}

async function recordEvaluation(o: EvaluateModelOptions, e: ModelEvaluation, version: DatasetVersion, modelVersionId: string | null): Promise<void> {
  const runId = e.runId!;
  const now = Date.now();
  const report = e.report;
  const metrics: { key: string; value: number; timestamp: number; step: number }[] = [];
  const add = (key: string, value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) metrics.push({ key, value, timestamp: now, step: 0 });
  };
  for (const [k, v] of Object.entries(report.metrics)) add(k, v);
  for (const [k, v] of Object.entries(report.fairness)) add(`fairness.${k}`, v);
  if (e.latency) {
    add('latency_p50_ms', e.latency.p50_ms);
    add('latency_p99_ms', e.latency.p99_ms);
  }
  add('rows', e.rowCount);
  const params = [
    { key: 'model_uri', value: e.modelUri },
    { key: 'package_uri', value: e.packageUri },
    { key: 'dataset', value: e.dataset },
    { key: 'dataset_version_id', value: e.datasetVersionId },
    { key: 'label', value: report.label },
    ...(e.version !== null ? [{ key: 'model_version', value: `models:/${e.name}/${e.version}` }] : []),
    ...(report.task === 'classification' ? [{ key: 'threshold', value: String(report.threshold) }, { key: 'positive', value: report.positive }] : []),
  ];
  await o.tracking.logBatch(runId, {
    params,
    metrics,
    tags: [
      { key: 'flywheel.evaluation', value: 'true' },
      { key: 'flywheel.eval.dataset', value: e.dataset },
      { key: 'flywheel.eval.model', value: e.version !== null ? `models:/${e.name}/${e.version}` : e.packageUri },
    ],
  });
  await o.tracking.putRunArtifact(runId, EVALUATION_ARTIFACT, Buffer.from(JSON.stringify(e, null, 2) + '\n'));
  if (o.store) {
    const edges: LineageEdge[] = [{ from: { type: 'run', id: runId }, relation: 'consumes', to: { type: 'dataset_version', id: version.id } }];
    if (modelVersionId) edges.push({ from: { type: 'run', id: runId }, relation: 'consumes', to: { type: 'model_version', id: modelVersionId } });
    await recordEdges(o.store.db, edges);
  }
  if (e.name !== null && e.version !== null && o.registry) {
    await o.registry.setModelVersionTag(e.name, e.version, evaluationTagKey(e.dataset), runId);
  }
}

/**
 * The newest recorded evaluation of a registered version (optionally on one
 * dataset, `orders@3`), read back from its run's `evaluation.json`; null when
 * the version has none (or its runs are gone).
 */
export async function latestEvaluation(
  tracking: TrackingApi,
  registry: Pick<RegistryService, 'getModelVersion'>,
  name: string,
  version: number | string,
  dataset?: string,
): Promise<ModelEvaluation | null> {
  const mv = await registry.getModelVersion(name, version);
  const wanted = dataset === undefined ? null : evaluationTagKey(dataset);
  const runIds = Object.entries(mv.tags)
    .filter(([k]) => k.startsWith(EVAL_TAG_PREFIX) && k.includes('/') && (wanted === null || k === wanted))
    .map(([, v]) => v);
  let best: { time: number; runId: string } | null = null;
  for (const runId of new Set(runIds)) {
    let info;
    try {
      info = (await tracking.getRun(runId)).info;
    } catch (err) {
      if (err instanceof FlywheelError && err.code === 'FW_NOT_FOUND') continue;
      throw err;
    }
    if (info.lifecycleStage === 'deleted') continue;
    const time = info.endTime ?? info.startTime ?? 0;
    if (best === null || time > best.time) best = { time, runId };
  }
  if (best === null) return null;
  try {
    return JSON.parse(await readText(await tracking.getRunArtifact(best.runId, EVALUATION_ARTIFACT))) as ModelEvaluation;
  } catch (err) {
    if (err instanceof FlywheelError && err.code === 'FW_NOT_FOUND') return null;
    throw err;
  }
}

async function readText(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}
