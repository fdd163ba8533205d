/**
 * What differs between the databases we support, as capabilities and a few
 * factories. Everything else in Flywheel reads these, never a dialect name.
 */
import type { ColumnDefinitionBuilder, Dialect, Kysely } from 'kysely';

export interface StoreAdapter {
  /** Short name for logs and messages ("sqlite", "postgres"). */
  readonly name: string;
  /** Kysely dialect for the connection. */
  readonly dialect: Dialect;
  /** Max bind parameters in one statement; bulk inserts are chunked under it. */
  readonly maxBindParameters: number;
  /** True when the database supports `ILIKE` natively; otherwise it is rewritten to lower() LIKE lower(). */
  readonly supportsIlike: boolean;
  /**
   * SQLite only: key-value tables declared WITHOUT ROWID keep rows inside their
   * primary-key B-tree, so a lookup by (run_id, key) is one descent, not two.
   */
  readonly supportsWithoutRowid: boolean;
  /** Column type of a generated id ("integer" in SQLite, where only INTEGER PRIMARY KEY may autoincrement). */
  readonly autoIncrementIdType: 'integer' | 'bigint';
  /** Makes an integer column generate its own values. */
  autoIncrement(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /**
   * Refreshes planner statistics cheaply. SQLite plans joins badly without them
   * (it cannot tell a selective param filter from a broad metric range); Postgres
   * autovacuum keeps its own, so there it does nothing.
   */
  optimize(): Promise<void>;
  /**
   * The schema our tables live in, where the database has schemas. The migrator
   * must look for its bookkeeping tables there only: Kysely otherwise accepts a
   * `kysely_migration` table found in any schema of the database (another app's,
   * or another Flywheel's in a different schema) and then fails to use it.
   */
  currentSchema(db: Kysely<any>): Promise<string | undefined>;
  /** Releases connections and files. */
  close(): Promise<void>;
}
