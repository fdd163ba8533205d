/**
 * Reads a file source with DuckDB and writes it as one zstd Parquet file, in
 * one streaming pass (`COPY (SELECT * FROM read_csv(...)) TO ...`), so files
 * larger than memory go through. CSV is read strictly: fixed dialect (comma
 * or tab, `"` quotes), a header row, strict mode; column types are sniffed by
 * DuckDB unless pinned. When that fails, a diagnostic read without sniffing
 * finds the first bad line precisely. Under onBadRows=quarantine the bad rows
 * are collected from DuckDB's rejects tables (file, line, column, error, raw
 * line) instead, and the good rows are kept.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../core/errors.js';
import { sqlIdent, sqlLiteral, type DuckDBConnection, type Engine } from '../engine/index.js';
import type { FileFormat } from './sources.js';
import { isReaderError, parseDuckdbError, problemError } from './source-errors.js';

export type BadRowsPolicy = 'fail' | 'quarantine';

export interface IngestRequest {
  files: string[];
  format: FileFormat;
  /** Parquet file to write. */
  out: string;
  /** A private temp folder for intermediate files. */
  workDir: string;
  onBadRows: BadRowsPolicy;
  /** Column types to use instead of sniffed ones (CSV/TSV), e.g. {zip: 'VARCHAR'}. */
  columnTypes?: Record<string, string>;
  /** Every column with its type, no sniffing (PostgreSQL exports); also reads "" as an empty string, not NULL. */
  exactColumns?: Record<string, string>;
}

export interface BadRows {
  /** Parquet file with columns file, line, column, error_type, error, raw_line. */
  parquetPath: string;
  count: number;
}

export interface IngestOutcome {
  badRows: BadRows | null;
}

/** COPY options of every Parquet file the data slice writes. */
export const PARQUET_COPY_OPTIONS = '(FORMAT parquet, COMPRESSION zstd)';

function structList(entries: Record<string, string>): string {
  return `{${Object.entries(entries)
    .map(([k, v]) => `${sqlLiteral(k)}: ${sqlLiteral(v)}`)
    .join(', ')}}`;
}

function fileList(files: string[]): string {
  return `[${files.map(sqlLiteral).join(', ')}]`;
}

interface CsvReadOptions {
  /** Pinned types of some columns (sniffing the rest). */
  types?: Record<string, string>;
  /** All columns with types: no sniffing at all. */
  columns?: Record<string, string>;
  rejects?: { table: string; scan: string };
  /** Treat "" as an empty string rather than NULL. */
  quotedEmptyIsString?: boolean;
}

export function csvReader(files: string[], format: 'csv' | 'tsv', o: CsvReadOptions = {}): string {
  const args = [
    fileList(files),
    `delim=${format === 'tsv' ? "'\t'" : "','"}`,
    `quote='"'`,
    `escape='"'`,
    'header=true',
    // The sniffer may otherwise decide the first lines are a preamble and drop them
    // silently (seen: a header of 2 fields over a ragged row of 3 gave 0 rows).
    'skip=0',
    'strict_mode=true',
  ];
  if (o.columns) args.push('auto_detect=false', `columns=${structList(o.columns)}`);
  if (o.types && Object.keys(o.types).length > 0) args.push(`types=${structList(o.types)}`);
  if (o.quotedEmptyIsString) args.push('allow_quoted_nulls=false');
  if (o.rejects) args.push('store_rejects=true', `rejects_table=${sqlLiteral(o.rejects.table)}`, `rejects_scan=${sqlLiteral(o.rejects.scan)}`);
  return `read_csv(${args.join(', ')})`;
}

function rejectsNames(): { table: string; scan: string } {
  const id = randomBytes(6).toString('hex');
  return { table: `fw_rejects_${id}`, scan: `fw_rejects_scan_${id}` };
}

async function dropRejects(conn: DuckDBConnection, r: { table: string; scan: string }): Promise<void> {
  await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(r.table)}`).catch(() => undefined);
  await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(r.scan)}`).catch(() => undefined);
}

async function copyToParquet(conn: DuckDBConnection, select: string, out: string): Promise<void> {
  await conn.run(`COPY (${select}) TO ${sqlLiteral(out)} ${PARQUET_COPY_OPTIONS}`);
}

/** Splits one CSV record (the header) on `delim`, honouring `"` quotes. */
export function splitCsvRecord(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur.replace(/\r$/, ''));
  return out;
}

/** Header names as DuckDB would make them: blanks become columnN, repeats get a _N suffix. */
export function headerNames(fields: string[]): string[] {
  const seen = new Map<string, number>();
  return fields.map((f, i) => {
    let name = f.trim() === '' ? `column${i}` : f;
    const n = seen.get(name);
    if (n !== undefined) {
      seen.set(name, n + 1);
      name = `${name}_${n + 1}`;
    } else seen.set(name, 0);
    return name;
  });
}

