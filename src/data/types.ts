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
