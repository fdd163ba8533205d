/**
 * `flywheel data validate REF --suite FILE|NAME [--json]`: runs a suite (a
 * file, or when no such file exists a registered suite of that name) on a
 * dataset version, stores the result with the version, prints a table of
 * checks and exits 1 when an error-severity check failed (0 when only
 * warnings did). Suite problems and unknown refs exit 2 like every error.
 *
 * `flywheel suites put FILE | ls [--dataset D] | show NAME | rm NAME`: the
 * suite registry, through the SDK's `fw.suites` (the local store, or a
 * server with --tracking-uri like the data commands).
 *
 * Also `addWithSuiteCommand`, what `data add --suite FILE [--quarantine]`
 * runs (the CLI hands it to the data commands): the same table for the data
 * about to be committed, and the same exit 1 when the suite refuses it.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { invalidArgument } from '../core/errors.js';
import { CommandExit } from '../cli/errors.js';
import { formatTime, print, renderTable, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import type { AddWithSuite } from '../data/commands.js';
import { Flywheel, trackingUriFromEnv } from '../sdk/flywheel.js';
import type { FlywheelSuites } from '../sdk/suites.js';
import { addWithSuite, SuiteFailedError, type SuiteAddDeps } from './add-with-suite.js';
import { suiteFromFileOrRegistry } from './registry.js';
import { QualityService } from './service.js';
import { loadSuiteFile } from './suite.js';
import { renderValidation } from './report.js';
import type { PutSuiteResult, RegisteredSuite } from './types.js';

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
    .requiredOption('--suite <file|name>', 'suite file (YAML or JSON), or the name of a registered suite when no such file exists')
    .option('--json', 'print the result as one JSON document')
    .option('--now <time>', 'the time freshness checks measure from (ISO 8601; default: now)')
    .option('--no-save', 'do not store the result with the version')
    .action(async (ref: string, opts: ValidateOptions, cmd: Command) => {
      const now = parseNow(opts.now);
      const result = await withQuality(cmd.optsWithGlobals<GlobalOptions>(), async (quality) =>
        quality.validate(ref, await suiteFromFileOrRegistry(opts.suite, quality.suites), { now, save: opts.save }),
      );
      print(opts.json ? toJson(result) : renderValidation(result, ref));
      if (!result.success) throw new CommandExit(1);
    });
}

/** Opens `fw.suites` for one command and always closes what it opened. */
export type WithSuites = <T>(globals: GlobalOptions, fn: (suites: FlywheelSuites) => Promise<T>) => Promise<T>;

/** The SDK's registry: the local store (--home/--db), or the server named by --tracking-uri / FLYWHEEL_TRACKING_URI. */
export const withSdkSuites: WithSuites = async (globals, fn) => {
  const fw = await Flywheel.open({ home: globals.home, db: globals.db, trackingUri: globals.trackingUri, flushIntervalMs: 0 });
  try {
    return await fn(fw.suites);
  } finally {
    await fw.close();
  }
};

const shortHash = (hash: string) => hash.slice(0, 12);

function describePut(r: PutSuiteResult): string {
  const what = `${r.name} (dataset ${r.dataset}, ${r.definition.checks.length} check${r.definition.checks.length === 1 ? '' : 's'}, sha256 ${shortHash(r.hash)})`;
  if (r.change === 'created') return `Registered suite ${what}`;
  if (r.change === 'updated') return `Updated suite ${what}`;
  return `Suite ${what} is registered already with this definition`;
}

/** The definition as a suite file (YAML), under a comment naming where it came from: `suites show NAME > x.yaml` round-trips. */
function renderSuite(s: RegisteredSuite): string {
  return `# suite ${s.name} · dataset ${s.dataset} · sha256 ${s.hash} · updated ${formatTime(s.updatedTime)}\n${stringify(s.definition, { lineWidth: 0 })}`;
}

/** `flywheel suites …`: the registry of quality suites by name. */
export function registerSuiteCommands(program: Command, withSuites: WithSuites = withSdkSuites): Command {
  const suites = program.command('suites').description('quality suites registered by name, for uploads and validations that name a suite');

  suites
    .command('put')
    .description('register a suite file under the name it holds (replacing another definition of that name)')
    .argument('<file>', 'suite file (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      const suite = loadSuiteFile(file);
      const result = await withSuites(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.put(suite));
      print(opts.json ? toJson(result) : describePut(result));
    });

  suites
    .command('ls')
    .description('list registered suites')
    .option('--dataset <name>', 'only suites bound to this dataset')
    .option('--json', 'print one JSON document')
    .action(async (opts: { dataset?: string; json?: boolean }, cmd: Command) => {
      const list = await withSuites(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.list({ dataset: opts.dataset }));
      if (opts.json) return print(toJson({ suites: list }));
      if (list.length === 0) return print(opts.dataset === undefined ? 'No suites.' : `No suites for dataset ${opts.dataset}.`);
      print(
        renderTable(
          [{ header: 'NAME', maxWidth: 50 }, { header: 'DATASET', maxWidth: 50 }, { header: 'CHECKS', align: 'right' }, { header: 'UPDATED' }, { header: 'SHA256' }],
          list.map((s) => [s.name, s.dataset, String(s.definition.checks.length), formatTime(s.updatedTime), shortHash(s.hash)]),
        ),
      );
    });

  suites
    .command('show')
    .description('a registered suite, as a suite file')
    .argument('<name>', 'suite name')
    .option('--json', 'print the registered suite as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const found = await withSuites(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.get(name));
      print(opts.json ? toJson(found) : renderSuite(found));
    });

  suites
    .command('rm')
    .description('remove a registered suite (results stored with versions keep the suite they ran)')
    .argument('<name>', 'suite name')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withSuites(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.delete(name));
      print(opts.json ? toJson({ deleted: name }) : `Deleted suite ${name}`);
    });
  return suites;
}
