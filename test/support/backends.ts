/**
 * The metadata-store backends every shared store suite runs against: SQLite
 * in a temp file always, PostgreSQL (a fresh schema per suite) when reachable.
 * When PostgreSQL is not reachable its suites are skipped with a visible warning.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';

export const POSTGRES_URL = process.env.FLYWHEEL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const postgresAvailable = await probePostgres();
if (!postgresAvailable) {
  console.warn(`PostgreSQL not reachable at ${POSTGRES_URL}: SKIPPING the PostgreSQL store suites (set FLYWHEEL_TEST_POSTGRES to point elsewhere).`);
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  available: boolean;
  /** Opens a fresh, migrated, empty store; `dispose` removes everything it made. */
  open(): Promise<{ store: Store; url: string; dispose(): Promise<void> }>;
}

export const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    available: true,
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-store-'));
      const url = `sqlite:${path.join(dir, 'flywheel.db')}`;
      const store = await openStore(url);
      return {
        store,
        url,
        async dispose() {
          await store.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    available: postgresAvailable,
    async open() {
      const schema = `fw_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const store = await openStore(POSTGRES_URL, { postgres: { schema } });
      return {
        store,
        url: POSTGRES_URL,
        async dispose() {
          await store.close();
          const c = new pg.Client({ connectionString: POSTGRES_URL });
          await c.connect();
          await c.query(`drop schema ${schema} cascade`);
          await c.end();
        },
      };
    },
  },
];
