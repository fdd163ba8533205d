/**
 * Serving (src/serving): deployments, their revisions, the prediction log and
 * ground-truth feedback.
 *
 * - A deployment names an endpoint; every change of its traffic policy is a
 *   new numbered revision (the policy as JSON). `current_revision` is the one
 *   asked for; `serving_revision` is the last one a serving process loaded, so
 *   a revision that fails to load is marked `failed` with its reason while the
 *   previous one keeps serving.
 * - prediction_log holds one row per predicted row and arm (a shadow arm's row
 *   has its own id, `<primary id>~<arm>`), written in batches off the request
 *   path. Features, prediction and probabilities are JSON text.
 * - prediction_feedback holds the ground truth by prediction id; it may arrive
 *   before its prediction is flushed, so it is not a foreign key.
 */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('deployments')
    .addColumn('deployment_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('current_revision', 'integer', (c) => c.notNull())
    .addColumn('serving_revision', 'integer')
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('deployment_revisions')
    .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.deployment_id').onDelete('cascade'))
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text')
    .addColumn('resolved', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('status_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployment_revisions_pk', ['deployment_id', 'revision'])
    .execute();

  await db.schema
    .createTable('prediction_log')
    .addColumn('prediction_id', 'text', (c) => c.primaryKey())
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('arm', 'text', (c) => c.notNull())
    .addColumn('model_name', 'text', (c) => c.notNull())
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('shadow', 'integer', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('latency_ms', 'double precision', (c) => c.notNull())
    .addColumn('request_key', 'text')
    .addColumn('features', 'text', (c) => c.notNull())
    .addColumn('prediction', 'text')
    .addColumn('probability', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('prediction_log_time').on('prediction_log').columns(['deployment_id', 'time']).execute();

  await db.schema
    .createTable('prediction_feedback')
    .addColumn('prediction_id', 'text', (c) => c.primaryKey())
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('prediction_feedback_time').on('prediction_feedback').columns(['deployment_id', 'time']).execute();
}
