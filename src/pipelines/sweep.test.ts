/**
 * Sweeps, definition side: grid expansion against hand-computed grids, random
 * sampling (bounds, reproducibility, the seed derived from the step name),
 * the best-trial rule, every invalid sweep as one FW_INVALID_ARGUMENT naming
 * pipeline, step and field (TypeScript, graph validation, YAML with its
 * line:column), and the sweep's place in the cache key.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { cacheKey } from './cache-key.js';
import { definePipeline, type StepSpec } from './define.js';
import { validatePipeline } from './graph.js';
import { createPrng, defaultSeed, expandSweep, MAX_SWEEP_TRIALS, pickBest, sampleDistribution } from './sweep.js';
import type { PipelineDefinition, StepDefinition, SweepDistribution, SweepSpec } from './types.js';
import { parsePipelinesYaml } from './yaml.js';

function errorOf(fn: () => unknown): FlywheelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_INVALID_ARGUMENT');
    return err as FlywheelError;
  }
  throw new Error('expected an error');
}

const noop = () => undefined;
/** A pipeline "p" with one function step "train" declaring lr (number), depth (number), algo (string), fast (boolean). */
const withSweep = (sweep: unknown, over: Partial<StepSpec> = {}): PipelineDefinition =>
  definePipeline('p', ({ step }) => {
    step('train', { params: { lr: 0.1, depth: 3, algo: 'a', fast: true }, run: noop, sweep: sweep as SweepSpec, ...over });
  });
const sweepOf = (def: PipelineDefinition) => def.steps[0].sweep!;

describe('grid expansion', () => {
  it('is the cartesian product in name order, the first name varying slowest', () => {
    // Written lr first, but names are taken sorted: depth is first, so it varies slowest.
    const def = withSweep({ grid: { lr: [0.1, 0.01], depth: [3, 5] }, metric: 'val_auc' });
    expect(expandSweep(sweepOf(def), 'train')).toEqual([
      { depth: 3, lr: 0.1 },
      { depth: 3, lr: 0.01 },
      { depth: 5, lr: 0.1 },
      { depth: 5, lr: 0.01 },
    ]);
  });

  it('three params: trial i = algo[⌊i / 6⌋], depth[⌊i / 2⌋ mod 3], fast[i mod 2]', () => {
    const def = withSweep({ grid: { fast: [true, false], algo: ['x', 'y'], depth: [1, 2, 3] }, metric: 'm' });
    const trials = expandSweep(sweepOf(def), 'train');
    expect(trials).toHaveLength(12);
    expect(trials[0]).toEqual({ algo: 'x', depth: 1, fast: true });
    expect(trials[5]).toEqual({ algo: 'x', depth: 3, fast: false });
    expect(trials[7]).toEqual({ algo: 'y', depth: 1, fast: false });
    expect(trials[11]).toEqual({ algo: 'y', depth: 3, fast: false });
    expect(new Set(trials.map((t) => JSON.stringify(t))).size).toBe(12);
  });

  it('fills in goal max; keeps what was given', () => {
    expect(sweepOf(withSweep({ grid: { lr: [1] }, metric: 'm' })).goal).toBe('max');
    expect(sweepOf(withSweep({ grid: { lr: [1] }, metric: 'm', goal: 'min', parallel: 3 }))).toEqual({ grid: { lr: [1] }, metric: 'm', goal: 'min', parallel: 3 });
  });
});

