/**
 * What a monitor is: the target it watches (a deployment's prediction log or
 * a dataset's versions), the reference it compares with, the window, the
 * checks, and the alert rules over its metrics. `validateMonitorInput` is the
 * one gate a definition passes on the way in (FW_INVALID_ARGUMENT naming the
 * field); the stored JSON is the validated form.
 */
import { invalidArgument } from '../../core/errors.js';
import { parseAlertRule, type AlertRule } from '../alerts/index.js';
import { DRIFT_METHODS, type DriftMethod } from '../drift/index.js';
import type { ColumnDriftOptions } from '../drift/index.js';

export const MONITOR_CHECKS = ['feature_drift', 'prediction_drift', 'data_quality', 'performance', 'latency', 'errors'] as const;
export type MonitorCheck = (typeof MONITOR_CHECKS)[number];

/** Checks that only make sense on a deployment's prediction log. */
export const DEPLOYMENT_ONLY_CHECKS: readonly MonitorCheck[] = ['prediction_drift', 'performance', 'latency', 'errors'];

export type MonitorTarget = { kind: 'deployment'; deployment: string } | { kind: 'dataset'; dataset: string };
export type MonitorWindow = { kind: 'time'; minutes: number } | { kind: 'count'; rows: number };

export interface MonitorInput {
  name: string;
  target: MonitorTarget;
  /** A dataset version (`orders@3`, `orders@latest`), or null: the served model's training dataset version (from its manifest). */
  reference?: string | null;
  /** Default: the last 60 minutes. Ignored by dataset monitors (each execution checks the dataset's latest version). */
  window?: MonitorWindow;
  /** Default: every check the target supports. */
  checks?: MonitorCheck[];
  /** Columns to check; default the served model's signature inputs (deployment) or every reference column (dataset). */
  columns?: string[];
  drift?: { driftShare?: number; perColumn?: Record<string, { method?: DriftMethod; threshold?: number }> };
  /** One-line alert rules, e.g. `drift: feature_drift_share >= 0.5 for 2 resolve 1`. */
  alerts?: string[];
  description?: string;
}

export interface MonitorDefinition {
  name: string;
  description: string;
  target: MonitorTarget;
  reference: string | null;
  window: MonitorWindow;
  checks: MonitorCheck[];
  columns: string[] | null;
  drift: { driftShare: number | null; perColumn: Record<string, ColumnDriftOptions> };
  alerts: string[];
}

export interface Monitor extends MonitorDefinition {
  monitorId: string;
  executions: number;
  lastRunTime: number | null;
  creationTime: number;
  lastUpdatedTime: number;
}

export const DEFAULT_WINDOW: MonitorWindow = { kind: 'time', minutes: 60 };
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown) => typeof v === 'string' && v.trim() !== '';

export function validateMonitorName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw invalidArgument('monitor "name" must be 1-128 letters, digits, "_", "." or "-", starting with a letter or digit', { field: 'name' });
  }
  return name;
}

/** The alert rules of a definition, parsed (each rule named `alert<i>` unless the line names it). */
export function parseMonitorAlerts(lines: readonly string[]): AlertRule[] {
  const rules = lines.map((line, i) => parseAlertRule(line, { name: `alert${i + 1}` }));
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.name)) throw invalidArgument(`alert rule name "${r.name}" is used twice in this monitor`, { field: 'alerts', rule: r.name });
    seen.add(r.name);
  }
  return rules;
}

