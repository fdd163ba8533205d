/**
 * `fw.data` in remote mode: RemoteData (datasets over /api/v1/datasets) plus
 * add with a suite (the suite registered first with `PUT /suites/:name`
 * unless a registered name was given, then the file uploaded to `POST
 * /datasets/:name/versions/validated?suite=NAME`), diff (`GET
 * /datasets/diff`), transform (`POST /datasets/transform`; a SQL file is
 * read here and sent as text), validate (`POST /datasets/:ref/validate`; a
 * suite file is read and checked here, a registered name sent as is) and read
 * (the head route for up to 10,000 rows; beyond that the version's Parquet
 * file is downloaded once into the cache and read with a DuckDB engine
 * opened in this process on first need, closed by `close`).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, notFound } from '../core/errors.js';
import type { DatasetDiff, DiffOptions } from '../data/diff.js';
import type { TransformResult } from '../data/transform.js';
import type { DatasetVersion } from '../data/types.js';
import type { Engine } from '../engine/index.js';
import type { ValidationResult } from '../quality/types.js';
import { ApiClient } from './api-client.js';
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
import { RemoteData } from './remote-data.js';
import { RemoteSuites } from './suites.js';

const seg = encodeURIComponent;

async function readSqlFile(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`SQL file ${file} does not exist`);
    throw invalidArgument(`Cannot read SQL file ${file}: ${(err as Error).message}`);
  }
}

export class RemoteFlywheelData extends RemoteData implements FlywheelData {
  private readonly api: ApiClient;
  private enginePromise: Promise<Engine> | undefined;

  private readonly suites: RemoteSuites;

  constructor(baseUrl: string, options: { cacheDir?: string; fetchImpl?: typeof fetch } = {}) {
    super(baseUrl, options.cacheDir, options.fetchImpl);
    this.api = new ApiClient(baseUrl, options.fetchImpl);
    this.suites = new RemoteSuites(baseUrl, options.fetchImpl);
  }

  override async add(name: string, source: string, options: FlywheelAddOptions = {}): Promise<FlywheelAddResult> {
    const { suite, quarantine, rest } = splitSuiteOptions(options);
    if (suite === undefined) return super.add(name, source, rest);
    // The upload's body is the data, so the server reads the suite by name: register an object or file first.
    const given = await suiteOrName(suite);
    const suiteName = 'name' in given ? given.name : (await this.suites.put(given.suite)).name;
    return this.upload<FlywheelAddResult>(name, source, rest, '/validated', { suite: suiteName, quarantine });
  }

  diff(a: string, b: string, options: DiffOptions = {}): Promise<DatasetDiff> {
    return this.api.json('GET', '/datasets/diff', { query: { a, b, key: options.key?.join(','), sample: options.sample } });
  }

  async transform(spec: TransformSpec): Promise<TransformResult> {
    // A file is named by its path in messages and the run's params, as in embedded mode.
    const body =
      'file' in spec
        ? { sql: await readSqlFile(spec.file), name: spec.file, message: spec.message ?? `transform ${path.basename(spec.file)}` }
        : { sql: spec.sql, name: spec.name, message: spec.message };
    return this.api.json('POST', '/datasets/transform', { body: { ...body, into: spec.into, params: spec.params } });
  }

  async validate(ref: string, suite: SuiteInput, options: DataValidateOptions = {}): Promise<ValidationResult> {
    const given = await suiteOrName(suite);
    const body = { suite: 'name' in given ? given.name : given.suite, now: options.now === undefined ? undefined : new Date(options.now).toISOString(), save: options.save };
    return this.api.json('POST', `/datasets/${seg(ref)}/validate`, { body });
  }

  read(ref: string, options: ReadOptions = {}): Promise<DataRow[]> {
    return readRows({ resolve: (r) => this.resolve(r), head: (r, n) => this.head(r, n), parquetPath: (v) => this.parquetPath(v), engine: () => this.engine() }, ref, options);
  }

  override async parquetPath(version: DatasetVersion | string): Promise<string> {
    return super.parquetPath(typeof version === 'string' ? await this.resolve(version) : version);
  }

  /** The local engine for reads beyond the head route, opened once. */
  private engine(): Promise<Engine> {
    this.enginePromise ??= import('../engine/index.js').then(({ Engine }) => Engine.open());
    return this.enginePromise;
  }

  /** Closes the local engine, if a read opened it. */
  async close(): Promise<void> {
    const engine = this.enginePromise;
    this.enginePromise = undefined;
    if (engine) (await engine).close();
  }
}
