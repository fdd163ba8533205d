/**
 * Monitors from the command line, on the local store (--home/--db):
 *
 *   monitors create NAME (--deployment D | --dataset DS) [--reference REF]
 *            [--minutes M | --rows N] [--check C]... [--column C]...
 *            [--method COL=METHOD]... [--threshold COL=T]... [--drift-share S]
 *            [--alert RULE]... [--json]
 *   monitors ls [--json]                  every monitor, its target and executions
 *   monitors show NAME [--json]           the definition and the state of each alert rule
 *   monitors run NAME [--now MS] [--json] one execution over the window ending now
 *   monitors rm NAME                      delete a monitor (its runs stay)
 *
 * `monitors run` is what a schedule calls; its metrics go to the Run it
 * creates in experiment monitoring/NAME.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { invalidArgument } from '../../core/errors.js';
import { collect } from '../../cli/options.js';
import { formatNumber, formatTime, print, renderPairs, renderTable, toJson } from '../../cli/output.js';
import { configFrom, type GlobalOptions } from '../../cli/session.js';
import type { MonitorService, MonitorRunResult } from './service.js';
import type { Monitor, MonitorInput } from './types.js';

const cliUser = () => process.env.USER ?? os.userInfo().username ?? 'cli';

/** Opens the project (store, DuckDB, services) for one command. */
async function withMonitors<T>(globals: GlobalOptions, fn: (monitors: MonitorService) => Promise<T>): Promise<T> {
  if (globals.trackingUri !== undefined) {
    throw invalidArgument(`flywheel monitors works on the local store (--home/--db); the server ${globals.trackingUri} has them at ${globals.trackingUri.replace(/\/+$/, '')}/api/v1/monitors`);
  }
  const [{ openContext }, { monitorService }] = await Promise.all([import('../../server/context.js'), import('./routes.js')]);
  const ctx = await openContext(configFrom(globals), cliUser());
  try {
    return await fn(monitorService(ctx));
  } finally {
    await ctx.close();
  }
}

/** `col=value` pairs into a map; FW_INVALID_ARGUMENT names the option. */
function pairs(option: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1) throw invalidArgument(`${option} takes COLUMN=VALUE, got "${v}"`, { option });
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

const targetOf = (m: Monitor) => (m.target.kind === 'deployment' ? `deployment ${m.target.deployment}` : `dataset ${m.target.dataset}`);
const windowOf = (m: Monitor) => (m.target.kind === 'dataset' ? 'latest version' : m.window.kind === 'time' ? `${m.window.minutes} min` : `${m.window.rows} rows`);

function renderRun(r: MonitorRunResult): string {
  const lines = [`Monitor ${r.monitor} execution ${r.execution} (run ${r.runId}): window ${formatTime(r.window.start)} – ${formatTime(r.window.end)}, ${r.window.rows} rows, reference ${r.reference.source}`];
  if (r.noData) lines.push('No data in the window.');
  if (r.featureDrift) {
    lines.push(`Feature drift: ${formatNumber(r.featureDrift.dataset.drifted_share)} of columns drifted${r.featureDrift.dataset.drifted ? ' — DATASET DRIFT' : ''}`);
    lines.push(
      renderTable(
        [{ header: 'COLUMN' }, { header: 'METHOD' }, { header: 'STATISTIC', align: 'right' }, { header: 'P-VALUE', align: 'right' }, { header: 'THRESHOLD', align: 'right' }, { header: 'DRIFT' }],
        r.featureDrift.columns.map((c) => [c.column, c.method, c.statistic === null ? '-' : formatNumber(c.statistic), c.p_value === null ? '-' : formatNumber(c.p_value), formatNumber(c.threshold), c.status === 'no data' ? 'no data' : c.drifted ? 'yes' : 'no']),
      ).trimEnd(),
    );
  }
  if (r.predictionDrift && r.predictionDrift.status === 'ok') lines.push(`Prediction drift (vs ${r.predictionDrift.against}): ${r.predictionDrift.drifted ? 'yes' : 'no'} (${r.predictionDrift.method} ${formatNumber(r.predictionDrift.statistic!)})`);
  if (r.latency) lines.push(`Latency: p50 ${formatNumber(r.latency.p50)} ms, p99 ${formatNumber(r.latency.p99)} ms`);
  if (r.errors) lines.push(`Errors: ${r.errors.errors} (${formatNumber(r.errors.errorRate)})`);
  if (r.performance && r.performance.labelledRows > 0) lines.push(`Performance on ${r.performance.labelledRows} labelled rows: ${Object.entries(r.performance.metrics).map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ')}`);
  for (const a of r.alerts) lines.push(`Alert ${a.rule}: ${a.status}${a.transition ? ` (${a.transition} now)` : ''}${a.value === null ? ', no value' : `, ${a.metric} = ${formatNumber(a.value)}`}`);
  return lines.join('\n') + '\n';
}

interface CreateOptions {
  deployment?: string;
  dataset?: string;
  reference?: string;
  minutes?: string;
  rows?: string;
  check: string[];
  column: string[];
  method: string[];
  threshold: string[];
  driftShare?: string;
  alert: string[];
  description?: string;
  json?: boolean;
}

const number = (option: string, v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw invalidArgument(`${option} takes a number, got "${v}"`, { option });
  return n;
};

