/**
 * The TypeScript way to declare a pipeline: `definePipeline(name, (b) => …)`
 * hands the callback a builder whose `step(name, spec, fn?)` records one step
 * and returns a handle; a later step names its inputs with those handles
 * (`{ raw }` when the step has a single output, `raw.output('raw')` to pick
 * one), with `'step.output'` strings, or with dataset refs
 * (`{ dataset: 'orders@latest' }` or `'dataset:orders@2'`). Every default
 * (retry, cache, tags, deps, a sweep's goal and seed) is filled in here by `buildStep`, which the YAML
 * reader shares, so both forms yield the same `PipelineDefinition`; the
 * result is then checked as a graph (graph.ts) before it is returned.
 */
import { invalidArgument } from '../core/errors.js';
import { validatePipeline } from './graph.js';
import { checkSweep, normalizeSweep } from './sweep.js';
import type { InputRef, PipelineDefinition, RetryPolicy, StepDefinition, StepFunction, StepKind, SweepSpec } from './types.js';

export type ParamValue = string | number | boolean;

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ retries: 0, backoffMs: 1000, maxBackoffMs: 60_000 });

/** Step names and param names: no dots, so `step.output` and `step.param` split unambiguously. */
export const STEP_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
export const PARAM_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** What `step()` returns: names the step and its outputs for later steps' inputs. */
export interface StepHandle {
  readonly name: string;
  readonly outputs: readonly string[];
  /** A reference to one named output of this step. */
  output(name: string): InputRef;
}

/** One input as written by a user: a ref, a handle (its single output), or `'step.output'` / `'dataset:NAME@V'`. */
export type InputSpec = InputRef | StepHandle | string;

/** A step as written in TypeScript; exactly one of run / cmd / sql / uses says how it runs. */
export interface StepSpec {
  inputs?: Record<string, InputSpec>;
  outputs?: string[];
  params?: Record<string, ParamValue>;
  run?: StepFunction;
  cmd?: string;
  sql?: string;
  uses?: string;
  with?: Record<string, unknown>;
  /** Shorthand for `retry.retries`. */
  retries?: number;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  tags?: string[];
  cache?: boolean;
  deps?: string[];
  /** Fan out over a grid or random samples of `params`; the best trial by `metric` feeds downstream steps (sweep.ts). */
  sweep?: SweepSpec;
  /** Steps that must finish first, with no data passed (handles or names). */
  after?: (StepHandle | string)[];
}

export interface PipelineOptions {
  concurrency?: number;
  tagConcurrency?: Record<string, number>;
  onFailure?: 'fail-fast' | 'continue';
  source?: string;
}

export interface PipelineBuilder {
  step(name: string, spec: StepSpec, fn?: StepFunction): StepHandle;
}

/**
 * Declares a pipeline. `build` may destructure the builder (`({ step }) => …`).
 * Throws FW_INVALID_ARGUMENT naming the step for a malformed step or an
 * invalid graph (see validatePipeline).
 */
export function definePipeline(name: string, build: (b: PipelineBuilder) => void, options: PipelineOptions = {}): PipelineDefinition {
  if (typeof name !== 'string' || !STEP_NAME_PATTERN.test(name)) {
    throw invalidArgument(`Invalid pipeline name ${JSON.stringify(name)}: use letters, digits, "_" or "-", starting with a letter or "_"`);
  }
  const steps: StepDefinition[] = [];
  const step = (stepName: string, spec: StepSpec, fn?: StepFunction): StepHandle => {
    const where = `pipeline "${name}", step "${stepName}"`;
    if (spec === null || typeof spec !== 'object') throw invalidArgument(`${where}: the step spec must be an object`);
    if (fn !== undefined) {
      if (typeof fn !== 'function') throw invalidArgument(`${where}: the third argument of step() must be a function`);
      if (spec.run !== undefined) throw invalidArgument(`${where}: give the function either as "run" or as the third argument, not both`);
    }
    const def = buildStep(stepName, fn === undefined ? spec : { ...spec, run: fn }, where);
    steps.push(def);
    return handleOf(def);
  };
  build({ step });
  const def: PipelineDefinition = { name, steps };
  if (options.concurrency !== undefined) def.concurrency = options.concurrency;
  if (options.tagConcurrency !== undefined) def.tagConcurrency = { ...options.tagConcurrency };
  if (options.onFailure !== undefined) def.onFailure = options.onFailure;
  if (options.source !== undefined) def.source = options.source;
  validatePipeline(def);
  return def;
}