/** The first line of a file, read raw by DuckDB (so compressed files work too). */
async function firstLine(conn: DuckDBConnection, file: string): Promise<string> {
  const reader = await conn.runAndReadAll(
    `SELECT line FROM read_csv(${sqlLiteral(file)}, auto_detect=false, header=false, delim=chr(1), quote='', escape='', columns={'line': 'VARCHAR'}, strict_mode=false, ignore_errors=true) LIMIT 1`,
  );
  const rows = reader.getRowObjectsJS() as { line: string | null }[];
  return rows[0]?.line ?? '';
}

/** Reads every column as text without sniffing: structural problems (ragged rows, quotes, encoding) show with exact line numbers. */
async function plainColumns(conn: DuckDBConnection, files: string[], format: 'csv' | 'tsv'): Promise<Record<string, string>> {
  const header = splitCsvRecord(await firstLine(conn, files[0]), format === 'tsv' ? '\t' : ',');
  return Object.fromEntries(headerNames(header).map((n) => [n, 'VARCHAR']));
}

/** Writes the rejects of one or more scans as the bad-rows Parquet; returns how many there are. */
async function writeBadRows(conn: DuckDBConnection, scans: { table: string; scan: string; lines: boolean }[], out: string): Promise<number> {
  const parts = scans.map(
    (r) => `SELECT s.file_path AS file, ${r.lines ? 'e.line::BIGINT' : 'NULL::BIGINT'} AS line, e.column_name AS "column",
              e.error_type::VARCHAR AS error_type, e.error_message AS error, e.csv_line AS raw_line
            FROM ${sqlIdent(r.table)} e JOIN ${sqlIdent(r.scan)} s ON e.scan_id = s.scan_id AND e.file_id = s.file_id`,
  );
  const select = `SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY file, line NULLS LAST, "column"`;
  await copyToParquet(conn, select, out);
  const reader = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlLiteral(out)})`);
  return (reader.getRowObjectsJS()[0] as { n: number }).n;
}

async function ingestCsv(conn: DuckDBConnection, req: IngestRequest, format: 'csv' | 'tsv'): Promise<IngestOutcome> {
  const quarantine = req.onBadRows === 'quarantine';
  const base: CsvReadOptions = req.exactColumns
    ? { columns: req.exactColumns, quotedEmptyIsString: true }
    : { types: req.columnTypes };
  const rejects = quarantine ? rejectsNames() : undefined;
  try {
    try {
      await copyToParquet(conn, `SELECT * FROM ${csvReader(req.files, format, { ...base, rejects })}`, req.out);
    } catch (err) {
      if (!isReaderError(err)) throw err;
      const problem = parseDuckdbError(err.message);
      // A value that does not fit its column's type names its line exactly; anything
      // else (a failed sniff, a ragged row, a bad quote) is found precisely by a plain read.
      if (problem.kind === 'conversion' || req.exactColumns) throw problemError(problem, { hint: !quarantine });
      return await diagnoseCsv(conn, req, format, base);
    }
    if (!rejects) return { badRows: null };
    const badPath = path.join(req.workDir, 'bad-rows.parquet');
    const count = await writeBadRows(conn, [{ ...rejects, lines: true }], badPath);
    return { badRows: count > 0 ? { parquetPath: badPath, count } : null };
  } finally {
    if (rejects) await dropRejects(conn, rejects);
  }
}

/**
 * The slow path, taken only when the sniffing read fails: every column as
 * text, no sniffing. Under `fail` the first bad line is reported; under
 * `quarantine` the bad lines are set aside, the good ones rewritten as a clean
 * CSV, and that file is read (and typed) the normal way.
 */
async function diagnoseCsv(conn: DuckDBConnection, req: IngestRequest, format: 'csv' | 'tsv', base: CsvReadOptions): Promise<IngestOutcome> {
  let columns: Record<string, string>;
  try {
    columns = await plainColumns(conn, req.files, format);
  } catch (err) {
    if (isReaderError(err)) throw problemError({ ...parseDuckdbError(err.message), file: req.files[0], line: 1 });
    throw err;
  }
  if (req.onBadRows === 'fail') {
    try {
      await conn.run(`SELECT count(*) FROM ${csvReader(req.files, format, { columns })}`);
    } catch (err) {
      if (isReaderError(err)) throw problemError(parseDuckdbError(err.message));
      throw err;
    }
    // Structurally sound, yet the sniffing read failed: report what DuckDB said.
    try {
      await conn.run(`SELECT count(*) FROM ${csvReader(req.files, format, base)}`);
    } catch (err) {
      if (isReaderError(err)) throw problemError({ ...parseDuckdbError(err.message), file: req.files.length === 1 ? req.files[0] : undefined });
      throw err;
    }
    throw invalidArgument(`Could not read ${req.files.join(', ')} as ${format.toUpperCase()}`);
  }
  const first = rejectsNames();
  const second = rejectsNames();
  try {
    const clean = path.join(req.workDir, `clean.${format}`);
    await conn.run(
      `COPY (SELECT * FROM ${csvReader(req.files, format, { columns, rejects: first })}) TO ${sqlLiteral(clean)} (FORMAT csv, HEADER true, DELIMITER ${format === 'tsv' ? "'\t'" : "','"})`,
    );
    try {
      await copyToParquet(conn, `SELECT * FROM ${csvReader([clean], format, { ...base, rejects: second })}`, req.out);
    } catch (err) {
      if (isReaderError(err)) throw problemError({ ...parseDuckdbError(err.message), file: req.files.length === 1 ? req.files[0] : undefined, line: undefined }, { hint: false });
      throw err;
    }
    // Rows rejected when reading the rewritten file belong to the source, but its line numbers do not: they carry none.
    await conn.run(`UPDATE ${sqlIdent(second.scan)} SET file_path = ${sqlLiteral(req.files.length === 1 ? req.files[0] : '(several files)')}`);
    const badPath = path.join(req.workDir, 'bad-rows.parquet');
    const count = await writeBadRows(conn, [{ ...first, lines: true }, { ...second, lines: false }], badPath);
    return { badRows: count > 0 ? { parquetPath: badPath, count } : null };
  } finally {
    await dropRejects(conn, first);
    await dropRejects(conn, second);
  }
}

async function ingestParquet(conn: DuckDBConnection, req: IngestRequest): Promise<IngestOutcome> {
  try {
    await copyToParquet(conn, `SELECT * FROM read_parquet(${fileList(req.files)})`, req.out);
  } catch (err) {
    if (!isReaderError(err)) throw err;
    const p = parseDuckdbError(err.message);
    throw problemError(p.kind === 'parquet' ? p : { ...p, file: p.file ?? (req.files.length === 1 ? req.files[0] : undefined) }, { hint: false });
  }
  return { badRows: null };
}

async function ingestJson(conn: DuckDBConnection, req: IngestRequest, format: 'json' | 'ndjson'): Promise<IngestOutcome> {
  const reader = `read_json(${fileList(req.files)}, format=${format === 'ndjson' ? "'newline_delimited'" : "'auto'"})`;
  try {
    await copyToParquet(conn, `SELECT * FROM ${reader}`, req.out);
  } catch (err) {
    if (!isReaderError(err)) throw err;
    const p = parseDuckdbError(err.message);
    throw problemError({ ...p, kind: p.kind === 'json' ? 'json' : 'other', file: p.file ?? (req.files.length === 1 ? req.files[0] : undefined) }, { hint: false });
  }
  // DuckDB falls back to its JSON type when a key holds values of different kinds.
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlLiteral(req.out)})`);
  const mixed = (described.getRowObjectsJS() as { column_name: string; column_type: string }[]).find((c) => c.column_type === 'JSON');
  if (mixed) {
    const where = await firstMinorityJsonLine(conn, req, format, mixed.column_name);
    throw invalidArgument(
      `${where.file}${where.line ? ` line ${where.line}` : ''}, column "${mixed.column_name}": values of different JSON types (${where.types}); every value of a column must have one type`,
      { file: where.file, ...(where.line ? { line: where.line } : {}), column: mixed.column_name },
    );
  }
  return { badRows: null };
}

