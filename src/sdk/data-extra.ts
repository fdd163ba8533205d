/**
 * `fw.data` beyond the DataApi: what a pipeline step does with datasets —
 * compare two versions (`diff`), make a version with SQL (`transform`),
 * check one with a quality suite (`validate`, or `add` with `suite` before
 * the version is committed), and read one (`read` as rows, `parquetPath` as
 * a file). Embedded mode (embedded-data.ts) calls the services in process;
 * remote mode (remote-data-extra.ts) calls the REST routes. Both give the same answers; the helpers both use live here. This
 * module loads neither DuckDB nor the quality slice until a call needs them.
 *
 * Arrow: no `readArrow`. No Arrow library (`apache-arrow`) is installed —
 * `@duckdb/node-api` does not bring one — and DuckDB's Arrow IPC export
 * lives in an extension that would need a download. Read the Parquet path
 * with your own Arrow or DuckDB reader instead.
 */
import fs from 'node:fs';
import { invalidArgument } from '../core/errors.js';
import type { DataAddOptions, DataApi } from '../data/api.js';
import type { DatasetDiff, DiffOptions } from '../data/diff.js';
import type { AddResult, HeadResult } from '../data/service.js';
import type { TransformResult } from '../data/transform.js';
import type { DatasetVersion } from '../data/types.js';
import type { Engine } from '../engine/index.js';
import type { Suite, SuiteSpec, ValidationResult } from '../quality/types.js';

/** What `transform` runs: SQL text (named `name` in messages, default "SQL") or a SQL file, and where the result goes. */
export type TransformSpec = ({ sql: string; name?: string } | { file: string }) & {
  /** The dataset that receives the result as a new version. */
  into: string;
  /** The version's message (default "transform <file name>", or "transform SQL"). */
  message?: string;
  /** Extra params recorded on the run. */
  params?: Record<string, string>;
};

/**
 * A suite: an object as `defineSuite` takes it (or returns it), the path of a
 * YAML/JSON suite file, or the name of a registered suite (`fw.suites`). A
 * string is a file when one exists at that path, else a registered name.
 */
export type SuiteInput = Suite | SuiteSpec | string;

/** `fw.data.add` options: those of the DataApi, plus a suite that checks the data before it is committed. */
export interface FlywheelAddOptions extends DataAddOptions {
  /**
   * Check the data with this suite first; an error-severity check that fails
   * refuses the add (FW_SUITE_FAILED, nothing committed). A suite object or
   * file is registered under its name (`fw.suites.put`) and the add runs with
   * the registered suite, in both modes: a server reads the suite by name.
   */
  suite?: SuiteInput;
  /** With `suite`: set rows failing row-level error checks aside as `NAME__quarantine` instead of refusing the add. */
  quarantine?: boolean;
}

/** What `fw.data.add` returns: the DataApi's result, and with a suite the validation result stored with the version (null when no version was made). */
export interface FlywheelAddResult extends AddResult {
  validation?: ValidationResult | null;
}

export interface DataValidateOptions {
  /** "Now" for freshness checks, epoch ms (default: the current time). */
  now?: number;
  /** Store the result with the version (default true). */
  save?: boolean;
}

export interface ReadOptions {
  /** At most this many rows, in stored order (default: every row). */
  limit?: number;
}

/** A row as `read` and `head` return it: JSON values (see `read`). */
export type DataRow = Record<string, unknown>;