function handleOf(def: StepDefinition): StepHandle {
  const outputs = Object.freeze([...def.outputs]);
  return Object.freeze({
    name: def.name,
    outputs,
    output: (output: string): InputRef => ({ step: def.name, output }),
  });
}

function isHandle(value: unknown): value is StepHandle {
  return typeof value === 'object' && value !== null && typeof (value as StepHandle).output === 'function' && typeof (value as StepHandle).name === 'string';
}

/**
 * Reads `'step.output'` or `'dataset:NAME@V'` into an InputRef; undefined when
 * the text is neither.
 */
export function parseInputString(text: string): InputRef | undefined {
  if (text.startsWith('dataset:')) {
    const ref = text.slice('dataset:'.length);
    return ref === '' ? undefined : { dataset: ref };
  }
  const dot = text.indexOf('.');
  if (dot <= 0 || dot === text.length - 1) return undefined;
  return { step: text.slice(0, dot), output: text.slice(dot + 1) };
}

function toInputRef(input: InputSpec, inputName: string, where: string): InputRef {
  const at = `${where}, input "${inputName}"`;
  if (typeof input === 'string') {
    const ref = parseInputString(input);
    if (!ref) throw invalidArgument(`${at}: "${input}" is neither "step.output" nor "dataset:NAME@VERSION"`);
    return ref;
  }
  if (isHandle(input)) {
    if (input.outputs.length !== 1) {
      const list = input.outputs.length === 0 ? 'no outputs' : `${input.outputs.length} outputs (${input.outputs.join(', ')})`;
      throw invalidArgument(`${at}: step "${input.name}" has ${list}; name one with ${input.name}.output('…')`);
    }
    return { step: input.name, output: input.outputs[0] };
  }
  if (typeof input === 'object' && input !== null) {
    if ('dataset' in input && typeof input.dataset === 'string' && Object.keys(input).length === 1) return { dataset: input.dataset };
    if ('step' in input && typeof input.step === 'string' && typeof (input as { output?: unknown }).output === 'string' && Object.keys(input).length === 2) {
      return { step: input.step, output: (input as { output: string }).output };
    }
  }
  throw invalidArgument(`${at}: give a step handle, { step, output }, { dataset }, "step.output" or "dataset:NAME@VERSION"`);
}

