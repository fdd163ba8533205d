/**
 * Monitoring (src/monitoring/monitors): monitor definitions.
 *
 * - `definition` is the monitor as JSON (target, reference, window, checks,
 *   columns, drift options, alert rules in text form); it is validated by the
 *   monitor slice on the way in, so the table stays one row per monitor.
 * - `alert_state` is a JSON object of rule name → alert state (the pure state
 *   machine's stored form); it changes on every execution, the definition never.
 * - `executions` counts runs of the monitor; it is the step of the logged metrics.
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('monitors')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('alert_state', 'text', (c) => c.notNull())
    .addColumn('executions', 'integer', (c) => c.notNull())
    .addColumn('last_run_time', 'bigint')
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
    .execute();
}
