/**
 * `flywheel data validate REF --suite FILE [--json]`: runs a suite on a
 * dataset version, stores the result with the version, prints a table of
 * checks and exits 1 when an error-severity check failed (0 when only
 * warnings did). Suite problems and unknown refs exit 2 like every error.
 *
 * Also `addWithSuiteCommand`, what `data add --suite FILE [--quarantine]`
 * runs (the CLI hands it to the data commands): the same table for the data
 * about to be committed, and the same exit 1 when the suite refuses it.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { invalidArgument } from '../core/errors.js';
import { CommandExit } from '../cli/errors.js';
import { print, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import type { AddWithSuite } from '../data/commands.js';
import { trackingUriFromEnv } from '../sdk/flywheel.js';
import { addWithSuite, SuiteFailedError, type SuiteAddDeps } from './add-with-suite.js';
import { QualityService } from './service.js';
import { loadSuiteFile } from './suite.js';
import { renderValidation } from './report.js';

/** Opens a QualityService for one command and always closes what it opened. */
export type WithQuality = <T>(globals: GlobalOptions, fn: (quality: QualityService) => Promise<T>) => Promise<T>;

/** The embedded default: the local store, artifacts and engine named by --home/--db. */
export const withLocalQuality: WithQuality = async (globals, fn) => {
  const { openContext } = await import('../server/context.js');
  const actor = process.env.USER ?? os.userInfo().username ?? 'cli';
  const ctx = await openContext(configFrom(globals), actor);
  try {
    return await fn(new QualityService({ store: ctx.store, engine: ctx.engine, data: ctx.data, actor }));
  } finally {
    await ctx.close();
  }
};

/** Opens the local data and quality services for one `data add --suite` and always closes them. */
export type WithSuiteAdd = <T>(globals: GlobalOptions, fn: (deps: SuiteAddDeps) => Promise<T>) => Promise<T>;

export const withLocalSuiteAdd: WithSuiteAdd = async (globals, fn) => {
  const { openContext } = await import('../server/context.js');
  const actor = process.env.USER ?? os.userInfo().username ?? 'cli';
  const ctx = await openContext(configFrom(globals), actor);
  try {
    return await fn({ data: ctx.data, engine: ctx.engine, quality: new QualityService({ store: ctx.store, engine: ctx.engine, data: ctx.data, actor }) });
  } finally {
    await ctx.close();
  }
};

/**
 * `data add NAME SOURCE --suite FILE [--quarantine]`. The suite runs in this
 * process on the staged data, so it needs the local store: a tracking server
 * (--tracking-uri, or FLYWHEEL_TRACKING_URI without --home/--db) is refused.
 */
export function makeAddWithSuite(open: WithSuiteAdd = withLocalSuiteAdd): AddWithSuite {
  return async (globals, request) => {
    const remote = globals.trackingUri ?? (globals.home === undefined && globals.db === undefined ? trackingUriFromEnv() : undefined);
    if (remote !== undefined) throw invalidArgument(`--suite checks the data in this process and needs the local store; it cannot be used with the tracking server ${remote}`);
    const suite = loadSuiteFile(request.suiteFile);
    return open(globals, async (deps) => {
      try {
        const { add, validation } = await addWithSuite(deps, request.name, request.source, request.options, { suite, quarantine: request.quarantine });
        const report = validation ? renderValidation(validation, `${add.version.dataset}@${add.version.version}`) : '';
        return { result: add, report, validation };
      } catch (err) {
        if (!(err instanceof SuiteFailedError)) throw err;
        return { result: null, report: `${renderValidation(err.validation, `${request.name} (staged)`)}${err.message}\n`, validation: err.validation };
      }
    });
  };
}

export const addWithSuiteCommand: AddWithSuite = makeAddWithSuite();

interface ValidateOptions {
  suite: string;
  json?: boolean;
  now?: string;
  save: boolean;
}

function parseNow(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw invalidArgument(`--now "${text}" is not a time (use ISO 8601, e.g. 2024-03-06T12:00:00Z)`);
  return ms;
}

/**
 * Adds `validate` to the `data` command group (creating the group when the
 * data commands are not registered yet).
 */
export function registerQualityCommands(program: Command, withQuality: WithQuality = withLocalQuality): void {
  const data = program.commands.find((c) => c.name() === 'data') ?? program.command('data').description('datasets: versions, profiles, diffs, checks');
  data
    .command('validate')
    .description('check a dataset version with a quality suite; exits 1 when an error check fails')
    .argument('<ref>', 'dataset version: NAME, NAME@3, NAME@latest or NAME@<hash prefix>')
    .requiredOption('--suite <file>', 'suite file (YAML or JSON)')
    .option('--json', 'print the result as one JSON document')
    .option('--now <time>', 'the time freshness checks measure from (ISO 8601; default: now)')
    .option('--no-save', 'do not store the result with the version')
    .action(async (ref: string, opts: ValidateOptions, cmd: Command) => {
      const suite = loadSuiteFile(opts.suite);
      const now = parseNow(opts.now);
      const result = await withQuality(cmd.optsWithGlobals<GlobalOptions>(), (quality) => quality.validate(ref, suite, { now, save: opts.save }));
      print(opts.json ? toJson(result) : renderValidation(result, ref));
      if (!result.success) throw new CommandExit(1);
    });
}
