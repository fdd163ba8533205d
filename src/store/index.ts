/**
 * Opens the metadata database named by the config and brings its schema up to
 * date. The only place that picks a concrete adapter.
 */
import { Kysely, Migrator, sql } from 'kysely';
import { FlywheelError } from '../core/errors.js';
import { isPostgresUrl, redactUrl } from '../core/config.js';
import type { StoreAdapter } from './adapter.js';
import type { Database } from './schema.js';
import { FlywheelMigrations } from './migrations/index.js';
import { createSqliteAdapter } from './sqlite.js';
import { createPostgresAdapter, type PostgresOptions } from './postgres.js';

export type { Database } from './schema.js';
export type { StoreAdapter } from './adapter.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly adapter: StoreAdapter;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  postgres?: PostgresOptions;
  /** Skip migrations (tests of the migrator itself). */
  migrate?: boolean;
}

export function createAdapter(url: string, options: OpenStoreOptions = {}): StoreAdapter {
  if (isPostgresUrl(url)) return createPostgresAdapter(url, options.postgres);
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (!file) throw new FlywheelError('FW_CONFIG', `FLYWHEEL_DB "${url}" names no SQLite file`);
  return createSqliteAdapter(file);
}

/** How often a long-lived process refreshes planner statistics as its data grows. */
const OPTIMIZE_INTERVAL_MS = 10 * 60_000;

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const adapter = createAdapter(url, options);
  const db = new Kysely<Database>({ dialect: adapter.dialect });
  const timer = setInterval(() => adapter.optimize().catch(() => {}), OPTIMIZE_INTERVAL_MS);
  timer.unref();
  const store: Store = {
    db,
    adapter,
    close: async () => {
      clearInterval(timer);
      await db.destroy();
      await adapter.close();
    },
  };
  try {
    if (options.migrate !== false) await migrate(store);
    await adapter.optimize();
  } catch (err) {
    await store.close().catch(() => {});
    if (err instanceof FlywheelError) throw err;
    throw new FlywheelError('FW_CONFIG', `cannot open the metadata database ${redactUrl(url)}: ${(err as Error).message}`);
  }
  return store;
}

export async function migrate(store: Store): Promise<string[]> {
  const migrationTableSchema = await store.adapter.currentSchema(store.db);
  const migrator = new Migrator({ db: store.db, provider: new FlywheelMigrations(store.adapter), migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Runs `fn` in one transaction: all of its writes land, or none do. */
export function transaction<T>(store: Store, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return store.db.transaction().execute(fn);
}

export { sql };
