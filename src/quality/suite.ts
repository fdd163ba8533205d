/**
 * Reads and checks suite definitions: YAML text, a JSON body or a TypeScript
 * object all go through `parseSuite`, which rejects anything it does not
 * understand with a message naming the check (`checks[2] (between)`), the
 * field and — for YAML — the line and column. The result is a normalized
 * Suite with every default filled in, and `suiteHash` names it by content.
 *
 * This is the structural half of validation; whether the columns exist in a
 * dataset is checked against its schema just before running (see bind.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { invalidArgument } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import type { Check, CheckType, Severity, Suite, SuiteSpec } from './types.js';

export const CHECK_TYPES: readonly CheckType[] = [
  'column_exists',
  'column_type',
  'not_null',
  'unique',
  'in_set',
  'between',
  'regex',
  'length',
  'row_count',
  'freshness',
  'referential',
  'sql',
  'mean_within',
  'std_within',
  'psi',
  'no_new_categories',
];

/** Checks whose `mostly` applies (they judge rows one by one). */
const MOSTLY_TYPES: ReadonlySet<CheckType> = new Set(['not_null', 'unique', 'in_set', 'between', 'regex', 'length', 'referential', 'sql']);

export const DEFAULT_PSI_THRESHOLD = 0.2;

const SUITE_KEYS = new Set(['name', 'dataset', 'description', 'checks']);
const COMMON_KEYS = ['type', 'name', 'severity'];

/** Where a problem is: `checks[2] (between)`, plus a YAML position when known. */
type Locate = (checkIndex: number | null) => string;

class SuiteError extends Error {}

/** Reads one check object field by field and remembers which keys it used. */
class Fields {
  private readonly used = new Set<string>(COMMON_KEYS);
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly where: string,
  ) {}

  private fail(message: string): never {
    throw new SuiteError(`${this.where}: ${message}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    this.used.add(key);
    const v = this.obj[key];
    if (v === undefined || v === null) return required ? this.fail(`missing field "${key}"`) : undefined;
    if (typeof v !== 'string' || v.trim() === '') this.fail(`field "${key}" must be a non-empty string`);
    return v;
  }

  number(key: string, opts: { required?: boolean; min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    this.used.add(key);
    const v = this.obj[key];
    if (v === undefined || v === null) return opts.required ? this.fail(`missing field "${key}"`) : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`field "${key}" must be a number`);
    if (opts.integer && !Number.isInteger(v)) this.fail(`field "${key}" must be a whole number`);
    if (opts.min !== undefined && v < opts.min) this.fail(`field "${key}" must be at least ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail(`field "${key}" must be at most ${opts.max}`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    this.used.add(key);
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(`field "${key}" must be true or false`);
    return v;
  }

  /** A bound of `between`: a number, or a string (dates, timestamps, text). */
  bound(key: string): number | string | undefined {
    this.used.add(key);
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v !== '') return v;
    this.fail(`field "${key}" must be a number or a string`);
  }

  stringList(key: string, required: boolean): string[] | undefined {
    this.used.add(key);
    const v = this.obj[key];
    if (v === undefined || v === null) return required ? this.fail(`missing field "${key}"`) : undefined;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string' || x === '')) {
      this.fail(`field "${key}" must be a non-empty list of strings`);
    }
    return list as string[];
  }

  values(key: string): (string | number | boolean)[] {
    this.used.add(key);
    const v = this.obj[key];
    if (v === undefined || v === null) this.fail(`missing field "${key}"`);
    if (!Array.isArray(v) || v.length === 0) this.fail(`field "${key}" must be a non-empty list`);
    for (const [i, x] of v.entries()) {
      if (x === null) this.fail(`${key}[${i}] is null; nulls are never judged by in_set (use not_null)`);
      if (!['string', 'number', 'boolean'].includes(typeof x) || (typeof x === 'number' && !Number.isFinite(x))) {
        this.fail(`${key}[${i}] must be a string, number or boolean`);
      }
    }
    return v as (string | number | boolean)[];
  }

  /** Rejects keys no reader asked for (typos such as `colum`). */
  done(): void {
    const unknown = Object.keys(this.obj).filter((k) => !this.used.has(k));
    if (unknown.length > 0) this.fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `24h`, `7d`, `2w`, `1h30m` → milliseconds; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(compact)) return undefined;
  let total = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(amount) * DURATION_UNITS[unit];
  return total;
}