function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function nonNegativeInt(value: unknown, field: string, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${where}: field "${field}" must be a non-negative integer (got ${JSON.stringify(value)})`);
  }
  return value;
}

function stringList(value: unknown, field: string, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw invalidArgument(`${where}: field "${field}" must be a list of non-empty strings`);
  }
  return [...value];
}

/**
 * Normalizes one step spec into a StepDefinition with every default filled
 * in. Shared by the builder and the YAML reader; `where` prefixes messages.
 */
export function buildStep(name: string, spec: StepSpec, where: string): StepDefinition {
  if (typeof name !== 'string' || !STEP_NAME_PATTERN.test(name)) {
    throw invalidArgument(`${where}: invalid step name ${JSON.stringify(name)}: use letters, digits, "_" or "-", starting with a letter or "_" (no ".")`);
  }
  const ways = (['run', 'cmd', 'sql', 'uses'] as const).filter((k) => spec[k] !== undefined);
  if (ways.length !== 1) {
    throw invalidArgument(
      ways.length === 0
        ? `${where}: the step has no way to run; give exactly one of run (a function), cmd, sql or uses`
        : `${where}: give exactly one of run, cmd, sql or uses (got ${ways.join(' and ')})`,
    );
  }
  const kind: StepKind = ({ run: 'function', cmd: 'shell', sql: 'sql', uses: 'builtin' } as const)[ways[0]];

  const inputs: Record<string, InputRef> = {};
  if (spec.inputs !== undefined) {
    if (typeof spec.inputs !== 'object' || spec.inputs === null || Array.isArray(spec.inputs)) throw invalidArgument(`${where}: field "inputs" must be a map of name → input`);
    for (const [inputName, input] of Object.entries(spec.inputs)) inputs[inputName] = toInputRef(input, inputName, where);
  }

  const params: Record<string, ParamValue> = {};
  if (spec.params !== undefined) {
    if (typeof spec.params !== 'object' || spec.params === null || Array.isArray(spec.params)) throw invalidArgument(`${where}: field "params" must be a map of name → value`);
    for (const [k, v] of Object.entries(spec.params)) {
      if (!PARAM_NAME_PATTERN.test(k)) throw invalidArgument(`${where}: invalid param name "${k}": use letters, digits, "_" or "-" (no ".")`);
      if (!isParamValue(v)) throw invalidArgument(`${where}: param "${k}" must be a string, a finite number or a boolean`);
      params[k] = v;
    }
  }

  const retry: RetryPolicy = { ...DEFAULT_RETRY };
  if (spec.retry !== undefined) {
    for (const [k, v] of Object.entries(spec.retry)) {
      if (!(k in DEFAULT_RETRY)) throw invalidArgument(`${where}: unknown field "retry.${k}" (known: retries, backoffMs, maxBackoffMs)`);
      retry[k as keyof RetryPolicy] = nonNegativeInt(v, `retry.${k}`, where);
    }
  }
  if (spec.retries !== undefined) retry.retries = nonNegativeInt(spec.retries, 'retries', where);

  const def: StepDefinition = {
    name,
    kind,
    inputs,
    outputs: spec.outputs === undefined ? [] : stringList(spec.outputs, 'outputs', where),
    params,
    retry,
    tags: spec.tags === undefined ? [] : stringList(spec.tags, 'tags', where),
    // A promotion acts on the registry's current state (where the aliases point now): never reused from cache unless asked.
    cache: spec.cache ?? spec.uses !== 'promote',
    deps: spec.deps === undefined ? [] : stringList(spec.deps, 'deps', where),
  };
  if (typeof def.cache !== 'boolean') throw invalidArgument(`${where}: field "cache" must be true or false`);
  if (spec.after !== undefined) {
    if (!Array.isArray(spec.after)) throw invalidArgument(`${where}: field "after" must be a list of steps`);
    const after = spec.after.map((a, i) => {
      const n = isHandle(a) ? a.name : a;
      if (typeof n !== 'string' || !STEP_NAME_PATTERN.test(n)) throw invalidArgument(`${where}: after[${i}] must be a step (a handle or a step name), got ${JSON.stringify(a)}`);
      return n;
    });
    if (after.length > 0) def.after = [...new Set(after)];
  }
  if (spec.timeoutMs !== undefined) {
    if (typeof spec.timeoutMs !== 'number' || !Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
      throw invalidArgument(`${where}: field "timeout" must be a positive duration`);
    }
    def.timeoutMs = spec.timeoutMs;
  }
  switch (kind) {
    case 'function':
      if (typeof spec.run !== 'function') throw invalidArgument(`${where}: field "run" must be a function`);
      def.fn = spec.run;
      break;
    case 'shell':
      if (typeof spec.cmd !== 'string' || spec.cmd.trim() === '') throw invalidArgument(`${where}: field "cmd" must be a non-empty command line`);
      def.cmd = spec.cmd;
      break;
    case 'sql':
      if (typeof spec.sql !== 'string' || spec.sql.trim() === '') throw invalidArgument(`${where}: field "sql" must be non-empty SQL text`);
      def.sql = spec.sql;
      break;
    case 'builtin':
      if (typeof spec.uses !== 'string' || spec.uses === '') throw invalidArgument(`${where}: field "uses" must name a built-in step`);
      def.uses = spec.uses;
      if (spec.with !== undefined && (typeof spec.with !== 'object' || spec.with === null || Array.isArray(spec.with))) {
        throw invalidArgument(`${where}: field "with" must be a map`);
      }
      def.with = { ...(spec.with ?? {}) };
      break;
  }
  if (kind !== 'builtin' && spec.with !== undefined) throw invalidArgument(`${where}: field "with" applies only to a built-in step (uses)`);
  if (spec.sweep !== undefined) {
    checkSweep(spec.sweep, def, where);
    def.sweep = normalizeSweep(spec.sweep, name);
  }
  return def;
}
