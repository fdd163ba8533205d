/**
 * `fw.suites`: the suite registry in both SDK modes — `put` a suite (an
 * object or a YAML/JSON file, checked and normalized here so both modes
 * report a bad suite alike), `get`, `list` and `delete` by name. Embedded
 * mode uses the quality slice's SuiteRegistry on this process's store
 * (loaded on first use, without DuckDB); remote mode calls /api/v1/suites.
 */
import type { Store } from '../store/index.js';
import type { SuiteRegistry } from '../quality/registry.js';
import type { PutSuiteResult, RegisteredSuite, Suite, SuiteSpec } from '../quality/types.js';
import { ApiClient } from './api-client.js';
import { toSuite } from './data-extra.js';

/** A suite for `put`: an object as `defineSuite` takes it, or the path of a YAML/JSON suite file. */
export type SuiteSource = Suite | SuiteSpec | string;

export interface ListSuitesOptions {
  /** Only suites bound to this dataset. */
  dataset?: string;
}

export interface FlywheelSuites {
  /** Registers the suite under its name (replacing another definition of that name); `change` says what happened. */
  put(suite: SuiteSource): Promise<PutSuiteResult>;
  /** The suite registered as `name`; FW_NOT_FOUND when there is none. */
  get(name: string): Promise<RegisteredSuite>;
  /** Registered suites by name. */
  list(options?: ListSuitesOptions): Promise<RegisteredSuite[]>;
  /** Removes a registered suite (results stored with versions keep the suite they ran); FW_NOT_FOUND when there is none. */
  delete(name: string): Promise<void>;
}

/** A suite checked here, and its name checked as the registry will. */
async function checkedSuite(suite: SuiteSource): Promise<Suite> {
  const parsed = await toSuite(suite);
  const { validateSuiteName } = await import('../quality/registry.js');
  validateSuiteName(parsed.name);
  return parsed;
}

/** A name checked as the registry checks names, so a bad one is the same FW_INVALID_ARGUMENT in both modes. */
async function checkedName(name: string): Promise<string> {
  const { validateSuiteName } = await import('../quality/registry.js');
  return validateSuiteName(name);
}

/** `fw.suites` on this process's store. */
export function embeddedSuites(store: Store, actor: string): FlywheelSuites {
  let loaded: Promise<SuiteRegistry> | undefined;
  const registry = () => (loaded ??= import('../quality/registry.js').then(({ SuiteRegistry }) => new SuiteRegistry({ store, actor })));
  return {
    put: async (suite) => (await registry()).putSuite(await checkedSuite(suite)),
    get: async (name) => (await registry()).getSuite(await checkedName(name)),
    list: async (options = {}) => (await registry()).listSuites(options.dataset),
    delete: async (name) => (await registry()).deleteSuite(await checkedName(name)),
  };
}

const seg = encodeURIComponent;

/** `fw.suites` on a Flywheel server. */
export class RemoteSuites implements FlywheelSuites {
  private readonly api: ApiClient;

  constructor(baseUrl: string, fetchImpl?: typeof fetch) {
    this.api = new ApiClient(baseUrl, fetchImpl);
  }

  async put(suite: SuiteSource): Promise<PutSuiteResult> {
    const parsed = await checkedSuite(suite);
    return this.api.json('PUT', `/suites/${seg(parsed.name)}`, { body: parsed });
  }

  async get(name: string): Promise<RegisteredSuite> {
    return this.api.json('GET', `/suites/${seg(await checkedName(name))}`);
  }

  async list(options: ListSuitesOptions = {}): Promise<RegisteredSuite[]> {
    return (await this.api.json<{ items: RegisteredSuite[] }>('GET', '/suites', { query: { dataset: options.dataset } })).items;
  }

  async delete(name: string): Promise<void> {
    await this.api.json('DELETE', `/suites/${seg(await checkedName(name))}`);
  }
}
