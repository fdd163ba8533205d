/**
 * `fw.data` in embedded mode: the DataService of this process's store, plus
 * add with a suite, diff, transform, validate and read done in process by
 * the same functions the CLI and the REST routes call (addWithSuite,
 * diffVersions, runTransform, QualityService, SuiteRegistry, the engine).
 * Loaded on the first data call, with DuckDB.
 */
import { DataService, type AddOptions, type DataServiceDeps } from '../data/service.js';
import { diffVersions, type DatasetDiff, type DiffOptions } from '../data/diff.js';
import { runTransform, type TransformResult } from '../data/transform.js';
import type { DatasetVersion } from '../data/types.js';
import type { Engine } from '../engine/index.js';
import { addWithSuite } from '../quality/add-with-suite.js';
import { SuiteRegistry } from '../quality/registry.js';
import { QualityService } from '../quality/service.js';
import type { Suite, ValidationResult } from '../quality/types.js';
import type { TrackingApi } from '../tracking/api.js';
import {
  readRows,
  splitSuiteOptions,
  suiteOrName,
  type DataRow,
  type DataValidateOptions,
  type FlywheelAddOptions,
  type FlywheelAddResult,
  type FlywheelData,
  type ReadOptions,
  type SuiteInput,
  type TransformSpec,
} from './data-extra.js';

export class EmbeddedData extends DataService implements FlywheelData {
  constructor(
    deps: DataServiceDeps,
    /** Transforms are runs: they are recorded here. */
    private readonly runs: TrackingApi,
  ) {
    super(deps);
  }

  private registry(): SuiteRegistry {
    return new SuiteRegistry({ store: this.deps.store, actor: this.deps.actor });
  }

  private quality(engine: Engine): QualityService {
    return new QualityService({ store: this.deps.store, engine, data: this, actor: this.deps.actor });
  }

  /** A suite given by name comes from the registry. */
  private async suiteOf(input: SuiteInput): Promise<Suite> {
    const given = await suiteOrName(input);
    return 'name' in given ? (await this.registry().getSuite(given.name)).definition : given.suite;
  }

  /**
   * DataService's add, and with `suite` addWithSuite (which calls back into
   * this method with its beforeCommit hook and no suite). A suite object or
   * file is registered first, as remote mode must.
   */
  override async add(name: string, source: string, options: AddOptions & FlywheelAddOptions = {}): Promise<FlywheelAddResult> {
    const { suite, quarantine, rest } = splitSuiteOptions(options);
    if (suite === undefined) return super.add(name, source, rest);
    const given = await suiteOrName(suite);
    const definition = 'name' in given ? (await this.registry().getSuite(given.name)).definition : (await this.registry().putSuite(given.suite)).definition;
    const engine = await this.engine();
    const { add, validation } = await addWithSuite({ data: this, engine, quality: this.quality(engine) }, name, source, rest, { suite: definition, quarantine });
    return { ...add, validation };
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
    const parsed = await this.suiteOf(suite);
    return this.quality(await this.engine()).validate(ref, parsed, options);
  }

  read(ref: string, options: ReadOptions = {}): Promise<DataRow[]> {
    return readRows(this, ref, options);
  }

  override async parquetPath(version: DatasetVersion | string): Promise<string> {
    return super.parquetPath(typeof version === 'string' ? await this.resolve(version) : version);
  }
}
