/**
 * Runs a suite on one Parquet file and returns its ValidationResult, storing
 * nothing: `QualityService.validate` uses it for committed versions, and
 * `data add --suite` for a file before it becomes a version.
 *
 * Order of work: bind (schema, patterns, predicates, referenced datasets —
 * every problem with the suite surfaces here, before any scan), then the one
 * row-level scan, then a small query per set-level check (unique,
 * referential, distributions), then up to 20 sample rows for each failed
 * check.
 */
import { FlywheelError, invalidArgument, isFlywheelError } from '../core/errors.js';
import { sqlIdent, type DuckDBValue, type Engine } from '../engine/index.js';
import type { DatasetReader, DatasetVersion } from '../data/types.js';
import { bindSuite, describeParquet, type BoundSuite } from './bind.js';
import { compileRowScan, compileSampleQuery, parquetSource, statExpr, type ScanSlots } from './compile.js';
import { binCounts, psi, quantileEdges, relativeChange } from './distribution.js';
import { parseDuration, suiteHash } from './suite.js';
import type { Check, CheckResult, SampleRow, Suite, ValidationResult } from './types.js';
import { SAMPLE_ROWS } from './types.js';

export interface ValidationContext {
  engine: Engine;
  /** Resolves referenced datasets and reference versions. */
  reader: DatasetReader;
  /** The dataset the file belongs to; must be the suite's. Default: the suite's dataset. */
  dataset?: string;
  /** The committed version being checked; null/absent for a file not yet committed. */
  version?: DatasetVersion | null;
  /**
   * What `reference: previous` means. Default: the version before `version`
   * (none for version 1), or for an uncommitted file the dataset's latest
   * version (none when the dataset is new). Null: no previous version.
   */
  previousRef?: string | null;
  /** "Now" for freshness, epoch ms (default Date.now()). */
  now?: number;
}

type Row = Record<string, unknown>;

/** A key bitmap may always span this many values (8 MiB per DuckDB thread)… */
const MAX_BITMAP_BITS_FLOOR = 2 ** 26;
/** …or 16 per judged row, up to this many (128 MiB per thread); wider key ranges are grouped instead. */
const MAX_BITMAP_BITS = 2n ** 30n;

const toNumber = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : Number(v));

/** Rows as JSON-safe objects (BIGINT/DECIMAL as strings, temporal values as text). */
async function queryJson(engine: Engine, sql: string, params: DuckDBValue[] = []): Promise<SampleRow[]> {
  return engine.withConnection(async (conn) => {
    const reader = await conn.runAndReadAll(sql, params.length ? params : undefined);
    return reader.getRowObjectsJson() as SampleRow[];
  });
}

function columnsOf(check: Check): string[] {
  switch (check.type) {
    case 'row_count':
    case 'sql':
      return [];
    case 'unique':
      return check.columns ?? [];
    default:
      return [check.column];
  }
}

const TYPE_ALIASES: Record<string, string> = {
  INT: 'INTEGER',
  INT4: 'INTEGER',
  INT8: 'BIGINT',
  LONG: 'BIGINT',
  INT2: 'SMALLINT',
  SHORT: 'SMALLINT',
  INT1: 'TINYINT',
  FLOAT8: 'DOUBLE',
  FLOAT4: 'FLOAT',
  REAL: 'FLOAT',
  STRING: 'VARCHAR',
  TEXT: 'VARCHAR',
  BOOL: 'BOOLEAN',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  DATETIME: 'TIMESTAMP',
};

function normalizeType(t: string): string {
  const u = t.trim().toUpperCase().replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1');
  return TYPE_ALIASES[u] ?? u;
}

/** `DECIMAL` without precision accepts any DECIMAL(p,s). */
function typeMatches(actual: string, wanted: string): boolean {
  const a = normalizeType(actual);
  const w = normalizeType(wanted);
  return a === w || (w === 'DECIMAL' && a.startsWith('DECIMAL('));
}

class Run {
  readonly results: CheckResult[] = [];
  private scan: Row = {};
  private slots = new Map<number, ScanSlots>();

  constructor(
    private readonly ctx: ValidationContext,
    private readonly bound: BoundSuite,
    private readonly previousRef: string | null,
  ) {}

  private get engine(): Engine {
    return this.ctx.engine;
  }

  private base(i: number, check: Check): CheckResult {
    return {
      index: i,
      type: check.type,
      name: check.name ?? check.type,
      columns: columnsOf(check),
      severity: check.severity ?? 'error',
      mostly: 'mostly' in check && check.mostly !== undefined ? check.mostly : null,
      success: false,
      skipped: false,
      observed: null,
      evaluatedCount: null,
      unexpectedCount: null,
      unexpectedPercent: null,
      sampleFailingRows: [],
    };
  }

