/**
 * One monitor execution's numbers, without side effects: reads the window
 * and the reference, runs the checks, and returns the result with a flat
 * map of metrics (what the Run logs and alert rules name). run.ts records
 * them; this module only reads.
 *
 * Deployment monitors:
 * - the window is the non-shadow rows of the prediction log with time in
 *   [now − minutes, now) (time window) or the last `rows` non-shadow rows
 *   before now (count window);
 * - the reference is the monitor's dataset version or, when null, the
 *   training dataset version named in the manifest of the model the
 *   deployment's primary arm serves now (training.datasetVersionId, else
 *   training.dataset);
 * - prediction drift compares the window's predictions with the reference's
 *   target column (manifest training.target) when the reference has it, else
 *   with the previous window of the same size (time: the minutes before;
 *   count: the `rows` rows before) — `prediction_drift.against` in the result;
 * - performance uses the window's labelled rows, shadow rows included (they
 *   take their primary's label), per arm and model version, plus overall over
 *   the non-shadow rows;
 * - a window with zero rows is "no data": only `rows` and `no_data` are
 *   reported, alert rules see no value.
 * Dataset monitors compare the dataset's latest version with the reference
 * (feature drift and data quality only); the window is that version.
 */
import path from 'node:path';
import { invalidArgument } from '../../core/errors.js';
import type { DataService } from '../../data/service.js';
import type { DatasetVersion } from '../../data/types.js';
import type { Engine } from '../../engine/index.js';
import { classificationMetrics, regressionMetrics } from '../../evaluation/index.js';
import type { ModelManifest } from '../../models/manifest.js';
import { readModelPackage } from '../../models/package.js';
import type { RegistryService } from '../../registry/service.js';
import type { DeploymentService } from '../../serving/service.js';
import type { LoggedPrediction } from '../../serving/types.js';
import type { TrackingService } from '../../tracking/service.js';
import { driftReport, type ColumnDriftResult, type ColumnSet, type ColumnValues, type DriftReport } from '../drift/index.js';
import { loadReference, referenceKinds, type ColumnKind, type ReferenceData } from './reference.js';
import type { MonitorDefinition } from './types.js';
import { columnQuality, latencyStats, liveColumns, toText, type ColumnQuality } from './window.js';

export interface MonitorDeps {
  engine: Engine;
  data: Pick<DataService, 'resolve' | 'getVersion' | 'parquetPath'>;
  registry: Pick<RegistryService, 'resolveModelUri'>;
  deployments: Pick<DeploymentService, 'get' | 'predictions'>;
  tracking: TrackingService;
  /** Where model packages are cached (for reading manifests). */
  modelCacheDir?: string;
}

/** Largest window read from the prediction log in one execution. */
export const MAX_WINDOW_ROWS = 1_000_000;

export interface PerformanceGroup {
  arm: string;
  modelName: string;
  modelVersion: string;
  labelledRows: number;
  metrics: Record<string, number>;
}

export interface MonitorComputation {
  window: { start: number; end: number; id: string; rows: number };
  noData: boolean;
  reference: { source: string; rows: number; how: 'given' | 'training dataset' };
  columns: string[];
  featureDrift: DriftReport | null;
  predictionDrift: (ColumnDriftResult & { against: 'reference target' | 'previous window' }) | null;
  quality: Record<string, ColumnQuality> | null;
  performance: { labelledRows: number; metrics: Record<string, number>; groups: PerformanceGroup[] } | null;
  latency: { p50: number; p99: number; mean: number } | null;
  errors: { errorRate: number; errors: number } | null;
  /** Every number above, flat, finite only: what the run logs and alert rules read. */
  metrics: Record<string, number>;
}

interface ServedModel {
  manifest: ModelManifest;
  modelName: string | null;
  modelVersion: number | null;
}

/** The model the deployment's primary arm (the heaviest non-shadow arm) serves now. */
async function servedModel(deps: MonitorDeps, deployment: string): Promise<ServedModel> {
  const detail = await deps.deployments.get(deployment);
  const arms = detail.revision.policy.arms.filter((a) => !a.shadow).sort((a, b) => b.weight - a.weight);
  const primary = arms[0] ?? detail.revision.policy.arms[0]!;
  const resolved = await deps.registry.resolveModelUri(primary.model);
  const pkg = await readModelPackage(deps.tracking, resolved.packageUri ?? resolved.source, deps.modelCacheDir ? { cacheDir: deps.modelCacheDir } : {});
  return { manifest: pkg.manifest, modelName: resolved.name, modelVersion: resolved.version };
}