function defaultName(check: Check): string {
  switch (check.type) {
    case 'row_count':
      return 'row_count';
    case 'sql':
      return `sql(${check.expect.length > 40 ? check.expect.slice(0, 39) + '…' : check.expect})`;
    case 'unique':
      return `unique(${(check.columns ?? []).join(', ')})`;
    case 'referential':
      return `referential(${check.column} → ${check.ref_dataset}.${check.ref_column})`;
    default:
      return `${check.type}(${check.column})`;
  }
}

function referenceOf(f: Fields, dataset: string, where: string): string {
  const ref = f.string('reference') ?? 'previous';
  if (ref === 'previous') return ref;
  if (/^@/.test(ref)) return `${dataset}${ref}`;
  if (/^\d+$/.test(ref)) return `${dataset}@${ref}`;
  if (!/^[^@\s]+@[^@\s]+$/.test(ref) && !/^[^@\s]+$/.test(ref)) throw new SuiteError(`${where}: field "reference" must be "previous" or a version ref such as "${dataset}@2"`);
  return ref;
}

function parseCheck(raw: unknown, index: number, dataset: string): Check {
  const at = `checks[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SuiteError(`${at}: a check must be a mapping with a "type"`);
  const obj = raw as Record<string, unknown>;
  if (obj.type === undefined) throw new SuiteError(`${at}: missing field "type" (one of ${CHECK_TYPES.join(', ')})`);
  if (typeof obj.type !== 'string' || !CHECK_TYPES.includes(obj.type as CheckType)) {
    throw new SuiteError(`${at}: unknown check type ${JSON.stringify(obj.type)} (expected one of ${CHECK_TYPES.join(', ')})`);
  }
  const type = obj.type as CheckType;
  const where = `${at} (${type})`;
  const f = new Fields(obj, where);
  const severity = (f.string('severity') ?? 'error') as Severity;
  if (severity !== 'error' && severity !== 'warn') throw new SuiteError(`${where}: field "severity" must be "warn" or "error"`);
  const name = f.string('name');
  let mostly: number | undefined;
  if (MOSTLY_TYPES.has(type)) mostly = f.number('mostly', { min: 0, max: 1 }) ?? 1;
  else if (f.has('mostly')) throw new SuiteError(`${where}: field "mostly" does not apply to ${type} checks`);

  let check: Check;
  switch (type) {
    case 'column_exists':
      check = { type, column: f.string('column', true) };
      break;
    case 'column_type':
      check = { type, column: f.string('column', true), dtype: f.stringList('dtype', true)! };
      break;
    case 'not_null':
      check = { type, column: f.string('column', true) };
      break;
    case 'unique': {
      const column = f.string('column');
      const columns = f.stringList('columns', false);
      if (column && columns) throw new SuiteError(`${where}: give "column" or "columns", not both`);
      if (!column && !columns) throw new SuiteError(`${where}: missing field "column" (or "columns" for a compound key)`);
      const list = columns ?? [column!];
      if (new Set(list).size !== list.length) throw new SuiteError(`${where}: field "columns" names a column twice`);
      check = { type, columns: list };
      break;
    }
    case 'in_set':
      check = { type, column: f.string('column', true), values: f.values('values') };
      break;
    case 'between': {
      const column = f.string('column', true);
      const min = f.bound('min');
      const max = f.bound('max');
      if (min === undefined && max === undefined) throw new SuiteError(`${where}: give "min", "max" or both`);
      if (typeof min === 'number' && typeof max === 'number' && min > max) throw new SuiteError(`${where}: "min" (${min}) is greater than "max" (${max})`);
      check = { type, column, min, max, min_inclusive: f.boolean('min_inclusive', true), max_inclusive: f.boolean('max_inclusive', true) };
      break;
    }
    case 'regex':
      check = { type, column: f.string('column', true), pattern: f.string('pattern', true) };
      break;
    case 'length':
    case 'row_count': {
      const column = type === 'length' ? f.string('column', true) : undefined;
      const min = f.number('min', { min: 0, integer: true });
      const max = f.number('max', { min: 0, integer: true });
      if (min === undefined && max === undefined) throw new SuiteError(`${where}: give "min", "max" or both`);
      if (min !== undefined && max !== undefined && min > max) throw new SuiteError(`${where}: "min" (${min}) is greater than "max" (${max})`);
      check = type === 'length' ? { type, column: column!, min, max } : { type, min, max };
      break;
    }
    case 'freshness': {
      const column = f.string('column', true);
      const maxAge = f.string('max_age', true);
      if (parseDuration(maxAge) === undefined) throw new SuiteError(`${where}: field "max_age" must be a duration such as 90s, 30m, 24h, 7d or 1h30m (got "${maxAge}")`);
      check = { type, column, max_age: maxAge };
      break;
    }
    case 'referential': {
      const column = f.string('column', true);
      const refDataset = f.string('ref_dataset', true);
      check = { type, column, ref_dataset: refDataset, ref_column: f.string('ref_column') ?? column };
      break;
    }
    case 'sql':
      check = { type, expect: f.string('expect', true) };
      break;
    case 'mean_within':
    case 'std_within':
      check = { type, column: f.string('column', true), reference: referenceOf(f, dataset, where), tolerance: f.number('tolerance', { required: true, min: 0 })! };
      break;
    case 'psi':
      check = { type, column: f.string('column', true), reference: referenceOf(f, dataset, where), threshold: f.number('threshold', { min: 0 }) ?? DEFAULT_PSI_THRESHOLD };
      if (check.threshold === 0) throw new SuiteError(`${where}: field "threshold" must be greater than 0`);
      break;
    case 'no_new_categories':
      check = { type, column: f.string('column', true), reference: referenceOf(f, dataset, where) };
      break;
  }
  f.done();
  const out = { ...check, severity } as Check & { mostly?: number };
  if (mostly !== undefined) out.mostly = mostly;
  out.name = name ?? defaultName(out);
  return out;
}

function parseWith(value: unknown, locate: Locate): Suite {
  const fail = (index: number | null, message: string): never => {
    throw invalidArgument(`${locate(index)}${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(null, 'a suite must be a mapping with "name", "dataset" and "checks"');
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !SUITE_KEYS.has(k));
  if (unknown.length > 0) fail(null, `unknown suite field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`);
  for (const key of ['name', 'dataset'] as const) {
    if (obj[key] === undefined || obj[key] === null) fail(null, `missing field "${key}"`);
    if (typeof obj[key] !== 'string' || (obj[key] as string).trim() === '') fail(null, `field "${key}" must be a non-empty string`);
  }
  const dataset = obj.dataset as string;
  if (/[@\s/\\]/.test(dataset)) fail(null, `field "dataset" must be a dataset name without a version ("${dataset}")`);
  if (obj.description !== undefined && typeof obj.description !== 'string') fail(null, 'field "description" must be a string');
  if (!Array.isArray(obj.checks) || obj.checks.length === 0) fail(null, 'field "checks" must be a non-empty list');
  const checks = (obj.checks as unknown[]).map((raw, i) => {
    try {
      return parseCheck(raw, i, dataset);
    } catch (err) {
      if (err instanceof SuiteError) return fail(i, err.message);
      throw err;
    }
  });
  const suite: Suite = { name: obj.name as string, dataset, checks };
  if (typeof obj.description === 'string') suite.description = obj.description;
  return suite;
}

