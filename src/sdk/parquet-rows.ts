/**
 * A version's Parquet file as plain row objects, with the value conventions
 * of the data service's `head` (and so of the REST API): JSON values, dates
 * and timestamps as text, 64-bit integers and decimals as numbers when exact,
 * wider integers as strings. `fw.data.read` uses it for reads beyond what the
 * head route returns; it loads DuckDB, so it is imported only when needed.
 */
import { sqlLiteral, type Engine } from '../engine/index.js';
import type { DataRow } from './data-extra.js';

const WIDE_INTEGER = /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT)$/;

/** The first `limit` rows of `file` (every row without a limit), in stored order. */
export async function readParquetRows(engine: Engine, file: string, limit?: number): Promise<DataRow[]> {
  return engine.withConnection(async (conn) => {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet(${sqlLiteral(file)})${limit === undefined ? '' : ` LIMIT ${limit}`}`);
    const types = reader.columnTypes().map(String);
    const names = reader.columnNames();
    return reader.getRowObjectsJson().map((r) => {
      const row: DataRow = {};
      names.forEach((name, i) => {
        const v = (r as DataRow)[name];
        const exact = typeof v === 'string' && ((WIDE_INTEGER.test(types[i]) && Number.isSafeInteger(Number(v))) || types[i].startsWith('DECIMAL'));
        row[name] = exact ? Number(v) : v;
      });
      return row;
    });
  });
}
