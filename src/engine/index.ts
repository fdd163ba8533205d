/**
 * The one place DuckDB is set up. Every columnar job in Flywheel (ingest,
 * profiles, diffs, checks, drift) takes a connection from here, so thread and
 * memory limits and the spill directory are decided once.
 *
 * Only built-in readers and writers are used (CSV, Parquet, JSON): extensions
 * that would need a download are not available on our machines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

export interface EngineOptions {
  /** Worker threads for DuckDB; defaults to the machine's cores. */
  threads?: number;
  /** e.g. "4GB"; defaults to DuckDB's own (80% of RAM). */
  memoryLimit?: string;
  /** Where DuckDB spills when data is larger than memory. */
  tempDirectory?: string;
}

export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly options: Required<Pick<EngineOptions, 'threads'>> & EngineOptions,
  ) {}

  static async open(options: EngineOptions = {}): Promise<Engine> {
    const threads = options.threads ?? Number(process.env.FLYWHEEL_ENGINE_THREADS ?? os.availableParallelism());
    const tempDirectory = options.tempDirectory ?? path.join(os.tmpdir(), 'flywheel-duckdb');
    fs.mkdirSync(tempDirectory, { recursive: true });
    const config: Record<string, string> = { threads: String(threads), temp_directory: tempDirectory, autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };
    const memoryLimit = options.memoryLimit ?? process.env.FLYWHEEL_ENGINE_MEMORY;
    if (memoryLimit) config.memory_limit = memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', config);
    return new Engine(instance, { ...options, threads, tempDirectory });
  }

  /** Runs `fn` on a fresh connection and closes it afterwards. */
  async withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.instance.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  }

  /** Runs a statement with bound parameters and returns its rows as objects. */
  async query<T = Record<string, unknown>>(sql: string, params: DuckDBValue[] = []): Promise<T[]> {
    return this.withConnection(async (conn) => {
      const reader = await conn.runAndReadAll(sql, params.length ? params : undefined);
      return reader.getRowObjectsJS() as T[];
    });
  }

  /** Runs a statement for its effect. */
  async run(sql: string, params: DuckDBValue[] = []): Promise<void> {
    await this.withConnection(async (conn) => {
      await conn.run(sql, params.length ? params : undefined);
    });
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** A SQL string literal, for the places DuckDB takes no parameter (e.g. COPY … TO 'file'). */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('NUL byte in SQL literal');
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier (column and table names from user data). */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export type { DuckDBConnection, DuckDBValue };
