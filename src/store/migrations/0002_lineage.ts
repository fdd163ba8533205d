/** Lineage edges: one table for every "X —relation→ Y" the loop records. */
import type { Kysely } from 'kysely';
import type { StoreAdapter } from '../adapter.js';

export async function up(db: Kysely<any>, _adapter: StoreAdapter): Promise<void> {
  await db.schema
    .createTable('lineage_edges')
    .addColumn('from_type', 'text', (c) => c.notNull())
    .addColumn('from_id', 'text', (c) => c.notNull())
    .addColumn('relation', 'text', (c) => c.notNull())
    .addColumn('to_type', 'text', (c) => c.notNull())
    .addColumn('to_id', 'text', (c) => c.notNull())
    .addColumn('created_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lineage_edges_pk', ['from_type', 'from_id', 'relation', 'to_type', 'to_id'])
    .execute();
  await db.schema.createIndex('lineage_edges_to').on('lineage_edges').columns(['to_type', 'to_id']).execute();
}
