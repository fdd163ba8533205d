/**
 * Queries of the pipeline tables (`pipeline_runs`, `pipeline_step_runs`,
 * migration 0006): the only place that reads or writes them. Rows are mapped
 * to plain records with parsed JSON; the runner holds the rules.
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ParamValue } from './define.js';
import type { SweepDetails } from './sweep.js';
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
  /** The TS/JS module the definition came from (function steps load from it). */
  module?: string | null;
  /** 'local': steps ran in the starting process; 'distributed': on `flywheel worker` processes. */
  mode?: PipelineRunMode;
  /** When `pipelines cancel` asked for the run to stop (any process), if it did. */
  cancelRequestedTime?: number | null;
}

export type PipelineRunMode = 'local' | 'distributed';

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
  /** The live log file of the running attempt (on the machine running it). */
  logPath?: string | null;
  /** The worker running (or that ran) the current attempt: `host:pid` or a `flywheel worker` id. */
  worker?: string | null;
  /** Claim of the current attempt; only its holder may finish the step. */
  attemptToken?: string | null;
  /** JSON extras of the step (column `details`): a sweep step's trials and best trial; absent when none. */
  details?: SweepDetails;
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
      module: r.module ?? null,
      mode: r.mode ?? 'local',
      cancel_requested_time: null,
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
    log_path: r.logPath ?? null,
    worker: r.worker ?? null,
    attempt_token: r.attemptToken ?? null,
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
    module: row.module ?? null,
    mode: (row.mode ?? 'local') as PipelineRunMode,
    cancelRequestedTime: row.cancel_requested_time === null || row.cancel_requested_time === undefined ? null : Number(row.cancel_requested_time),
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
    logPath: row.log_path ?? null,
    worker: row.worker ?? null,
    attemptToken: row.attempt_token ?? null,
    ...(row.details ? { details: JSON.parse(row.details) as SweepDetails } : {}),
  };
}

