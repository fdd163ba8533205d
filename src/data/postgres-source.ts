/**
 * A PostgreSQL query as a data source, without a DuckDB extension: the query's
 * column types are read from a `LIMIT 0` run, then its rows are streamed with
 * `COPY (query) TO STDOUT (FORMAT csv, HEADER)` straight into a temp CSV file
 * (the pg driver hands over COPY chunks; no JavaScript touches single rows),
 * and DuckDB reads that file with the exact column types, no sniffing.
 * PostgreSQL's CSV writes NULL unquoted and the empty string as "", so the
 * two stay apart.
 */
import fs from 'node:fs';
import pg from 'pg';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { redactUrl } from '../core/config.js';
import { headerNames } from './ingest.js';

/** DuckDB types for PostgreSQL built-in type OIDs; anything else is read as text. */
const PG_TYPES: Record<number, string> = {
  16: 'BOOLEAN',
  20: 'BIGINT',
  21: 'SMALLINT',
  23: 'INTEGER',
  26: 'BIGINT', // oid
  700: 'FLOAT',
  701: 'DOUBLE',
  // numeric without a declared scale has no fixed DuckDB equivalent; DOUBLE keeps it usable.
  1700: 'DOUBLE',
  1082: 'DATE',
  1083: 'TIME',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMPTZ',
  1186: 'INTERVAL',
  2950: 'UUID',
};

export function duckdbTypeForPgOid(oid: number): string {
  return PG_TYPES[oid] ?? 'VARCHAR';
}

interface CopyConnection {
  query(text: string): void;
  stream: NodeJS.ReadableStream;
}

/** A pg "submittable" that writes the CopyData messages of a COPY … TO STDOUT to a file, pausing the socket when the file lags. */
class CopyToFile {
  private failed = false;

  constructor(
    private readonly text: string,
    private readonly out: fs.WriteStream,
    private readonly done: (err?: Error) => void,
  ) {}

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  handleCopyData(msg: { chunk: Buffer }, connection: CopyConnection): void {
    if (!this.out.write(msg.chunk)) {
      connection.stream.pause();
      this.out.once('drain', () => connection.stream.resume());
    }
  }

  handleError(err: Error): void {
    this.failed = true;
    this.out.destroy();
    this.done(err);
  }

  handleReadyForQuery(): void {
    if (this.failed) return;
    this.out.end(() => this.done());
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyInResponse(): void {}
}

function cleanQuery(query: string): string {
  return query.trim().replace(/;+\s*$/, '');
}

export interface PostgresExport {
  /** Column name → DuckDB type, in query order. */
  columns: Record<string, string>;
}

/** Runs `query` on the database at `url` and writes its result to `csvPath` (with a header). */
export async function exportPostgresQuery(url: string, query: string, csvPath: string): Promise<PostgresExport> {
  const q = cleanQuery(query);
  if (q === '') throw invalidArgument('The PostgreSQL query is empty');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new FlywheelError('FW_INVALID_ARGUMENT', `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  try {
    let fields: { name: string; dataTypeID: number }[];
    try {
      fields = (await client.query(`SELECT * FROM (${q}) AS fw_source LIMIT 0`)).fields;
    } catch (err) {
      throw invalidArgument(`PostgreSQL rejected the query: ${(err as Error).message}`);
    }
    if (fields.length === 0) throw invalidArgument('The PostgreSQL query returns no columns');
    const names = headerNames(fields.map((f) => f.name));
    const columns = Object.fromEntries(names.map((n, i) => [n, duckdbTypeForPgOid(fields[i].dataTypeID)]));
    const out = fs.createWriteStream(csvPath);
    await new Promise<void>((resolve, reject) => {
      const copy = new CopyToFile(`COPY (${q}) TO STDOUT WITH (FORMAT csv, HEADER true)`, out, (err) => (err ? reject(err) : resolve()));
      client.query(copy as unknown as pg.QueryConfig);
    }).catch((err: Error) => {
      throw invalidArgument(`PostgreSQL query failed: ${err.message}`);
    });
    return { columns };
  } finally {
    await client.end().catch(() => undefined);
  }
}
