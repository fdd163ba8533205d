/**
 * The pipeline as a graph: `validatePipeline` checks a definition before
 * anything runs and throws one FW_INVALID_ARGUMENT naming the step at fault
 * (duplicate names, inputs naming missing steps or outputs, an output declared
 * twice, a cycle — given as its path `a → b → a` —, a step with no way to run,
 * a malformed sweep — see sweep.ts's checkSweep);
 * `validateParams` checks a run's param overrides against the declared params;
 * `planOrder` gives a topological order, stable in that ties go to the step
 * defined first; `downstreamOf` / `upstreamOf` give the transitive consumers /
 * producers of some steps (what a changed input or a failure reaches). Edges
 * run producer → consumer and come only from step-output inputs; dataset
 * inputs are leaves outside the graph.
 */
import { invalidArgument } from '../core/errors.js';
import { DATASET_NAME_PATTERN, parseRef } from '../data/names.js';
import type { ParamValue } from './define.js';
import { checkSweep } from './sweep.js';
import type { PipelineDefinition, StepDefinition } from './types.js';

const KINDS = new Set(['function', 'shell', 'sql', 'builtin']);

function prefix(def: PipelineDefinition, step?: string): string {
  const src = def.source ? `${def.source}: ` : '';
  return step === undefined ? `${src}pipeline "${def.name}"` : `${src}pipeline "${def.name}", step "${step}"`;
}

export interface ValidateOptions {
  /** When given, a builtin step's `uses` must be one of these names. */
  builtins?: readonly string[];
}

/** Checks the whole definition; throws the first problem found, naming its step. */
export function validatePipeline(def: PipelineDefinition, options: ValidateOptions = {}): void {
  const byName = new Map<string, StepDefinition>();
  for (const step of def.steps) {
    if (byName.has(step.name)) throw invalidArgument(`${prefix(def)}: step "${step.name}" is defined twice`);
    byName.set(step.name, step);
  }
  if (def.concurrency !== undefined && (!Number.isSafeInteger(def.concurrency) || def.concurrency < 1)) {
    throw invalidArgument(`${prefix(def)}: concurrency must be a positive integer (got ${JSON.stringify(def.concurrency)})`);
  }
  for (const [tag, limit] of Object.entries(def.tagConcurrency ?? {})) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw invalidArgument(`${prefix(def)}: concurrency of tag "${tag}" must be a positive integer (got ${JSON.stringify(limit)})`);
  }
  if (def.onFailure !== undefined && def.onFailure !== 'fail-fast' && def.onFailure !== 'continue') {
    throw invalidArgument(`${prefix(def)}: on_failure must be "fail-fast" or "continue" (got ${JSON.stringify(def.onFailure)})`);
  }

  const producer = new Map<string, string>();
  for (const step of def.steps) {
    const where = prefix(def, step.name);
    checkRunnable(step, where, options);
    if (step.sweep !== undefined) checkSweep(step.sweep, step, where);
    const seen = new Set<string>();
    for (const output of step.outputs) {
      if (!DATASET_NAME_PATTERN.test(output)) throw invalidArgument(`${where}: invalid output name "${output}": use letters, digits, "_", "." or "-"`);
      if (seen.has(output)) throw invalidArgument(`${where}: output "${output}" is declared twice`);
      seen.add(output);
      const other = producer.get(output);
      if (other !== undefined) throw invalidArgument(`${where}: output "${output}" is already declared by step "${other}"`);
      producer.set(output, step.name);
    }
  }

  for (const step of def.steps) {
    const where = prefix(def, step.name);
    for (const [inputName, ref] of Object.entries(step.inputs)) {
      if ('dataset' in ref) {
        try {
          parseRef(ref.dataset);
        } catch (err) {
          throw invalidArgument(`${where}: input "${inputName}": ${(err as Error).message}`);
        }
        continue;
      }
      const from = byName.get(ref.step);
      if (!from) throw invalidArgument(`${where}: input "${inputName}" refers to step "${ref.step}", which does not exist`);
      if (!from.outputs.includes(ref.output)) {
        const declared = from.outputs.length === 0 ? 'it declares no outputs' : `its outputs are ${from.outputs.join(', ')}`;
        throw invalidArgument(`${where}: input "${inputName}" refers to output "${ref.output}" of step "${ref.step}", which does not exist (${declared})`);
      }
    }
  }

  for (const step of def.steps) {
    for (const name of step.after ?? []) {
      if (name === step.name) throw invalidArgument(`${prefix(def, step.name)}: "after" names the step itself`);
      if (!byName.has(name)) throw invalidArgument(`${prefix(def, step.name)}: "after" refers to step "${name}", which does not exist`);
    }
  }

  const cycle = findCycle(def);
  if (cycle) throw invalidArgument(`${prefix(def, cycle[0])}: steps form a cycle: ${cycle.join(' → ')}`);
}