export interface FlywheelData extends DataApi {
  /** Adds SOURCE as a new version of `name`; with `suite`, only if the suite passes (see FlywheelAddOptions). */
  add(name: string, source: string, options?: FlywheelAddOptions): Promise<FlywheelAddResult>;
  /**
   * Compares version `b` with `a` (the reference): schema changes, row count,
   * per-column statistics and PSI drift, and with `key` the rows added,
   * removed and changed (column names must not contain commas in remote mode).
   */
  diff(a: string, b: string, options?: DiffOptions): Promise<DatasetDiff>;
  /** Runs SQL reading datasets with `{{ ref('NAME@N') }}` as a tracked run and stores its result as a new version of `into`. */
  transform(spec: TransformSpec): Promise<TransformResult>;
  /** Checks the version `ref` names with a suite and (unless `save: false`) stores the result with it. A failed check is a result, not an error. */
  validate(ref: string, suite: SuiteInput, options?: DataValidateOptions): Promise<ValidationResult>;
  /**
   * The version's rows as plain objects, in stored order: numbers, strings,
   * booleans, nulls, lists and objects. Dates and timestamps are text
   * (`2024-01-02`, `2024-01-02 03:04:05`), 64-bit integers are numbers when
   * exact and strings beyond 2^53, NaN and ±Infinity the strings "NaN",
   * "Infinity", "-Infinity" — the values `head` and the REST API give.
   * Every row is held in memory: for big versions read `parquetPath` with
   * DuckDB instead. (No Arrow table: see this module's comment.)
   */
  read(ref: string, options?: ReadOptions): Promise<DataRow[]>;
  /** A local Parquet file of the version (a ref or a resolved version); remote mode downloads it once into a cache. */
  parquetPath(version: DatasetVersion | string): Promise<string>;
}

/** The most rows the head route returns (the data service's MAX_HEAD_ROWS); larger reads go through a Parquet file. */
export const HEAD_ROW_LIMIT = 10_000;

/** A suite checked and normalized here, so both modes report a bad suite the same way. (Loaded on use: the SDK's import stays light.) */
export async function toSuite(suite: SuiteInput): Promise<Suite> {
  const { loadSuiteFile, parseSuite } = await import('../quality/suite.js');
  return typeof suite === 'string' ? loadSuiteFile(suite) : parseSuite(suite, 'suite');
}

/**
 * A SuiteInput as a suite to use (checked and normalized here) or the name of
 * a registered one: file first, then registry — a string names a registered
 * suite only when no file exists at that path and it is a valid suite name.
 */
export async function suiteOrName(suite: SuiteInput): Promise<{ suite: Suite } | { name: string }> {
  if (typeof suite === 'string' && !fs.existsSync(suite)) {
    const { SUITE_NAME_PATTERN } = await import('../quality/registry.js');
    if (SUITE_NAME_PATTERN.test(suite)) return { name: suite };
  }
  return { suite: await toSuite(suite) };
}

/** Refuses `quarantine` without a suite, in both modes. */
export function splitSuiteOptions(options: FlywheelAddOptions): { suite: SuiteInput | undefined; quarantine: boolean; rest: DataAddOptions } {
  const { suite, quarantine, ...rest } = options;
  if (quarantine && suite === undefined) throw invalidArgument('quarantine needs a suite');
  return { suite, quarantine: quarantine ?? false, rest };
}

/** What `readRows` needs from either mode. */
export interface RowSource {
  resolve(ref: string): Promise<DatasetVersion>;
  head(ref: string, n?: number): Promise<HeadResult>;
  parquetPath(version: DatasetVersion): Promise<string>;
  /** The engine that reads a Parquet file when the head route cannot (more than HEAD_ROW_LIMIT rows). */
  engine(): Promise<Engine>;
}

/**
 * `read` in both modes: up to HEAD_ROW_LIMIT rows come from `head` (in
 * process, or one request without downloading the file); more are read from
 * the version's Parquet file with DuckDB. The version is resolved once, so
 * both paths read the same one.
 */
export async function readRows(source: RowSource, ref: string, options: ReadOptions = {}): Promise<DataRow[]> {
  const { limit } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw invalidArgument(`limit must be a whole number ≥ 0, got ${limit}`);
  const version = await source.resolve(ref);
  const n = Math.min(limit ?? version.rowCount, version.rowCount);
  if (n <= HEAD_ROW_LIMIT) return (await source.head(`${version.dataset}@${version.version}`, n)).rows;
  const { readParquetRows } = await import('./parquet-rows.js');
  return readParquetRows(await source.engine(), await source.parquetPath(version), n);
}
