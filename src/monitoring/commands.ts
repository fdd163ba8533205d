/**
 * `flywheel drift REFERENCE CURRENT [--method col=ks]… [--threshold col=0.1]…
 * [--columns a,b] [--drift-share 0.5] [--json]`: the per-column drift report
 * of two datasets, each a dataset version (NAME@VERSION, NAME@latest, from the
 * local store: --home/--db) or a CSV/Parquet file.
 *
 * Prints a table (column, type, method, statistic, p-value, threshold,
 * verdict, PSI) and the dataset verdict; with --json exactly one object
 * `{"columns": [...], "dataset": {...}, "skipped": [...], ...}` whose
 * non-finite numbers are strings ("Infinity"), as everywhere in the CLI.
 * Columns on one side only and date/time columns are listed as skipped.
 * DuckDB and the store are loaded only when the command runs; the store is
 * opened only when a side is a dataset version.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import os from 'node:os';
import { collect, parseKeyList } from '../cli/options.js';
import { formatNumber, print, renderTable, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import { DRIFT_METHODS, type DriftMethod } from './drift/select.js';
import type { ColumnDriftOptions, DriftReport } from './drift/report.js';
import type { SkippedColumn } from './drift/load.js';

interface DriftCliOptions {
  method?: string[];
  threshold?: string[];
  columns?: string[];
  driftShare?: number;
  json?: boolean;
}

/** `col=value` → [col, value]; the column may not be empty. */
function splitSpec(flag: string, spec: string): [string, string] {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new InvalidArgumentError(`${flag} ${spec}: expected column=value.`);
  return [spec.slice(0, eq).trim(), spec.slice(eq + 1).trim()];
}

/** The per-column overrides from repeated --method and --threshold options. */
export function parseOverrides(methods: readonly string[] = [], thresholds: readonly string[] = []): Record<string, ColumnDriftOptions> {
  const perColumn: Record<string, ColumnDriftOptions> = {};
  for (const spec of methods) {
    const [column, method] = splitSpec('--method', spec);
    if (!DRIFT_METHODS.includes(method as DriftMethod)) {
      throw new InvalidArgumentError(`--method ${spec}: unknown method "${method}" (one of ${DRIFT_METHODS.join(', ')}).`);
    }
    (perColumn[column] ??= {}).method = method as DriftMethod;
  }
  for (const spec of thresholds) {
    const [column, value] = splitSpec('--threshold', spec);
    const t = Number(value);
    if (!Number.isFinite(t) || t < 0) throw new InvalidArgumentError(`--threshold ${spec}: expected a number ≥ 0.`);
    (perColumn[column] ??= {}).threshold = t;
  }
  return perColumn;
}

function parseDriftShare(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new InvalidArgumentError('expected a number from 0 to 1.');
  return v;
}

const cell = (v: number | null) => (v === null ? '-' : formatNumber(v));

/** The human report: one row per column, then skipped columns and the dataset verdict. */
export function renderDriftReport(report: DriftReport, reference: string, current: string, skipped: readonly SkippedColumn[]): string {
  const rows = report.columns.map((c) => [
    c.column,
    c.type,
    c.method,
    cell(c.statistic),
    cell(c.p_value),
    formatNumber(c.threshold),
    c.status === 'no data' ? 'no data' : c.drifted ? 'DRIFT' : 'ok',
    cell(c.psi),
  ]);
  const table = renderTable(
    [
      { header: 'column', maxWidth: 40 },
      { header: 'type' },
      { header: 'method' },
      { header: 'statistic', align: 'right' },
      { header: 'p-value', align: 'right' },
      { header: 'threshold', align: 'right' },
      { header: 'verdict' },
      { header: 'psi', align: 'right' },
    ],
    rows,
  );
  const d = report.dataset;
  const drifted = report.columns.filter((c) => c.drifted).length;
  const lines = [`Drift of ${current} against ${reference}`, '', table.trimEnd()];
  if (skipped.length > 0) {
    lines.push('', 'Skipped:');
    for (const s of skipped) lines.push(`  ${s.column}: ${s.reason}`);
  }
  lines.push(
    '',
    `Dataset: ${d.drifted ? 'DRIFT' : 'no drift'} — ${drifted} of ${d.columns_with_data} columns drifted (share ${formatNumber(d.drifted_share)}, threshold ${formatNumber(d.drift_share_threshold)})`,
  );
  return lines.join('\n') + '\n';
}

export function registerMonitoringCommands(program: Command): void {
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('drift <reference> <current>')
    .description('per-column drift of CURRENT against REFERENCE (each a dataset version NAME@VERSION or a CSV/Parquet file) and the dataset verdict')
    .option('--method <col=method>', `drift method for a column (repeatable): ${DRIFT_METHODS.join(', ')}; default Evidently's rule`, collect)
    .option('--threshold <col=value>', 'threshold for a column (repeatable): p-value for tests (default 0.05), distance otherwise (default 0.1)', collect)
    .option('--columns <a,b>', 'compare only these columns (default: every column on both sides)', parseKeyList)
    .option('--drift-share <share>', 'dataset drift when this share of columns drifts (default 0.5)', parseDriftShare)
    .option('--json', 'print the report as one JSON object')
    .action(async (reference: string, current: string, opts: DriftCliOptions) => {
      const perColumn = parseOverrides(opts.method, opts.threshold);
      const [{ parseDriftSource, loadDriftInputs }, { driftReport }] = await Promise.all([import('./drift/load.js'), import('./drift/report.js')]);
      const needsStore = parseDriftSource(reference).kind === 'dataset' || parseDriftSource(current).kind === 'dataset';
      let inputs;
      if (needsStore) {
        const { openContext } = await import('../server/context.js');
        const ctx = await openContext(configFrom(globals()), process.env.USER ?? os.userInfo().username ?? 'cli');
        try {
          inputs = await loadDriftInputs(ctx.engine, ctx.data, reference, current, { columns: opts.columns });
        } finally {
          await ctx.close();
        }
      } else {
        const { Engine } = await import('../engine/index.js');
        const engine = await Engine.open();
        try {
          inputs = await loadDriftInputs(engine, null, reference, current, { columns: opts.columns });
        } finally {
          engine.close();
        }
      }
      const report = driftReport(inputs.reference.columns, inputs.current.columns, {
        columns: inputs.columns,
        driftShare: opts.driftShare,
        perColumn,
      });
      if (opts.json) {
        print(
          toJson({
            reference: { source: inputs.reference.source, rows: inputs.reference.rows },
            current: { source: inputs.current.source, rows: inputs.current.rows },
            columns: report.columns,
            dataset: report.dataset,
            skipped: inputs.skipped,
          }),
        );
        return;
      }
      print(renderDriftReport(report, inputs.reference.source, inputs.current.source, inputs.skipped));
    });
}
