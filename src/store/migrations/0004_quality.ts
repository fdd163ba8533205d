/** Validation results: one row per suite run on a dataset version, its checks as JSON. */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('validation_results')
    .addColumn('result_id', 'text', (c) => c.primaryKey())
    .addColumn('dataset', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('suite_name', 'text', (c) => c.notNull())
    .addColumn('suite_hash', 'text', (c) => c.notNull())
    // The normalized suite that ran, so a result can be reproduced after the file changes.
    .addColumn('suite', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('success', 'integer', (c) => c.notNull())
    .addColumn('statistics', 'text', (c) => c.notNull())
    .addColumn('checks', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('validation_results_version_time').on('validation_results').columns(['version_id', 'time']).execute();
}
