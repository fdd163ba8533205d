/**
 * MLflow's validation rules and limits (mlflow/utils/validation.py), so that a
 * client that works against MLflow works here and vice versa.
 */
import path from 'node:path';
import { FlywheelError, invalidArgument } from '../core/errors.js';

export const LIMITS = {
  maxMetricsPerBatch: 1000,
  maxParamsTagsPerBatch: 100,
  maxEntitiesPerBatch: 1000,
  maxBatchRequestBytes: 1_000_000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
  maxExperimentTagValueLength: 5000,
  maxExperimentNameLength: 500,
  maxRunNameLength: 250,
  searchRunsDefault: 1000,
  searchRunsMax: 50_000,
  searchExperimentsDefault: 1000,
  searchExperimentsMax: 50_000,
  metricHistoryMax: 25_000,
} as const;

// Python's \w is Unicode-aware: letters, digits, marks and connector punctuation.
const VALID_NAME = /^[/\p{L}\p{N}\p{M}\p{Pc}.\- ]*$/u;

/** True when the name, read as a file path, would name another path (MLflow's path_not_unique). */
function pathNotUnique(name: string): boolean {
  let norm = path.posix.normalize(name);
  if (norm.length > 1 && norm.endsWith('/')) norm = norm.slice(0, -1);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

// Keys already found valid: a training loop logs the same few keys thousands of times.
const validKeys = new Set<string>();
const VALID_KEYS_CAP = 10_000;

export function validateKey(kind: 'metric' | 'param' | 'tag', key: unknown): string {
  if (typeof key === 'string' && validKeys.has(key)) return key;
  if (typeof key !== 'string' || key === '') throw invalidArgument(`Missing value for required parameter 'key' of a ${kind}`);
  if (!VALID_NAME.test(key)) {
    throw invalidArgument(
      `Invalid value "${key}" for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
    );
  }
  if (pathNotUnique(key)) {
    throw invalidArgument(
      `Invalid value "${key}" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`,
    );
  }
  if (key.length > LIMITS.maxKeyLength) {
    throw invalidArgument(`${kind} key '${key.slice(0, 40)}…' had length ${key.length}, which exceeded length limit of ${LIMITS.maxKeyLength}`);
  }
  if (validKeys.size >= VALID_KEYS_CAP) validKeys.clear();
  validKeys.add(key);
  return key;
}

export function validateParamValue(key: string, value: unknown): string {
  const v = stringValue(value, `param '${key}'`);
  if (v.length > LIMITS.maxParamValueLength) {
    throw invalidArgument(`Param value '${v.slice(0, 40)}…' had length ${v.length}, which exceeded length limit of ${LIMITS.maxParamValueLength}`);
  }
  return v;
}

export function validateTagValue(key: string, value: unknown, limit: number = LIMITS.maxTagValueLength): string {
  const v = stringValue(value, `tag '${key}'`);
  if (v.length > limit) {
    throw invalidArgument(`Tag value '${v.slice(0, 40)}…' for key '${key}' had length ${v.length}, which exceeded length limit of ${limit}`);
  }
  return v;
}

function stringValue(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  // MLflow clients stringify params; numbers and booleans sent by hand-written clients are accepted the same way.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined || value === null) throw invalidArgument(`Missing value for ${what}`);
  throw invalidArgument(`Value for ${what} must be a string, got ${typeof value}`);
}

export function validateMetricValue(key: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    // Proto JSON spells non-finite doubles as strings.
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  throw invalidArgument(`Got invalid value ${JSON.stringify(value)} for metric '${key}' (timestamp and step are integers, value is a double)`);
}

/** int64 fields arrive as JSON numbers or, from proto-JSON clients, as decimal strings. */
export function validateInt64(field: string, value: unknown, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw invalidArgument(`Missing value for required parameter '${field}'`);
  }
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw invalidArgument(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected an integer`);
  }
  return n;
}

export function validateExperimentName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalidArgument(`Invalid experiment name: ${JSON.stringify(name)}. Expects a non-empty string.`);
  if (name.length > LIMITS.maxExperimentNameLength) {
    throw invalidArgument(`Experiment name had length ${name.length}, which exceeded length limit of ${LIMITS.maxExperimentNameLength}`);
  }
  return name;
}

export function validateMaxResults(value: unknown, def: number, max: number, field = 'max_results'): number {
  const n = validateInt64(field, value, def);
  if (n < 1 || n > max) {
    throw new FlywheelError('FW_LIMIT_EXCEEDED', `Invalid value ${n} for parameter '${field}' supplied. It must be at least 1 and at most ${max}.`);
  }
  return n;
}
