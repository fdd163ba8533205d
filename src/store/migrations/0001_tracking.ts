/** Experiments, runs, params, tags, metrics (full history and latest), and the event log. */
import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

/** Key-value tables looked up by primary key keep their rows in that key's B-tree where the database allows. */
function keyed<T extends string>(builder: CreateTableBuilder<T, never>, adapter: StoreAdapter): CreateTableBuilder<T, never> {
  return adapter.supportsWithoutRowid ? builder.modifyEnd(sql`without rowid`) : builder;
}

export async function up(db: Kysely<any>, adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('experiments')
    .addColumn('experiment_id', adapter.autoIncrementIdType, (c) => adapter.autoIncrement(c.primaryKey()))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('artifact_location', 'text', (c) => c.notNull())
    .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('last_update_time', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('experiment_tags')
    .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.experiment_id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
    .execute();

  await keyed(db.schema.createTable('runs'), adapter)
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.experiment_id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('start_time', 'bigint', (c) => c.notNull())
    .addColumn('end_time', 'bigint')
    .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
    .addColumn('artifact_uri', 'text', (c) => c.notNull())
    .addColumn('parent_run_id', 'text')
    .addColumn('deleted_time', 'bigint')
    .addColumn('heartbeat_time', 'bigint')
    .execute();
  await db.schema.createIndex('runs_experiment_start').on('runs').columns(['experiment_id', 'start_time']).execute();
  await db.schema.createIndex('runs_parent').on('runs').column('parent_run_id').execute();

  for (const table of ['params', 'tags'] as const) {
    await keyed(db.schema.createTable(table), adapter)
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
      .execute();
    // Search filters find runs by key and value; run_id in the index answers them without visiting the table.
    await db.schema.createIndex(`${table}_key_value`).on(table).columns(['key', 'value', 'run_id']).execute();
  }

  // Full history. The key is MLflow's (a point logged twice is stored once) and, in
  // SQLite, the table itself: one B-tree to append to, ordered for history reads.
  await keyed(db.schema.createTable('metrics'), adapter)
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('is_nan', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('metrics_pk', ['run_id', 'key', 'step', 'timestamp', 'value', 'is_nan'])
    .execute();

  await keyed(db.schema.createTable('latest_metrics'), adapter)
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('is_nan', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
    .execute();
  await db.schema.createIndex('latest_metrics_key_value').on('latest_metrics').columns(['key', 'value', 'run_id']).execute();

  await db.schema
    .createTable('events')
    .addColumn('event_id', adapter.autoIncrementIdType, (c) => adapter.autoIncrement(c.primaryKey()))
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_entity').on('events').columns(['entity_type', 'entity_id', 'event_id']).execute();

  // MLflow clients that never name an experiment log to id 0, "Default".
  const now = Date.now();
  await db
    .insertInto('experiments')
    .values({ experiment_id: 0, name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
    .execute();
}
