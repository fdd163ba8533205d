/**
 * Pipeline runs (src/pipelines): one row per run of a pipeline, holding the
 * definition it ran as JSON with that JSON's sha256 (a content-hash snapshot,
 * as Dagster keeps, so resume reruns exactly what ran), and one row per step
 * of that run: status, attempts, cache key, the tracking run of its last
 * execution and its outputs (output name → dataset version id) as JSON.
 * Cache lookups go by (pipeline, step, cache_key).
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('pipeline_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('pipeline', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('definition_hash', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('tracking_run_id', 'text')
    .addColumn('resumed_from', 'text')
    .addColumn('error', 'text')
    .addColumn('started_time', 'bigint', (c) => c.notNull())
    .addColumn('ended_time', 'bigint')
    .execute();
  await db.schema.createIndex('pipeline_runs_pipeline_started').on('pipeline_runs').columns(['pipeline', 'started_time']).execute();
  await db.schema
    .createTable('pipeline_step_runs')
    .addColumn('pipeline_run_id', 'text', (c) => c.notNull())
    .addColumn('pipeline', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('cache_key', 'text')
    .addColumn('cached', 'integer', (c) => c.notNull())
    .addColumn('tracking_run_id', 'text')
    .addColumn('error', 'text')
    .addColumn('outputs', 'text', (c) => c.notNull())
    .addColumn('started_time', 'bigint')
    .addColumn('ended_time', 'bigint')
    .addPrimaryKeyConstraint('pipeline_step_runs_pk', ['pipeline_run_id', 'step'])
    .execute();
  await db.schema.createIndex('pipeline_step_runs_cache').on('pipeline_step_runs').columns(['pipeline', 'step', 'cache_key']).execute();
}
