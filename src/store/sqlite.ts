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
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and
 * preparing a 1000-row insert costs as much as running it. This wrapper keeps the
 * most recently used statements by SQL text.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = db.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  } as SqliteDialectConfig['database'];
}

/**
 * Tables whose join order depends on statistics: search joins runs with params,
 * tags and latest metrics, and without statistics SQLite cannot tell a selective
 * param filter from a broad metric range (seen: 400 ms instead of 25 ms over
 * 100,000 runs). The metric history is left out: it is only read by run and key.
 */
const PLANNED_TABLES = ['experiments', 'experiment_tags', 'runs', 'params', 'tags', 'latest_metrics'];

/** Runs a full ANALYZE on each planned table that was never analyzed or whose row count moved by 2× since. */
export function analyzeGrownTables(raw: BetterSqlite3.Database): void {
  const hasStats = raw.prepare("select 1 from sqlite_master where name = 'sqlite_stat1'").get() !== undefined;
  for (const table of PLANNED_TABLES) {
    const exists = raw.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(table);
    if (!exists) continue;
    const rows = (raw.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n;
    const stat = hasStats ? (raw.prepare('select stat from sqlite_stat1 where tbl = ? limit 1').get(table) as { stat: string } | undefined) : undefined;
    const analyzedRows = stat ? Number(stat.stat.split(' ')[0]) : -1;
    const grown = analyzedRows < 0 || rows > 2 * analyzedRows + 100 || rows < analyzedRows / 2;
    if (grown) raw.exec(`analyze "${table}"`);
  }
}

export function createSqliteAdapter(file: string): StoreAdapter & { readonly raw: BetterSqlite3.Database } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  raw.pragma('journal_mode = WAL');
  // WAL makes NORMAL durable against application crashes; only a power cut may lose the last commits.
  raw.pragma('synchronous = NORMAL');
  // Checkpoint every ~40 MiB of WAL instead of ~4 MiB: pages rewritten between checkpoints are copied back once,
  // and each checkpoint's fsync is paid 10× less often (a no-op pipeline step: 1.18 → 1.04 ms, bench/pipelines.ts).
  raw.pragma('wal_autocheckpoint = 10000');
  // A 64 MiB page cache keeps the hot index pages of metrics and search tables in memory.
  raw.pragma('cache_size = -65536');
  raw.pragma('temp_store = MEMORY');
  raw.pragma('foreign_keys = ON');
  // MLflow's LIKE is case-sensitive; SQLite's is not unless told.
  raw.pragma('case_sensitive_like = ON');
  return {
    name: 'sqlite',
    raw,
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(raw) }),
    maxBindParameters: 32_000,
    supportsIlike: false,
    supportsWithoutRowid: true,
    autoIncrementIdType: 'integer',
    autoIncrement: (col) => col.autoIncrement(),
    optimize: async () => analyzeGrownTables(raw),
    currentSchema: async () => undefined,
    // The driver's destroy() closes the database handle.
    close: async () => {},
  };
}
