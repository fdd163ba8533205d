/**
 * Tracking rules: experiments, runs, params (immutable), metrics (full history),
 * tags, search. Each write is one transaction and records its event, so a
 * rejected request leaves nothing behind. A service bound to a caller's
 * transaction (`inTransaction`) writes inside it instead, so a caller can
 * commit its own rows and a run's change together.
 */
import type { Kysely, Selectable } from 'kysely';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../artifacts/types.js';
import { FlywheelError, alreadyExists, invalidArgument, notFound } from '../core/errors.js';
import { newRunId, RUN_ID_PATTERN } from '../core/ids.js';
import type { Store } from '../store/index.js';
import type { Database, RunsTable } from '../store/schema.js';
import type { TrackingApi } from './api.js';
import { recordEvent } from '../events/service.js';
import { buildExperimentSearchQuery, buildRunSearchQuery, parseExperimentFilter, parseExperimentOrderBy, parseOrderBy, parseRunFilter } from './search/index.js';
import { LIMITS, validateExperimentName, validateInt64, validateKey, validateMaxResults, validateMetricValue, validateParamValue, validateTagValue } from './limits.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { randomRunName } from './run-names.js';
import { ensureExperiment } from './ensure-experiment.js';
import { runArtifactKey } from './run-artifacts.js';
import {
  experimentTags,
  hydrateRuns,
  insertMetricRows,
  metricToRow,
  rowToExperiment,
  rowToMetric,
  rowToRunInfo,
  upsertLatestMetrics,
  type MetricRow,
} from './store.js';
import {
  RUN_STATUSES,
  VIEW_TYPES,
  type CreateExperimentInput,
  type CreateRunInput,
  type Experiment,
  type LifecycleStage,
  type LogBatchInput,
  type Metric,
  type Page,
  type Run,
  type RunInfo,
  type RunStatus,
  type SearchExperimentsInput,
  type SearchRunsInput,
  type UpdateRunInput,
  type ViewType,
} from './types.js';

type Db = Kysely<Database>;

export const RUN_NAME_TAG = 'mlflow.runName';
export const PARENT_RUN_TAG = 'mlflow.parentRunId';
export const USER_TAG = 'mlflow.user';

export interface TrackingServiceOptions {
  /** Who is acting, for the event log (a user name, "server", …). */
  actor?: string;
  /** Where run artifacts are kept; required for the artifact methods. */
  artifacts?: ArtifactStore;
}

function stagesFor(view: ViewType | undefined): LifecycleStage[] {
  const v = view ?? 'ACTIVE_ONLY';
  if (!VIEW_TYPES.includes(v)) throw invalidArgument(`Invalid view type "${String(view)}"; expected one of ${VIEW_TYPES.join(', ')}`);
  return v === 'ACTIVE_ONLY' ? ['active'] : v === 'DELETED_ONLY' ? ['deleted'] : ['active', 'deleted'];
}

function parseExperimentId(id: unknown): number {
  const s = typeof id === 'number' ? String(id) : id;
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s)) {
    if (s === undefined || s === null || s === '') throw invalidArgument("Missing value for required parameter 'experiment_id'");
    throw notFound(`No Experiment with id=${String(id)} exists`);
  }
  return Number(s);
}

function checkRunId(runId: unknown): string {
  if (typeof runId !== 'string' || runId === '') throw invalidArgument("Missing value for required parameter 'run_id'");
  if (!RUN_ID_PATTERN.test(runId)) throw notFound(`Run with id=${runId} not found`);
  return runId;
}

function checkStatus(status: unknown): RunStatus {
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw invalidArgument(`Invalid run status ${JSON.stringify(status)}; expected one of ${RUN_STATUSES.join(', ')}`);
  }
  return status as RunStatus;
}

export class TrackingService implements TrackingApi {
  private readonly db: Db;
  private readonly actor: string;
  private readonly artifacts?: ArtifactStore;

