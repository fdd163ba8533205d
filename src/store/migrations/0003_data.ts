/**
 * Datasets and their immutable versions. A version row carries its schema,
 * tags and profile as JSON text (read whole, never queried inside), the
 * content hash naming its Parquet blob, and the source fingerprint that lets
 * an unchanged file be recognised without reading it.
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('datasets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_time', 'bigint', (c) => c.notNull())
    .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
    .addColumn('deleted_time', 'bigint')
    .execute();

  await db.schema
    .createTable('dataset_versions')
    .addColumn('version_id', 'text', (c) => c.primaryKey())
    .addColumn('dataset', 'text', (c) => c.notNull().references('datasets.name'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('schema_json', 'text', (c) => c.notNull())
    .addColumn('row_count', 'bigint', (c) => c.notNull())
    .addColumn('byte_size', 'bigint', (c) => c.notNull())
    .addColumn('parent_version_id', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('created_time', 'bigint', (c) => c.notNull())
    .addColumn('tags_json', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('profile_json', 'text')
    .addColumn('source_fingerprint', 'text')
    .execute();
  await db.schema.createIndex('dataset_versions_dataset_version').unique().on('dataset_versions').columns(['dataset', 'version']).execute();
  await db.schema.createIndex('dataset_versions_hash').on('dataset_versions').columns(['content_hash']).execute();
}
