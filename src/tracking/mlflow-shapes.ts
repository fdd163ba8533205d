/**
 * Translation between MLflow's REST JSON (protobuf JSON of mlflow/protos/service.proto,
 * as MLflow's server writes it with `message_to_json`) and Flywheel's tracking types.
 * Outbound: snake_case fields in proto field order, int64 as JSON numbers, enums as
 * names, non-finite doubles as "NaN"/"Infinity"/"-Infinity", and unset optional or
 * empty repeated fields left out, as protobuf JSON does. Inbound: `MlflowArgs` reads a
 * request's fields (query string for GET, JSON body otherwise) with MLflow's checks and
 * messages, so handlers stay one call to the TrackingService.
 */
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { RUN_STATUSES, VIEW_TYPES, type Experiment, type Metric, type Run, type RunInfo, type RunStatus, type ViewType } from './types.js';

// ------------------------------------------------------------------ outbound

export type Json = Record<string, unknown>;

/** A proto `double`: non-finite values are spelled as strings in protobuf JSON. */
export function doubleToJson(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  return v;
}

/**
 * Metric values as proto JSON. The store keeps ±Infinity as ±max double (as MLflow's
 * SQL store does) and reads them back as ±Infinity (src/tracking/store.ts), so they go
 * out as "Infinity"/"-Infinity", what was logged.
 */
export function metricValueToJson(v: number): number | string {
  return doubleToJson(v);
}

