/**
 * `flywheel data …`: add a file, glob or PostgreSQL query as a new dataset
 * version; list datasets and versions; show, profile, peek at and export a
 * version; soft-delete a dataset. Every command takes --json. Commands talk
 * to the DataApi of the SDK (embedded store, or a server with --tracking-uri).
 * `data add --suite FILE [--quarantine]` is delegated to an AddWithSuite the
 * CLI passes in (the quality slice's), so this slice does not import quality.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collectTag } from '../cli/options.js';
import { CommandExit } from '../cli/errors.js';
import { formatBytes, formatNumber, formatTime, print, renderPairs, renderTable, toJson } from '../cli/output.js';
import type { GlobalOptions } from '../cli/session.js';
import { Flywheel } from '../sdk/flywheel.js';
import type { DataAddOptions, DataApi } from './api.js';
import type { AddResult } from './service.js';
import type { ColumnProfile, DatasetProfile, DatasetVersion } from './types.js';

/** Opens the data API for one command and always closes what it opened. */
export async function withData<T>(globals: GlobalOptions, fn: (api: DataApi) => Promise<T>): Promise<T> {
  const fw = await Flywheel.open({ home: globals.home, db: globals.db, trackingUri: globals.trackingUri, flushIntervalMs: 0 });
  try {
    return await fn(fw.data);
  } finally {
    await fw.close();
  }
}

export interface AddWithSuiteRequest {
  name: string;
  source: string;
  options: DataAddOptions;
  /** The suite file given with --suite. */
  suiteFile: string;
  /** --quarantine: set failing rows aside instead of refusing the add. */
  quarantine: boolean;
}

export interface AddWithSuiteOutcome {
  /** The add; null when the suite refused the data (the command then exits 1). */
  result: AddResult | null;
  /** The validation report for people, printed before the add's summary. */
  report: string;
  /** The validation result, for --json. */
  validation: unknown;
}

/** Runs `data add --suite …`: checks the staged data with a suite before it is committed. */
export type AddWithSuite = (globals: GlobalOptions, request: AddWithSuiteRequest) => Promise<AddWithSuiteOutcome>;

export interface DataCommandExtensions {
  /** When given, `data add` takes --suite and --quarantine and hands such adds to it. */
  addWithSuite?: AddWithSuite;
}