function checkRunnable(step: StepDefinition, where: string, options: ValidateOptions): void {
  if (!KINDS.has(step.kind)) throw invalidArgument(`${where}: unknown step kind "${step.kind}" (known: function, shell, sql, builtin)`);
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  switch (step.kind) {
    case 'function':
      if (typeof step.fn !== 'function') throw invalidArgument(`${where}: the step has no way to run: kind "function" needs a function (run)`);
      break;
    case 'shell':
      if (!nonEmpty(step.cmd)) throw invalidArgument(`${where}: the step has no way to run: kind "shell" needs a command (cmd)`);
      break;
    case 'sql':
      if (!nonEmpty(step.sql)) throw invalidArgument(`${where}: the step has no way to run: kind "sql" needs SQL text (sql)`);
      if (step.outputs.length !== 1) throw invalidArgument(`${where}: a sql step writes exactly one output (it declares ${step.outputs.length})`);
      break;
    case 'builtin':
      if (!nonEmpty(step.uses)) throw invalidArgument(`${where}: the step has no way to run: kind "builtin" needs a built-in name (uses)`);
      if (options.builtins && !options.builtins.includes(step.uses!)) {
        throw invalidArgument(`${where}: unknown built-in step "${step.uses}" (known: ${[...options.builtins].sort().join(', ')})`);
      }
      break;
  }
}

/** Producer → consumers edges (each consumer once, in definition order), by step name. */
export function consumersOf(def: PipelineDefinition): Map<string, string[]> {
  const out = new Map<string, string[]>(def.steps.map((s) => [s.name, []]));
  for (const step of def.steps) {
    for (const up of dependenciesOf(step)) {
      const list = out.get(up);
      if (list && !list.includes(step.name)) list.push(step.name);
    }
  }
  return out;
}

/** The steps `step` waits for: those whose outputs it reads (in input order), then its ordering-only `after` steps; each once. */
export function dependenciesOf(step: StepDefinition): string[] {
  const deps: string[] = [];
  for (const ref of Object.values(step.inputs)) if ('step' in ref && !deps.includes(ref.step)) deps.push(ref.step);
  for (const name of step.after ?? []) if (!deps.includes(name)) deps.push(name);
  return deps;
}

/** A cycle as a path of step names in data-flow order, first name repeated at the end; undefined when acyclic. */
function findCycle(def: PipelineDefinition): string[] | undefined {
  const consumers = consumersOf(def);
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = finished
  for (const start of def.steps) {
    if (state.has(start.name)) continue;
    const path: string[] = [start.name];
    const iters: Iterator<string>[] = [consumers.get(start.name)![Symbol.iterator]()];
    state.set(start.name, 1);
    while (path.length > 0) {
      const next = iters[iters.length - 1].next();
      if (next.done) {
        state.set(path.pop()!, 2);
        iters.pop();
        continue;
      }
      const s = state.get(next.value);
      if (s === 1) return [...path.slice(path.indexOf(next.value)), next.value];
      if (s === 2) continue;
      state.set(next.value, 1);
      path.push(next.value);
      iters.push((consumers.get(next.value) ?? [])[Symbol.iterator]());
    }
  }
  return undefined;
}

/**
 * Step names in topological order: every step after the steps it reads from;
 * among steps ready at the same time, the one defined first goes first.
 * Throws FW_INVALID_ARGUMENT on a cycle.
 */
