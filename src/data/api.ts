/**
 * The data interface shared by the in-process DataService and the HTTP
 * client of the SDK's remote mode, so CLI commands and pipeline steps do not
 * care which one is behind it. Remote mode uploads single files only (globs
 * and PostgreSQL sources are read where the data is: run those embedded).
 */
import type { AddOptions, AddResult, ExportResult, HeadResult, ListOptions } from './service.js';
import type { Dataset, DatasetProfile, DatasetReader, DatasetVersion } from './types.js';

/** Add options that can cross the wire (no callbacks). */
export type DataAddOptions = Omit<AddOptions, 'beforeCommit'>;

export interface DataApi extends DatasetReader {
  add(name: string, source: string, options?: DataAddOptions): Promise<AddResult>;
  ls(options?: ListOptions): Promise<Dataset[]>;
  get(name: string): Promise<Dataset>;
  log(name: string): Promise<DatasetVersion[]>;
  resolve(ref: string): Promise<DatasetVersion>;
  show(ref: string): Promise<{ version: DatasetVersion; profile: DatasetProfile }>;
  profile(ref: string): Promise<DatasetProfile>;
  head(ref: string, n?: number): Promise<HeadResult>;
  export(ref: string, out: string, options?: { format?: 'csv' | 'parquet' }): Promise<ExportResult>;
  rm(name: string): Promise<void>;
  /** A local Parquet file of the version (remote mode downloads it once into a cache). */
  parquetPath(version: DatasetVersion): Promise<string>;
}
