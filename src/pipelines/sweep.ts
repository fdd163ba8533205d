/**
 * Sweeps, the definition side: checking a step's `sweep`, filling in its
 * defaults, expanding it into trials and picking the best trial. Pure — no
 * store, no runs — so graph validation and `definePipeline` can use it
 * without loading the execution stack; sweep-runner.ts runs the trials.
 *
 *   sweep: { grid: { lr: [0.1, 0.01], depth: [3, 5] }, metric: val_auc, goal: max, parallel: 4 }
 *   sweep: { random: { samples: 8, seed: 42, space: { lr: { loguniform: [0.0001, 0.1] }, depth: { int: [2, 8] },
 *            algo: { choice: [a, b] }, frac: { uniform: [0.5, 1] } } }, metric: val_auc, goal: min }
 *
 * Order: swept params are taken in name order (sorted by UTF-16 code unit),
 * not in the order written — the definition snapshot and the cache key store
 * objects with sorted keys, so written order would not survive a resume and
 * two orders would share a cache key while drawing different samples. A grid
 * is the cartesian product with the first name (in that order) varying
 * slowest: `{ lr: [0.1, 0.01], depth: [3, 5] }` gives trials 0..3 =
 * depth 3/lr 0.1, depth 3/lr 0.01, depth 5/lr 0.1, depth 5/lr 0.01.
 *
 * Random sampling is reproducible: a seeded sfc32 generator (Chris
 * Doty-Humphrey's Small Fast Counter from PractRand, 128-bit state, passes
 * PractRand and BigCrush) whose state is the first 16 bytes of
 * sha256("flywheel.sweep.prng:" + seed) as four big-endian uint32 words,
 * with 12 outputs discarded; each output u / 2^32 is uniform in [0, 1).
 * Trial by trial, each param in name order takes one draw: uniform
 * low + u·(high−low); loguniform exp(ln low + u·(ln high − ln low)); int
 * low + ⌊u·(high−low+1)⌋ (both bounds inclusive); choice values[⌊u·n⌋].
 * Without `seed`, normalizeSweep fills in one derived from the step name
 * (the first 4 bytes of sha256("flywheel.sweep.seed:" + name)), so reruns
 * draw the same trials and hit the cache.
 *
 * Every mistake is one FW_INVALID_ARGUMENT `<where>, field "sweep.…": …`
 * whose details carry `field` (the dotted path), so the YAML reader can point
 * at the line.
 */
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { validateKey } from '../tracking/limits.js';
import type { ParamValue } from './define.js';
import type { StepDefinition, SweepDistribution, SweepSpec } from './types.js';

/** Most trials one sweep may have (grid size or samples). */
export const MAX_SWEEP_TRIALS = 10_000;

const SWEEP_FIELDS = ['grid', 'random', 'metric', 'goal', 'parallel'];
const RANDOM_FIELDS = ['samples', 'seed', 'space'];
const DISTRIBUTIONS = ['uniform', 'loguniform', 'int', 'choice'] as const;

/** One trial as recorded in the step record's `details` (`pipelines show`). */
export interface SweepTrialRecord {
  index: number;
  /** The swept params' values of this trial (the others are the step's). */
  params: Record<string, ParamValue>;
  /** Its tracking run; null when it never started (cancelled first). */
  runId: string | null;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  /** The latest value of the sweep's metric on the trial's run; null when not logged (or NaN). */
  metric: number | null;
  error?: string;
}

/** The `details` of a sweep step's record. */
export interface SweepDetails {
  metric: string;
  goal: 'max' | 'min';
  trials: SweepTrialRecord[];
  /** Index of the best trial; null when none qualified. */
  best: number | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isParamValue = (v: unknown): v is ParamValue => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function bad(where: string, field: string, message: string): FlywheelError {
  return invalidArgument(`${where}, field "${field}": ${message}`, { field });
}

function unknownFields(value: Obj, known: readonly string[], where: string, field: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw bad(where, `${field}.${key}`, `unknown field (known: ${known.join(', ')})`);
  }
}

/** The declared param `name` of the step, or an error naming the field. */
function declared(step: Pick<StepDefinition, 'params'>, name: string, where: string, field: string): ParamValue {
  if (!Object.hasOwn(step.params, name)) {
    const list = Object.keys(step.params);
    throw bad(where, field, `"${name}" is not a param of the step (${list.length === 0 ? 'it declares none' : `declared: ${list.join(', ')}`}); declare it under params with a default`);
  }
  return step.params[name];
}

function sameType(value: unknown, like: ParamValue, where: string, field: string): void {
  if (!isParamValue(value)) throw bad(where, field, `values must be strings, finite numbers or booleans (got ${JSON.stringify(value)})`);
  if (typeof value !== typeof like) throw bad(where, field, `values must be ${typeof like}s like the param's default ${JSON.stringify(like)} (got ${JSON.stringify(value)})`);
}

