/**
 * Alert rules: a threshold on one monitor metric, with hysteresis counts.
 * A rule is plain data (stored as JSON, written by whoever configures the
 * monitor) or one line of text such as
 * `feature_drift_share >= 0.5 for 3 resolve 2 severity critical`.
 * The condition says when a window is BAD (the alert condition), as in
 * Prometheus: `latency_p99 > 250` fires on high latency.
 *
 * Text grammar (keywords in any order after the comparison, each at most once):
 *
 *   line    := (name ":")? metric op number clause*
 *   clause  := "for" count | "resolve" count | "severity" ("info" | "warning" | "critical")
 *   metric  := ident ("." ident)*      ident := [A-Za-z_][A-Za-z0-9_]*
 *   op      := ">" | ">=" | "<" | "<=" | "==" | "!="
 *   number  := ("-" | "−")? digits ("." digits)? (("e" | "E") ("+" | "-")? digits)?
 *   count   := a whole number ≥ 1
 *
 * Written by hand in the style of src/automation/gates.ts (whose tokenizer
 * and comparator are private to that module): no eval, errors name the rule
 * and a 1-based column.
 */
import { invalidArgument } from '../../core/errors.js';

export const ALERT_OPS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type AlertOp = (typeof ALERT_OPS)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** A rule as a user writes it: only name, metric, op and threshold are required. */
export interface AlertRuleInput {
  name: string;
  metric: string;
  op: AlertOp;
  threshold: number;
  /** Consecutive bad windows before the alert fires (default 1: fire on the first). */
  for?: number;
  /** Consecutive good windows before a firing alert resolves (default 1). */
  resolveAfter?: number;
  severity?: AlertSeverity;
  labels?: Record<string, string>;
}

/** A validated rule with every default filled in. */
export interface AlertRule {
  name: string;
  metric: string;
  op: AlertOp;
  threshold: number;
  for: number;
  resolveAfter: number;
  severity: AlertSeverity;
  labels: Record<string, string>;
}

export const DEFAULT_SEVERITY: AlertSeverity = 'warning';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const METRIC_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** True when `value` is BAD under the rule (the alert condition holds). `==` and `!=` compare exactly. */
export function isBad(rule: Pick<AlertRule, 'op' | 'threshold'>, value: number): boolean {
  const t = rule.threshold;
  switch (rule.op) {
    case '>':
      return value > t;
    case '>=':
      return value >= t;
    case '<':
      return value < t;
    case '<=':
      return value <= t;
    case '==':
      return value === t;
    case '!=':
      return value !== t;
  }
}

const label = (name: unknown) => (typeof name === 'string' && name !== '' ? `alert rule "${name}"` : 'alert rule');

/**
 * Checks a rule given as data (for example read back from JSON) and fills the
 * defaults. FW_INVALID_ARGUMENT names the rule and the field.
 */
export function validateAlertRule(input: unknown): AlertRule {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidArgument('an alert rule must be an object');
  const r = input as Record<string, unknown>;
  const where = label(r.name);
  const fail = (field: string, msg: string): never => {
    throw invalidArgument(`${where}: "${field}" ${msg}`, { rule: r.name, field });
  };
  if (typeof r.name !== 'string' || !NAME_RE.test(r.name)) fail('name', 'must be a non-empty name of letters, digits, "_" or "-", starting with a letter or "_"');
  if (typeof r.metric !== 'string' || !METRIC_RE.test(r.metric)) fail('metric', 'must be a metric name such as feature_drift_share or drift.age.statistic');
  if (typeof r.op !== 'string' || !(ALERT_OPS as readonly string[]).includes(r.op)) fail('op', `must be one of ${ALERT_OPS.join(' ')}`);
  if (typeof r.threshold !== 'number' || !Number.isFinite(r.threshold)) fail('threshold', 'must be a finite number');
  const count = (field: 'for' | 'resolveAfter'): number => {
    const v = r[field];
    if (v === undefined) return 1;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(field, 'must be a whole number of windows, at least 1');
    return v as number;
  };
  const forCount = count('for');
  const resolveAfter = count('resolveAfter');
  const severity = r.severity ?? DEFAULT_SEVERITY;
  if (typeof severity !== 'string' || !(ALERT_SEVERITIES as readonly string[]).includes(severity)) fail('severity', `must be one of ${ALERT_SEVERITIES.join(', ')}`);
  const labels: Record<string, string> = {};
  if (r.labels !== undefined) {
    if (typeof r.labels !== 'object' || r.labels === null || Array.isArray(r.labels)) fail('labels', 'must be an object of string values');
    for (const [k, v] of Object.entries(r.labels as object)) {
      if (k === '') fail('labels', 'must not have an empty key');
      if (typeof v !== 'string') fail(`labels.${k}`, 'must be a string');
      labels[k] = v as string;
    }
  }
  return {
    name: r.name as string,
    metric: r.metric as string,
    op: r.op as AlertOp,
    threshold: r.threshold as number,
    for: forCount,
    resolveAfter,
    severity: severity as AlertSeverity,
    labels,
  };
}

type Token =
  | { t: 'num'; value: number; text: string; pos: number }
  | { t: 'ident'; value: string; pos: number }
  | { t: 'op'; value: string; pos: number }
  | { t: 'end'; pos: number };

// Longest first, so ">=" is not read as ">" then "=".
const OPS = ['>=', '<=', '==', '!=', '>', '<', ':', '.'];

/** Extra fields for a rule parsed from text: a name when the line has none, severity and labels. */
export interface AlertRuleDefaults {
  name?: string;
  severity?: AlertSeverity;
  labels?: Record<string, string>;
}