function parseRowCount(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

const shortHash = (h: string) => h.slice(0, 12);

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function describeAdd(r: AddResult): string {
  const v = r.version;
  const what = `${v.dataset}@${v.version}`;
  const lines: string[] = [];
  if (!r.created) {
    lines.push(`Unchanged: ${what} already holds this ${r.unchanged === 'fingerprint' ? 'file (same path, size and modification time)' : 'content'}; no version made.`);
  } else {
    const same = r.unchanged === 'fingerprint' ? ' (source unchanged: same content as before)' : r.unchanged === 'content' ? ' (same content as the previous version, stored once)' : '';
    lines.push(`Added ${what}: ${v.rowCount} rows, ${v.schema.length} columns, ${formatBytes(v.byteSize)}, sha256 ${shortHash(v.contentHash)}${same}`);
  }
  if (r.quarantine) {
    const q = r.quarantine.version;
    lines.push(`Set aside ${r.quarantine.rows} bad row(s) as ${q.dataset}@${q.version} (see: flywheel data head ${q.dataset}@${q.version})`);
  }
  if (r.setAside) {
    const q = r.setAside.version;
    lines.push(`Set aside ${r.setAside.rows} row(s) ${r.setAside.reason} as ${q.dataset}@${q.version} (see: flywheel data head ${q.dataset}@${q.version})`);
  }
  return lines.join('\n');
}

function versionsTable(versions: DatasetVersion[]): string {
  return renderTable(
    [
      { header: 'VERSION', align: 'right' },
      { header: 'CREATED' },
      { header: 'ROWS', align: 'right' },
      { header: 'SIZE', align: 'right' },
      { header: 'HASH' },
      { header: 'AUTHOR', maxWidth: 20 },
      { header: 'MESSAGE', maxWidth: 50 },
    ],
    versions.map((v) => [String(v.version), formatTime(v.createdTime), String(v.rowCount), formatBytes(v.byteSize), shortHash(v.contentHash), v.author, v.message]),
  );
}

function versionPairs(v: DatasetVersion): string {
  const pairs: [string, string][] = [
    ['Version', `${v.dataset}@${v.version}`],
    ['Id', v.id],
    ['Content hash', v.contentHash],
    ['Rows', String(v.rowCount)],
    ['Size', formatBytes(v.byteSize)],
    ['Created', formatTime(v.createdTime)],
    ['Author', v.author],
    ['Message', v.message || '-'],
    ['Parent', v.parentVersionId ?? '-'],
    ['Run', v.runId ?? '-'],
    ['Tags', Object.entries(v.tags).map(([k, val]) => `${k}=${val}`).join(', ') || '-'],
  ];
  return renderPairs(pairs);
}

function schemaTable(v: DatasetVersion): string {
  return renderTable(
    [{ header: 'COLUMN', maxWidth: 40 }, { header: 'TYPE' }, { header: 'NULLABLE' }],
    v.schema.map((c) => [c.name, c.type, c.nullable ? 'yes' : 'no']),
  );
}

function range(c: ColumnProfile): [string, string] {
  return [cell(c.min), cell(c.max)];
}

function profileTable(p: DatasetProfile): string {
  return renderTable(
    [
      { header: 'COLUMN', maxWidth: 30 },
      { header: 'TYPE' },
      { header: 'NULLS', align: 'right' },
      { header: 'DISTINCT', align: 'right' },
      { header: 'MIN', maxWidth: 24 },
      { header: 'MAX', maxWidth: 24 },
      { header: 'MEAN', align: 'right' },
      { header: 'STD', align: 'right' },
      { header: 'P50', align: 'right' },
      { header: 'TOP', maxWidth: 30 },
      { header: 'PII' },
    ],
    p.columns.map((c) => [
      c.name,
      c.type,
      String(c.nulls),
      `${c.distinctApproximate ? '~' : ''}${c.distinct}`,
      ...range(c),
      c.mean === null ? '' : formatNumber(c.mean),
      c.std === null ? '' : formatNumber(c.std),
      c.quantiles ? formatNumber(c.quantiles.p50) : '',
      c.topValues?.[0] ? `${c.topValues[0].value} (${c.topValues[0].count})` : '',
      c.pii.join(','),
    ]),
  );
}

interface AddOpts {
  message?: string;
  query?: string;
  format?: 'csv' | 'tsv' | 'parquet' | 'json' | 'ndjson';
  skipUnchanged?: boolean;
  onBadRows?: 'fail' | 'quarantine';
  tag?: Record<string, string>;
  type?: Record<string, string>;
  allowSchemaChange?: boolean;
  json?: boolean;
  suite?: string;
  quarantine?: boolean;
}

export function registerDataCommands(program: Command, extensions: DataCommandExtensions = {}): Command {
  const data = program.command('data').description('versioned datasets: add, list, inspect, export');

  const add = data
    .command('add')
    .description('add a file, a glob of files or a PostgreSQL query as a new version of a dataset')
    .argument('<name>', 'dataset name (letters, digits, "_", "." and "-")')
    .argument('<source>', 'a CSV/TSV/Parquet/JSON/NDJSON file, a glob of them, or postgres://… with --query')
    .option('-m, --message <text>', 'what changed')
    .option('--query <sql>', 'the query to run when SOURCE is a postgres:// URL')
    .addOption(new Option('--format <format>', 'source format (default: from the file extension)').choices(['csv', 'tsv', 'parquet', 'json', 'ndjson']))
    .option('--skip-unchanged', 'make no version when the content equals the latest version')
    .addOption(new Option('--on-bad-rows <policy>', 'fail, or quarantine: keep the good rows, set the bad ones aside as NAME__quarantine').choices(['fail', 'quarantine']).default('fail'))
    .option('--tag <key=value>', 'a version tag (repeatable)', collectTag)
    .option('--type <column=TYPE>', 'CSV: the DuckDB type of a column instead of the sniffed one (repeatable)', collectTag)
    .option('--allow-schema-change', 'accept columns added, removed or retyped since the latest version')
    .option('--json', 'print the result as JSON');
  const { addWithSuite } = extensions;
  if (addWithSuite) {
    add
      .option('--suite <file>', 'check the data with a quality suite (YAML or JSON) before committing it; exits 1 when an error check fails')
      .option('--quarantine', 'with --suite: set rows failing row-level error checks aside as NAME__quarantine instead of refusing the add');
  }
  add.action(async (name: string, source: string, opts: AddOpts, cmd: Command) => {
    const options: DataAddOptions = {
      message: opts.message,
      query: opts.query,
      format: opts.format,
      skipUnchanged: opts.skipUnchanged,
      onBadRows: opts.onBadRows,
      tags: opts.tag,
      columnTypes: opts.type,
      allowSchemaChange: opts.allowSchemaChange,
    };
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    if (opts.quarantine && !opts.suite) throw new InvalidArgumentError('--quarantine needs --suite');
    if (addWithSuite && opts.suite) {
      const outcome = await addWithSuite(globals, { name, source, options, suiteFile: opts.suite, quarantine: opts.quarantine ?? false });
      if (opts.json) print(toJson(outcome.result ? { ...outcome.result, validation: outcome.validation } : { created: false, validation: outcome.validation }));
      else print(outcome.report + (outcome.result ? describeAdd(outcome.result) : ''));
      if (!outcome.result) throw new CommandExit(1);
      return;
    }
    const result = await withData(globals, (api) => api.add(name, source, options));
    print(opts.json ? toJson(result) : describeAdd(result));
  });

  data
    .command('ls')
    .description('list datasets')
    .option('--all', 'include deleted datasets')
    .option('--json', 'print one JSON document')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const list = await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.ls({ includeDeleted: opts.all }));
      if (opts.json) return print(toJson({ datasets: list }));
      if (list.length === 0) return print('No datasets.');
      print(
        renderTable(
          [{ header: 'NAME', maxWidth: 50 }, { header: 'LATEST', align: 'right' }, { header: 'CREATED' }, ...(opts.all ? [{ header: 'STAGE' }] : [])],
          list.map((d) => [d.name, d.latestVersion === null ? '-' : String(d.latestVersion), formatTime(d.createdTime), ...(opts.all ? [d.lifecycleStage] : [])]),
        ),
      );
    });

  data
    .command('log')
    .description("a dataset's versions, newest first")
    .argument('<name>', 'dataset name')
    .option('--json', 'print one JSON document')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const versions = await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.log(name));
      if (opts.json) return print(toJson({ versions }));
      print(versions.length === 0 ? `Dataset ${name} has no versions.` : versionsTable(versions));
    });

  data
    .command('show')
    .description('one version: its record and schema (NAME, NAME@3, NAME@latest, NAME@<hash prefix>)')
    .argument('<ref>', 'dataset version reference')
    .option('--json', 'print the version and its profile as JSON')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      const shown = await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.show(ref));
      if (opts.json) return print(toJson(shown));
      const pii = shown.profile.columns.filter((c) => c.pii.length > 0);
      print(
        versionPairs(shown.version) +
          '\n' +
          schemaTable(shown.version) +
          (pii.length > 0 ? `\nPersonal data suspected in: ${pii.map((c) => `${c.name} (${c.pii.join(', ')})`).join('; ')}\n` : ''),
      );
    });

  data
    .command('profile')
    .description("a version's column statistics")
    .argument('<ref>', 'dataset version reference')
    .option('--json', 'print the full profile (quantiles, histograms, top values) as JSON')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      const profile = await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.profile(ref));
      print(opts.json ? toJson(profile) : `${profile.rowCount} rows\n\n${profileTable(profile)}`);
    });

  data
    .command('head')
    .description('the first rows of a version')
    .argument('<ref>', 'dataset version reference')
    .option('-n, --rows <n>', 'how many rows', parseRowCount, 10)
    .option('--json', 'print the rows as JSON')
    .action(async (ref: string, opts: { rows: number; json?: boolean }, cmd: Command) => {
      const head = await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.head(ref, opts.rows));
      if (opts.json) return print(toJson(head));
      print(
        renderTable(
          head.columns.map((c) => ({ header: c.name, maxWidth: 40 })),
          head.rows.map((r) => head.columns.map((c) => cell(r[c.name]))),
        ),
      );
    });

  data
    .command('export')
    .description('write a version to a .csv or .parquet file')
    .argument('<ref>', 'dataset version reference')
    .argument('<out>', 'output file (.csv or .parquet)')
    .addOption(new Option('--format <format>', 'output format (default: from the file extension)').choices(['csv', 'parquet']))
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, out: string, opts: { format?: 'csv' | 'parquet'; json?: boolean }, cmd: Command) => {
      const result = await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.export(ref, out, { format: opts.format }));
      print(opts.json ? toJson(result) : `Wrote ${result.rows} rows to ${result.path} (${result.format})`);
    });

  data
    .command('rm')
    .description('delete a dataset (soft: its versions are kept and still resolve)')
    .argument('<name>', 'dataset name')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withData(cmd.optsWithGlobals<GlobalOptions>(), (api) => api.rm(name));
      print(opts.json ? toJson({ deleted: name }) : `Deleted dataset ${name} (versions are kept)`);
    });
  return data;
}