export function planOrder(def: PipelineDefinition): string[] {
  const index = new Map(def.steps.map((s, i) => [s.name, i]));
  const consumers = consumersOf(def);
  const waiting = def.steps.map((s) => dependenciesOf(s).filter((d) => index.has(d)).length);
  const heap = new MinHeap();
  waiting.forEach((n, i) => n === 0 && heap.push(i));
  const order: string[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    const name = def.steps[i].name;
    order.push(name);
    for (const c of consumers.get(name)!) {
      const j = index.get(c)!;
      if (--waiting[j] === 0) heap.push(j);
    }
  }
  if (order.length !== def.steps.length) {
    const cycle = findCycle(def)!;
    throw invalidArgument(`${prefix(def, cycle[0])}: steps form a cycle: ${cycle.join(' → ')}`);
  }
  return order;
}

function reach(def: PipelineDefinition, stepNames: readonly string[], next: (name: string) => readonly string[]): string[] {
  const known = new Set(def.steps.map((s) => s.name));
  for (const n of stepNames) if (!known.has(n)) throw invalidArgument(`${prefix(def)} has no step "${n}"`);
  const start = new Set(stepNames);
  const found = new Set<string>();
  const stack = [...stepNames];
  while (stack.length > 0) {
    for (const m of next(stack.pop()!)) {
      if (!found.has(m)) {
        found.add(m);
        stack.push(m);
      }
    }
  }
  return planOrder(def).filter((n) => found.has(n) && !start.has(n));
}

/** Every step that reads, directly or not, from any of `stepNames` (those excluded), in plan order. */
export function downstreamOf(def: PipelineDefinition, stepNames: readonly string[]): string[] {
  const consumers = consumersOf(def);
  return reach(def, stepNames, (n) => consumers.get(n) ?? []);
}

/** Every step that any of `stepNames` reads from, directly or not (those excluded), in plan order. */
export function upstreamOf(def: PipelineDefinition, stepNames: readonly string[]): string[] {
  const byName = new Map(def.steps.map((s) => [s.name, s]));
  return reach(def, stepNames, (n) => (byName.has(n) ? dependenciesOf(byName.get(n)!) : []));
}

/**
 * Applies a run's param overrides and returns the effective params of every
 * step. A key `k` sets param k in every step that declares it; `step.k` sets
 * it in that step only (and wins over `k`). A string value given for a number
 * or boolean param (as from `--param k=5`) is converted; anything else of the
 * wrong type, or a param no step declares, throws FW_INVALID_ARGUMENT.
 */
export function validateParams(def: PipelineDefinition, overrides: Record<string, ParamValue> = {}): Record<string, Record<string, ParamValue>> {
  const result: Record<string, Record<string, ParamValue>> = {};
  for (const step of def.steps) result[step.name] = { ...step.params };
  const keys = Object.keys(overrides).sort((a, b) => Number(a.includes('.')) - Number(b.includes('.')));
  for (const key of keys) {
    const value = overrides[key];
    const dot = key.indexOf('.');
    if (dot < 0) {
      const declaring = def.steps.filter((s) => key in s.params);
      if (declaring.length === 0) throw invalidArgument(`${prefix(def)}: no step declares param "${key}"`);
      for (const s of declaring) result[s.name][key] = coerce(value, s.params[key], `${prefix(def, s.name)}: param "${key}"`);
      continue;
    }
    const stepName = key.slice(0, dot);
    const param = key.slice(dot + 1);
    const step = def.steps.find((s) => s.name === stepName);
    if (!step) throw invalidArgument(`${prefix(def)} has no step "${stepName}" (param override "${key}")`);
    if (!(param in step.params)) {
      const declared = Object.keys(step.params);
      throw invalidArgument(`${prefix(def, stepName)}: unknown param "${param}" (${declared.length === 0 ? 'the step declares no params' : `declared: ${declared.join(', ')}`})`);
    }
    result[stepName][param] = coerce(value, step.params[param], `${prefix(def, stepName)}: param "${param}"`);
  }
  return result;
}

function coerce(value: unknown, declared: ParamValue, where: string): ParamValue {
  const want = typeof declared;
  if (typeof value === want) {
    if (want === 'number' && !Number.isFinite(value)) throw invalidArgument(`${where} must be a finite number`);
    return value as ParamValue;
  }
  if (typeof value === 'string') {
    if (want === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
    if (want === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  }
  if (want === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
  throw invalidArgument(`${where} must be a ${want} (got ${JSON.stringify(value)})`);
}

/** A binary min-heap of step indexes (the plan order's tie-break). */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