  /** Fills the row-judging fields; success when passing/evaluated ≥ mostly (vacuously true with nothing to judge). */
  private judged(r: CheckResult, evaluated: number, unexpected: number): CheckResult {
    const mostly = r.mostly ?? 1;
    const passing = evaluated === 0 ? 1 : (evaluated - unexpected) / evaluated;
    r.evaluatedCount = evaluated;
    r.unexpectedCount = unexpected;
    r.unexpectedPercent = evaluated === 0 ? 0 : (unexpected / evaluated) * 100;
    r.observed = passing;
    r.success = passing >= mostly;
    return r;
  }

  private num(alias: string | undefined): number | null {
    return alias === undefined ? null : toNumber(this.scan[alias]);
  }

  /** Runs a check's own query, naming the check when DuckDB refuses it. */
  private async guarded<T>(i: number, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isFlywheelError(err)) throw err;
      const check = this.bound.suite.checks[i];
      throw invalidArgument(`suite "${this.bound.suite.name}": checks[${i}] (${check.type}): ${((err as Error).message ?? String(err)).split('\n')[0]}`);
    }
  }

  async execute(): Promise<void> {
    const { suite, source, types } = this.bound;
    const scan = compileRowScan(suite, source, types);
    this.slots = scan.slots;
    [this.scan] = await this.engine.query<Row>(scan.sql, scan.params);
    for (const [i, check] of suite.checks.entries()) this.results.push(await this.guarded(i, () => this.evaluate(i, check)));
  }

  private async evaluate(i: number, check: Check): Promise<CheckResult> {
    const r = this.base(i, check);
    const { source, types } = this.bound;
    const slot = this.slots.get(i) ?? {};
    const n = this.num('n')!;
    switch (check.type) {
      case 'column_exists': {
        const type = types.get(check.column);
        r.observed = type ?? null;
        r.success = type !== undefined;
        if (!r.success) r.message = `no column "${check.column}"`;
        return r;
      }
      case 'column_type': {
        const type = types.get(check.column);
        const wanted = Array.isArray(check.dtype) ? check.dtype : [check.dtype];
        r.observed = type ?? null;
        r.success = type !== undefined && wanted.some((w) => typeMatches(type, w));
        r.details = { expected: wanted };
        if (!r.success) r.message = type === undefined ? `no column "${check.column}"` : `type is ${type}, expected ${wanted.join(' or ')}`;
        return r;
      }
      case 'not_null':
      case 'in_set':
      case 'between':
      case 'regex':
      case 'length':
      case 'sql': {
        this.judged(r, this.num(slot.evaluated)!, this.num(slot.bad)!);
        if (!r.success) {
          const q = compileSampleQuery(check, source, types);
          r.sampleFailingRows = await queryJson(this.engine, q.sql, q.params);
        }
        return r;
      }
      case 'row_count': {
        r.observed = n;
        r.success = (check.min === undefined || n >= check.min) && (check.max === undefined || n <= check.max);
        r.details = { min: check.min ?? null, max: check.max ?? null };
        return r;
      }
      case 'freshness': {
        const newest = this.num(slot.newest);
        const now = this.ctx.now ?? Date.now();
        const maxAgeMs = parseDuration(check.max_age)!;
        if (newest === null) {
          r.message = `column "${check.column}" has no values`;
          return r;
        }
        const ageMs = now - newest;
        r.observed = new Date(newest).toISOString();
        r.success = ageMs <= maxAgeMs;
        r.details = { newest: r.observed, now: new Date(now).toISOString(), ageMs, maxAgeMs };
        if (!r.success) r.message = `newest value is ${formatAge(ageMs)} old, more than ${check.max_age}`;
        return r;
      }
      case 'unique':
        return this.unique(r, check.columns ?? [], slot);
      case 'referential':
        return this.referential(r, i, check.column, check.ref_column ?? check.column, this.num(slot.evaluated)!);
      case 'mean_within':
      case 'std_within':
      case 'psi':
      case 'no_new_categories':
        return this.distribution(r, check, slot);
    }
  }

  private async unique(r: CheckResult, columns: string[], slot: ScanSlots): Promise<CheckResult> {
    const { source } = this.bound;
    if (await this.distinctByBitmap(columns, slot)) {
      this.judged(r, this.num(slot.evaluated)!, 0);
      r.details = { duplicatedKeys: 0 };
      return r;
    }
    const keys = columns.map(sqlIdent);
    const notNull = keys.map((k) => `${k} IS NOT NULL`).join(' AND ');
    const dups = `SELECT ${keys.join(', ')} FROM ${source} WHERE ${notNull} GROUP BY ${keys.join(', ')} HAVING count(*) > 1`;
    const [row] = await this.engine.query<Row>(
      `WITH g AS (SELECT count(*) AS c FROM ${source} WHERE ${notNull} GROUP BY ${keys.join(', ')})
       SELECT coalesce(sum(c), 0) AS evaluated, coalesce(sum(c) FILTER (WHERE c > 1), 0) AS bad, count(*) FILTER (WHERE c > 1) AS dup_keys FROM g`,
    );
    this.judged(r, toNumber(row.evaluated)!, toNumber(row.bad)!);
    r.details = { duplicatedKeys: toNumber(row.dup_keys) };
    if (!r.success) {
      const match = keys.map((k) => `d.${k} = t.${k}`).join(' AND ');
      r.sampleFailingRows = await queryJson(
        this.engine,
        `SELECT t.* FROM ${source} t WHERE EXISTS (SELECT 1 FROM (${dups}) d WHERE ${match}) ORDER BY ${keys.map((k) => `t.${k}`).join(', ')} LIMIT ${SAMPLE_ROWS}`,
      );
    }
    return r;
  }

  /**
   * True when every non-null key of a one-column integer `unique` is distinct,
   * decided with a bitmap over [min, max] of the keys (DuckDB's bitstring_agg:
   * about 6× faster than grouping 10M keys). False means "duplicates, or not
   * decidable this way": the caller then groups, which also counts them.
   */
  private async distinctByBitmap(columns: string[], slot: ScanSlots): Promise<boolean> {
    const min = this.scan[slot.keyMin ?? ''];
    const max = this.scan[slot.keyMax ?? ''];
    if (min === null || min === undefined || max === null || max === undefined) return false;
    const lo = BigInt(String(min));
    const hi = BigInt(String(max));
    if (hi - lo + 1n > BigInt(Math.max(MAX_BITMAP_BITS_FLOOR, 16 * this.num(slot.evaluated)!)) || hi - lo + 1n > MAX_BITMAP_BITS) return false;
    const c = sqlIdent(columns[0]);
    const [row] = await this.engine.query<Row>(`SELECT bit_count(bitstring_agg(${c}, ${lo}, ${hi})) AS distinct_keys FROM ${this.bound.source} WHERE ${c} IS NOT NULL`);
    return toNumber(row.distinct_keys) === this.num(slot.evaluated);
  }

  private async referential(r: CheckResult, i: number, column: string, refColumn: string, evaluated: number): Promise<CheckResult> {
    const { source } = this.bound;
    const target = this.bound.referential.get(i)!;
    const missing = `t.${sqlIdent(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${target.source} r WHERE r.${sqlIdent(refColumn)} = t.${sqlIdent(column)})`;
    const [row] = await this.engine.query<Row>(`SELECT count(*) AS bad FROM ${source} t WHERE ${missing}`);
    this.judged(r, evaluated, toNumber(row.bad)!);
    r.details = { reference: target.ref, referenceVersionId: target.version.id };
    if (!r.success) r.sampleFailingRows = await queryJson(this.engine, `SELECT t.* FROM ${source} t WHERE ${missing} LIMIT ${SAMPLE_ROWS}`);
    return r;
  }

  private async distribution(r: CheckResult, check: Check & { column: string; reference?: string }, slot: ScanSlots): Promise<CheckResult> {
    const wanted = check.reference ?? 'previous';
    const ref = wanted === 'previous' ? this.previousRef : wanted;
    if (ref === null) {
      r.success = true;
      r.skipped = true;
      r.message = 'no previous version to compare with';
      return r;
    }
    let refSource: string;
    let refVersion: DatasetVersion;
    try {
      refVersion = await this.ctx.reader.resolve(ref);
      refSource = parquetSource(await this.ctx.reader.parquetPath(refVersion));
    } catch (err) {
      if (isFlywheelError(err)) throw new FlywheelError(err.code, `suite "${this.bound.suite.name}": checks[${r.index}] (${check.type}): reference ${ref}: ${err.message}`);
      throw err;
    }
    r.details = { reference: ref, referenceVersionId: refVersion.id };
    const refColumns = await describeParquet(this.engine, refSource);
    if (!refColumns.some((c) => c.name === check.column)) {
      r.message = `reference ${ref} has no column "${check.column}"`;
      return r;
    }
    const { source } = this.bound;
    switch (check.type) {
      case 'mean_within':
      case 'std_within': {
        const current = this.num(slot.stat);
        const [row] = await this.engine.query<Row>(`SELECT ${statExpr(check.type, check.column)} AS s FROM ${refSource}`);
        const reference = toNumber(row.s);
        r.observed = current;
        if (current === null || reference === null) {
          r.message = `not enough values to compare (${current === null ? 'current' : 'reference'} has none)`;
          return r;
        }
        const change = relativeChange(current, reference);
        r.success = change <= check.tolerance;
        r.details = { ...r.details, referenceValue: reference, relativeChange: change, tolerance: check.tolerance };
        if (!r.success) r.message = `${check.type === 'mean_within' ? 'mean' : 'std'} moved ${(change * 100).toFixed(2)}% from ${reference}, more than ${check.tolerance * 100}%`;
        return r;
      }
      case 'psi': {
        const edges = await quantileEdges(this.engine, refSource, check.column);
        if (edges === null) {
          r.message = `reference ${ref} has no values in "${check.column}"`;
          return r;
        }
        const expected = await binCounts(this.engine, refSource, check.column, edges);
        const actual = await binCounts(this.engine, source, check.column, edges);
        const value = psi(expected, actual);
        r.observed = value;
        r.details = { ...r.details, threshold: check.threshold, edges, referenceCounts: expected, currentCounts: actual };
        r.success = value !== null && value < (check.threshold ?? 0.2);
        if (value === null) r.message = `column "${check.column}" has no values`;
        return r;
      }
      case 'no_new_categories': {
        const c = sqlIdent(check.column);
        const rows = await queryJson(
          this.engine,
          `WITH cur AS (SELECT ${c} AS value, count(*) AS count FROM ${source} WHERE ${c} IS NOT NULL GROUP BY ${c}),
                fresh AS (SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM ${refSource} r WHERE r.${c} = cur.value))
           SELECT value, count, count(*) OVER () AS categories, sum(count) OVER () AS total FROM fresh ORDER BY count DESC, value LIMIT ${SAMPLE_ROWS}`,
        );
        const categories = rows.length ? toNumber(rows[0].categories)! : 0;
        const unexpected = rows.length ? toNumber(rows[0].total)! : 0;
        const evaluated = this.num(slot.evaluated)!;
        r.observed = categories;
        r.evaluatedCount = evaluated;
        r.unexpectedCount = unexpected;
        r.unexpectedPercent = evaluated === 0 ? 0 : (unexpected / evaluated) * 100;
        r.success = categories === 0;
        r.sampleFailingRows = rows.map((x) => ({ value: x.value, count: toNumber(x.count) }));
        if (!r.success) r.message = `${categories} value${categories === 1 ? '' : 's'} not in ${ref}`;
        return r;
      }
    }
    return r;
  }
}