function keyValues(record: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

/** `mlflow.Experiment`; times only when set (non-zero) and tags only when there are some, as MLflow's Experiment.to_proto. */
export function experimentToJson(e: Experiment): Json {
  const out: Json = {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
  };
  if (e.lastUpdateTime) out.last_update_time = e.lastUpdateTime;
  if (e.creationTime) out.creation_time = e.creationTime;
  const tags = keyValues(e.tags);
  if (tags.length) out.tags = tags;
  return out;
}

/** `mlflow.RunInfo`; end_time and artifact_uri only when set, as MLflow's RunInfo.to_proto. */
export function runInfoToJson(info: RunInfo): Json {
  const out: Json = {
    run_uuid: info.runId,
    experiment_id: info.experimentId,
    run_name: info.runName,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
  };
  if (info.endTime) out.end_time = info.endTime;
  if (info.artifactUri) out.artifact_uri = info.artifactUri;
  out.lifecycle_stage = info.lifecycleStage;
  out.run_id = info.runId;
  return out;
}

/** `mlflow.Metric`. */
export function metricToJson(m: Metric): Json {
  return { key: m.key, value: metricValueToJson(m.value), timestamp: m.timestamp, step: m.step };
}

/** `mlflow.Run`: data is always present (possibly `{}`), inputs is `{}` (dataset inputs are not stored). */
export function runToJson(run: Run): Json {
  const data: Json = {};
  if (run.data.metrics.length) data.metrics = run.data.metrics.map(metricToJson);
  const params = keyValues(run.data.params);
  if (params.length) data.params = params;
  const tags = keyValues(run.data.tags);
  if (tags.length) data.tags = tags;
  return { info: runInfoToJson(run.info), data, inputs: {} };
}

/** `mlflow.FileInfo`; file_size is unset for directories and (as in MLflow) for empty files. */
export function fileInfoToJson(f: { path: string; isDir: boolean; size: number }): Json {
  const out: Json = { path: f.path, is_dir: f.isDir };
  if (!f.isDir && f.size) out.file_size = f.size;
  return out;
}

/** Adds a repeated field only when it has elements, and a token only when there is a next page. */
export function page(field: string, items: unknown[], nextPageToken: string | null, extra: Json = {}): Json {
  const out: Json = { ...extra };
  if (items.length) out[field] = items;
  if (nextPageToken) out.next_page_token = nextPageToken;
  return out;
}

// ------------------------------------------------------------------- inbound

const SEE_DOCS = ' See the API docs for more information about request parameters.';

/** Python's name for a JSON value's type, as MLflow's type hints print it. */
function pythonType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

export function missingValue(path: string): FlywheelError {
  return invalidArgument(`Missing value for required parameter '${path}'.${SEE_DOCS}`);
}

export function invalidValue(path: string, value: unknown): FlywheelError {
  const shown = JSON.stringify(value) ?? String(value);
  const brief = shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
  return invalidArgument(`Invalid value ${brief} for parameter '${path}' supplied: Hint: Value was of type '${pythonType(value)}'.${SEE_DOCS}`);
}

const ENUM_NUMBERS = {
  view: { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL' } as Record<number, ViewType>,
  status: { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' } as Record<number, RunStatus>,
};

/**
 * The fields of one MLflow request. GET requests carry them in the query string
 * (every value a string, repeated keys for lists); other methods in a JSON object
 * body. Absent, `null` and (for required fields) empty values count as missing,
 * as in MLflow's `_assert_required`.
 */
export class MlflowArgs {
  private constructor(
    private readonly fields: Record<string, unknown>,
    /** True when read from a query string, where a list may arrive as one value. */
    private readonly fromQuery: boolean,
  ) {}

  static from(request: { method: string; query: unknown; body: unknown }): MlflowArgs {
    if (request.method === 'GET' || request.method === 'HEAD') {
      const q = (request.query ?? {}) as Record<string, unknown>;
      // A GET with no query but a JSON body (some hand-written clients) is read from the body.
      if (Object.keys(q).length === 0 && isObject(request.body)) return new MlflowArgs(request.body, false);
      return new MlflowArgs(q, true);
    }
    let body = request.body;
    // Old MLflow clients sent their JSON double-encoded as a string.
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        throw new FlywheelError('FW_MALFORMED_REQUEST', 'Request body must be a JSON object');
      }
    }
    if (body === undefined || body === null) return new MlflowArgs({}, false);
    if (!isObject(body)) throw new FlywheelError('FW_MALFORMED_REQUEST', `Request body must be a JSON object, got ${pythonType(body)}`);
    return new MlflowArgs(body, false);
  }

  /** The raw value; a repeated query key read as a scalar gives its first value (as Flask's args.get). */
  private raw(name: string): unknown {
    const v = this.fields[name];
    return this.fromQuery && Array.isArray(v) ? v[0] : v;
  }

  has(name: string): boolean {
    const v = this.fields[name];
    return v !== undefined && v !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalidValue(name, v);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw missingValue(name);
    return v;
  }

  /** experiment_id: MLflow stringifies numeric ids before parsing (`_stringify_all_experiment_ids`). */
  experimentId(name = 'experiment_id', required = true): string | undefined {
    const v = this.raw(name);
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    const s = this.string(name);
    if (required && (s === undefined || s === '')) throw missingValue(name);
    return s === '' ? undefined : s;
  }

  /** run_id, or the legacy run_uuid that MLflow clients send alongside it. */
  runId(): string {
    const id = this.string('run_id') || this.string('run_uuid');
    if (!id) throw missingValue('run_id');
    return id;
  }

  /** int64/int32 fields: JSON numbers, or decimal strings (query strings, proto-JSON int64). */
  int(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalidValue(name, v);
    return n;
  }

  requiredInt(name: string): number {
    const n = this.int(name);
    if (n === undefined) throw missingValue(name);
    return n;
  }

  /** A repeated string field; a single query value becomes a one-element list. */
  stringList(name: string, { numbersAsStrings = false } = {}): string[] | undefined {
    const v = this.fields[name];
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : this.fromQuery && typeof v === 'string' ? [v] : null;
    if (list === null) throw invalidValue(name, v);
    return list.map((item) => {
      if (typeof item === 'string') return item;
      if (numbersAsStrings && typeof item === 'number' && Number.isSafeInteger(item)) return String(item);
      throw invalidValue(name, v);
    });
  }

  /** A repeated message field: a list of objects. */
  objectList(name: string): Record<string, unknown>[] | undefined {
    const v = this.fields[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every(isObject)) throw invalidValue(name, v);
    return v as Record<string, unknown>[];
  }

  /** A repeated RunTag/ExperimentTag field as a record; every tag needs a key, a missing value is "". */
  tags(name = 'tags'): Record<string, string> | undefined {
    const list = this.objectList(name);
    if (!list) return undefined;
    const out: Record<string, string> = {};
    list.forEach((t, i) => {
      const key = t.key;
      if (key === undefined || key === null || key === '') throw missingValue(`${name}[${i}].key`);
      if (typeof key !== 'string') throw invalidValue(`${name}[${i}].key`, key);
      const value = t.value ?? '';
      if (typeof value !== 'string') throw invalidValue(`${name}[${i}].value`, value);
      out[key] = value;
    });
    return out;
  }

  viewType(name: string): ViewType | undefined {
    return this.enumField(name, VIEW_TYPES, ENUM_NUMBERS.view);
  }

  runStatus(name: string): RunStatus | undefined {
    return this.enumField(name, RUN_STATUSES, ENUM_NUMBERS.status);
  }

  /** Proto enums arrive by name ("FINISHED") or number (3). */
  private enumField<T extends string>(name: string, names: readonly T[], numbers: Record<number, T>): T | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v as T;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n === 'number' && numbers[n]) return numbers[n];
    throw invalidArgument(`Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected one of ${names.join(', ')}.${SEE_DOCS}`);
  }

  /** Any field, unchecked (values the service validates itself, such as metric values). */
  value(name: string): unknown {
    return this.raw(name);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