/** Checks the shape of a monitor definition and fills defaults; existence of targets and columns is checked by the service. */
export function validateMonitorInput(input: unknown): MonitorDefinition {
  if (!isObject(input)) throw invalidArgument('a monitor must be an object');
  const name = validateMonitorName(input.name);
  const fail = (field: string, msg: string): never => {
    throw invalidArgument(`monitor "${name}": "${field}" ${msg}`, { field });
  };

  const t = input.target;
  let target: MonitorTarget;
  if (!isObject(t)) return fail('target', 'must be {kind: "deployment", deployment} or {kind: "dataset", dataset}');
  if (t.kind === 'deployment') {
    if (!nonEmpty(t.deployment)) fail('target.deployment', 'must name a deployment');
    target = { kind: 'deployment', deployment: t.deployment as string };
  } else if (t.kind === 'dataset') {
    if (!nonEmpty(t.dataset) || String(t.dataset).includes('@')) fail('target.dataset', 'must name a dataset (without @version: every new version is checked)');
    target = { kind: 'dataset', dataset: t.dataset as string };
  } else return fail('target.kind', 'must be "deployment" or "dataset"');

  let reference: string | null = null;
  if (input.reference !== undefined && input.reference !== null) {
    if (!nonEmpty(input.reference)) fail('reference', 'must be a dataset version such as orders@3, or null');
    reference = (input.reference as string).trim();
  }
  if (reference === null && target.kind === 'dataset') fail('reference', 'is required for a dataset monitor (there is no served model to take the training data from)');

  let window: MonitorWindow = DEFAULT_WINDOW;
  const w = input.window;
  if (w !== undefined) {
    if (!isObject(w)) return fail('window', 'must be {kind: "time", minutes} or {kind: "count", rows}');
    if (w.kind === 'time') {
      if (typeof w.minutes !== 'number' || !(w.minutes > 0) || !Number.isFinite(w.minutes)) fail('window.minutes', 'must be a positive number of minutes');
      window = { kind: 'time', minutes: w.minutes as number };
    } else if (w.kind === 'count') {
      if (typeof w.rows !== 'number' || !Number.isSafeInteger(w.rows) || (w.rows as number) < 1 || (w.rows as number) > 1_000_000) fail('window.rows', 'must be a whole number of rows from 1 to 1000000');
      window = { kind: 'count', rows: w.rows as number };
    } else return fail('window.kind', 'must be "time" or "count"');
  }

  const supported = MONITOR_CHECKS.filter((c) => target.kind === 'deployment' || !DEPLOYMENT_ONLY_CHECKS.includes(c));
  let checks: MonitorCheck[] = [...supported];
  if (input.checks !== undefined) {
    if (!Array.isArray(input.checks) || input.checks.length === 0) fail('checks', `must be a non-empty list of ${MONITOR_CHECKS.join(', ')}`);
    for (const c of input.checks as unknown[]) {
      if (!(MONITOR_CHECKS as readonly unknown[]).includes(c)) fail('checks', `has "${String(c)}"; known checks are ${MONITOR_CHECKS.join(', ')}`);
      if (!supported.includes(c as MonitorCheck)) fail('checks', `has "${String(c)}", which needs a deployment target`);
    }
    checks = MONITOR_CHECKS.filter((c) => (input.checks as unknown[]).includes(c));
  }

  let columns: string[] | null = null;
  if (input.columns !== undefined && input.columns !== null) {
    if (!Array.isArray(input.columns) || input.columns.length === 0 || !input.columns.every(nonEmpty)) fail('columns', 'must be a non-empty list of column names');
    columns = [...new Set(input.columns as string[])];
  }

  const drift: MonitorDefinition['drift'] = { driftShare: null, perColumn: {} };
  if (input.drift !== undefined) {
    const d = input.drift;
    if (!isObject(d)) return fail('drift', 'must be {driftShare?, perColumn?}');
    if (d.driftShare !== undefined) {
      if (typeof d.driftShare !== 'number' || !(d.driftShare >= 0 && d.driftShare <= 1)) fail('drift.driftShare', 'must be a number within [0, 1]');
      drift.driftShare = d.driftShare as number;
    }
    if (d.perColumn !== undefined) {
      if (!isObject(d.perColumn)) return fail('drift.perColumn', 'must map column names to {method?, threshold?}');
      for (const [col, o] of Object.entries(d.perColumn)) {
        if (!isObject(o)) return fail(`drift.perColumn.${col}`, 'must be {method?, threshold?}');
        const opts: ColumnDriftOptions = {};
        if (o.method !== undefined) {
          if (!(DRIFT_METHODS as readonly unknown[]).includes(o.method)) fail(`drift.perColumn.${col}.method`, `must be one of ${DRIFT_METHODS.join(', ')}`);
          opts.method = o.method as DriftMethod;
        }
        if (o.threshold !== undefined) {
          if (typeof o.threshold !== 'number' || !(o.threshold >= 0) || !Number.isFinite(o.threshold)) fail(`drift.perColumn.${col}.threshold`, 'must be a finite number ≥ 0');
          opts.threshold = o.threshold as number;
        }
        drift.perColumn[col] = opts;
      }
      if (columns) for (const col of Object.keys(drift.perColumn)) if (!columns.includes(col)) fail(`drift.perColumn.${col}`, 'names a column that is not in "columns"');
    }
  }

  let alerts: string[] = [];
  if (input.alerts !== undefined) {
    if (!Array.isArray(input.alerts) || !input.alerts.every((a) => typeof a === 'string')) fail('alerts', 'must be a list of rule lines');
    alerts = (input.alerts as string[]).map((a) => a.trim());
    parseMonitorAlerts(alerts);
  }

  let description = '';
  if (input.description !== undefined) {
    if (typeof input.description !== 'string') fail('description', 'must be a string');
    description = input.description as string;
  }
  return { name, description, target, reference, window, checks, columns, drift, alerts };
}