function formatAge(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1)}d` : h >= 1 ? `${h.toFixed(1)}h` : `${Math.round(ms / 60_000)}m`;
}

async function defaultPreviousRef(reader: DatasetReader, dataset: string, version: DatasetVersion | null | undefined): Promise<string | null> {
  if (version) return version.version > 1 ? `${version.dataset}@${version.version - 1}` : null;
  try {
    const latest = await reader.resolve(`${dataset}@latest`);
    return `${latest.dataset}@${latest.version}`;
  } catch (err) {
    if (isFlywheelError(err) && err.code === 'FW_NOT_FOUND') return null;
    throw err;
  }
}

/** Validates the Parquet file at `parquetPath` with `suite`; stores nothing. */
export async function validateParquet(parquetPath: string, suite: Suite, context: ValidationContext): Promise<ValidationResult> {
  const dataset = context.dataset ?? context.version?.dataset ?? suite.dataset;
  if (dataset !== suite.dataset) throw invalidArgument(`suite "${suite.name}" is bound to dataset ${suite.dataset}, not ${dataset}`);
  const bound = await bindSuite(context.engine, context.reader, suite, parquetPath);
  const needsPrevious = suite.checks.some((c) => 'reference' in c && (c.reference ?? 'previous') === 'previous');
  const previousRef = context.previousRef !== undefined ? context.previousRef : needsPrevious ? await defaultPreviousRef(context.reader, dataset, context.version) : null;
  const run = new Run(context, bound, previousRef);
  await run.execute();
  const checks = run.results;
  const failed = checks.filter((c) => !c.success);
  return {
    id: '',
    suite: suite.name,
    suiteHash: suiteHash(suite),
    dataset,
    versionId: context.version?.id ?? null,
    time: Date.now(),
    success: !failed.some((c) => c.severity === 'error'),
    statistics: {
      checks: checks.length,
      passed: checks.length - failed.length,
      failed: failed.length,
      errors: failed.filter((c) => c.severity === 'error').length,
      warnings: failed.filter((c) => c.severity === 'warn').length,
    },
    checks,
  };
}
