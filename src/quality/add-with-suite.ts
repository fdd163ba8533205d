/**
 * `data add --suite FILE [--quarantine]`: a suite checks the staged Parquet
 * before the data slice commits it, through DataService's `beforeCommit`
 * hook. Without quarantine a failing error check refuses the add (no version,
 * no blob). With quarantine the rows failing row-level error checks are set
 * aside as `<name>__quarantine` (with a column naming the checks each row
 * failed), the suite runs again on the rows kept, and only a check that
 * judges the whole set (unique, row_count, freshness, referential,
 * distributions, column type) can still refuse the add. Either way the
 * result of the data committed is stored with the new version.
 *
 * The composition lives here, in the quality slice: the data slice knows
 * nothing of suites, only of a hook that may refuse or split staged data.
 */
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { sqlLiteral, type Engine } from '../engine/index.js';
import type { DataAddOptions } from '../data/api.js';
import type { AddOptions, AddResult, SetAsideRequest } from '../data/service.js';
import type { ColumnSchema, DatasetReader } from '../data/types.js';
import { bindSuite } from './bind.js';
import { columnTypes, failingRowsPredicate, Params, rowCondition } from './compile.js';
import { validateParquet } from './runner.js';
import type { QualityService } from './service.js';
import type { CheckResult, Suite, ValidationResult } from './types.js';

/** Column of `<name>__quarantine` listing the checks a set-aside row failed, comma-separated. */
export const FAILED_CHECKS_COLUMN = 'flywheel_failed_checks';

/** What adds the data: DataService (embedded only — the hook is a function in this process). */
export interface SuiteAddTarget extends DatasetReader {
  add(name: string, source: string, options?: AddOptions): Promise<AddResult>;
}

export interface SuiteAddDeps {
  data: SuiteAddTarget;
  quality: Pick<QualityService, 'record'>;
  engine: Engine;
}

export interface SuiteAddOptions {
  suite: Suite;
  /** Set rows failing row-level error checks aside instead of refusing the add. */
  quarantine?: boolean;
  /** "Now" for freshness checks, epoch ms (default Date.now()). */
  now?: number;
}

export interface SuiteAddResult {
  add: AddResult;
  /** The stored result of the committed data; null when no version was made (skipUnchanged). */
  validation: ValidationResult | null;
}

/**
 * The suite refused the staged data; nothing was committed. Carries the
 * result for reports, also in `details.validation` (what the REST API sends).
 */
export class SuiteFailedError extends FlywheelError {
  constructor(
    readonly validation: ValidationResult,
    dataset: string,
    quarantine: boolean,
  ) {
    const failed = validation.checks.filter((c) => !c.success && c.severity === 'error');
    const names = failed.map(describeFailed).join(', ');
    const hint = quarantine ? '. --quarantine sets aside only rows failing row-level checks; these judge the whole dataset' : '';
    super('FW_SUITE_FAILED', `Not added: ${dataset} failed suite ${validation.suite}: ${names}${hint}`, {
      dataset,
      suite: validation.suite,
      failedChecks: failed.map((c) => c.name),
      validation,
    });
  }
}

function describeFailed(c: CheckResult): string {
  if (c.unexpectedCount !== null && c.unexpectedCount > 0) return `${c.name} (${c.unexpectedCount} unexpected)`;
  if (c.message) return `${c.name} (${c.message})`;
  return c.observed === null ? c.name : `${c.name} (observed ${String(c.observed)})`;
}

/** A column name for the failed-checks list that the data does not use already. */
function labelColumn(schema: readonly ColumnSchema[]): string {
  const taken = new Set(schema.map((c) => c.name));
  let name = FAILED_CHECKS_COLUMN;
  for (let i = 1; taken.has(name); i++) name = `${FAILED_CHECKS_COLUMN}_${i}`;
  return name;
}

/**
 * The split `--quarantine` asks the data slice for: the rows failingRowsPredicate
 * selects, annotated with the names of the checks each one failed. The label
 * reuses the predicate's parameters, compiled again in the same order.
 */
export function quarantineRequest(suite: Suite, schema: readonly ColumnSchema[]): SetAsideRequest | null {
  const predicate = failingRowsPredicate(suite, schema);
  if (predicate.sql === 'false') return null;
  const params = new Params();
  const types = columnTypes(schema);
  const labels: string[] = [];
  for (const check of suite.checks) {
    if (check.severity === 'warn') continue;
    const cond = rowCondition(check, params, types);
    if (cond !== null) labels.push(`CASE WHEN coalesce(NOT (${cond}), false) THEN ${sqlLiteral(check.name ?? check.type)} END`);
  }
  const same = params.values.length === predicate.params.length && params.values.every((v, i) => v === predicate.params[i]);
  if (!same) throw new Error('quarantine label and predicate parameters differ');
  return {
    where: predicate.sql,
    params: predicate.params,
    annotate: { [labelColumn(schema)]: `concat_ws(', ', ${labels.join(', ')})` },
    reason: `failing suite ${suite.name}`,
  };
}

/** Refuses a suite bound to another dataset than `name` (before any data is read). */
export function checkSuiteDataset(suite: Suite, name: string): void {
  if (suite.dataset !== name) throw invalidArgument(`suite "${suite.name}" is bound to dataset ${suite.dataset}, not ${name}`);
}

/**
 * Adds SOURCE as a new version of `name` if the suite passes on it (or, with
 * quarantine, on the rows kept), and stores the result with the version.
 * Throws SuiteFailedError when an error-severity check refuses the data.
 */
export async function addWithSuite(
  deps: SuiteAddDeps,
  name: string,
  source: string,
  addOptions: DataAddOptions,
  options: SuiteAddOptions,
): Promise<SuiteAddResult> {
  const { suite } = options;
  checkSuiteDataset(suite, name);
  const quarantine = options.quarantine ?? false;
  const checked: { result: ValidationResult | null } = { result: null };
  const add = await deps.data.add(name, source, {
    ...addOptions,
    beforeCommit: async (staged, actions) => {
      let current = staged;
      if (quarantine) {
        // Suite problems (unknown columns, bad patterns) are reported before any row is moved.
        await bindSuite(deps.engine, deps.data, suite, staged.parquetPath);
        const request = quarantineRequest(suite, staged.schema);
        if (request) current = await actions.setAside(request);
      }
      const result = await validateParquet(current.parquetPath, suite, { engine: deps.engine, reader: deps.data, dataset: name, now: options.now });
      if (!result.success) throw new SuiteFailedError(result, name, quarantine);
      checked.result = result;
    },
  });
  // No version made (skipUnchanged): nothing to store the result with.
  if (!add.created || checked.result === null) return { add, validation: null };
  return { add, validation: await deps.quality.record(add.version, suite, checked.result) };
}
