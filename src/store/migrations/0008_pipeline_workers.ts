/**
 * What pipelines need beyond one process (src/pipelines):
 *
 * - pipeline_runs.cancel_requested_time: `flywheel pipelines cancel` from
 *   another process sets it; the process running the run polls it.
 * - pipeline_runs.module: the TypeScript/JavaScript module a definition was
 *   loaded from, so worker processes can load its function steps.
 * - pipeline_runs.mode: 'local' (steps run in the process that started the
 *   run) or 'distributed' (steps go to `flywheel worker` processes).
 * - pipeline_step_runs.worker / heartbeat_time: who runs the current attempt
 *   and when it last said so; attempt_token: the claim of that attempt (only
 *   the holder of the token may finish the step, so a step is recorded once).
 * - pipeline_step_runs.log_path: where the live log of the running attempt is
 *   (for `pipelines logs --follow`); details: JSON extras (a sweep's trials).
 * - pipeline_workers: one row per `flywheel worker` process, with its
 *   heartbeat; a worker whose heartbeat is stale is declared lost and its
 *   steps are retried elsewhere.
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  for (const [column, type] of [
    ['cancel_requested_time', 'bigint'],
    ['module', 'text'],
    ['mode', 'text'],
  ] as const) {
    await db.schema.alterTable('pipeline_runs').addColumn(column, type).execute();
  }
  for (const [column, type] of [
    ['worker', 'text'],
    ['heartbeat_time', 'bigint'],
    ['attempt_token', 'text'],
    ['log_path', 'text'],
    ['details', 'text'],
  ] as const) {
    await db.schema.alterTable('pipeline_step_runs').addColumn(column, type).execute();
  }
  await db.schema.createIndex('pipeline_step_runs_running').on('pipeline_step_runs').columns(['status', 'worker']).execute();
  await db.schema
    .createTable('pipeline_workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('started_time', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_time', 'bigint', (c) => c.notNull())
    .addColumn('stopped_time', 'bigint')
    .addColumn('steps_done', 'integer', (c) => c.notNull())
    .execute();
}