/** Asks the process running a pipeline run to cancel it (it polls cancelRequestedTime). False when the run is not RUNNING. */
export async function requestCancel(db: Db, id: string, now = Date.now()): Promise<boolean> {
  const result = await db.updateTable('pipeline_runs').set({ cancel_requested_time: now }).where('id', '=', id).where('status', '=', 'RUNNING').executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** When cancellation of the run was requested, or null. */
export async function cancelRequestedTime(db: Db, id: string): Promise<number | null> {
  const row = await db.selectFrom('pipeline_runs').select('cancel_requested_time').where('id', '=', id).executeTakeFirst();
  return row?.cancel_requested_time === null || row?.cancel_requested_time === undefined ? null : Number(row.cancel_requested_time);
}

// ---- Distributed execution (queue.ts, dispatcher.ts, worker.ts) ----

export interface WorkerRecord {
  id: string;
  hostname: string;
  pid: number;
  status: 'RUNNING' | 'STOPPED' | 'LOST';
  concurrency: number;
  startedTime: number;
  heartbeatTime: number;
  stoppedTime: number | null;
  stepsDone: number;
}

export async function registerWorker(db: Db, w: Omit<WorkerRecord, 'status' | 'stoppedTime' | 'stepsDone'>): Promise<void> {
  await db
    .insertInto('pipeline_workers')
    .values({ id: w.id, hostname: w.hostname, pid: w.pid, status: 'RUNNING', concurrency: w.concurrency, started_time: w.startedTime, heartbeat_time: w.heartbeatTime, stopped_time: null, steps_done: 0 })
    .execute();
}

/** Records a worker's heartbeat; false when it was declared LOST meanwhile (it must stop taking work). */
export async function heartbeatWorker(db: Db, id: string, now: number, stepsDone: number): Promise<boolean> {
  const r = await db.updateTable('pipeline_workers').set({ heartbeat_time: now, steps_done: stepsDone }).where('id', '=', id).where('status', '=', 'RUNNING').executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function stopWorker(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('pipeline_workers').set({ status: 'STOPPED', stopped_time: now }).where('id', '=', id).where('status', '=', 'RUNNING').execute();
}

export async function listWorkers(db: Db, status?: WorkerRecord['status']): Promise<WorkerRecord[]> {
  let q = db.selectFrom('pipeline_workers').selectAll();
  if (status) q = q.where('status', '=', status);
  const rows = await q.orderBy('started_time', 'desc').execute();
  return rows.map((r) => ({
    id: r.id,
    hostname: r.hostname,
    pid: Number(r.pid),
    status: r.status as WorkerRecord['status'],
    concurrency: Number(r.concurrency),
    startedTime: Number(r.started_time),
    heartbeatTime: Number(r.heartbeat_time),
    stoppedTime: r.stopped_time === null ? null : Number(r.stopped_time),
    stepsDone: Number(r.steps_done),
  }));
}

/** Workers whose heartbeat is fresh (newer than `since`). */
export async function countLiveWorkers(db: Db, since: number): Promise<number> {
  const row = await db.selectFrom('pipeline_workers').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'RUNNING').where('heartbeat_time', '>=', since).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Declares RUNNING workers with a heartbeat older than `before` LOST (a
 * conditional update: of several reapers, one wins each worker) and returns
 * the ones this call declared.
 */
export async function declareLostWorkers(db: Db, before: number): Promise<WorkerRecord[]> {
  const stale = (await listWorkers(db, 'RUNNING')).filter((w) => w.heartbeatTime < before);
  const lost: WorkerRecord[] = [];
  for (const w of stale) {
    const r = await db.updateTable('pipeline_workers').set({ status: 'LOST', stopped_time: Date.now() }).where('id', '=', w.id).where('status', '=', 'RUNNING').where('heartbeat_time', '<', before).executeTakeFirst();
    if (r.numUpdatedRows > 0n) lost.push({ ...w, status: 'LOST' });
  }
  return lost;
}

/**
 * Takes an attempt off a lost worker: its RUNNING step records go back to
 * PENDING (same token, no worker), so the re-delivered job may claim them.
 * Returns them (with the lost attempt's tracking run, to be ended).
 */
export async function releaseStepsOfWorker(db: Db, worker: string): Promise<StepRunRecord[]> {
  const rows = await db.selectFrom('pipeline_step_runs').selectAll().where('worker', '=', worker).where('status', '=', 'RUNNING').execute();
  const released: StepRunRecord[] = [];
  for (const row of rows) {
    const r = await db
      .updateTable('pipeline_step_runs')
      .set({ status: 'PENDING', worker: null, heartbeat_time: null, error: `worker ${worker} was lost; the step goes to another worker` })
      .where('pipeline_run_id', '=', row.pipeline_run_id)
      .where('step', '=', row.step)
      .where('worker', '=', worker)
      .where('status', '=', 'RUNNING')
      .executeTakeFirst();
    if (r.numUpdatedRows > 0n) released.push(toStep(row));
  }
  return released;
}

/** The queued record of an attempt: PENDING with the attempt's token, no worker yet. */
export async function queueStepAttempt(db: Db, r: StepRunRecord & { attemptToken: string }): Promise<void> {
  await saveStepRun(db, { ...r, status: 'PENDING', worker: null });
}

/**
 * A worker claims a queued attempt: only when the record still holds the
 * token and no one runs it. False: revoked (cancelled, timed out) or taken.
 */
export async function claimStepAttempt(db: Db, pipelineRunId: string, step: string, token: string, worker: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('pipeline_step_runs')
    .set({ worker, heartbeat_time: now })
    .where('pipeline_run_id', '=', pipelineRunId)
    .where('step', '=', step)
    .where('attempt_token', '=', token)
    .where('status', '=', 'PENDING')
    .where('worker', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Writes a step record only while the attempt is still this worker's (same
 * token, same worker): the guard that records each step once even when a
 * worker presumed dead finishes late. False when the claim was lost.
 */
export async function saveClaimedStepRun(db: Db, r: StepRunRecord & { attemptToken: string; worker: string }): Promise<boolean> {
  const res = await db
    .updateTable('pipeline_step_runs')
    .set({
      status: r.status,
      attempts: r.attempts,
      cache_key: r.cacheKey,
      cached: r.cached ? 1 : 0,
      tracking_run_id: r.trackingRunId,
      error: r.error,
      outputs: JSON.stringify(r.outputs),
      started_time: r.startedTime,
      ended_time: r.endedTime,
      log_path: r.logPath ?? null,
    })
    .where('pipeline_run_id', '=', r.pipelineRunId)
    .where('step', '=', r.step)
    .where('attempt_token', '=', r.attemptToken)
    .where('worker', '=', r.worker)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** Revokes an attempt (cancel, timeout, no workers): its worker stops, its late results are discarded. */
export async function revokeStepAttempt(db: Db, pipelineRunId: string, step: string, token: string, status: StepStatus, error: string): Promise<boolean> {
  const r = await db
    .updateTable('pipeline_step_runs')
    .set({ attempt_token: `revoked:${token}`, status, error, ended_time: Date.now() })
    .where('pipeline_run_id', '=', pipelineRunId)
    .where('step', '=', step)
    .where('attempt_token', '=', token)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function getStepRun(db: Db, pipelineRunId: string, step: string): Promise<StepRunRecord | undefined> {
  const row = await db.selectFrom('pipeline_step_runs').selectAll().where('pipeline_run_id', '=', pipelineRunId).where('step', '=', step).executeTakeFirst();
  return row && toStep(row);
}

/** Heartbeat of the attempts a worker runs; returns, per step, whether it should go on (token still held, run not cancelled). */
export async function heartbeatSteps(db: Db, worker: string, attempts: { pipelineRunId: string; step: string; token: string }[], now: number): Promise<boolean[]> {
  if (attempts.length === 0) return [];
  await db.updateTable('pipeline_step_runs').set({ heartbeat_time: now }).where('worker', '=', worker).where('status', '=', 'RUNNING').execute();
  const out: boolean[] = [];
  for (const a of attempts) {
    const row = await db
      .selectFrom('pipeline_step_runs as s')
      .innerJoin('pipeline_runs as r', 'r.id', 's.pipeline_run_id')
      .select(['s.attempt_token', 's.worker', 'r.cancel_requested_time'])
      .where('s.pipeline_run_id', '=', a.pipelineRunId)
      .where('s.step', '=', a.step)
      .executeTakeFirst();
    out.push(row !== undefined && row.attempt_token === a.token && row.worker === worker && row.cancel_requested_time === null);
  }
  return out;
}

export async function setPipelineRunMode(db: Db, id: string, mode: PipelineRunMode): Promise<void> {
  await db.updateTable('pipeline_runs').set({ mode }).where('id', '=', id).execute();
}

/** Sets the `details` of the row of (pipeline run, step) — a sweep's trials; other columns stay as they are. */
export async function setStepRunDetails(db: Db, pipelineRunId: string, step: string, details: SweepDetails): Promise<void> {
  await db.updateTable('pipeline_step_runs').set({ details: JSON.stringify(details) }).where('pipeline_run_id', '=', pipelineRunId).where('step', '=', step).execute();
}
