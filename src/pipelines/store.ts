/**
 * Queries of the pipeline tables (`pipeline_runs`, `pipeline_step_runs`,
 * migration 0006): the only place that reads or writes them. Rows are mapped
 * to plain records with parsed JSON; the runner holds the rules.
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ParamValue } from './define.js';
import type { StepStatus } from './types.js';

export type PipelineRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface PipelineRunRecord {
  id: string;
  pipeline: string;
  status: PipelineRunStatus;
  params: Record<string, ParamValue>;
  definitionHash: string;
  /** The definition snapshot as stored (JSON text). */
  definition: string;
  trackingRunId: string | null;
  resumedFrom: string | null;
  error: string | null;
  startedTime: number;
  endedTime: number | null;
}

export interface StepRunRecord {
  pipelineRunId: string;
  pipeline: string;
  step: string;
  status: StepStatus;
  attempts: number;
  cacheKey: string | null;
  cached: boolean;
  trackingRunId: string | null;
  error: string | null;
  /** Output name → dataset version id. */
  outputs: Record<string, string>;
  startedTime: number | null;
  endedTime: number | null;
}

type Db = Kysely<Database>;

export async function insertPipelineRun(db: Db, r: PipelineRunRecord): Promise<void> {
  await db
    .insertInto('pipeline_runs')
    .values({
      id: r.id,
      pipeline: r.pipeline,
      status: r.status,
      params: JSON.stringify(r.params),
      definition_hash: r.definitionHash,
      definition: r.definition,
      tracking_run_id: r.trackingRunId,
      resumed_from: r.resumedFrom,
      error: r.error,
      started_time: r.startedTime,
      ended_time: r.endedTime,
    })
    .execute();
}

export async function finishPipelineRun(db: Db, id: string, status: PipelineRunStatus, error: string | null): Promise<void> {
  await db.updateTable('pipeline_runs').set({ status, error, ended_time: Date.now() }).where('id', '=', id).execute();
}

// A step record is written twice per step execution: the SQL text depends only on the
// dialect, so it is compiled once per dialect and the hot path builds no query tree.
const compiled = new WeakMap<object, Map<string, string>>();

async function executeCached(db: Db, kind: string, build: () => Compilable, parameters: readonly unknown[]): Promise<bigint | undefined> {
  const dialect = db.getExecutor().adapter.constructor;
  let texts = compiled.get(dialect);
  if (!texts) compiled.set(dialect, (texts = new Map()));
  let text = texts.get(kind);
  if (text === undefined) texts.set(kind, (text = build().compile().sql));
  const result = await db.executeQuery(CompiledQuery.raw(text, [...parameters]));
  return result.numAffectedRows;
}

/** Inserts or replaces the row of (pipeline run, step). */
export async function saveStepRun(db: Db, r: StepRunRecord): Promise<void> {
  const values = {
    pipeline_run_id: r.pipelineRunId,
    pipeline: r.pipeline,
    step: r.step,
    status: r.status,
    attempts: r.attempts,
    cache_key: r.cacheKey,
    cached: r.cached ? 1 : 0,
    tracking_run_id: r.trackingRunId,
    error: r.error,
    outputs: JSON.stringify(r.outputs),
    started_time: r.startedTime,
    ended_time: r.endedTime,
  };
  const { pipeline_run_id: _a, step: _b, ...rest } = values;
  await executeCached(
    db,
    'save',
    () =>
      db
        .insertInto('pipeline_step_runs')
        .values(values)
        .onConflict((oc) => oc.columns(['pipeline_run_id', 'step']).doUpdateSet(rest)),
    // Parameter order of the compiled text: the inserted values, then the updated ones.
    [...Object.values(values), ...Object.values(rest)],
  );
}

/**
 * Ends the row of (pipeline run, step) written by saveStepRun: only the columns
 * an ending changes, so the cache index is left alone. False when there is no such row.
 */
export async function finishStepRun(
  db: Db,
  r: Pick<StepRunRecord, 'pipelineRunId' | 'step' | 'status' | 'error' | 'outputs' | 'endedTime'>,
): Promise<boolean> {
  const set = { status: r.status, error: r.error, outputs: JSON.stringify(r.outputs), ended_time: r.endedTime };
  const updated = await executeCached(
    db,
    'finish',
    () => db.updateTable('pipeline_step_runs').set(set).where('pipeline_run_id', '=', r.pipelineRunId).where('step', '=', r.step),
    [...Object.values(set), r.pipelineRunId, r.step],
  );
  return updated !== undefined && updated > 0n;
}

export async function getPipelineRun(db: Db, id: string): Promise<PipelineRunRecord | undefined> {
  const row = await db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRun(row);
}

export async function listPipelineRuns(db: Db, pipeline?: string, limit = 100): Promise<PipelineRunRecord[]> {
  let q = db.selectFrom('pipeline_runs').selectAll();
  if (pipeline !== undefined) q = q.where('pipeline', '=', pipeline);
  const rows = await q.orderBy('started_time', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toRun);
}

export async function listStepRuns(db: Db, pipelineRunId: string): Promise<StepRunRecord[]> {
  const rows = await db.selectFrom('pipeline_step_runs').selectAll().where('pipeline_run_id', '=', pipelineRunId).orderBy('started_time').execute();
  return rows.map(toStep);
}

/** The newest SUCCEEDED execution of (pipeline, step) with this cache key. */
export async function findCachedStep(db: Db, pipeline: string, step: string, cacheKey: string): Promise<StepRunRecord | undefined> {
  const row = await db
    .selectFrom('pipeline_step_runs')
    .selectAll()
    .where('pipeline', '=', pipeline)
    .where('step', '=', step)
    .where('cache_key', '=', cacheKey)
    .where('status', '=', 'SUCCEEDED')
    .orderBy('ended_time', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toStep(row);
}

function toRun(row: Database['pipeline_runs']): PipelineRunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    status: row.status as PipelineRunStatus,
    params: JSON.parse(row.params) as Record<string, ParamValue>,
    definitionHash: row.definition_hash,
    definition: row.definition,
    trackingRunId: row.tracking_run_id,
    resumedFrom: row.resumed_from,
    error: row.error,
    startedTime: Number(row.started_time),
    endedTime: row.ended_time === null ? null : Number(row.ended_time),
  };
}

function toStep(row: Database['pipeline_step_runs']): StepRunRecord {
  return {
    pipelineRunId: row.pipeline_run_id,
    pipeline: row.pipeline,
    step: row.step,
    status: row.status as StepStatus,
    attempts: Number(row.attempts),
    cacheKey: row.cache_key,
    cached: Number(row.cached) === 1,
    trackingRunId: row.tracking_run_id,
    error: row.error,
    outputs: JSON.parse(row.outputs) as Record<string, string>,
    startedTime: row.started_time === null ? null : Number(row.started_time),
    endedTime: row.ended_time === null ? null : Number(row.ended_time),
  };
}