  constructor(
    private readonly store: Store,
    options: TrackingServiceOptions = {},
  ) {
    this.db = store.db;
    this.actor = options.actor ?? 'flywheel';
    this.artifacts = options.artifacts;
  }

  /** Whether this service reads and writes `store` (so it can join a transaction of that store's). */
  sharesStore(store: Store): boolean {
    return store === this.store || store.db === this.db;
  }

  /** A service that writes inside `trx` (the caller commits or rolls back) instead of opening its own transactions. */
  inTransaction(trx: Db): TrackingService {
    return new TrackingService({ db: trx, adapter: this.store.adapter } as Store, { actor: this.actor, artifacts: this.artifacts });
  }

  /** Runs `fn` in a new transaction, or directly in the one this service is bound to. */
  private write<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn);
  }

  // ---------------------------------------------------------------- experiments

  async createExperiment(input: CreateExperimentInput): Promise<Experiment> {
    const name = validateExperimentName(input.name);
    const tags = Object.entries(input.tags ?? {}).map(([key, value]) => ({
      key: validateKey('tag', key),
      value: validateTagValue(key, value, LIMITS.maxExperimentTagValueLength),
    }));
    if (input.artifactLocation !== undefined && typeof input.artifactLocation !== 'string') {
      throw invalidArgument('artifact_location must be a string');
    }
    const id = await this.write(async (trx) => {
      const existing = await trx.selectFrom('experiments').select(['lifecycle_stage']).where('name', '=', name).executeTakeFirst();
      if (existing) {
        throw alreadyExists(
          existing.lifecycle_stage === 'deleted'
            ? `Experiment '${name}' already exists in deleted state. You can restore the experiment, or rename it before creating a new one.`
            : `Experiment '${name}' already exists.`,
        );
      }
      const now = Date.now();
      const row = await trx
        .insertInto('experiments')
        .values({ name, artifact_location: input.artifactLocation ?? '', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
        .returning('experiment_id')
        .executeTakeFirstOrThrow();
      const experimentId = Number(row.experiment_id);
      if (!input.artifactLocation) {
        await trx.updateTable('experiments').set({ artifact_location: `mlflow-artifacts:/${experimentId}` }).where('experiment_id', '=', experimentId).execute();
      }
      if (tags.length) await trx.insertInto('experiment_tags').values(tags.map((t) => ({ experiment_id: experimentId, ...t }))).execute();
      await recordEvent(trx, { actor: this.actor, kind: 'experiment.created', entityType: 'experiment', entityId: String(experimentId), payload: { name } });
      return experimentId;
    });
    return this.getExperiment(String(id));
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const id = parseExperimentId(experimentId);
    const row = await this.db.selectFrom('experiments').selectAll().where('experiment_id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
    const tags = await experimentTags(this.db, [id]);
    return rowToExperiment(row, tags.get(id)!);
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    if (typeof name !== 'string' || name === '') throw invalidArgument("Missing value for required parameter 'experiment_name'");
    const row = await this.db.selectFrom('experiments').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw notFound(`Could not find experiment with name '${name}'`);
    const id = Number(row.experiment_id);
    return rowToExperiment(row, (await experimentTags(this.db, [id])).get(id)!);
  }

  /** Finds an experiment by name, creating it when absent (the SDK's `experiment: 'churn'`). */
  ensureExperiment(name: string): Promise<Experiment> {
    return ensureExperiment(this, name);
  }


  async searchExperiments(input: SearchExperimentsInput = {}): Promise<Page<Experiment>> {
    const limit = validateMaxResults(input.maxResults, LIMITS.searchExperimentsDefault, LIMITS.searchExperimentsMax);
    const offset = decodePageToken(input.pageToken);
    const query = buildExperimentSearchQuery(this.db, this.store.adapter, {
      lifecycleStages: stagesFor(input.viewType),
      filter: parseExperimentFilter(input.filter ?? ''),
      orderBy: parseExperimentOrderBy(input.orderBy ?? []),
      offset,
      limit: limit + 1,
    });
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const tags = await experimentTags(this.db, page.map((r) => Number(r.experiment_id)));
    return {
      items: page.map((r) => rowToExperiment(r, tags.get(Number(r.experiment_id))!)),
      nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null,
    };
  }

  async renameExperiment(experimentId: string, newName: string): Promise<Experiment> {
    const id = parseExperimentId(experimentId);
    const name = validateExperimentName(newName);
    await this.write(async (trx) => {
      const row = await trx.selectFrom('experiments').select(['name', 'lifecycle_stage']).where('experiment_id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
      if (row.lifecycle_stage !== 'active') throw new FlywheelError('FW_INVALID_STATE', `Cannot rename a non-active experiment (id=${experimentId}).`);
      if (row.name === name) return;
      const clash = await trx.selectFrom('experiments').select('experiment_id').where('name', '=', name).executeTakeFirst();
      if (clash) throw alreadyExists(`Experiment '${name}' already exists.`);
      await trx.updateTable('experiments').set({ name, last_update_time: Date.now() }).where('experiment_id', '=', id).execute();
      await recordEvent(trx, { actor: this.actor, kind: 'experiment.renamed', entityType: 'experiment', entityId: String(id), payload: { from: row.name, to: name } });
    });
    return this.getExperiment(experimentId);
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.setExperimentStage(experimentId, 'deleted');
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.setExperimentStage(experimentId, 'active');
  }

  private async setExperimentStage(experimentId: string, stage: LifecycleStage): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.write(async (trx) => {
      const row = await trx.selectFrom('experiments').select(['lifecycle_stage', 'last_update_time']).where('experiment_id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
      if (row.lifecycle_stage === stage) {
        throw new FlywheelError('FW_INVALID_STATE', `Experiment ${experimentId} is already ${stage === 'active' ? 'active' : 'deleted'}.`);
      }
      const now = Date.now();
      await trx.updateTable('experiments').set({ lifecycle_stage: stage, last_update_time: now }).where('experiment_id', '=', id).execute();
      if (stage === 'deleted') {
        // Runs deleted with the experiment carry its deletion time, so restore brings back exactly those.
        await trx.updateTable('runs').set({ lifecycle_stage: 'deleted', deleted_time: now }).where('experiment_id', '=', id).where('lifecycle_stage', '=', 'active').execute();
      } else {
        await trx
          .updateTable('runs')
          .set({ lifecycle_stage: 'active', deleted_time: null })
          .where('experiment_id', '=', id)
          .where('deleted_time', '=', row.last_update_time)
          .execute();
      }
      await recordEvent(trx, { actor: this.actor, kind: stage === 'deleted' ? 'experiment.deleted' : 'experiment.restored', entityType: 'experiment', entityId: String(id) });
    });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    const k = validateKey('tag', key);
    const v = validateTagValue(k, value, LIMITS.maxExperimentTagValueLength);
    await this.write(async (trx) => {
      await this.requireActiveExperiment(trx, id);
      await trx
        .insertInto('experiment_tags')
        .values({ experiment_id: id, key: k, value: v })
        .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: v }))
        .execute();
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.write(async (trx) => {
      await this.requireActiveExperiment(trx, id);
      const res = await trx.deleteFrom('experiment_tags').where('experiment_id', '=', id).where('key', '=', key).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
    });
  }

  private async requireActiveExperiment(db: Db, id: number): Promise<{ artifact_location: string }> {
    const row = await db.selectFrom('experiments').select(['lifecycle_stage', 'artifact_location']).where('experiment_id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`No Experiment with id=${id} exists`);
    if (row.lifecycle_stage !== 'active') throw new FlywheelError('FW_INVALID_STATE', `The experiment ${id} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    return row;
  }

  // ----------------------------------------------------------------------- runs

  async createRun(input: CreateRunInput): Promise<Run> {
    const experimentId = parseExperimentId(input.experimentId ?? '0');
    const tags = Object.entries(input.tags ?? {}).map(([key, value]) => ({ key: validateKey('tag', key), value: validateTagValue(key, value) }));
    const tagMap = Object.fromEntries(tags.map((t) => [t.key, t.value]));
    const requestedName = input.runName || tagMap[RUN_NAME_TAG];
    if (input.runName && tagMap[RUN_NAME_TAG] && input.runName !== tagMap[RUN_NAME_TAG]) {
      throw invalidArgument(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${tagMap[RUN_NAME_TAG]}').`);
    }
    if (requestedName && requestedName.length > LIMITS.maxRunNameLength) throw invalidArgument(`Run name had length ${requestedName.length}, which exceeded length limit of ${LIMITS.maxRunNameLength}`);
    const runName = requestedName || randomRunName();
    const parentRunId = input.parentRunId ?? tagMap[PARENT_RUN_TAG] ?? null;
    const startTime = validateInt64('start_time', input.startTime, Date.now());
    const userId = input.userId ?? tagMap[USER_TAG] ?? '';
    const runId = newRunId();

    const info = await this.write(async (trx) => {
      const exp = await this.requireActiveExperiment(trx, experimentId);
      if (parentRunId !== null) {
        const parent = await trx.selectFrom('runs').select('run_id').where('run_id', '=', parentRunId).executeTakeFirst();
        if (!parent) throw notFound(`Parent run with id=${parentRunId} not found`);
      }
      const row = {
        run_id: runId,
        experiment_id: experimentId,
        name: runName,
        user_id: userId,
        status: 'RUNNING',
        start_time: startTime,
        end_time: null,
        lifecycle_stage: 'active',
        artifact_uri: `${exp.artifact_location.replace(/\/+$/, '')}/${runId}/artifacts`,
        parent_run_id: parentRunId,
        deleted_time: null,
        heartbeat_time: null,
      };
      await trx.insertInto('runs').values(row).execute();
      tagMap[RUN_NAME_TAG] = runName;
      if (parentRunId) tagMap[PARENT_RUN_TAG] = parentRunId;
      await trx.insertInto('tags').values(Object.entries(tagMap).map(([key, value]) => ({ run_id: runId, key, value }))).execute();
      await recordEvent(trx, { actor: userId || this.actor, kind: 'run.created', entityType: 'run', entityId: runId, payload: { experimentId: String(experimentId), runName, parentRunId } });
      return rowToRunInfo(row);
    });
    // What was just inserted, without reading it back: a new run has no params or metrics, and its tags read back ordered by key.
    const runTags: Record<string, string> = {};
    for (const key of Object.keys(tagMap).sort(compareKeys)) runTags[key] = tagMap[key];
    return { info, data: { metrics: [], params: {}, tags: runTags } };
  }

  async getRun(runId: string): Promise<Run> {
    const id = checkRunId(runId);
    const row = await this.db.selectFrom('runs').selectAll().where('run_id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return (await hydrateRuns(this.db, [row]))[0];
  }

  async updateRun(runId: string, input: UpdateRunInput): Promise<RunInfo> {
    const id = checkRunId(runId);
    const status = input.status === undefined ? undefined : checkStatus(input.status);
    const endTime = input.endTime === undefined || input.endTime === null ? undefined : validateInt64('end_time', input.endTime);
    if (input.runName !== undefined && (typeof input.runName !== 'string' || input.runName.length > LIMITS.maxRunNameLength)) {
      throw invalidArgument(`Invalid run name ${JSON.stringify(input.runName)}`);
    }
    return this.write(async (trx) => {
      const row = await this.requireActiveRun(trx, id, true);
      const set: { status?: string; end_time?: number | null; name?: string } = {};
      if (status) {
        set.status = status;
        const terminal = status === 'FINISHED' || status === 'FAILED' || status === 'KILLED';
        if (terminal) set.end_time = endTime ?? row.end_time ?? Date.now();
        else if (endTime !== undefined) set.end_time = endTime;
      } else if (endTime !== undefined) set.end_time = endTime;
      if (input.runName) {
        set.name = input.runName;
        await trx
          .insertInto('tags')
          .values({ run_id: id, key: RUN_NAME_TAG, value: input.runName })
          .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value: input.runName! }))
          .execute();
      }
      if (Object.keys(set).length) await trx.updateTable('runs').set(set).where('run_id', '=', id).execute();
      if (status && status !== row.status) {
        await recordEvent(trx, { actor: this.actor, kind: 'run.status_changed', entityType: 'run', entityId: id, payload: { from: row.status, to: status } });
      }
      // The row as read plus what changed: no re-read.
      return rowToRunInfo({ ...row, ...set });
    });
  }

  endRun(runId: string, status: RunStatus = 'FINISHED', endTime?: number): Promise<RunInfo> {
    return this.updateRun(runId, { status, endTime });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.setRunStage(runId, 'deleted');
  }

  async restoreRun(runId: string): Promise<void> {
    await this.setRunStage(runId, 'active');
  }

  private async setRunStage(runId: string, stage: LifecycleStage): Promise<void> {
    const id = checkRunId(runId);
    await this.write(async (trx) => {
      const row = await trx.selectFrom('runs').select(['lifecycle_stage']).where('run_id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`Run with id=${runId} not found`);
      if (row.lifecycle_stage === stage) return;
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? Date.now() : null })
        .where('run_id', '=', id)
        .execute();
      await recordEvent(trx, { actor: this.actor, kind: stage === 'deleted' ? 'run.deleted' : 'run.restored', entityType: 'run', entityId: id });
    });
  }

  private async requireActiveRun(db: Db, runId: string): Promise<Pick<Selectable<RunsTable>, 'lifecycle_stage' | 'status' | 'end_time'>>;
  private async requireActiveRun(db: Db, runId: string, whole: true): Promise<Selectable<RunsTable>>;
  private async requireActiveRun(db: Db, runId: string, whole = false) {
    const query = db.selectFrom('runs').where('run_id', '=', runId);
    const row = await (whole ? query.selectAll() : query.select(['lifecycle_stage', 'status', 'end_time'])).executeTakeFirst();
    if (!row) throw notFound(`Run with id=${runId} not found`);
    if (row.lifecycle_stage !== 'active') {
      throw new FlywheelError('FW_INVALID_STATE', `The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    }
    return row;
  }

  // ------------------------------------------------------------------- logging

  /** Validates everything first, then writes metrics, params and tags in one transaction. */
  async logBatch(runId: string, batch: LogBatchInput): Promise<void> {
    const id = checkRunId(runId);
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    if (!Array.isArray(metrics) || !Array.isArray(params) || !Array.isArray(tags)) throw invalidArgument('metrics, params and tags must be lists');
    if (metrics.length > LIMITS.maxMetricsPerBatch) {
      throw new FlywheelError('FW_LIMIT_EXCEEDED', `A batch logging request can contain at most ${LIMITS.maxMetricsPerBatch} metrics. Got ${metrics.length} metrics.`);
    }
    if (params.length > LIMITS.maxParamsTagsPerBatch) {
      throw new FlywheelError('FW_LIMIT_EXCEEDED', `A batch logging request can contain at most ${LIMITS.maxParamsTagsPerBatch} params. Got ${params.length} params.`);
    }
    if (tags.length > LIMITS.maxParamsTagsPerBatch) {
      throw new FlywheelError('FW_LIMIT_EXCEEDED', `A batch logging request can contain at most ${LIMITS.maxParamsTagsPerBatch} tags. Got ${tags.length} tags.`);
    }
    if (metrics.length + params.length + tags.length > LIMITS.maxEntitiesPerBatch) {
      throw new FlywheelError('FW_LIMIT_EXCEEDED', `A batch logging request can contain at most ${LIMITS.maxEntitiesPerBatch} total metrics, params and tags.`);
    }
    const now = Date.now();
    const metricRows: MetricRow[] = new Array(metrics.length);
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i] as Partial<Metric> | null;
      if (m === null || typeof m !== 'object') throw invalidArgument(`metrics[${i}] must be an object`);
      const key = validateKey('metric', m.key);
      metricRows[i] = metricToRow(id, {
        key,
        value: validateMetricValue(key, m.value),
        timestamp: validateInt64(`metrics[${i}].timestamp`, m.timestamp, now),
        step: validateInt64(`metrics[${i}].step`, m.step, 0),
      });
    }
    const paramMap = new Map<string, string>();
    for (const p of params) {
      if (p === null || typeof p !== 'object') throw invalidArgument('each param must be an object with key and value');
      const key = validateKey('param', p.key);
      const value = validateParamValue(key, p.value);
      const prior = paramMap.get(key);
      if (prior !== undefined && prior !== value) {
        throw new FlywheelError('FW_CONFLICT', `Duplicate parameter keys have been submitted: ['${key}']. Please ensure the request contains only one param value per param key.`);
      }
      paramMap.set(key, value);
    }
    const tagMap = new Map<string, string>();
    for (const t of tags) {
      if (t === null || typeof t !== 'object') throw invalidArgument('each tag must be an object with key and value');
      const key = validateKey('tag', t.key);
      tagMap.set(key, validateTagValue(key, t.value));
    }

    await this.write(async (trx) => {
      await this.requireActiveRun(trx, id);
      if (paramMap.size) await this.writeParams(trx, id, paramMap);
      if (metricRows.length) {
        await insertMetricRows(trx, this.store.adapter, metricRows);
        await upsertLatestMetrics(trx, this.store.adapter, metricRows);
      }
      if (tagMap.size) await this.writeTags(trx, id, tagMap);
    });
  }

  private async writeParams(trx: Db, runId: string, params: Map<string, string>): Promise<void> {
    const keys = [...params.keys()];
    await trx
      .insertInto('params')
      .values(keys.map((key) => ({ run_id: runId, key, value: params.get(key)! })))
      .onConflict((oc) => oc.columns(['run_id', 'key']).doNothing())
      .execute();
    // Whatever was already there must equal what was sent: params never change.
    const stored = await trx.selectFrom('params').select(['key', 'value']).where('run_id', '=', runId).where('key', 'in', keys).execute();
    for (const s of stored) {
      const sent = params.get(s.key)!;
      if (s.value !== sent) {
        throw new FlywheelError(
          'FW_CONFLICT',
          `Changing param values is not allowed. Param with key='${s.key}' was already logged with value='${s.value}' for run ID='${runId}'. Attempted logging new value '${sent}'.`,
        );
      }
    }
  }

  private async writeTags(trx: Db, runId: string, tags: Map<string, string>): Promise<void> {
    const rows = [...tags].map(([key, value]) => ({ run_id: runId, key, value }));
    await trx
      .insertInto('tags')
      .values(rows)
      .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
    const runName = tags.get(RUN_NAME_TAG);
    if (runName !== undefined) await trx.updateTable('runs').set({ name: runName }).where('run_id', '=', runId).execute();
  }

  logMetric(runId: string, metric: { key: string; value: number | string; timestamp?: number; step?: number }): Promise<void> {
    return this.logBatch(runId, { metrics: [metric as Metric] });
  }

  logParam(runId: string, key: string, value: string): Promise<void> {
    return this.logBatch(runId, { params: [{ key, value }] });
  }

  setTag(runId: string, key: string, value: string): Promise<void> {
    return this.logBatch(runId, { tags: [{ key, value }] });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    const id = checkRunId(runId);
    await this.write(async (trx) => {
      await this.requireActiveRun(trx, id);
      const res = await trx.deleteFrom('tags').where('run_id', '=', id).where('key', '=', key).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
    });
  }

  async getMetricHistory(runId: string, key: string, options: { maxResults?: number; pageToken?: string } = {}): Promise<Page<Metric>> {
    const id = checkRunId(runId);
    if (typeof key !== 'string' || key === '') throw invalidArgument("Missing value for required parameter 'metric_key'");
    const run = await this.db.selectFrom('runs').select('run_id').where('run_id', '=', id).executeTakeFirst();
    if (!run) throw notFound(`Run with id=${runId} not found`);
    const offset = decodePageToken(options.pageToken);
    let query = this.db
      .selectFrom('metrics')
      .select(['key', 'value', 'timestamp', 'step', 'is_nan'])
      .where('run_id', '=', id)
      .where('key', '=', key)
      .orderBy('step')
      .orderBy('timestamp')
      .orderBy('value');
    const limit = options.maxResults === undefined ? undefined : validateMaxResults(options.maxResults, LIMITS.metricHistoryMax, LIMITS.metricHistoryMax);
    if (limit !== undefined) query = query.limit(limit + 1).offset(offset);
    const rows = await query.execute();
    const items = (limit === undefined ? rows : rows.slice(0, limit)).map(rowToMetric);
    return { items, nextPageToken: limit !== undefined && rows.length > limit ? encodePageToken(offset + limit) : null };
  }

  // -------------------------------------------------------------------- search

  async searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    const limit = validateMaxResults(input.maxResults, LIMITS.searchRunsDefault, LIMITS.searchRunsMax);
    const offset = decodePageToken(input.pageToken);
    const ids = (input.experimentIds ?? []).map((e) => parseExperimentIdLoose(e));
    const filter = parseRunFilter(input.filter ?? '');
    const orderBy = parseOrderBy(input.orderBy ?? []);
    if (ids.length === 0) return { items: [], nextPageToken: null };
    const rows = await buildRunSearchQuery(this.db, this.store.adapter, {
      experimentIds: ids,
      lifecycleStages: stagesFor(input.viewType),
      filter,
      orderBy,
      offset,
      limit: limit + 1,
    }).execute();
    const page = rows.slice(0, limit);
    return { items: await hydrateRuns(this.db, page), nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null };
  }

  // ----------------------------------------------------------------- artifacts

  private artifactStore(): ArtifactStore {
    if (!this.artifacts) throw new FlywheelError('FW_CONFIG', 'this tracking service has no artifact store');
    return this.artifacts;
  }

  async putRunArtifact(runId: string, artifactPath: string, body: Uint8Array | NodeJS.ReadableStream): Promise<void> {
    const run = await this.getRun(runId);
    if (run.info.lifecycleStage !== 'active') throw new FlywheelError('FW_INVALID_STATE', `The run ${runId} must be in the 'active' state.`);
    const key = runArtifactKey(run.info.artifactUri, artifactPath);
    await this.artifactStore().put(key, body instanceof Uint8Array ? body : Readable.from(body as AsyncIterable<Uint8Array>));
  }

  async getRunArtifact(runId: string, artifactPath: string): Promise<NodeJS.ReadableStream> {
    const run = await this.getRun(runId);
    return this.artifactStore().get(runArtifactKey(run.info.artifactUri, artifactPath));
  }

  async listRunArtifacts(runId: string, artifactPath = ''): Promise<{ path: string; isDir: boolean; size: number }[]> {
    const run = await this.getRun(runId);
    const root = runArtifactKey(run.info.artifactUri, '', true);
    const entries = await this.artifactStore().list(runArtifactKey(run.info.artifactUri, artifactPath, true));
    return entries.map((e) => ({ path: e.path.slice(root.length + 1), isDir: e.isDir, size: e.size }));
  }

  /** Run infos of a run's direct children (nested runs). */
  async childRuns(runId: string): Promise<RunInfo[]> {
    const id = checkRunId(runId);
    const rows = await this.db.selectFrom('runs').selectAll().where('parent_run_id', '=', id).orderBy('start_time').execute();
    return rows.map(rowToRunInfo);
  }
}

/** SQLite's BINARY order of keys (UTF-8 bytes), which is what a run's tags read back in. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function parseExperimentIdLoose(id: unknown): number {
  const s = typeof id === 'number' ? String(id) : id;
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s)) throw invalidArgument(`Invalid experiment id ${JSON.stringify(id)}`);
  return Number(s);
}