async function referenceVersion(deps: MonitorDeps, def: MonitorDefinition, served: ServedModel | null): Promise<{ version: DatasetVersion; how: 'given' | 'training dataset' }> {
  if (def.reference !== null) return { version: await deps.data.resolve(def.reference), how: 'given' };
  const training = served?.manifest.training;
  const model = served?.modelName ? `${served.modelName} version ${served.modelVersion}` : 'the served model';
  if (training?.datasetVersionId) return { version: await deps.data.getVersion(training.datasetVersionId), how: 'training dataset' };
  if (training?.dataset) return { version: await deps.data.resolve(training.dataset), how: 'training dataset' };
  throw invalidArgument(`monitor "${def.name}": ${model} records no training dataset in its manifest; give the monitor a "reference" dataset version.`, { field: 'reference' });
}

/** The columns a monitor checks: its own list (each must be a comparable reference column), else the model's inputs / every reference column. */
function plannedColumns(def: MonitorDefinition, kinds: Record<string, ColumnKind>, version: DatasetVersion, served: ServedModel | null): string[] {
  const source = `${version.dataset}@${version.version}`;
  const inputs = served ? served.manifest.signature.inputs.map((i) => i.name) : null;
  if (def.columns) {
    for (const c of def.columns) {
      if (inputs && !inputs.includes(c)) throw invalidArgument(`monitor "${def.name}": column "${c}" is not an input of the served model (its inputs are ${inputs.join(', ')}).`, { field: 'columns', column: c });
      if (!kinds[c]) {
        const known = version.schema.find((s) => s.name === c);
        throw invalidArgument(
          known ? `monitor "${def.name}": column "${c}" of the reference ${source} is ${known.type}; monitors compare numeric and text columns.` : `monitor "${def.name}": column "${c}" is not in the reference ${source} (it has ${version.schema.map((s) => s.name).join(', ')}).`,
          { field: 'columns', column: c },
        );
      }
    }
    return def.columns;
  }
  const cols = inputs ? inputs.filter((c) => kinds[c]) : Object.keys(kinds);
  if (cols.length === 0) throw invalidArgument(`monitor "${def.name}": no column to check: the reference ${source} has none of the model's inputs as a numeric or text column.`, { field: 'columns' });
  return cols;
}

