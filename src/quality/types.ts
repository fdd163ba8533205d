/**
 * The quality vocabulary: a Suite is a named list of checks bound to one
 * dataset; validating a dataset version against it gives a ValidationResult
 * with one CheckResult per check. Suites are written in YAML or in TypeScript
 * (`defineSuite`) with the same snake_case keys, so a suite file, a JSON
 * request body and a TS object are interchangeable.
 *
 * Null semantics (as in Great Expectations): a NULL value is "unexpected" only
 * for `not_null`. Every other column check ignores NULLs — they neither pass
 * nor fail, and percentages and `mostly` are relative to the rows actually
 * judged (the non-null ones). A custom `sql` predicate that evaluates to NULL
 * is likewise not judged, as an SQL CHECK constraint treats unknown.
 */

export type Severity = 'warn' | 'error';

interface CheckBase {
  /** Shown in reports; defaults to `type(columns)`. */
  name?: string;
  /** `error` (default) fails the validation; `warn` is reported only. */
  severity?: Severity;
}

interface MostlyCheck extends CheckBase {
  /** Fraction of judged rows that must pass, 0…1 (default 1). */
  mostly?: number;
}

/** Distribution checks compare with another version of the same dataset. */
interface ReferenceCheck extends CheckBase {
  column: string;
  /** `previous` (default: the version before the one checked) or a pinned ref, `orders@2` or `@2`. */
  reference?: string;
}

export interface ColumnExistsCheck extends CheckBase { type: 'column_exists'; column: string }
/** `dtype` is a DuckDB type name (BIGINT, DOUBLE, VARCHAR, DATE…) or a list of accepted ones; `DECIMAL` matches any precision. */
export interface ColumnTypeCheck extends CheckBase { type: 'column_type'; column: string; dtype: string | string[] }
export interface NotNullCheck extends MostlyCheck { type: 'not_null'; column: string }
/** One column, or `columns` for a compound key; rows with a NULL in any key column are ignored (SQL UNIQUE semantics). */
export interface UniqueCheck extends MostlyCheck { type: 'unique'; column?: string; columns?: string[] }
export interface InSetCheck extends MostlyCheck { type: 'in_set'; column: string; values: (string | number | boolean)[] }
/** Numbers, or strings for dates/timestamps/text; bounds are inclusive unless told otherwise. */
export interface BetweenCheck extends MostlyCheck {
  type: 'between';
  column: string;
  min?: number | string;
  max?: number | string;
  min_inclusive?: boolean;
  max_inclusive?: boolean;
}
/** RE2 syntax, unanchored (use ^…$ to match the whole value). */
export interface RegexCheck extends MostlyCheck { type: 'regex'; column: string; pattern: string }
/** String length in characters. */
export interface LengthCheck extends MostlyCheck { type: 'length'; column: string; min?: number; max?: number }
export interface RowCountCheck extends CheckBase { type: 'row_count'; min?: number; max?: number }
/** The newest value of a DATE/TIMESTAMP column is at most `max_age` (e.g. `24h`, `7d`, `1h30m`) old. */
export interface FreshnessCheck extends CheckBase { type: 'freshness'; column: string; max_age: string }
/** Every non-null value of `column` occurs in `ref_column` (default: same name) of the `ref_dataset` version. */
export interface ReferentialCheck extends MostlyCheck { type: 'referential'; column: string; ref_dataset: string; ref_column?: string }
/** A boolean SQL expression over the row's columns that every row should satisfy. */
export interface SqlCheck extends MostlyCheck { type: 'sql'; expect: string }
/** |mean − reference mean| / |reference mean| ≤ tolerance. */
export interface MeanWithinCheck extends ReferenceCheck { type: 'mean_within'; tolerance: number }
/** Same for the sample standard deviation. */
export interface StdWithinCheck extends ReferenceCheck { type: 'std_within'; tolerance: number }
/** Population stability index over 10 quantile bins of the reference, below `threshold` (default 0.2). */
export interface PsiCheck extends ReferenceCheck { type: 'psi'; threshold?: number }
/** No non-null value absent from the reference version. */
export interface NoNewCategoriesCheck extends ReferenceCheck { type: 'no_new_categories' }

