/**
 * SQLite adapter (embedded default): better-sqlite3 in WAL mode with a busy
 * timeout, so the CLI and a server can write the same file at once.
 *
 * Write transactions start with BEGIN IMMEDIATE: a deferred transaction that
 * reads and then writes fails at once with SQLITE_BUSY when another process
 * committed in between, and the busy timeout cannot help it.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import type { StoreAdapter } from './adapter.js';

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

export const SQLITE_BUSY_TIMEOUT_MS = 30_000;

export function createSqliteAdapter(file: string): StoreAdapter & { readonly raw: BetterSqlite3.Database } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  // MLflow's LIKE is case-sensitive; SQLite's is not unless told.
  raw.pragma('case_sensitive_like = ON');
  return {
    name: 'sqlite',
    raw,
    dialect: new ImmediateSqliteDialect({ database: raw }),
    maxBindParameters: 32_000,
    supportsIlike: false,
    autoIncrementIdType: 'integer',
    autoIncrement: (col) => col.autoIncrement(),
    // The driver's destroy() closes the database handle.
    close: async () => {},
  };
}
