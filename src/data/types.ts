/**
 * The data vocabulary: datasets and their immutable versions. This file is
 * the contract between the data slice and its users (quality, transforms,
 * diff, lineage, pipelines): they resolve refs and read Parquet paths through
 * `DatasetReader`, and commit new versions through `DatasetWriter`.
 */

export interface ColumnSchema {
  name: string;
  /** DuckDB logical type name, e.g. BIGINT, DOUBLE, VARCHAR, TIMESTAMP, DATE, BOOLEAN. */
  type: string;
  nullable: boolean;
}

export interface DatasetVersion {
  /** Stable id of the version (32 hex chars). */
  id: string;
  dataset: string;
  /** 1, 2, 3… per dataset. */
  version: number;
  /** sha256 of the stored Parquet content; identical content is stored once. */
  contentHash: string;
  schema: ColumnSchema[];
  rowCount: number;
  byteSize: number;
  parentVersionId: string | null;
  message: string;
  author: string;
  createdTime: number;
  tags: Record<string, string>;
  /** Artifact-store key of the Parquet blob. */
  storageKey: string;
  /** The run that produced the version, when one did (transforms, pipeline steps). */
  runId: string | null;
}

export interface Dataset {
  name: string;
  description: string;
  createdTime: number;
  lifecycleStage: 'active' | 'deleted';
  latestVersion: number | null;
}

export interface DatasetReader {
  /** Resolves `NAME`, `NAME@3`, `NAME@latest` or `NAME@<hash prefix>`; FW_NOT_FOUND when absent. */
  resolve(ref: string): Promise<DatasetVersion>;
  /** A local file path of the version's Parquet data that DuckDB can read. */
  parquetPath(version: DatasetVersion): Promise<string>;
}

export interface CommitParquetInput {
  dataset: string;
  /** A finished Parquet file (zstd) to store as the new version's content. */
  parquetFile: string;
  message?: string;
  author?: string;
  tags?: Record<string, string>;
  /** The run that produced it; its `produces` lineage edge is recorded. */
  runId?: string;
  /** When true and the content equals the latest version's, no version is made and the latest is returned. */
  skipUnchanged?: boolean;
}

export interface DatasetWriter {
  commitParquet(input: CommitParquetInput): Promise<DatasetVersion>;
}

// ------------------------------------------------------------------ profiles
// (Added by the data slice; the types above are unchanged.)

/** Personal-data kinds a column can be flagged with. */
export type PiiKind = 'email' | 'phone' | 'payment_card' | 'ip_address';

/** How a column is profiled, from its DuckDB type. */
export type ColumnKind = 'numeric' | 'text' | 'temporal' | 'boolean' | 'other';

export interface HistogramBin {
  /** Inclusive lower edge. */
  lower: number;
  /** Upper edge: exclusive, except for the last bin, which includes the maximum. */
  upper: number;
  count: number;
}

export interface ColumnProfile {
  name: string;
  type: string;
  kind: ColumnKind;
  /** Non-null values (pandas' `count`). */
  count: number;
  nulls: number;
  /** Distinct non-null values: exact below `DatasetProfile.exactDistinctBound` rows, else approximate. */
  distinct: number;
  distinctApproximate: boolean;
  /** Numbers for numeric columns, ISO text for temporal ones, strings for text; null when all values are null. */
  min: number | string | boolean | null;
  max: number | string | boolean | null;
  /** Numeric columns only. */
  mean: number | null;
  /** Sample standard deviation (n − 1 denominator, as pandas); numeric columns only. */
  std: number | null;
  /** Linear-interpolation quantiles (numpy's default) of all values, or of the sample when the profile is `sampled`; numeric columns only. */
  quantiles: { p1: number; p5: number; p25: number; p50: number; p75: number; p95: number; p99: number } | null;
  /** 20 equal-width bins from min to max; numeric columns only. Counts are within the sample when the profile is `sampled`. */
  histogram: HistogramBin[] | null;
  /** Up to 20 most frequent values, most frequent first (ties by value); text and boolean columns. Counts are within the sample when the profile is `sampled`. */
  topValues: { value: string; count: number }[] | null;
  /** Character length statistics; text columns only. */
  length: { min: number; mean: number; max: number } | null;
  /** Earliest and latest value as ISO text; temporal columns only. */
  dateRange: { min: string; max: string } | null;
  /** Kinds of personal data most sampled values look like. */
  pii: PiiKind[];
}

export interface DatasetProfile {
  rowCount: number;
  columns: ColumnProfile[];
  /** Row count under which `distinct` is exact. */
  exactDistinctBound: number;
  /** Non-null values per column sampled for the PII checks. */
  piiSampleSize: number;
  /**
   * True when quantiles, histograms and top values were computed on a sample
   * of the rows (datasets at or above `exactDistinctBound` rows); their counts
   * are then counts within the sample. Absent in profiles made before sampling.
   */
  sampled?: boolean;
  /** Rows in that sample, when sampled. */
  sampleRows?: number;
}
