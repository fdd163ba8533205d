/**
 * Tracking queries: rows in, domain objects out. Only this file and the search
 * compiler touch the tracking tables; everything else goes through the service.
 */
import { CompiledQuery, sql, type Kysely, type Selectable } from 'kysely';
import type { Database, ExperimentsTable, RunsTable } from '../store/schema.js';
import type { StoreAdapter } from '../store/adapter.js';
import type { Experiment, LifecycleStage, Metric, Run, RunInfo, RunStatus } from './types.js';

type Db = Kysely<Database>;

/** MLflow stores ±Infinity as ±max double and NaN as 0 with a flag. */
const MAX_DOUBLE = 1.7976931348623157e308;

export interface MetricRow {
  run_id: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

export function metricToRow(runId: string, m: Metric): MetricRow {
  const isNan = Number.isNaN(m.value);
  const value = isNan ? 0 : m.value === Infinity ? MAX_DOUBLE : m.value === -Infinity ? -MAX_DOUBLE : m.value;
  return { run_id: runId, key: m.key, value, timestamp: m.timestamp, step: m.step, is_nan: isNan ? 1 : 0 };
}

/** ±max double reads back as ±Infinity: what the user logged, not the stored stand-in. */
export function rowToMetric(r: Pick<MetricRow, 'key' | 'value' | 'timestamp' | 'step' | 'is_nan'>): Metric {
  const v = Number(r.value);
  const value = r.is_nan ? Number.NaN : v === MAX_DOUBLE ? Infinity : v === -MAX_DOUBLE ? -Infinity : v;
  return { key: r.key, value, timestamp: Number(r.timestamp), step: Number(r.step) };
}

export function rowToExperiment(r: Selectable<ExperimentsTable>, tags: Record<string, string>): Experiment {
  return {
    experimentId: String(r.experiment_id),
    name: r.name,
    artifactLocation: r.artifact_location,
    lifecycleStage: r.lifecycle_stage as LifecycleStage,
    creationTime: Number(r.creation_time),
    lastUpdateTime: Number(r.last_update_time),
    tags,
  };
}

export function rowToRunInfo(r: Selectable<RunsTable>): RunInfo {
  return {
    runId: r.run_id,
    runName: r.name,
    experimentId: String(r.experiment_id),
    userId: r.user_id,
    status: r.status as RunStatus,
    startTime: Number(r.start_time),
    endTime: r.end_time === null ? null : Number(r.end_time),
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage as LifecycleStage,
    parentRunId: r.parent_run_id,
  };
}

export async function experimentTags(db: Db, ids: number[]): Promise<Map<number, Record<string, string>>> {
  const out = new Map<number, Record<string, string>>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', ids).execute();
  for (const r of rows) out.get(Number(r.experiment_id))![r.key] = r.value;
  return out;
}

/** Loads params, tags and latest metrics for a page of runs in three queries. */
export async function hydrateRuns(db: Db, rows: Selectable<RunsTable>[]): Promise<Run[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.run_id);
  const [params, tags, metrics] = await Promise.all([
    db.selectFrom('params').select(['run_id', 'key', 'value']).where('run_id', 'in', ids).execute(),
    db.selectFrom('tags').select(['run_id', 'key', 'value']).where('run_id', 'in', ids).execute(),
    db.selectFrom('latest_metrics').selectAll().where('run_id', 'in', ids).orderBy('key').execute(),
  ]);
  const byId = new Map<string, Run>();
  const runs = rows.map((r) => {
    const run: Run = { info: rowToRunInfo(r), data: { metrics: [], params: {}, tags: {} } };
    byId.set(r.run_id, run);
    return run;
  });
  for (const p of params) byId.get(p.run_id)!.data.params[p.key] = p.value;
  for (const t of tags) byId.get(t.run_id)!.data.tags[t.key] = t.value;
  for (const m of metrics) byId.get(m.run_id)!.data.metrics.push(rowToMetric(m));
  return runs;
}

// Keyed by adapter: the SQL text depends only on the dialect and the row count.
// Compiled SQL per (adapter, statement kind, row count): the text depends only on
// the dialect and the number of rows, so the hot path of log-batch builds no query tree.
const templates = new WeakMap<StoreAdapter, Map<string, string>>();

function template(adapter: StoreAdapter, kind: string, rows: number, compile: () => string): string {
  let cache = templates.get(adapter);
  if (!cache) templates.set(adapter, (cache = new Map()));
  const key = `${kind}:${rows}`;
  let text = cache.get(key);
  if (!text) {
    text = compile();
    if (cache.size > 256) cache.clear();
    cache.set(key, text);
  }
  return text;
}

function flatten(rows: MetricRow[]): unknown[] {
  const params: unknown[] = new Array(rows.length * 6);
  let i = 0;
  for (const r of rows) {
    params[i++] = r.run_id;
    params[i++] = r.key;
    params[i++] = r.value;
    params[i++] = r.timestamp;
    params[i++] = r.step;
    params[i++] = r.is_nan;
  }
  return params;
}

/** Appends metric points with multi-row INSERTs, chunked under the dialect's bind limit; repeats of a stored point are no-ops. */
export async function insertMetricRows(db: Db, adapter: StoreAdapter, rows: MetricRow[]): Promise<void> {
  const perStatement = Math.max(1, Math.floor(adapter.maxBindParameters / 6));
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const text = template(adapter, 'metrics', chunk.length, () =>
      db
        .insertInto('metrics')
        .values(chunk)
        .onConflict((oc) => oc.doNothing())
        .compile().sql,
    );
    await db.executeQuery(CompiledQuery.raw(text, flatten(chunk)));
  }
}

/** Keeps latest_metrics at the greatest (step, timestamp, value) point per key. */
export async function upsertLatestMetrics(db: Db, adapter: StoreAdapter, rows: MetricRow[]): Promise<void> {
  const latest = new Map<string, MetricRow>();
  for (const r of rows) {
    const cur = latest.get(r.key);
    if (!cur || r.step > cur.step || (r.step === cur.step && (r.timestamp > cur.timestamp || (r.timestamp === cur.timestamp && r.value > cur.value)))) {
      latest.set(r.key, r);
    }
  }
  if (latest.size === 0) return;
  const values = [...latest.values()];
  const text = template(adapter, 'latest', values.length, () =>
    db
      .insertInto('latest_metrics')
      .values(values)
      .onConflict((oc) =>
        oc
          .columns(['run_id', 'key'])
          .doUpdateSet({
            value: (eb) => eb.ref('excluded.value'),
            timestamp: (eb) => eb.ref('excluded.timestamp'),
            step: (eb) => eb.ref('excluded.step'),
            is_nan: (eb) => eb.ref('excluded.is_nan'),
          })
          .where(sql<boolean>`(excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`),
      )
      .compile().sql,
  );
  await db.executeQuery(CompiledQuery.raw(text, flatten(values)));
}
