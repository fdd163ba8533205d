/**
 * Reads a monitor's reference dataset version into the columnar shape
 * driftReport takes, with DuckDB: numeric columns (integer, float, decimal)
 * as Float64Array with null → NaN, VARCHAR and BOOLEAN as (string | null)[]
 * (booleans "true"/"false", as live booleans are turned into text). The
 * numeric min/max and the category sets the data-quality checks compare live
 * inputs with are computed here on the typed arrays.
 */
import { invalidArgument } from '../../core/errors.js';
import type { DatasetVersion } from '../../data/types.js';
import { sqlIdent, sqlLiteral, type Engine } from '../../engine/index.js';
import type { ColumnSet, ColumnValues } from '../drift/index.js';

export type ColumnKind = 'numeric' | 'categorical';

export interface ReferenceData {
  /** `name@version` */
  source: string;
  rows: number;
  /** Every reference column of a kind drift compares. */
  kinds: Record<string, ColumnKind>;
  columns: ColumnSet;
  /** Finite min and max per numeric column (null when the column has no value). */
  ranges: Record<string, { min: number; max: number } | null>;
  /** Values seen per categorical column. */
  categories: Record<string, Set<string>>;
}

/** The drift kind of a DuckDB type, or null for types drift does not compare (dates, lists…). */
export function kindOfType(type: string): ColumnKind | null {
  const t = type.toUpperCase();
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(t) || t === 'FLOAT' || t === 'DOUBLE' || t.startsWith('DECIMAL')) return 'numeric';
  if (t === 'VARCHAR' || t === 'BOOLEAN') return 'categorical';
  return null;
}

/** Kinds of the comparable columns of a version's schema. */
export function referenceKinds(version: DatasetVersion): Record<string, ColumnKind> {
  const kinds: Record<string, ColumnKind> = {};
  for (const c of version.schema) {
    const k = kindOfType(c.type);
    if (k) kinds[c.name] = k;
  }
  return kinds;
}

export async function loadReference(engine: Engine, parquetPath: string, version: DatasetVersion, columns: readonly string[]): Promise<ReferenceData> {
  const source = `${version.dataset}@${version.version}`;
  const kinds = referenceKinds(version);
  for (const c of columns) {
    if (!kinds[c]) {
      const known = version.schema.find((s) => s.name === c);
      throw invalidArgument(
        known ? `column "${c}" of ${source} is ${known.type}; monitors compare numeric and text columns.` : `column "${c}" is not in the reference ${source} (it has ${version.schema.map((s) => s.name).join(', ')}).`,
        { column: c },
      );
    }
  }
  if (version.rowCount === 0) throw invalidArgument(`the reference ${source} has zero rows; a monitor needs a non-empty reference.`, { reference: source });
  const exprs = columns.map((c, i) => (kinds[c] === 'numeric' ? `coalesce(CAST(${sqlIdent(c)} AS DOUBLE), 'NaN'::DOUBLE) AS c${i}` : `CAST(${sqlIdent(c)} AS VARCHAR) AS c${i}`));
  const data = await engine.withConnection(async (conn) => {
    const reader = await conn.runAndReadAll(`SELECT ${exprs.join(', ') || '1'} FROM read_parquet(${sqlLiteral(parquetPath)})`);
    return reader.getColumnsJS();
  });
  const set: Record<string, ColumnValues> = {};
  const ranges: ReferenceData['ranges'] = {};
  const categories: ReferenceData['categories'] = {};
  const out: Record<string, ColumnKind> = {};
  let rows = 0;
  columns.forEach((c, i) => {
    const values = data[i] ?? [];
    rows = values.length;
    out[c] = kinds[c]!;
    if (kinds[c] === 'numeric') {
      const arr = Float64Array.from(values as number[], Number);
      set[c] = arr;
      let min = Infinity;
      let max = -Infinity;
      for (const v of arr) {
        if (!Number.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      ranges[c] = min <= max ? { min, max } : null;
    } else {
      const arr = (values as (string | null)[]).map((v) => (v === null || v === undefined ? null : String(v)));
      set[c] = arr;
      categories[c] = new Set(arr.filter((v): v is string => v !== null));
    }
  });
  if (columns.length > 0 && rows === 0) throw invalidArgument(`the reference ${source} has zero rows; a monitor needs a non-empty reference.`, { reference: source });
  return { source, rows: columns.length > 0 ? rows : version.rowCount, kinds: out, columns: set, ranges, categories };
}
