/**
 * Validation rules of the registry, after MLflow's (mlflow/utils/validation.py
 * and model_version_stages.py) so a client that works against MLflow works
 * here: alias names, version numbers, stage names, tag keys and values. Model
 * names are a little stricter than MLflow's (non-empty): "/" and "@" are
 * refused because they separate the name from a version or an alias in
 * `models:/` URIs, so such a model could never be named by one.
 */
import { invalidArgument } from '../core/errors.js';
import { LIMITS, validateKey, validateTagValue } from '../tracking/limits.js';
import { ACTIVE_STAGES, STAGES, type Stage } from './types.js';

export const REGISTRY_LIMITS = {
  /** MLflow's registered_models.name column is VARCHAR(256). */
  maxModelNameLength: 256,
  maxAliasLength: 255,
  maxTagKeyLength: LIMITS.maxKeyLength,
  maxTagValueLength: 5000,
  searchModelsDefault: 100,
  searchModelsMax: 1000,
  searchVersionsDefault: 10_000,
  searchVersionsMax: 200_000,
} as const;

export function validateModelName(name: unknown, field = 'name'): string {
  if (name === undefined || name === null || name === '') throw invalidArgument(`Missing value for required parameter '${field}'.`);
  if (typeof name !== 'string') throw invalidArgument(`Invalid value ${JSON.stringify(name)} for parameter '${field}': expected a string`);
  if (name.length > REGISTRY_LIMITS.maxModelNameLength) {
    throw invalidArgument(`Registered model name had length ${name.length}, which exceeds the limit of ${REGISTRY_LIMITS.maxModelNameLength}`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalidArgument(`Invalid registered model name ${JSON.stringify(name)}: control characters are not allowed`);
  if (name.includes('/') || name.includes('@')) {
    throw invalidArgument(`Invalid registered model name "${name}": "/" and "@" are not allowed (they separate the name from a version or an alias in models:/ URIs)`);
  }
  if (name.trim() !== name) throw invalidArgument(`Invalid registered model name "${name}": leading or trailing spaces are not allowed`);
  return name;
}

const ALIAS_PATTERN = /^[\p{L}\p{N}\p{M}\p{Pc}-]*$/u;
const VERSION_LIKE_ALIAS = /^[vV]\d+$/;

/** MLflow's _validate_model_alias_name: word characters and dashes; "latest" and "v<N>" are reserved. */
export function validateAlias(alias: unknown): string {
  if (alias === undefined || alias === null || alias === '') throw invalidArgument('Registered model alias name cannot be empty.');
  if (typeof alias !== 'string') throw invalidArgument(`Invalid alias name: ${JSON.stringify(alias)}: expected a string`);
  if (!ALIAS_PATTERN.test(alias)) {
    throw invalidArgument(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  }
  if (alias.length > REGISTRY_LIMITS.maxAliasLength) {
    throw invalidArgument(`'Registered model alias name' exceeds the maximum length of ${REGISTRY_LIMITS.maxAliasLength} characters`);
  }
  if (alias.toLowerCase() === 'latest') throw invalidArgument("'latest' alias name (case insensitive) is reserved.");
  if (VERSION_LIKE_ALIAS.test(alias)) throw invalidArgument(`Version alias name '${alias}' is reserved.`);
  return alias;
}

/**
 * A version number as MLflow reads it (`int(version)`): a JSON integer or a
 * decimal string. Numbers below 1 are valid input that names no version.
 */
export function parseVersion(version: unknown, field = 'version'): number {
  if (version === undefined || version === null || version === '') throw invalidArgument(`Missing value for required parameter '${field}'.`);
  if (typeof version === 'number' && Number.isSafeInteger(version)) return version;
  if (typeof version === 'string' && /^\s*[+-]?\d+\s*$/.test(version) && Number.isSafeInteger(Number(version))) return Number(version);
  throw invalidArgument(`Parameter '${field}' must be an integer, got '${String(version)}'.`);
}

/** MLflow's get_canonical_stage: any case of None, Staging, Production, Archived. */
export function canonicalStage(stage: unknown): Stage {
  const found = typeof stage === 'string' ? STAGES.find((s) => s.toLowerCase() === stage.toLowerCase()) : undefined;
  if (!found) throw invalidArgument(`Invalid Model Version stage: ${String(stage)}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}

export function checkArchiveExisting(stage: Stage, archiveExistingVersions: boolean): void {
  if (archiveExistingVersions && !ACTIVE_STAGES.includes(stage)) {
    throw invalidArgument(
      `Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are ['Staging', 'Production']`,
    );
  }
}

/** Registry tags: MLflow's tag-name rules (as runs), keys up to 250 and values up to 5000 characters. */
export function validateRegistryTag(key: unknown, value: unknown): [string, string] {
  const k = validateKey('tag', key);
  return [k, validateTagValue(k, value ?? '', REGISTRY_LIMITS.maxTagValueLength)];
}

export function validateTags(tags: Record<string, string> | undefined): [string, string][] {
  if (tags === undefined || tags === null) return [];
  if (typeof tags !== 'object' || Array.isArray(tags)) throw invalidArgument('tags must be an object of key → value');
  return Object.entries(tags).map(([k, v]) => validateRegistryTag(k, v));
}

export function validateDescription(description: unknown): string {
  if (description === undefined || description === null) return '';
  if (typeof description !== 'string') throw invalidArgument(`Invalid value ${JSON.stringify(description)} for parameter 'description': expected a string`);
  return description;
}
