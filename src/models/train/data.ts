/**
 * Reads a training table from Parquet through DuckDB into columns: numeric
 * features as Float64Array (NaN = missing), categorical ones as arrays of
 * strings (null = missing), the target as numbers or strings.
 *
 * Columns come straight from DuckDB's vectors, chunk by chunk, so no row
 * objects are built for the training matrix. Rows with a null target are
 * dropped here and counted (the count is recorded in the preprocessing).
 */
import { DuckDBTypeId, type DuckDBVector } from '@duckdb/node-api';
import { invalidArgument } from '../../core/errors.js';
import { sqlIdent, sqlLiteral, type Engine } from '../../engine/index.js';
import type { SignatureType } from './types.js';

export interface SourceColumn {
  name: string;
  type: SignatureType;
}

export interface LoadedTable {
  rowCount: number;
  features: SourceColumn[];
  /** Numeric features: Float64Array; categorical: (string | null)[]. */
  columns: Record<string, Float64Array | (string | null)[]>;
  target: SourceColumn & { values: Float64Array | string[] };
  droppedNullTargets: number;
}

const INTEGER_TYPES = new Set([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
]);

function signatureType(typeId: DuckDBTypeId): SignatureType | null {
  if (typeId === DuckDBTypeId.BOOLEAN) return 'boolean';
  if (INTEGER_TYPES.has(typeId)) return 'long';
  if (typeId === DuckDBTypeId.FLOAT || typeId === DuckDBTypeId.DOUBLE || typeId === DuckDBTypeId.DECIMAL) return 'double';
  if (typeId === DuckDBTypeId.VARCHAR || typeId === DuckDBTypeId.ENUM) return 'string';
  return null;
}

export const isNumericType = (t: SignatureType) => t === 'double' || t === 'long';

/** Column names and signature types of a Parquet file (null type = not usable as a feature). */
export async function describeParquet(engine: Engine, parquetPath: string): Promise<{ name: string; type: SignatureType | null; duckType: string }[]> {
  return engine.withConnection(async (conn) => {
    const result = await conn.run(`select * from read_parquet(${sqlLiteral(parquetPath)}) limit 0`);
    const out = [];
    for (let i = 0; i < result.columnCount; i++) {
      out.push({ name: result.columnName(i), type: signatureType(result.columnTypeId(i)), duckType: result.columnType(i).toString() });
    }
    return out;
  });
}

export async function loadTable(
  engine: Engine,
  parquetPath: string,
  target: SourceColumn,
  features: SourceColumn[],
  targetAsNumber: boolean,
): Promise<LoadedTable> {
  const source = `read_parquet(${sqlLiteral(parquetPath)})`;
  const t = sqlIdent(target.name);
  const cast = (c: SourceColumn) => `cast(${sqlIdent(c.name)} as ${isNumericType(c.type) ? 'double' : 'varchar'})`;
  const select = [
    ...features.map(cast),
    `cast(${t} as ${targetAsNumber ? 'double' : 'varchar'})`,
  ].join(', ');
  return engine.withConnection(async (conn) => {
    const counted = await conn.runAndReadAll(`select count(*) filter (where ${t} is null) as dropped from ${source}`);
    const droppedNullTargets = Number(counted.getColumnsJS()[0][0]);
    // Parquet is read in file order (DuckDB preserves insertion order), so the seeded split is reproducible.
    const result = await conn.stream(`select ${select} from ${source} where ${t} is not null`);
    const numeric: Float64Array[] = [];
    const strings: (string | null)[][] = [];
    const parts: { cols: (Float64Array | (string | null)[])[]; n: number }[] = [];
    let rowCount = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const cols: (Float64Array | (string | null)[])[] = [];
      const all = [...features, { ...target, type: (targetAsNumber ? 'double' : 'string') as SignatureType }];
      for (let j = 0; j < all.length; j++) {
        const vector = chunk.getColumnVector(j);
        cols.push(isNumericType(all[j].type) ? readDoubles(vector, n) : readStrings(vector, n));
      }
      parts.push({ cols, n });
      rowCount += n;
    }
    const width = features.length + 1;
    for (let j = 0; j < width; j++) {
      const numericCol = j < features.length ? isNumericType(features[j].type) : targetAsNumber;
      if (numericCol) {
        const out = new Float64Array(rowCount);
        let at = 0;
        for (const p of parts) {
          out.set(p.cols[j] as Float64Array, at);
          at += p.n;
        }
        numeric[j] = out;
      } else {
        const out: (string | null)[] = new Array(rowCount);
        let at = 0;
        for (const p of parts) {
          const col = p.cols[j] as (string | null)[];
          for (let i = 0; i < p.n; i++) out[at + i] = col[i];
          at += p.n;
        }
        strings[j] = out;
      }
    }
    const columns: LoadedTable['columns'] = {};
    features.forEach((f, j) => {
      columns[f.name] = numeric[j] ?? strings[j];
    });
    const targetValues = targetAsNumber ? numeric[features.length] : (strings[features.length] as string[]);
    return { rowCount, features, columns, target: { ...target, values: targetValues }, droppedNullTargets };
  });
}

function readDoubles(vector: DuckDBVector, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = vector.getItem(i);
    out[i] = v === null ? Number.NaN : (v as number);
  }
  return out;
}

function readStrings(vector: DuckDBVector, n: number): (string | null)[] {
  const out: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = vector.getItem(i) as string | null;
  return out;
}

/** Resolves the requested feature list against the file's columns. */
export function chooseFeatures(
  columns: { name: string; type: SignatureType | null; duckType: string }[],
  target: string,
  requested: string[] | undefined,
): { target: SourceColumn; features: SourceColumn[] } {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const t = byName.get(target);
  if (!t) throw invalidArgument(`target column '${target}' is not in the data; columns: ${columns.map((c) => c.name).join(', ')}`);
  if (!t.type) throw invalidArgument(`target column '${target}' has type ${t.duckType}; expected a number, string or boolean`);
  const names = requested ?? columns.map((c) => c.name).filter((n) => n !== target);
  if (names.length === 0) throw invalidArgument('no feature columns: the data holds only the target');
  const seen = new Set<string>();
  const features: SourceColumn[] = [];
  const unsupported: string[] = [];
  for (const name of names) {
    if (name === target) throw invalidArgument(`feature '${name}' is the target column`);
    if (seen.has(name)) throw invalidArgument(`feature '${name}' is listed twice`);
    seen.add(name);
    const c = byName.get(name);
    if (!c) throw invalidArgument(`feature column '${name}' is not in the data; columns: ${columns.map((x) => x.name).join(', ')}`);
    if (!c.type) unsupported.push(`${name} (${c.duckType})`);
    else features.push({ name, type: c.type });
  }
  if (unsupported.length) {
    throw invalidArgument(
      `feature columns of unsupported type: ${unsupported.join(', ')}; features must be numbers, strings or booleans (name the ones to use with features)`,
    );
  }
  return { target: { name: target, type: t.type }, features };
}