/** For a mixed-type JSON key: which types occur, and (NDJSON) the first line whose type is not the most common one. */
async function firstMinorityJsonLine(
  conn: DuckDBConnection,
  req: IngestRequest,
  format: 'json' | 'ndjson',
  column: string,
): Promise<{ file: string; line: number | null; types: string }> {
  const file = req.files[0];
  const path$ = sqlLiteral(`$.${JSON.stringify(column)}`);
  const objects =
    format === 'ndjson'
      ? `SELECT row_number() OVER () AS line, json_type(json, ${path$}) AS t FROM read_ndjson_objects(${sqlLiteral(file)})`
      : `SELECT NULL::BIGINT AS line, json_type(json, ${path$}) AS t FROM read_json_objects(${sqlLiteral(file)}, format='auto')`;
  const reader = await conn.runAndReadAll(
    `WITH o AS (${objects}), c AS (SELECT t, count(*) AS n FROM o WHERE t IS NOT NULL AND t <> 'NULL' GROUP BY t ORDER BY n DESC, t)
     SELECT (SELECT string_agg(t || ' in ' || n || ' row(s)', ', ') FROM c) AS types,
            (SELECT min(line) FROM o WHERE t IS NOT NULL AND t <> 'NULL' AND t <> (SELECT t FROM c LIMIT 1)) AS line`,
  );
  const row = reader.getRowObjectsJS()[0] as { types: string | null; line: bigint | number | null };
  return { file, line: row.line === null ? null : Number(row.line), types: (row.types ?? '').toLowerCase() };
}

/** Reads the source files into `req.out` (zstd Parquet). Throws FW_INVALID_ARGUMENT naming the file, line and column of bad input. */
export async function ingestFiles(engine: Engine, req: IngestRequest): Promise<IngestOutcome> {
  return engine.withConnection(async (conn) => {
    switch (req.format) {
      case 'csv':
      case 'tsv':
        return ingestCsv(conn, req, req.format);
      case 'parquet':
        return ingestParquet(conn, req);
      case 'json':
      case 'ndjson':
        // JSON readers keep no rejects table: under either policy a bad document fails the add, naming its line.
        return ingestJson(conn, req, req.format);
    }
  });
}