/** Checks that the monitor's target, reference and columns exist and fit, as creation does. Returns the planned columns. */
export async function checkMonitorTargets(deps: MonitorDeps, def: MonitorDefinition): Promise<string[]> {
  const served = def.target.kind === 'deployment' ? await servedModel(deps, def.target.deployment) : null;
  if (def.target.kind === 'dataset') await deps.data.resolve(`${def.target.dataset}@latest`);
  const { version } = await referenceVersion(deps, def, served);
  const columns = plannedColumns(def, referenceKinds(version), version, served);
  if (version.rowCount === 0) throw invalidArgument(`monitor "${def.name}": the reference ${version.dataset}@${version.version} has zero rows; a monitor needs a non-empty reference.`, { field: 'reference' });
  for (const col of Object.keys(def.drift.perColumn)) {
    if (!columns.includes(col)) throw invalidArgument(`monitor "${def.name}": drift options name column "${col}", which the monitor does not check (it checks ${columns.join(', ')}).`, { field: 'drift.perColumn', column: col });
  }
  return columns;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function put(metrics: Record<string, number>, key: string, value: number | boolean | null | undefined): void {
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  if (finite(v)) metrics[key] = v;
}

function putDrift(metrics: Record<string, number>, prefix: string, r: ColumnDriftResult): void {
  if (r.status === 'no data') return;
  put(metrics, `${prefix}.statistic`, r.statistic);
  put(metrics, `${prefix}.p_value`, r.p_value);
  put(metrics, `${prefix}.psi`, r.psi);
  put(metrics, `${prefix}.drifted`, r.drifted);
}

/** Metric keys allow letters, digits, "_", "-", ".", " " and "/"; anything else in a name becomes "_". */
const keyPart = (s: string) => s.replace(/[^A-Za-z0-9_\-. /]/g, '_');

async function readWindow(deps: MonitorDeps, deployment: string, window: MonitorDefinition['window'], end: number): Promise<{ rows: LoggedPrediction[]; all: LoggedPrediction[]; start: number }> {
  if (window.kind === 'time') {
    const start = end - Math.round(window.minutes * 60_000);
    const all = await deps.deployments.predictions(deployment, { since: start, until: end, order: 'asc', limit: MAX_WINDOW_ROWS });
    return { rows: all.filter((p) => !p.shadow), all, start };
  }
  // Newest first, then kept in time order; shadow rows come along for per-arm performance.
  const recent = await deps.deployments.predictions(deployment, { until: end, order: 'desc', limit: Math.min(MAX_WINDOW_ROWS, window.rows * 4) });
  const primary = recent.filter((p) => !p.shadow).slice(0, window.rows).reverse();
  const start = primary.length > 0 ? primary[0]!.time : end;
  const primaryIds = new Set(primary.map((p) => p.predictionId));
  const all = recent.filter((p) => primaryIds.has(p.predictionId) || (p.shadow && primaryIds.has(p.predictionId.split('~')[0]!))).reverse();
  return { rows: primary, all, start };
}

async function previousWindow(deps: MonitorDeps, deployment: string, window: MonitorDefinition['window'], start: number, rows: number): Promise<LoggedPrediction[]> {
  if (window.kind === 'time') {
    const prevStart = start - Math.round(window.minutes * 60_000);
    return (await deps.deployments.predictions(deployment, { since: prevStart, until: start, order: 'asc', limit: MAX_WINDOW_ROWS })).filter((p) => !p.shadow);
  }
  // Count windows: the `rows` rows before the current window's first row (rows sharing its time are left out).
  if (rows === 0) return [];
  const before = await deps.deployments.predictions(deployment, { until: start, order: 'desc', limit: Math.min(MAX_WINDOW_ROWS, window.rows * 4) });
  return before.filter((p) => !p.shadow).slice(0, window.rows).reverse();
}

function predictionColumn(rows: readonly LoggedPrediction[], kind: ColumnKind): ColumnValues {
  if (kind === 'numeric') return Float64Array.from(rows, (r) => (typeof r.prediction === 'number' ? r.prediction : NaN));
  return rows.map((r) => toText(r.prediction));
}

function groupMetrics(rows: readonly LoggedPrediction[], manifest: ModelManifest): Record<string, number> {
  const out: Record<string, number> = {};
  const scored = rows.filter((r) => r.error === null && r.prediction !== null && r.prediction !== undefined);
  if (scored.length === 0) return out;
  if (manifest.task === 'regression') {
    const pairs = scored.filter((r) => typeof r.prediction === 'number' && Number.isFinite(Number(r.label)));
    if (pairs.length === 0) return out;
    const m = regressionMetrics(
      pairs.map((r) => Number(r.label)),
      pairs.map((r) => r.prediction as number),
    );
    put(out, 'mae', m.mae);
    put(out, 'rmse', m.rmse);
    put(out, 'r2', m.r2);
    put(out, 'mape', m.mape);
    return out;
  }
  // Classification: accuracy always; the binary metrics when the model has two classes and probabilities.
  let correct = 0;
  for (const r of scored) if (toText(r.prediction) === toText(r.label)) correct++;
  out.accuracy = correct / scored.length;
  const classes = manifest.classes;
  if (classes && classes.length === 2 && scored.every((r) => Array.isArray(r.probability) && r.probability.length === 2)) {
    const positive = classes[1]!;
    try {
      const m = classificationMetrics({
        label: scored.map((r) => toText(r.label) === String(positive)),
        score: scored.map((r) => r.probability![1]!),
        predicted: scored.map((r) => toText(r.prediction) === String(positive)),
      });
      for (const k of ['precision', 'recall', 'f1', 'roc_auc', 'pr_auc', 'log_loss', 'brier'] as const) put(out, k, m[k]);
    } catch {
      // Scores outside [0, 1]: accuracy only.
    }
  }
  return out;
}

function performanceOf(window: readonly LoggedPrediction[], all: readonly LoggedPrediction[], manifest: ModelManifest): NonNullable<MonitorComputation['performance']> {
  const labelled = window.filter((r) => r.label !== undefined);
  const groups = new Map<string, LoggedPrediction[]>();
  for (const r of all) {
    if (r.label === undefined) continue;
    const key = JSON.stringify([r.arm, r.modelName, r.modelVersion]);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return {
    labelledRows: labelled.length,
    metrics: groupMetrics(labelled, manifest),
    groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, rows]) => {
      const [arm, modelName, modelVersion] = JSON.parse(key) as string[];
      return { arm: arm!, modelName: modelName!, modelVersion: modelVersion!, labelledRows: rows.length, metrics: groupMetrics(rows, manifest) };
    }),
  };
}

