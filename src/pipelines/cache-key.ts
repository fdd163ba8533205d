/**
 * A step's cache key: two executions with the same key would compute the same
 * outputs, so the second may reuse the first's. The key is the sha256 (hex) of
 * the canonical JSON (object keys sorted at every level, undefined dropped) of
 * exactly this material — see `cacheKeyMaterial`:
 *
 *   - `v`: the format version of this material (1);
 *   - `kind`: the step kind;
 *   - `code`: the code version — `{ fn }` the function's source text
 *     (`fn.toString()`: only its own text, not what it imports or closes over;
 *     declare such files in `deps`), `{ cmd }` the command line, `{ sql }` the
 *     SQL text (for `sql_file`, the file's text as loaded), or
 *     `{ uses, with }` the built-in's name and arguments;
 *   - `deps`: `[path, sha256 of contents]` for each declared dep file, sorted
 *     by path (relative to `projectRoot`); a directory hashes every file under
 *     it by relative path and contents; a missing dep is an error naming it;
 *   - `params`: the effective params (declared defaults with the run's
 *     overrides applied), keys sorted;
 *   - `inputs`: `[input name, content hash of the input version]`, sorted by
 *     input name; every declared input needs a hash;
 *   - `outputs`: the declared output names, in order (a step declaring other
 *     outputs produces something else);
 *   - `sweep`: a sweep step's sweep as normalized, without `parallel` (its
 *     trials, metric and goal decide which outputs it keeps). Absent for
 *     other steps, so their keys are as before.
 *
 * Not in the key: retries, timeout, tags, cache flag, a sweep's parallelism,
 * the step's name and the pipeline's name — they change how or where a step
 * runs, not what it makes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { invalidArgument } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import type { ParamValue } from './define.js';
import type { StepDefinition } from './types.js';

export const CACHE_KEY_VERSION = 1;

export interface CacheKeyInput {
  /** Effective params; defaults to the step's declared params. */
  params?: Record<string, ParamValue>;
  /** Content hash of the version bound to each declared input, by input name. */
  inputVersionHashes: Record<string, string>;
  /** Directory that `deps` paths are relative to. */
  projectRoot: string;
}

/** The exact material that is hashed (useful to explain a cache miss). */
export function cacheKeyMaterial(step: StepDefinition, input: CacheKeyInput): Record<string, unknown> {
  const where = `step "${step.name}"`;
  const hashes = input.inputVersionHashes ?? {};
  for (const name of Object.keys(step.inputs)) {
    if (typeof hashes[name] !== 'string' || hashes[name] === '') throw invalidArgument(`${where}: no version hash for input "${name}"`);
  }
  for (const name of Object.keys(hashes)) {
    if (!(name in step.inputs)) throw invalidArgument(`${where}: a version hash was given for "${name}", which is not an input of the step`);
  }
  return {
    v: CACHE_KEY_VERSION,
    kind: step.kind,
    code: codeVersion(step),
    deps: [...new Set(step.deps)].sort().map((dep) => [dep, hashDep(dep, input.projectRoot, where)]),
    params: input.params ?? step.params,
    inputs: Object.keys(step.inputs)
      .sort()
      .map((name) => [name, hashes[name]]),
    outputs: [...step.outputs],
    sweep: step.sweep && { ...step.sweep, parallel: undefined },
  };
}

/** sha256 hex of the canonical JSON of `cacheKeyMaterial(step, input)`. */
export function cacheKey(step: StepDefinition, input: CacheKeyInput): string {
  return sha256Hex(canonicalJson(cacheKeyMaterial(step, input)));
}

function codeVersion(step: StepDefinition): Record<string, unknown> {
  switch (step.kind) {
    case 'function':
      if (typeof step.fn !== 'function') throw invalidArgument(`step "${step.name}": a function step has no function`);
      return { fn: step.fn.toString() };
    case 'shell':
      return { cmd: step.cmd };
    case 'sql':
      return { sql: step.sql };
    case 'builtin':
      return { uses: step.uses, with: step.with ?? {} };
    default:
      throw invalidArgument(`step "${step.name}": unknown step kind "${String(step.kind)}"`);
  }
}

function hashDep(dep: string, root: string, where: string): string {
  const full = path.resolve(root, dep);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    throw invalidArgument(`${where}: dep file "${dep}" does not exist (looked for ${full})`);
  }
  if (!stat.isDirectory()) return sha256Hex(fs.readFileSync(full));
  const h = createHash('sha256');
  for (const rel of listFiles(full)) {
    h.update(`${rel}\0`);
    h.update(sha256Hex(fs.readFileSync(path.join(full, rel))));
    h.update('\0');
  }
  return h.digest('hex');
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}
