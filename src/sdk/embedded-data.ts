/**
 * `fw.data` in embedded mode: the DataService of this process's store, plus
 * diff, transform, validate and read done in process by the same functions
 * the CLI and the REST routes call (diffVersions, runTransform,
 * QualityService, the engine). Loaded on the first data call, with DuckDB.
 */
import { DataService, type DataServiceDeps } from '../data/service.js';
import { diffVersions, type DatasetDiff, type DiffOptions } from '../data/diff.js';
import { runTransform, type TransformResult } from '../data/transform.js';
import type { DatasetVersion } from '../data/types.js';
import { QualityService } from '../quality/service.js';
import type { ValidationResult } from '../quality/types.js';
import type { TrackingApi } from '../tracking/api.js';
import { readRows, toSuite, type DataRow, type DataValidateOptions, type FlywheelData, type ReadOptions, type SuiteInput, type TransformSpec } from './data-extra.js';

export class EmbeddedData extends DataService implements FlywheelData {
  constructor(
    deps: DataServiceDeps,
    /** Transforms are runs: they are recorded here. */
    private readonly runs: TrackingApi,
  ) {
    super(deps);
  }

  diff(a: string, b: string, options: DiffOptions = {}): Promise<DatasetDiff> {
    return this.engine().then((engine) => diffVersions(this, engine, a, b, options));
  }

  async transform(spec: TransformSpec): Promise<TransformResult> {
    const source = 'file' in spec ? { file: spec.file } : { sql: spec.sql, name: spec.name };
    return runTransform({ data: this, tracking: this.runs, engine: await this.engine(), store: this.deps.store }, source, {
      into: spec.into,
      message: spec.message,
      params: spec.params,
    });
  }

  async validate(ref: string, suite: SuiteInput, options: DataValidateOptions = {}): Promise<ValidationResult> {
    const parsed = await toSuite(suite);
    const quality = new QualityService({ store: this.deps.store, engine: await this.engine(), data: this, actor: this.deps.actor });
    return quality.validate(ref, parsed, options);
  }

  read(ref: string, options: ReadOptions = {}): Promise<DataRow[]> {
    return readRows(this, ref, options);
  }

  override async parquetPath(version: DatasetVersion | string): Promise<string> {
    return super.parquetPath(typeof version === 'string' ? await this.resolve(version) : version);
  }
}