const has = (def: MonitorDefinition, c: MonitorDefinition['checks'][number]) => def.checks.includes(c);

function driftOptions(def: MonitorDefinition, columns: string[]) {
  return { columns, perColumn: def.drift.perColumn, ...(def.drift.driftShare !== null ? { driftShare: def.drift.driftShare } : {}) };
}

function featureMetrics(metrics: Record<string, number>, report: DriftReport): void {
  put(metrics, 'feature_drift_share', report.dataset.drifted_share);
  put(metrics, 'feature_drift_detected', report.dataset.drifted);
  put(metrics, 'feature_drift_columns', report.dataset.columns_with_data);
  for (const c of report.columns) putDrift(metrics, `drift.${keyPart(c.column)}`, c);
}

function qualityMetrics(metrics: Record<string, number>, quality: Record<string, ColumnQuality>): void {
  let worstNull = 0;
  for (const [c, q] of Object.entries(quality)) {
    for (const [k, v] of Object.entries(q)) put(metrics, `quality.${keyPart(c)}.${k}`, v as number);
    worstNull = Math.max(worstNull, q.null_share);
  }
  put(metrics, 'quality.max_null_share', worstNull);
}

/** Computes one execution of a monitor at `now` (the window's end). */
export async function computeMonitor(deps: MonitorDeps, def: MonitorDefinition, now: number): Promise<MonitorComputation> {
  if (def.target.kind === 'dataset') return computeDatasetMonitor(deps, def, def.target.dataset);
  const deployment = def.target.deployment;
  const served = await servedModel(deps, deployment);
  const ref = await referenceVersion(deps, def, served);
  const kinds = referenceKinds(ref.version);
  const columns = plannedColumns(def, kinds, ref.version, served);
  const target = served.manifest.training.target;
  const targetInReference = target !== null && kinds[target] !== undefined && has(def, 'prediction_drift');
  const reference = await loadReference(deps.engine, await deps.data.parquetPath(ref.version), ref.version, targetInReference && !columns.includes(target) ? [...columns, target] : columns);
  const { rows, all, start } = await readWindow(deps, deployment, def.window, now);

  const metrics: Record<string, number> = { rows: rows.length, no_data: rows.length === 0 ? 1 : 0 };
  const result: MonitorComputation = {
    window: { start, end: now, id: String(now), rows: rows.length },
    noData: rows.length === 0,
    reference: { source: reference.source, rows: reference.rows, how: ref.how },
    columns,
    featureDrift: null,
    predictionDrift: null,
    quality: null,
    performance: null,
    latency: null,
    errors: null,
    metrics,
  };
  if (rows.length === 0) return result;

  const live = liveColumns(rows, kinds, columns);
  if (has(def, 'feature_drift')) {
    result.featureDrift = driftReport(pick(reference.columns, columns), live.columns, driftOptions(def, columns));
    featureMetrics(metrics, result.featureDrift);
  }
  if (has(def, 'data_quality')) {
    result.quality = columnQuality(live, reference, columns, rows.length);
    qualityMetrics(metrics, result.quality);
  }
  if (has(def, 'prediction_drift')) {
    const scored = rows.filter((r) => r.error === null);
    let drift: ColumnDriftResult;
    let against: 'reference target' | 'previous window';
    if (targetInReference) {
      const kind = kinds[target!]!;
      against = 'reference target';
      drift = driftReport({ prediction: reference.columns[target!]! }, { prediction: predictionColumn(scored, kind) }).columns[0]!;
    } else {
      against = 'previous window';
      const kind: ColumnKind = served.manifest.task === 'regression' ? 'numeric' : 'categorical';
      const previous = (await previousWindow(deps, deployment, def.window, start, rows.length)).filter((r) => r.error === null);
      drift =
        previous.length === 0
          ? { column: 'prediction', type: kind, method: kind === 'numeric' ? 'ks' : 'chisquare', statistic: null, p_value: null, threshold: 0.05, drifted: false, status: 'no data', psi: null }
          : driftReport({ prediction: predictionColumn(previous, kind) }, { prediction: predictionColumn(scored, kind) }).columns[0]!;
    }
    result.predictionDrift = { ...drift, against };
    putDrift(metrics, 'prediction_drift', drift);
  }
  if (has(def, 'performance')) {
    result.performance = performanceOf(rows, all, served.manifest);
    put(metrics, 'performance.labelled_rows', result.performance.labelledRows);
    for (const [k, v] of Object.entries(result.performance.metrics)) put(metrics, `performance.${k}`, v);
    for (const g of result.performance.groups) {
      const prefix = `performance.${keyPart(g.arm)}.${keyPart(g.modelName)}.v${keyPart(g.modelVersion)}`;
      put(metrics, `${prefix}.labelled_rows`, g.labelledRows);
      for (const [k, v] of Object.entries(g.metrics)) put(metrics, `${prefix}.${k}`, v);
    }
  }
  if (has(def, 'latency')) {
    result.latency = latencyStats(rows);
    put(metrics, 'latency.p50', result.latency.p50);
    put(metrics, 'latency.p99', result.latency.p99);
    put(metrics, 'latency.mean', result.latency.mean);
  }
  if (has(def, 'errors')) {
    const errors = rows.filter((r) => r.error !== null).length;
    result.errors = { errors, errorRate: errors / rows.length };
    put(metrics, 'errors', errors);
    put(metrics, 'error_rate', result.errors.errorRate);
  }
  return result;
}