export type Check =
  | ColumnExistsCheck
  | ColumnTypeCheck
  | NotNullCheck
  | UniqueCheck
  | InSetCheck
  | BetweenCheck
  | RegexCheck
  | LengthCheck
  | RowCountCheck
  | FreshnessCheck
  | ReferentialCheck
  | SqlCheck
  | MeanWithinCheck
  | StdWithinCheck
  | PsiCheck
  | NoNewCategoriesCheck;

export type CheckType = Check['type'];

export interface SuiteSpec {
  name: string;
  /** The dataset name the suite is bound to. */
  dataset: string;
  description?: string;
  checks: Check[];
}

/** A validated suite (from `defineSuite`/`parseSuite…`): every check has its name, severity and `mostly` filled in. */
export type Suite = SuiteSpec;

/** JSON-safe value of a sample row cell (BIGINT/DECIMAL as strings, dates as ISO-like strings). */
export type SampleRow = Record<string, unknown>;

export interface CheckResult {
  /** Position in the suite, from 0. */
  index: number;
  type: CheckType;
  name: string;
  columns: string[];
  severity: Severity;
  /** The threshold applied, for checks that take `mostly`; null otherwise. */
  mostly: number | null;
  success: boolean;
  /** True when the check could not apply (e.g. no previous version to compare with); it then counts as passed. */
  skipped: boolean;
  /**
   * What was measured: the passing fraction for row checks, the row count,
   * the column's type, the newest timestamp, the current mean/std, the PSI,
   * the number of new categories.
   */
  observed: number | string | boolean | null;
  /** Rows judged (non-null ones for column checks); null for checks that judge no rows. */
  evaluatedCount: number | null;
  unexpectedCount: number | null;
  /** 0…100, relative to evaluatedCount. */
  unexpectedPercent: number | null;
  /** Up to 20 failing rows (or duplicated keys / new categories with their counts). */
  sampleFailingRows: SampleRow[];
  /** A sentence for people, when the numbers alone do not say it. */
  message?: string;
  /** Extra measurements (reference values, age, thresholds). */
  details?: Record<string, unknown>;
}

export interface ValidationStatistics {
  checks: number;
  passed: number;
  failed: number;
  /** Failed checks of severity error. */
  errors: number;
  /** Failed checks of severity warn. */
  warnings: number;
}

export interface ValidationResult {
  /** Stored result id (32 hex); empty until stored. */
  id: string;
  suite: string;
  /** sha256 of the normalized suite, so a result names exactly what it ran. */
  suiteHash: string;
  dataset: string;
  /** The version checked; null for a file validated before it was committed. */
  versionId: string | null;
  time: number;
  /** False when any error-severity check failed; warnings do not change it. */
  success: boolean;
  statistics: ValidationStatistics;
  checks: CheckResult[];
}

export const SAMPLE_ROWS = 20;

/** A suite in the registry: stored by name, so uploads and validations can name it instead of carrying it. */
export interface RegisteredSuite {
  name: string;
  /** The dataset the suite is bound to. */
  dataset: string;
  /** The normalized suite, as `parseSuite` returns it. */
  definition: Suite;
  /** sha256 of the normalized suite (`suiteHash`). */
  hash: string;
  /** Epoch milliseconds. */
  createdTime: number;
  /** When the definition last changed (epoch milliseconds). */
  updatedTime: number;
}

/** What a put did: a new name, a new definition under a known name, or nothing (same definition). */
export type SuiteChange = 'created' | 'updated' | 'unchanged';

export interface PutSuiteResult extends RegisteredSuite {
  change: SuiteChange;
}
