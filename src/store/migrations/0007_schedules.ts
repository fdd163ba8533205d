/**
 * Pipeline schedules and triggers (src/pipelines/scheduler.ts, triggers.ts):
 * one row per scheduled pipeline with its cron, timezone, missed-tick policy,
 * the last tick fired (or skipped) and the next one — servers claim a tick
 * with a conditional UPDATE on last_fire_time, so only one fires it — and one
 * row per (pipeline, watched dataset) with the last dataset version seen, so
 * a restarted server does not fire again for a version it already handled.
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('pipeline_schedules')
    .addColumn('pipeline', 'text', (c) => c.primaryKey())
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('missed', 'text', (c) => c.notNull())
    .addColumn('last_fire_time', 'bigint', (c) => c.notNull())
    .addColumn('next_fire_time', 'bigint')
    .addColumn('updated_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('pipeline_trigger_state')
    .addColumn('pipeline', 'text', (c) => c.notNull())
    .addColumn('dataset', 'text', (c) => c.notNull())
    .addColumn('last_version_id', 'text')
    .addColumn('updated_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('pipeline_trigger_state_pk', ['pipeline', 'dataset'])
    .execute();
}