function pick(set: ColumnSet, names: readonly string[]): ColumnSet {
  const out: Record<string, ColumnValues> = {};
  for (const n of names) out[n] = set[n]!;
  return out;
}

async function computeDatasetMonitor(deps: MonitorDeps, def: MonitorDefinition, dataset: string): Promise<MonitorComputation> {
  const ref = await referenceVersion(deps, def, null);
  const kinds = referenceKinds(ref.version);
  const columns = plannedColumns(def, kinds, ref.version, null);
  const reference = await loadReference(deps.engine, await deps.data.parquetPath(ref.version), ref.version, columns);
  const current = await deps.data.resolve(`${dataset}@latest`);
  const curKinds = referenceKinds(current);
  for (const c of columns) {
    if (curKinds[c] !== kinds[c]) {
      const t = current.schema.find((s) => s.name === c);
      throw invalidArgument(`monitor "${def.name}": column "${c}" is ${t ? t.type : 'missing'} in ${current.dataset}@${current.version} but ${kinds[c]} in the reference ${reference.source}.`, { column: c });
    }
  }
  const metrics: Record<string, number> = { rows: current.rowCount, no_data: current.rowCount === 0 ? 1 : 0 };
  const result: MonitorComputation = {
    window: { start: current.createdTime, end: current.createdTime, id: current.id, rows: current.rowCount },
    noData: current.rowCount === 0,
    reference: { source: reference.source, rows: reference.rows, how: ref.how },
    columns,
    featureDrift: null,
    predictionDrift: null,
    quality: null,
    performance: null,
    latency: null,
    errors: null,
    metrics,
  };
  if (current.rowCount === 0) return result;
  const loaded = await loadReference(deps.engine, await deps.data.parquetPath(current), current, columns);
  if (has(def, 'feature_drift')) {
    result.featureDrift = driftReport(reference.columns, loaded.columns, driftOptions(def, columns));
    featureMetrics(metrics, result.featureDrift);
  }
  if (has(def, 'data_quality')) {
    result.quality = columnQuality({ columns: loaded.columns, invalid: Object.fromEntries(columns.map((c) => [c, 0])) }, reference, columns, loaded.rows);
    qualityMetrics(metrics, result.quality);
  }
  return result;
}

/** Where a context's model packages are cached (as serving does). */
export const modelCacheDir = (home: string) => path.join(home, 'cache', 'models');
