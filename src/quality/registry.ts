/**
 * SuiteRegistry: quality suites stored by name in the metadata store, so an
 * upload (`POST /datasets/:name/versions/validated?suite=…`), a validation or
 * a CLI command can name a suite instead of carrying it. Putting a suite
 * checks it with the suite parser and stores the normalized form with its
 * hash; an equal definition changes nothing. Every change is an event.
 * Results already stored with versions keep the suite they ran, so replacing
 * or deleting a registered suite never changes history.
 */
import fs from 'node:fs';
import { invalidArgument, notFound } from '../core/errors.js';
import type { Store } from '../store/index.js';
import { findSuite, listSuites, removeSuite, upsertSuite } from './store.js';
import { loadSuiteFile, parseSuite, suiteHash } from './suite.js';
import type { PutSuiteResult, RegisteredSuite, Suite, SuiteSpec } from './types.js';

/** Registered names are plain tokens, safe in URLs and file names (the rule dataset names follow). */
export const SUITE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function validateSuiteName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalidArgument('A suite name is required');
  if (!SUITE_NAME_PATTERN.test(name)) {
    throw invalidArgument(`Invalid suite name "${name}": use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit`);
  }
  return name;
}

export interface SuiteRegistryOptions {
  store: Store;
  /** Who the events name (default "system"). */
  actor?: string;
  /** The clock, epoch ms (tests pin it). */
  now?: () => number;
}

export class SuiteRegistry {
  private readonly actor: string;
  private readonly now: () => number;

  constructor(private readonly options: SuiteRegistryOptions) {
    this.actor = options.actor ?? 'system';
    this.now = options.now ?? Date.now;
  }

  /** Registers `suite` under its name, replacing a different definition of that name. */
  async putSuite(suite: Suite | SuiteSpec): Promise<PutSuiteResult> {
    validateSuiteName(suite?.name);
    // Parsed again: whatever the caller built, only a normalized suite is stored.
    const parsed = parseSuite(suite, `suite "${suite.name}"`);
    return upsertSuite(this.options.store.db, parsed, suiteHash(parsed), this.actor, this.now());
  }

  /** The suite registered as `name`; FW_NOT_FOUND when there is none. */
  async getSuite(name: string): Promise<RegisteredSuite> {
    const found = await findSuite(this.options.store.db, name);
    if (!found) throw notFound(`No suite named "${name}" is registered`);
    return found;
  }

  /** Registered suites by name; with `dataset`, only those bound to it. */
  async listSuites(dataset?: string): Promise<RegisteredSuite[]> {
    return listSuites(this.options.store.db, dataset);
  }

  /** Removes the suite registered as `name`; FW_NOT_FOUND when there is none. */
  async deleteSuite(name: string): Promise<void> {
    if (!(await removeSuite(this.options.store.db, name, this.actor, this.now()))) throw notFound(`No suite named "${name}" is registered`);
  }
}

/**
 * What `--suite X` means where a file or a registered name may be given: the
 * file X when it exists, else the suite registered as X. A missing file whose
 * name cannot be a suite name (it has a slash, say) is reported as a file.
 */
export async function suiteFromFileOrRegistry(ref: string, registry: Pick<SuiteRegistry, 'getSuite'>): Promise<Suite> {
  if (fs.existsSync(ref) || !SUITE_NAME_PATTERN.test(ref)) return loadSuiteFile(ref);
  try {
    return (await registry.getSuite(ref)).definition;
  } catch (err) {
    if ((err as { code?: string }).code !== 'FW_NOT_FOUND') throw err;
    throw notFound(`No suite file ${ref} and no suite named "${ref}" is registered`);
  }
}
