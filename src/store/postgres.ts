/**
 * PostgreSQL adapter (scaled mode): a pg Pool. int8 columns are read as JS
 * numbers (epoch milliseconds and ids stay well inside 2^53).
 */
import pg from 'pg';
import { PostgresDialect, sql } from 'kysely';
import type { StoreAdapter } from './adapter.js';

const INT8_OID = 20;

export interface PostgresOptions {
  /** Sets search_path on every connection (used by tests to isolate schemas). */
  schema?: string;
  maxConnections?: number;
}

export function createPostgresAdapter(url: string, options: PostgresOptions = {}): StoreAdapter & { readonly pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    options: options.schema ? `-c search_path=${options.schema}` : undefined,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  return {
    name: 'postgres',
    pool,
    dialect: new PostgresDialect({ pool }),
    maxBindParameters: 65_000,
    supportsIlike: true,
    supportsWithoutRowid: false,
    autoIncrementIdType: 'bigint',
    autoIncrement: (col) => col.generatedByDefaultAsIdentity(),
    optimize: async () => {},
    currentSchema: async (db) => {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
      return rows[0]?.schema;
    },
    // The driver's destroy() ends the pool.
    close: async () => {},
  };
}