/** Checks a range `[low, high]`; returns it. */
function range(value: unknown, kind: 'uniform' | 'loguniform' | 'int', where: string, field: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw bad(where, field, `must be [low, high], two finite numbers (got ${JSON.stringify(value)})`);
  }
  const [low, high] = value as [number, number];
  if (!(low < high)) throw bad(where, field, `low must be below high (got [${low}, ${high}])`);
  if (kind === 'loguniform' && !(low > 0)) throw bad(where, field, `a loguniform range needs low > 0 (got ${low})`);
  if (kind === 'int' && !(Number.isSafeInteger(low) && Number.isSafeInteger(high))) throw bad(where, field, `an int range needs integer bounds (got [${low}, ${high}])`);
  return [low, high];
}

/** Number of trials of a valid sweep. */
export function trialCount(sweep: SweepSpec): number {
  if (sweep.random) return sweep.random.samples;
  return Object.values(sweep.grid ?? {}).reduce((n, values) => n * values.length, 1);
}

/**
 * Checks a step's sweep: its shape, that it sweeps declared params with
 * values of their type, valid ranges, at most MAX_SWEEP_TRIALS trials, and a
 * step kind that reads params. `where` names pipeline and step.
 */
export function checkSweep(sweep: unknown, step: Pick<StepDefinition, 'kind' | 'params'>, where: string): asserts sweep is SweepSpec {
  if (!isObj(sweep)) throw bad(where, 'sweep', 'must be a map with grid or random, metric, and optionally goal and parallel');
  unknownFields(sweep, SWEEP_FIELDS, where, 'sweep');
  if (step.kind !== 'function' && step.kind !== 'shell') {
    throw bad(where, 'sweep', `a sweep runs function or shell steps, whose trials read their params (a ${step.kind} step does not)`);
  }
  if ((sweep.grid === undefined) === (sweep.random === undefined)) {
    throw bad(where, 'sweep', sweep.grid === undefined ? 'give grid or random (the values to try)' : 'give grid or random, not both');
  }
  if (typeof sweep.metric !== 'string' || sweep.metric === '') throw bad(where, 'sweep.metric', 'must name the metric that picks the best trial (e.g. val_auc)');
  try {
    validateKey('metric', sweep.metric);
  } catch (err) {
    throw bad(where, 'sweep.metric', (err as Error).message);
  }
  // The sweep run logs it as best_<metric>, a key of at most 250 characters.
  if (sweep.metric.length > 245) throw bad(where, 'sweep.metric', 'must be at most 245 characters');
  if (sweep.goal !== undefined && sweep.goal !== 'max' && sweep.goal !== 'min') throw bad(where, 'sweep.goal', `must be max or min (got ${JSON.stringify(sweep.goal)})`);
  if (sweep.parallel !== undefined && (typeof sweep.parallel !== 'number' || !Number.isSafeInteger(sweep.parallel) || sweep.parallel < 1)) {
    throw bad(where, 'sweep.parallel', `must be a positive integer (got ${JSON.stringify(sweep.parallel)})`);
  }

  if (sweep.grid !== undefined) {
    const grid = sweep.grid;
    if (!isObj(grid) || Object.keys(grid).length === 0) throw bad(where, 'sweep.grid', 'must be a map of param name → list of values');
    let size = 1;
    for (const [name, values] of Object.entries(grid)) {
      const field = `sweep.grid.${name}`;
      const like = declared(step, name, where, field);
      if (!Array.isArray(values) || values.length === 0) throw bad(where, field, 'must be a non-empty list of values');
      const seen = new Set<ParamValue>();
      for (const v of values) {
        sameType(v, like, where, field);
        if (seen.has(v)) throw bad(where, field, `value ${JSON.stringify(v)} is listed twice`);
        seen.add(v);
      }
      size *= values.length;
    }
    if (size > MAX_SWEEP_TRIALS) throw bad(where, 'sweep.grid', `has ${size} combinations; at most ${MAX_SWEEP_TRIALS} trials are allowed`);
    return;
  }

  const random = sweep.random;
  if (!isObj(random)) throw bad(where, 'sweep.random', 'must be a map with samples, space and optionally seed');
  unknownFields(random, RANDOM_FIELDS, where, 'sweep.random');
  const { samples, seed, space } = random;
  if (typeof samples !== 'number' || !Number.isSafeInteger(samples) || samples < 1) throw bad(where, 'sweep.random.samples', `must be a positive integer (got ${JSON.stringify(samples)})`);
  if (samples > MAX_SWEEP_TRIALS) throw bad(where, 'sweep.random.samples', `is ${samples}; at most ${MAX_SWEEP_TRIALS} trials are allowed`);
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) throw bad(where, 'sweep.random.seed', `must be an integer (got ${JSON.stringify(seed)})`);
  if (!isObj(space) || Object.keys(space).length === 0) throw bad(where, 'sweep.random.space', 'must be a map of param name → distribution ({ uniform | loguniform | int: [low, high] } or { choice: [values] })');
  for (const [name, dist] of Object.entries(space)) {
    const field = `sweep.random.space.${name}`;
    const like = declared(step, name, where, field);
    const kinds = isObj(dist) ? Object.keys(dist) : [];
    if (kinds.length !== 1 || !(DISTRIBUTIONS as readonly string[]).includes(kinds[0])) {
      throw bad(where, field, `must be one of { uniform: [low, high] }, { loguniform: [low, high] }, { int: [low, high] }, { choice: [values] } (got ${JSON.stringify(dist)})`);
    }
    const kind = kinds[0] as (typeof DISTRIBUTIONS)[number];
    const arg = (dist as Obj)[kind];
    const at = `${field}.${kind}`;
    if (kind === 'choice') {
      if (!Array.isArray(arg) || arg.length === 0) throw bad(where, at, 'must be a non-empty list of values');
      for (const v of arg) sameType(v, like, where, at);
    } else {
      if (typeof like !== 'number') throw bad(where, field, `a ${kind} range draws numbers, but the param's default is ${JSON.stringify(like)}; use choice`);
      range(arg, kind, where, at);
    }
  }
}