/** Validates a suite given as a plain value (a JSON body, a parsed file). */
export function parseSuite(value: unknown, source = 'suite'): Suite {
  return parseWith(value, () => `${source}: `);
}

/** A suite in TypeScript; throws FW_INVALID_ARGUMENT as the YAML form would. */
export function defineSuite(spec: SuiteSpec): Suite {
  return parseSuite(spec, `suite ${JSON.stringify(spec?.name ?? '')}`);
}

/**
 * Parses YAML suite text. Syntax errors and check errors report
 * `source:line:column`. When the document has no `name`, `defaultName` is
 * used (the file's base name for files).
 */
export function parseSuiteYaml(text: string, source = 'suite.yaml', defaultName?: string): Suite {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
    const firstLine = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw invalidArgument(`${source}:${pos.line}:${pos.col}: YAML syntax error: ${firstLine}`);
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (defaultName && typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Record<string, unknown>).name === undefined) {
    (value as Record<string, unknown>).name = defaultName;
  }
  const locate: Locate = (index) => {
    const node = index === null ? doc.contents : doc.getIn(['checks', index], true);
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    const pos = lineCounter.linePos(offset);
    return `${source}:${pos.line}:${pos.col}: `;
  };
  return parseWith(value, locate);
}

/** Reads a suite file: YAML (.yaml/.yml) or JSON (.json); the name defaults to the file's base name. */
export function loadSuiteFile(file: string): Suite {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalidArgument(code === 'ENOENT' ? `suite file ${file} does not exist` : `cannot read suite file ${file}: ${(err as Error).message}`);
  }
  const base = path.basename(file).replace(/\.(ya?ml|json)$/i, '');
  // JSON is YAML, so one parser serves both and reports positions the same way.
  return parseSuiteYaml(text, file, base);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** sha256 of the normalized suite with sorted keys: equal suites hash equal however they were written. */
export function suiteHash(suite: Suite): string {
  return sha256Hex(JSON.stringify(canonical(suite)));
}