describe('random sampling', () => {
  const space: Record<string, SweepDistribution> = { lr: { loguniform: [0.0001, 0.1] }, depth: { int: [2, 8] }, algo: { choice: ['a', 'b'] }, fast: { choice: [true, false] } };

  it('draws within bounds: loguniform and uniform in [low, high], int inclusive, choice from the list', () => {
    const def = withSweep({ random: { samples: 2000, seed: 42, space: { ...space, fast: { choice: [false] } } }, metric: 'm' });
    const trials = expandSweep(sweepOf(def), 'train');
    expect(trials).toHaveLength(2000);
    const lrs = trials.map((t) => t.lr as number);
    expect(Math.min(...lrs)).toBeGreaterThanOrEqual(0.0001);
    expect(Math.max(...lrs)).toBeLessThanOrEqual(0.1);
    expect(trials.every((t) => Number.isInteger(t.depth) && t.fast === false)).toBe(true);
    expect(new Set(trials.map((t) => t.depth))).toEqual(new Set([2, 3, 4, 5, 6, 7, 8]));
    expect(new Set(trials.map((t) => t.algo))).toEqual(new Set(['a', 'b']));
    // Log-uniform over three decades: about a third of the draws fall in each decade.
    const firstDecade = trials.filter((t) => (t.lr as number) < 0.001).length / trials.length;
    expect(firstDecade).toBeGreaterThan(0.28);
    expect(firstDecade).toBeLessThan(0.39);
  });

  it('maps a uniform number to a value as documented', () => {
    expect(sampleDistribution({ uniform: [0.5, 1] }, 0.5)).toBe(0.75);
    expect(sampleDistribution({ loguniform: [0.001, 0.1] }, 0.5)).toBeCloseTo(0.01, 12);
    expect(sampleDistribution({ int: [2, 8] }, 0)).toBe(2);
    expect(sampleDistribution({ int: [2, 8] }, 0.5)).toBe(5); // 2 + ⌊0.5 · 7⌋
    expect(sampleDistribution({ int: [2, 8] }, 0.9999999)).toBe(8);
    expect(sampleDistribution({ choice: ['a', 'b', 'c'] }, 0.34)).toBe('b');
  });

  it('the same seed draws the same trials; another seed others', () => {
    const a = expandSweep(sweepOf(withSweep({ random: { samples: 5, seed: 42, space }, metric: 'm' })), 'train');
    const b = expandSweep(sweepOf(withSweep({ random: { samples: 5, seed: 42, space }, metric: 'm' })), 'train');
    const c = expandSweep(sweepOf(withSweep({ random: { samples: 5, seed: 43, space }, metric: 'm' })), 'train');
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('does not depend on the order the space is written in', () => {
    const reversed = Object.fromEntries(Object.entries(space).reverse());
    const a = expandSweep(sweepOf(withSweep({ random: { samples: 5, seed: 1, space }, metric: 'm' })), 'train');
    const b = expandSweep(sweepOf(withSweep({ random: { samples: 5, seed: 1, space: reversed }, metric: 'm' })), 'train');
    expect(b).toEqual(a);
  });

  it('without a seed, uses one derived from the step name: reruns draw the same, other steps differ', () => {
    const def = withSweep({ random: { samples: 4, space }, metric: 'm' });
    expect(sweepOf(def).random!.seed).toBe(defaultSeed('train'));
    expect(defaultSeed('train')).toBe(Number.parseInt(createHash('sha256').update('flywheel.sweep.seed:train').digest('hex').slice(0, 8), 16));
    const again = withSweep({ random: { samples: 4, space }, metric: 'm' });
    expect(expandSweep(sweepOf(again), 'train')).toEqual(expandSweep(sweepOf(def), 'train'));
    const other = definePipeline('p', ({ step }) => {
      step('train2', { params: { lr: 0.1, depth: 3, algo: 'a', fast: true }, run: noop, sweep: { random: { samples: 4, space }, metric: 'm' } });
    });
    expect(expandSweep(sweepOf(other), 'train2')).not.toEqual(expandSweep(sweepOf(def), 'train'));
  });

  it('the generator is uniform in [0, 1)', () => {
    const next = createPrng(7);
    let sum = 0;
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 10_000; i++) {
      const u = next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      buckets[Math.min(9, Math.floor(u * 10))]++;
    }
    expect(outside).toBe(0);
    expect(sum / 10_000).toBeGreaterThan(0.49);
    expect(sum / 10_000).toBeLessThan(0.51);
    for (const b of buckets) expect(Math.abs(b - 1000)).toBeLessThan(120);
  });
});

describe('pickBest', () => {
  const trials = [
    { index: 0, metric: 0.5 },
    { index: 1, metric: 0.9 },
    { index: 2, metric: 0.9 },
    { index: 3, metric: null },
    { index: 4, metric: Number.NaN },
  ];
  it('takes the highest (max) or lowest (min) metric, ties to the lowest index, ignoring missing and NaN', () => {
    expect(pickBest(trials, 'max')).toBe(1);
    expect(pickBest([...trials].reverse(), 'max')).toBe(1);
    expect(pickBest(trials, 'min')).toBe(0);
    expect(pickBest([{ index: 0, metric: null }], 'max')).toBeNull();
  });
});

describe('invalid sweeps', () => {
  const ok = { grid: { lr: [0.1, 0.01] }, metric: 'val_auc' };
  it.each<[string, unknown, string, string]>([
    ['not a map', 'lr', 'sweep', 'must be a map'],
    ['unknown field', { ...ok, metrc: 'x' }, 'sweep.metrc', 'unknown field'],
    ['neither grid nor random', { metric: 'm' }, 'sweep', 'give grid or random'],
    ['both grid and random', { ...ok, random: { samples: 1, space: { lr: { uniform: [0, 1] } } } }, 'sweep', 'not both'],
    ['no metric', { grid: ok.grid }, 'sweep.metric', 'must name the metric'],
    ['a bad metric key', { ...ok, metric: 'a!b' }, 'sweep.metric', 'Names may only contain'],
    ['a bad goal', { ...ok, goal: 'maximize' }, 'sweep.goal', 'must be max or min'],
    ['parallel 0', { ...ok, parallel: 0 }, 'sweep.parallel', 'positive integer'],
    ['an undeclared param', { grid: { lr: [1], beta: [1, 2] }, metric: 'm' }, 'sweep.grid.beta', '"beta" is not a param of the step'],
    ['an empty list', { grid: { lr: [] }, metric: 'm' }, 'sweep.grid.lr', 'non-empty list'],
    ['a value of another type', { grid: { lr: [0.1, '0.2'] }, metric: 'm' }, 'sweep.grid.lr', 'must be numbers like the param\'s default 0.1 (got "0.2")'],
    ['a value that is no param value', { grid: { algo: [{ x: 1 }] }, metric: 'm' }, 'sweep.grid.algo', 'strings, finite numbers or booleans'],
    ['a value listed twice', { grid: { depth: [3, 3] }, metric: 'm' }, 'sweep.grid.depth', 'listed twice'],
    ['an empty grid', { grid: {}, metric: 'm' }, 'sweep.grid', 'map of param name'],
    ['too many combinations', { grid: { lr: range(101), depth: range(100) }, metric: 'm' }, 'sweep.grid', `10100 combinations; at most ${MAX_SWEEP_TRIALS}`],
    ['samples 0', { random: { samples: 0, space: { lr: { uniform: [0, 1] } } }, metric: 'm' }, 'sweep.random.samples', 'positive integer'],
    ['too many samples', { random: { samples: MAX_SWEEP_TRIALS + 1, space: { lr: { uniform: [0, 1] } } }, metric: 'm' }, 'sweep.random.samples', 'at most'],
    ['a fractional seed', { random: { samples: 2, seed: 1.5, space: { lr: { uniform: [0, 1] } } }, metric: 'm' }, 'sweep.random.seed', 'integer'],
    ['an unknown random field', { random: { samples: 2, space: { lr: { uniform: [0, 1] } }, n: 2 }, metric: 'm' }, 'sweep.random.n', 'unknown field'],
    ['an empty space', { random: { samples: 2, space: {} }, metric: 'm' }, 'sweep.random.space', 'map of param name'],
    ['an unknown distribution', { random: { samples: 2, space: { lr: { normal: [0, 1] } } }, metric: 'm' }, 'sweep.random.space.lr', 'must be one of'],
    ['two distributions', { random: { samples: 2, space: { lr: { uniform: [0, 1], int: [0, 1] } } }, metric: 'm' }, 'sweep.random.space.lr', 'must be one of'],
    ['low ≥ high', { random: { samples: 2, space: { lr: { uniform: [1, 1] } } }, metric: 'm' }, 'sweep.random.space.lr.uniform', 'low must be below high'],
    ['one bound', { random: { samples: 2, space: { lr: { uniform: [1] } } }, metric: 'm' }, 'sweep.random.space.lr.uniform', '[low, high]'],
    ['loguniform from 0', { random: { samples: 2, space: { lr: { loguniform: [0, 1] } } }, metric: 'm' }, 'sweep.random.space.lr.loguniform', 'low > 0'],
    ['int with fractional bounds', { random: { samples: 2, space: { depth: { int: [1.5, 4] } } }, metric: 'm' }, 'sweep.random.space.depth.int', 'integer bounds'],
    ['a range for a string param', { random: { samples: 2, space: { algo: { uniform: [0, 1] } } }, metric: 'm' }, 'sweep.random.space.algo', 'use choice'],
    ['an empty choice', { random: { samples: 2, space: { algo: { choice: [] } } }, metric: 'm' }, 'sweep.random.space.algo.choice', 'non-empty list'],
    ['a choice of another type', { random: { samples: 2, space: { fast: { choice: [true, 'no'] } } }, metric: 'm' }, 'sweep.random.space.fast.choice', 'must be booleans'],
    ['an undeclared random param', { random: { samples: 2, space: { beta: { uniform: [0, 1] } } }, metric: 'm' }, 'sweep.random.space.beta', 'not a param'],
  ])('%s', (_, sweep, field, text) => {
    const err = errorOf(() => withSweep(sweep));
    expect(err.message).toContain(`pipeline "p", step "train", field "${field}": `);
    expect(err.message).toContain(text);
    expect(err.details).toEqual({ field });
  });

  it('refuses a sweep on a sql step (its trials would not see their params) and on a built-in', () => {
    const sql = errorOf(() => withSweep(ok, { run: undefined, sql: 'select 1 as x', outputs: ['x'] }));
    expect(sql.message).toContain('pipeline "p", step "train", field "sweep": a sweep runs function or shell steps');
    const builtin = errorOf(() => withSweep(ok, { run: undefined, uses: 'ingest', with: { source: 'a.csv' }, outputs: ['x'] }));
    expect(builtin.message).toContain('(a builtin step does not)');
  });

  it('graph validation checks a definition not built by buildStep (a stored snapshot)', () => {
    const def = withSweep(ok);
    const snapshot = JSON.parse(JSON.stringify({ ...def, source: 'snap.json', steps: def.steps.map(({ fn: _fn, ...s }) => ({ ...s, kind: 'shell', cmd: 'true' })) })) as PipelineDefinition;
    expect(() => validatePipeline(snapshot)).not.toThrow();
    snapshot.steps[0].sweep!.grid!.lr = [0.1, 'x' as never];
    expect(errorOf(() => validatePipeline(snapshot)).message).toMatch(/^snap\.json: pipeline "p", step "train", field "sweep\.grid\.lr": /);
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('YAML sweeps', () => {
  const doc = (...sweepLines: string[]) =>
    ['pipelines:', '  p:', '    steps:', '      train:', '        cmd: python train.py', '        params: { lr: 0.1, depth: 3 }', '        sweep:', ...sweepLines.map((l) => `          ${l}`), ''].join('\n');

  it('reads the same sweep as TypeScript', () => {
    const [def] = parsePipelinesYaml(
      doc('random: { samples: 8, seed: 42, space: { lr: { loguniform: [0.0001, 0.1] }, depth: { int: [2, 8] } } }', 'metric: val_auc', 'goal: min', 'parallel: 2'),
    );
    const ts = definePipeline('p', ({ step }) => {
      step('train', {
        cmd: 'python train.py',
        params: { lr: 0.1, depth: 3 },
        sweep: { random: { samples: 8, seed: 42, space: { lr: { loguniform: [0.0001, 0.1] }, depth: { int: [2, 8] } } }, metric: 'val_auc', goal: 'min', parallel: 2 },
      });
    });
    expect(def.steps[0].sweep).toEqual(ts.steps[0].sweep);
    expect(def.steps[0].sweep!.goal).toBe('min');
  });

  it('points at the line and column of the field at fault', () => {
    // Line 9 is `            lr: [0.1, "x"]`: the list starts at column 17.
    const err = errorOf(() => parsePipelinesYaml(doc('grid:', '  lr: [0.1, "x"]', 'metric: auc')));
    expect(err.message).toMatch(/^flywheel\.yaml:9:17: pipeline "p", step "train", field "sweep\.grid\.lr": values must be numbers/);
    // Line 8 is `          grid: { lr: [1] }`, line 9 `          goal: best`: the value starts at column 17.
    expect(errorOf(() => parsePipelinesYaml(doc('grid: { lr: [1] }', 'goal: best', 'metric: auc'))).message).toMatch(/^flywheel\.yaml:9:17: .*field "sweep\.goal"/);
    // A missing field points at the deepest part that exists (the sweep map, line 8).
    expect(errorOf(() => parsePipelinesYaml(doc('grid: { lr: [1] }'))).message).toMatch(/^flywheel\.yaml:8:11: .*field "sweep\.metric": must name the metric/);
  });
});

describe('cache key', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sweep-key-'));
  const key = (step: StepDefinition) => cacheKey(step, { inputVersionHashes: {}, projectRoot: root });
  const stepWith = (sweep: unknown) => withSweep(sweep).steps[0];

  it('changes with the sweep, not with its parallelism', () => {
    const base = key(stepWith({ grid: { lr: [0.1, 0.01] }, metric: 'auc' }));
    expect(key(stepWith({ grid: { lr: [0.1, 0.01] }, metric: 'auc', parallel: 7 }))).toBe(base);
    expect(key(stepWith({ grid: { lr: [0.1, 0.02] }, metric: 'auc' }))).not.toBe(base);
    expect(key(stepWith({ grid: { lr: [0.1, 0.01] }, metric: 'auc', goal: 'min' }))).not.toBe(base);
    expect(key(stepWith({ grid: { lr: [0.1, 0.01] }, metric: 'loss' }))).not.toBe(base);
    const { sweep: _s, ...plain } = stepWith({ grid: { lr: [0.1, 0.01] }, metric: 'auc' });
    expect(key(plain)).not.toBe(base);
  });
});
