/**
 * The registry's MLflow REST JSON (protobuf JSON of mlflow/protos/model_registry.proto,
 * as MLflow's server writes it): snake_case fields in proto field order, int64
 * times as JSON numbers, version numbers as strings, `status` as its enum name,
 * and empty repeated fields left out. Which optional fields appear follows
 * MLflow's entities (ModelVersion.to_proto, RegisteredModel.to_proto): a
 * version created through the REST API always carries `description`, `run_id`
 * and `run_link` (empty strings when not given), `user_id` only when known;
 * a registered model's `description` only when non-empty. Plus the argument
 * readers the registry's requests need beyond tracking's `MlflowArgs`.
 */
import { invalidArgument } from '../core/errors.js';
import { MlflowArgs, type Json } from '../tracking/mlflow-shapes.js';
import type { ModelVersion, RegisteredModel } from './types.js';

export function modelVersionToJson(v: ModelVersion): Json {
  const out: Json = {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdatedTime,
  };
  if (v.userId !== null) out.user_id = v.userId;
  out.current_stage = v.currentStage;
  out.description = v.description;
  out.source = v.source;
  out.run_id = v.runId ?? '';
  out.status = v.status;
  const tags = Object.entries(v.tags).map(([key, value]) => ({ key, value }));
  if (tags.length) out.tags = tags;
  out.run_link = v.runLink ?? '';
  if (v.aliases.length) out.aliases = [...v.aliases];
  return out;
}

export function registeredModelToJson(m: RegisteredModel): Json {
  const out: Json = { name: m.name, creation_timestamp: m.creationTime };
  if (m.lastUpdatedTime) out.last_updated_timestamp = m.lastUpdatedTime;
  if (m.description) out.description = m.description;
  if (m.latestVersions.length) out.latest_versions = m.latestVersions.map(modelVersionToJson);
  const tags = Object.entries(m.tags).map(([key, value]) => ({ key, value }));
  if (tags.length) out.tags = tags;
  const aliases = Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) }));
  if (aliases.length) out.aliases = aliases;
  return out;
}

/**
 * A request's fields. DELETE requests carry them in a JSON body (MLflow's
 * Python client), but browsers and hand-written clients put them in the query
 * string; an empty DELETE body falls back to the query.
 */
export function registryArgs(request: { method: string; query: unknown; body: unknown }): MlflowArgs {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const emptyBody = request.body === undefined || request.body === null || request.body === '';
  if (request.method === 'DELETE' && emptyBody && Object.keys(query).length > 0) return MlflowArgs.from({ method: 'GET', query, body: undefined });
  return MlflowArgs.from(request);
}

/** `version`: a proto string; JSON numbers from hand-written clients are read too. The service checks it is an integer. */
export function versionArg(a: MlflowArgs, field = 'version'): string | number {
  const v = a.value(field);
  if (v === undefined || v === null || v === '') throw invalidArgument(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
  if (typeof v === 'number') return v;
  return a.string(field)!;
}

/** A proto bool: JSON true/false, or "true"/"false" from a query string; absent is false. */
export function boolArg(a: MlflowArgs, field: string): boolean {
  const v = a.value(field);
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw invalidArgument(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: Hint: Value was of type '${typeof v === 'string' ? 'str' : typeof v}'. See the API docs for more information about request parameters.`);
}
