/**
 * The model registry (src/registry): registered models, their numbered
 * versions, tags on both, and aliases.
 *
 * - Models and versions have surrogate ids (model_id, version_id) so a rename
 *   touches one row, and a version's id is stable for the lineage graph and
 *   the event log; (model_id, version) is unique.
 * - A deleted version keeps its row with deleted_time set (as MLflow's SQL store
 *   keeps it as "Deleted_Internal"), so its number is never handed out again.
 *   Deleting a registered model removes it and everything under it.
 * - flavor, signature (JSON) and task are copied from the model package's
 *   manifest (flywheel-model.json) when the version is created from one.
 * - storage_location is where the files are (a runs:/ source resolved to the
 *   run's artifact URI), what model-versions/get-download-uri answers.
 */
import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

/** Key-value tables looked up by primary key keep their rows in that key's B-tree where the database allows. */
function keyed<T extends string>(builder: CreateTableBuilder<T, never>, adapter: StoreAdapter): CreateTableBuilder<T, never> {
  return adapter.supportsWithoutRowid ? builder.modifyEnd(sql`without rowid`) : builder;
}

export async function up(db: Kysely<any>, adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('registered_models')
    .addColumn('model_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
    .execute();

  await keyed(db.schema.createTable('registered_model_tags'), adapter)
    .addColumn('model_id', 'text', (c) => c.notNull().references('registered_models.model_id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registered_model_tags_pk', ['model_id', 'key'])
    .execute();

  await db.schema
    .createTable('model_versions')
    .addColumn('version_id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull().references('registered_models.model_id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('storage_location', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('run_link', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('current_stage', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
    .addColumn('deleted_time', 'bigint')
    .addColumn('flavor', 'text')
    .addColumn('signature', 'text')
    .addColumn('task', 'text')
    .addUniqueConstraint('model_versions_number', ['model_id', 'version'])
    .execute();
  // Latest version per stage, and versions made by a run (search by run_id).
  await db.schema.createIndex('model_versions_stage').on('model_versions').columns(['model_id', 'current_stage', 'version']).execute();
  await db.schema.createIndex('model_versions_run').on('model_versions').column('run_id').execute();

  await keyed(db.schema.createTable('model_version_tags'), adapter)
    .addColumn('version_id', 'text', (c) => c.notNull().references('model_versions.version_id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_version_tags_pk', ['version_id', 'key'])
    .execute();

  await keyed(db.schema.createTable('registered_model_aliases'), adapter)
    .addColumn('model_id', 'text', (c) => c.notNull().references('registered_models.model_id').onDelete('cascade'))
    .addColumn('alias', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull().references('model_versions.version_id').onDelete('cascade'))
    .addPrimaryKeyConstraint('registered_model_aliases_pk', ['model_id', 'alias'])
    .execute();
  await db.schema.createIndex('registered_model_aliases_version').on('registered_model_aliases').column('version_id').execute();
}
