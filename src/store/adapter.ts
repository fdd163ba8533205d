/**
 * What differs between the databases we support, as capabilities and a few
 * factories. Everything else in Flywheel reads these, never a dialect name.
 */
import type { ColumnDefinitionBuilder, Dialect } from 'kysely';

export interface StoreAdapter {
  /** Short name for logs and messages ("sqlite", "postgres"). */
  readonly name: string;
  /** Kysely dialect for the connection. */
  readonly dialect: Dialect;
  /** Max bind parameters in one statement; bulk inserts are chunked under it. */
  readonly maxBindParameters: number;
  /** True when the database supports `ILIKE` natively; otherwise it is rewritten to lower() LIKE lower(). */
  readonly supportsIlike: boolean;
  /** Column type of a generated id ("integer" in SQLite, where only INTEGER PRIMARY KEY may autoincrement). */
  readonly autoIncrementIdType: 'integer' | 'bigint';
  /** Makes an integer column generate its own values. */
  autoIncrement(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Releases connections and files. */
  close(): Promise<void>;
}
