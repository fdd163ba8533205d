/**
 * QualityService: validates dataset versions with suites and keeps the
 * results per version; `suites` is the suite registry on the same store.
 * Scanning goes through the Engine (runner.ts), dataset refs through the
 * data slice's DatasetReader, storage through store.ts.
 */
import type { Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import type { DatasetReader, DatasetVersion } from '../data/types.js';
import { newRunId } from '../core/ids.js';
import { SuiteRegistry } from './registry.js';
import { validateParquet } from './runner.js';
import { insertResult, listResults } from './store.js';
import type { Suite, ValidationResult } from './types.js';

export interface QualityServiceOptions {
  store: Store;
  engine: Engine;
  data: DatasetReader;
  /** Who the audit events name (default "system"). */
  actor?: string;
}

export interface ValidateOptions {
  /** "Now" for freshness checks, epoch ms (default Date.now()). */
  now?: number;
  /** Store the result with the version (default true). */
  save?: boolean;
}

export class QualityService {
  private readonly actor: string;

  constructor(private readonly options: QualityServiceOptions) {
    this.actor = options.actor ?? 'system';
  }

  /** The suite registry on the same store, with the same actor. */
  get suites(): SuiteRegistry {
    return new SuiteRegistry({ store: this.options.store, actor: this.actor });
  }

  /** Validates the version `ref` names (`orders@3`, `orders@latest`…) and stores the result. */
  async validate(ref: string, suite: Suite, options: ValidateOptions = {}): Promise<ValidationResult> {
    const version = await this.options.data.resolve(ref);
    const parquet = await this.options.data.parquetPath(version);
    const result = await validateParquet(parquet, suite, { engine: this.options.engine, reader: this.options.data, version, now: options.now });
    return options.save === false ? result : this.record(version, suite, result);
  }

  /**
   * Stores a result computed elsewhere — by `validateParquet` on a file before
   * it was committed as `version` (`data add --suite`) — with that version.
   */
  async record(version: DatasetVersion, suite: Suite, result: ValidationResult): Promise<ValidationResult> {
    const stored = { ...result, id: newRunId(), dataset: version.dataset, versionId: version.id };
    await insertResult(this.options.store.db, stored, suite, this.actor);
    return stored;
  }

  /** Every stored result of a version, newest first. */
  async results(versionId: string): Promise<ValidationResult[]> {
    return listResults(this.options.store.db, versionId);
  }
}
