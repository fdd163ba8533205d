/**
 * The suite registry: quality suites stored by name, so uploads and
 * validations can name a suite instead of carrying it. One row per name with
 * the normalized definition as JSON and its sha256; every change is also an
 * event, so earlier definitions stay in the audit log.
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('quality_suites')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('dataset', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_time', 'bigint', (c) => c.notNull())
    .addColumn('updated_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('quality_suites_dataset').on('quality_suites').columns(['dataset', 'name']).execute();
}