/**
 * Parses the one-line form. The name comes from a `name:` prefix or from
 * `defaults.name` (the prefix wins); `severity` in the line wins over
 * `defaults.severity`. FW_INVALID_ARGUMENT names the rule and the column.
 */
export function parseAlertRule(text: string, defaults: AlertRuleDefaults = {}): AlertRule {
  if (typeof text !== 'string' || text.trim() === '') throw invalidArgument(`${label(defaults.name)}: the rule text must be a non-empty string`);
  let name = defaults.name;
  const syntaxError = (pos: number, message: string): never => {
    throw invalidArgument(`${label(name)} "${text}": ${message} at column ${pos + 1}`, { rule: name, column: pos + 1 });
  };

  const tokens: Token[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // A sign is part of a number only where a number may start (after an operator).
    const num = /^[-−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    const prev = tokens[tokens.length - 1];
    if (num && !(c === '.' && prev?.t === 'ident')) {
      const value = Number(num[0].replace('−', '-'));
      tokens.push({ t: 'num', value, text: num[0], pos: i });
      i += num[0].length;
      if (i < text.length && /[A-Za-z_]/.test(text[i])) syntaxError(i, `unexpected "${text[i]}" after a number`);
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
    if (id) {
      tokens.push({ t: 'ident', value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ t: 'op', value: op, pos: i });
      i += op.length;
      continue;
    }
    syntaxError(i, `unexpected character "${c}"`);
  }
  tokens.push({ t: 'end', pos: text.length });

  let k = 0;
  const describe = (tok: Token) => (tok.t === 'end' ? 'end of rule' : `"${tok.t === 'num' ? tok.text : tok.value}"`);
  const isOp = (tok: Token, v: string) => tok.t === 'op' && tok.value === v;

  // Optional "name:" prefix.
  if (tokens[0].t === 'ident' && isOp(tokens[1], ':')) {
    name = tokens[0].value;
    k = 2;
  }

  const metricStart = tokens[k];
  if (metricStart.t !== 'ident') return syntaxError(metricStart.pos, `expected a metric name but found ${describe(metricStart)}`);
  const parts = [metricStart.value];
  k++;
  while (isOp(tokens[k], '.')) {
    k++;
    const next = tokens[k];
    if (next.t !== 'ident') syntaxError(next.pos, `expected a name after "." but found ${describe(next)}`);
    parts.push((next as { value: string }).value);
    k++;
  }
  const metric = parts.join('.');
  if (!METRIC_RE.test(metric)) syntaxError(metricStart.pos, `"${metric}" is not a metric name (letters, digits and "_", joined by ".")`);

  const opTok = tokens[k];
  if (!(opTok.t === 'op' && (ALERT_OPS as readonly string[]).includes(opTok.value))) {
    return syntaxError(opTok.pos, `expected a comparison (${ALERT_OPS.join(' ')}) but found ${describe(opTok)}`);
  }
  const op = opTok.value as AlertOp;
  k++;
  const thrTok = tokens[k];
  if (thrTok.t !== 'num') return syntaxError(thrTok.pos, `expected a number after "${op}" but found ${describe(thrTok)}`);
  if (!Number.isFinite(thrTok.value)) syntaxError(thrTok.pos, `the threshold ${thrTok.text} is not a finite number`);
  k++;

  const seen = new Map<string, number>();
  let forCount: number | undefined;
  let resolveAfter: number | undefined;
  let severity: AlertSeverity | undefined;
  const count = (keyword: string): number => {
    const tok = tokens[k];
    if (tok.t !== 'num' || !Number.isSafeInteger(tok.value) || tok.value < 1 || !/^\d+$/.test(tok.text)) {
      return syntaxError(tok.pos, `"${keyword}" needs a whole number of windows (at least 1) but found ${describe(tok)}`);
    }
    k++;
    return tok.value;
  };
  for (let tok = tokens[k]; tok.t !== 'end'; tok = tokens[k]) {
    if (tok.t !== 'ident' || !['for', 'resolve', 'severity'].includes(tok.value)) {
      syntaxError(tok.pos, `expected "for", "resolve", "severity" or the end of the rule but found ${describe(tok)}`);
    }
    const keyword = (tok as { value: string }).value;
    if (seen.has(keyword)) syntaxError(tok.pos, `"${keyword}" is given twice (first at column ${seen.get(keyword)! + 1})`);
    seen.set(keyword, tok.pos);
    k++;
    if (keyword === 'for') forCount = count('for');
    else if (keyword === 'resolve') resolveAfter = count('resolve');
    else {
      const sev = tokens[k];
      if (sev.t !== 'ident' || !(ALERT_SEVERITIES as readonly string[]).includes(sev.value)) {
        syntaxError(sev.pos, `"severity" needs one of ${ALERT_SEVERITIES.join(', ')} but found ${describe(sev)}`);
      }
      severity = (sev as { value: string }).value as AlertSeverity;
      k++;
    }
  }
  if (name === undefined) throw invalidArgument(`alert rule "${text}" has no name: write "name: ${text.trim()}" or pass a name`, { rule: null });

  return validateAlertRule({
    name,
    metric,
    op,
    threshold: thrTok.value,
    for: forCount,
    resolveAfter,
    severity: severity ?? defaults.severity,
    labels: defaults.labels,
  });
}

/** The one-line form of a rule (with its name prefix); `parseAlertRule` reads it back to an equal rule, labels aside. */
export function formatAlertRule(rule: AlertRule): string {
  let s = `${rule.name}: ${rule.metric} ${rule.op} ${rule.threshold}`;
  if (rule.for !== 1) s += ` for ${rule.for}`;
  if (rule.resolveAfter !== 1) s += ` resolve ${rule.resolveAfter}`;
  if (rule.severity !== DEFAULT_SEVERITY) s += ` severity ${rule.severity}`;
  return s;
}
