/**
 * Model URIs, parsed without touching the registry:
 *
 *   models:/churn/3           version 3
 *   models:/churn/Production  the latest version in a stage (any case)
 *   models:/churn/latest      the latest version
 *   models:/churn@champion    the version an alias points at
 *   runs:/<runId>/model       a model package stored as a run's artifacts
 *
 * A bare reference (`churn@champion`, `churn/3`) means the same as with
 * `models:/` in front, so a command can take either. RegistryService.resolveModelUri
 * turns the parsed form into a version and its files.
 */
import { invalidArgument } from '../core/errors.js';
import { RUN_ID_PATTERN } from '../core/ids.js';
import { validateAlias, validateModelName } from './rules.js';
import { STAGES, type Stage } from './types.js';

export type ParsedModelUri =
  | { kind: 'version'; name: string; version: number }
  | { kind: 'stage'; name: string; stage: Stage }
  | { kind: 'latest'; name: string }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'run'; runId: string; artifactPath: string };

const FORMS = 'models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest, models:/NAME@ALIAS or runs:/RUN_ID/PATH';

function bad(uri: string, why: string): Error {
  return invalidArgument(`Invalid model URI "${uri}": ${why} (expected ${FORMS})`);
}

export function parseModelUri(uri: string): ParsedModelUri {
  if (typeof uri !== 'string' || uri.trim() === '') throw invalidArgument(`A model URI is required (${FORMS})`);
  if (uri.startsWith('runs:')) return parseRunsUri(uri);
  let path: string;
  if (uri.startsWith('models:')) {
    path = uri.slice('models:'.length);
    // models:/x and models:///x are both seen in the wild; the path is what follows the slashes.
    if (!path.startsWith('/')) throw bad(uri, 'the path must start with "/"');
    path = path.replace(/^\/+/, '');
  } else if (/^[a-zA-Z][\w+.-]*:\//.test(uri)) {
    throw bad(uri, 'unsupported scheme');
  } else {
    path = uri;
  }
  const at = path.lastIndexOf('@');
  if (at !== -1) {
    const name = path.slice(0, at);
    const alias = path.slice(at + 1);
    if (name === '') throw bad(uri, 'the model name is missing');
    return { kind: 'alias', name: checkName(uri, name), alias: checkAlias(uri, alias) };
  }
  const parts = path.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw bad(uri, 'name a version, stage or alias');
  const [name, selector] = [checkName(uri, parts[0]), parts[1]];
  if (/^\d+$/.test(selector)) {
    const version = Number(selector);
    if (!Number.isSafeInteger(version)) throw bad(uri, 'the version number is too large');
    return { kind: 'version', name, version };
  }
  if (selector.toLowerCase() === 'latest') return { kind: 'latest', name };
  const stage = STAGES.find((s) => s.toLowerCase() === selector.toLowerCase());
  if (stage) return { kind: 'stage', name, stage };
  throw bad(uri, `"${selector}" is neither a version number, a stage (${STAGES.join(', ')}) nor "latest"`);
}

function parseRunsUri(uri: string): ParsedModelUri {
  const m = /^runs:\/+([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!m) throw bad(uri, 'expected runs:/RUN_ID/PATH');
  const [, runId, rest] = m;
  if (!RUN_ID_PATTERN.test(runId)) throw bad(uri, `"${runId}" is not a run id (32 hex characters)`);
  const artifactPath = (rest ?? '').replace(/\/+$/, '');
  if (artifactPath === '') throw bad(uri, 'the artifact path of the model is missing');
  if (artifactPath.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) throw bad(uri, 'the artifact path must be a plain relative path');
  return { kind: 'run', runId, artifactPath };
}

function checkName(uri: string, name: string): string {
  try {
    return validateModelName(name);
  } catch (err) {
    throw bad(uri, (err as Error).message);
  }
}

function checkAlias(uri: string, alias: string): string {
  try {
    return validateAlias(alias);
  } catch (err) {
    throw bad(uri, (err as Error).message);
  }
}

/** The package URI of a run's artifact directory. */
export function runsUri(runId: string, artifactPath: string): string {
  return `runs:/${runId}/${artifactPath}`;
}