/** The MonitorInput the create options describe (validation proper is the service's). */
export function monitorInputFromOptions(name: string, o: CreateOptions): MonitorInput {
  if ((o.deployment === undefined) === (o.dataset === undefined)) throw invalidArgument('give exactly one of --deployment and --dataset');
  if (o.minutes !== undefined && o.rows !== undefined) throw invalidArgument('give at most one of --minutes and --rows');
  const input: MonitorInput = {
    name,
    target: o.deployment !== undefined ? { kind: 'deployment', deployment: o.deployment } : { kind: 'dataset', dataset: o.dataset! },
    reference: o.reference ?? null,
  };
  if (o.minutes !== undefined) input.window = { kind: 'time', minutes: number('--minutes', o.minutes) };
  if (o.rows !== undefined) input.window = { kind: 'count', rows: number('--rows', o.rows) };
  if (o.check.length > 0) input.checks = o.check as MonitorInput['checks'];
  if (o.column.length > 0) input.columns = o.column;
  const perColumn: NonNullable<NonNullable<MonitorInput['drift']>['perColumn']> = {};
  for (const [col, method] of Object.entries(pairs('--method', o.method))) perColumn[col] = { ...perColumn[col], method: method as never };
  for (const [col, t] of Object.entries(pairs('--threshold', o.threshold))) perColumn[col] = { ...perColumn[col], threshold: number('--threshold', t) };
  if (Object.keys(perColumn).length > 0 || o.driftShare !== undefined) {
    input.drift = { perColumn, ...(o.driftShare !== undefined ? { driftShare: number('--drift-share', o.driftShare) } : {}) };
  }
  if (o.alert.length > 0) input.alerts = o.alert;
  if (o.description !== undefined) input.description = o.description;
  return input;
}

export function registerMonitorCommands(program: Command): Command {
  const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  const monitors = program.command('monitors').description('monitors: drift, data quality, performance, latency and alerts on deployments and datasets');

  monitors
    .command('create')
    .description('create a monitor on a deployment (its prediction log) or a dataset (each new version)')
    .argument('<name>', 'monitor name')
    .option('--deployment <name>', 'watch this deployment')
    .option('--dataset <name>', 'watch each new version of this dataset')
    .option('--reference <ref>', 'reference dataset version (default for deployments: the served model\'s training dataset)')
    .option('--minutes <m>', 'time window: the last M minutes (default 60)')
    .option('--rows <n>', 'count window: the last N predictions')
    .option('--check <check>', 'feature_drift, prediction_drift, data_quality, performance, latency, errors (repeatable; default all)', collect, [])
    .option('--column <col>', 'a column to check (repeatable; default the model inputs)', collect, [])
    .option('--method <col=method>', 'drift method for a column, e.g. age=psi (repeatable)', collect, [])
    .option('--threshold <col=t>', 'drift threshold for a column (repeatable)', collect, [])
    .option('--drift-share <s>', 'dataset drift when this share of columns drift (default 0.5)')
    .option('--alert <rule>', 'alert rule, e.g. "drift: feature_drift_share >= 0.5 for 3 resolve 2" (repeatable)', collect, [])
    .option('--description <text>', 'what the monitor is for')
    .option('--json', 'print the monitor as JSON')
    .action(async (name: string, opts: CreateOptions, cmd: Command) => {
      const input = monitorInputFromOptions(name, opts);
      const m = await withMonitors(globalsOf(cmd), (s) => s.create(input));
      if (opts.json) return print(toJson(m));
      print(`Monitor ${m.name} on ${targetOf(m)}, window ${windowOf(m)}, checks ${m.checks.join(', ')}.`);
    });

  monitors
    .command('ls')
    .description('list monitors')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await withMonitors(globalsOf(cmd), (s) => s.list());
      if (opts.json) return print(toJson({ items: list }));
      if (list.length === 0) return print('No monitors.');
      print(
        renderTable(
          [{ header: 'NAME' }, { header: 'TARGET', maxWidth: 50 }, { header: 'WINDOW' }, { header: 'REFERENCE' }, { header: 'RUNS', align: 'right' }, { header: 'LAST RUN' }],
          list.map((m) => [m.name, targetOf(m), windowOf(m), m.reference ?? 'training data', String(m.executions), formatTime(m.lastRunTime)]),
        ),
      );
    });

  monitors
    .command('show')
    .description('a monitor and the state of its alert rules')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const [m, states] = await withMonitors(globalsOf(cmd), async (s) => [await s.get(name), await s.alertStates(name)] as const);
      if (opts.json) return print(toJson({ ...m, alertStates: states }));
      const lines: [string, string][] = [
        ['Name', m.name],
        ['Target', targetOf(m)],
        ['Reference', m.reference ?? "the served model's training dataset"],
        ['Window', windowOf(m)],
        ['Checks', m.checks.join(', ')],
        ['Columns', m.columns?.join(', ') ?? 'default'],
        ['Executions', String(m.executions)],
        ['Last run', formatTime(m.lastRunTime)],
      ];
      for (const rule of m.alerts) lines.push(['Alert', rule]);
      for (const [rule, st] of Object.entries(states)) lines.push([`Alert ${rule}`, st.status]);
      print(renderPairs(lines));
    });

  monitors
    .command('run')
    .description('execute a monitor over the window ending now')
    .argument('<name>')
    .option('--now <ms>', 'end of the window, epoch milliseconds (default: now)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { now?: string; json?: boolean }, cmd: Command) => {
      const now = opts.now === undefined ? undefined : number('--now', opts.now);
      const r = await withMonitors(globalsOf(cmd), (s) => s.run(name, now === undefined ? {} : { now }));
      if (opts.json) return print(toJson(r));
      print(renderRun(r));
    });

  monitors
    .command('rm')
    .description('delete a monitor (its runs stay)')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withMonitors(globalsOf(cmd), (s) => s.delete(name));
      print(`Deleted monitor ${name}.`);
    });
  return monitors;
}