/** A valid sweep with its defaults filled in (goal max; a random sweep's seed from the step name), deep-copied. */
export function normalizeSweep(sweep: SweepSpec, stepName: string): SweepSpec {
  const copy = JSON.parse(JSON.stringify(sweep)) as SweepSpec;
  copy.goal ??= 'max';
  if (copy.random) copy.random.seed ??= defaultSeed(stepName);
  return copy;
}

/** The seed of a random sweep that gives none: the first 4 bytes of sha256("flywheel.sweep.seed:" + step name). */
export function defaultSeed(stepName: string): number {
  return Number.parseInt(sha256Hex(`flywheel.sweep.seed:${stepName}`).slice(0, 8), 16);
}

/** sfc32 seeded from sha256 of the seed (see the module comment); returns uniform numbers in [0, 1). */
export function createPrng(seed: number): () => number {
  const hex = sha256Hex(`flywheel.sweep.prng:${seed}`);
  let a = Number.parseInt(hex.slice(0, 8), 16) | 0;
  let b = Number.parseInt(hex.slice(8, 16), 16) | 0;
  let c = Number.parseInt(hex.slice(16, 24), 16) | 0;
  let d = Number.parseInt(hex.slice(24, 32), 16) | 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** One draw of `dist` from the uniform number `u` in [0, 1). */
export function sampleDistribution(dist: SweepDistribution, u: number): ParamValue {
  if ('choice' in dist) return dist.choice[Math.min(dist.choice.length - 1, Math.floor(u * dist.choice.length))];
  if ('int' in dist) {
    const [low, high] = dist.int;
    return Math.min(high, low + Math.floor(u * (high - low + 1)));
  }
  const [low, high] = 'uniform' in dist ? dist.uniform : dist.loguniform;
  const v = 'uniform' in dist ? low + u * (high - low) : Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low)));
  // exp/log and the multiply can round a hair past a bound.
  return Math.min(high, Math.max(low, v));
}

/** The swept params of each trial, in trial order (see the module comment for the order and the draws). */
export function expandSweep(sweep: SweepSpec, stepName: string): Record<string, ParamValue>[] {
  if (sweep.grid) {
    const names = Object.keys(sweep.grid).sort();
    const lists = names.map((n) => sweep.grid![n]);
    const total = trialCount(sweep);
    const trials: Record<string, ParamValue>[] = [];
    for (let i = 0; i < total; i++) {
      const trial: Record<string, ParamValue> = {};
      // Mixed radix: the last name is the fastest digit.
      let rest = i;
      for (let k = names.length - 1; k >= 0; k--) {
        trial[names[k]] = lists[k][rest % lists[k].length];
        rest = Math.floor(rest / lists[k].length);
      }
      trials.push(Object.fromEntries(names.map((n) => [n, trial[n]])));
    }
    return trials;
  }
  const random = sweep.random!;
  const next = createPrng(random.seed ?? defaultSeed(stepName));
  const names = Object.keys(random.space).sort();
  const trials: Record<string, ParamValue>[] = [];
  for (let i = 0; i < random.samples; i++) trials.push(Object.fromEntries(names.map((n) => [n, sampleDistribution(random.space[n], next())])));
  return trials;
}

/** Index of the best trial by `goal` among those with a metric (NaN counts as none); ties go to the lowest index. */
export function pickBest(trials: readonly { index: number; metric: number | null }[], goal: 'max' | 'min'): number | null {
  let best: { index: number; metric: number } | null = null;
  for (const t of [...trials].sort((x, y) => x.index - y.index)) {
    if (t.metric === null || Number.isNaN(t.metric)) continue;
    if (best === null || (goal === 'max' ? t.metric > best.metric : t.metric < best.metric)) best = { index: t.index, metric: t.metric };
  }
  return best === null ? null : best.index;
}
