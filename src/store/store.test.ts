/** Migrations and dialect behaviour, run against every backend. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS } from '../../test/support/backends.js';
import { migrate, type Store } from './index.js';
import { LATEST_MIGRATION } from './migrations/index.js';

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`metadata store on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
    });
    afterAll(async () => dispose?.());

    it('records applied migrations by name and does not re-run them', async () => {
      const applied = await store.db
        .selectFrom('kysely_migration' as never)
        .select(sql<string>`name`.as('name'))
        .execute();
      expect(applied.map((r) => r.name)).toContain('0001_tracking');
      expect(applied.map((r) => r.name).at(-1)).toBe(LATEST_MIGRATION);
      expect(await migrate(store)).toEqual([]);
    });

    it('creates the Default experiment with id 0, as MLflow clients expect', async () => {
      const row = await store.db.selectFrom('experiments').selectAll().where('experiment_id', '=', 0).executeTakeFirstOrThrow();
      expect(row.name).toBe('Default');
      expect(row.artifact_location).toBe('mlflow-artifacts:/0');
      expect(typeof row.creation_time).toBe('number');
    });

    it('generates experiment ids after 0 and reads int8 columns as numbers', async () => {
      const now = 1_700_000_000_123;
      const r = await store.db
        .insertInto('experiments')
        .values({ name: 'ids', artifact_location: 'x', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
        .returning(['experiment_id', 'creation_time'])
        .executeTakeFirstOrThrow();
      expect(Number(r.experiment_id)).toBeGreaterThan(0);
      expect(r.creation_time).toBe(now);
    });

    it('makes LIKE case-sensitive, as in MLflow', async () => {
      const { rows } = await sql<{ a: unknown; b: unknown }>`select ('Abc' like 'a%') as a, ('abc' like 'a%') as b`.execute(store.db);
      expect(Boolean(Number(rows[0].a) || rows[0].a === true)).toBe(false);
      expect(Boolean(Number(rows[0].b) || rows[0].b === true)).toBe(true);
    });

    it('rolls back every write of a failed transaction', async () => {
      await expect(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('events').values({ time: 1, actor: 't', kind: 'k', entity_type: 'e', entity_id: 'rollback', payload: '{}' }).execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const left = await store.db.selectFrom('events').select('event_id').where('entity_id', '=', 'rollback').execute();
      expect(left).toEqual([]);
    });
  });
}

describe('sqlite specifics', () => {
  it('opens the database in WAL mode with a busy timeout', async () => {
    const { store, dispose } = await BACKENDS[0].open();
    try {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(mode.rows[0].journal_mode).toBe('wal');
      const timeout = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
      expect(timeout.rows[0].timeout).toBeGreaterThanOrEqual(5000);
    } finally {
      await dispose();
    }
  });
});

describe.skipIf(!BACKENDS[1].available)('postgres specifics', () => {
  it("migrates a schema even when another schema of the database already holds Flywheel's tables", async () => {
    const first = await BACKENDS[1].open();
    const second = await BACKENDS[1].open();
    try {
      const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name in ('kysely_migration', 'runs')`.execute(second.store.db);
      expect(tables.rows[0].n).toBe(2);
    } finally {
      await second.dispose();
      await first.dispose();
    }
  });
});
