import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { definePipeline, DEFAULT_RETRY } from './define.js';
import { downstreamOf, planOrder, upstreamOf, validateParams, validatePipeline } from './graph.js';
import type { InputRef, PipelineDefinition, StepDefinition } from './types.js';

/** A shell step reading `inputs` ("step.output" strings) and writing `outputs`. */
function step(name: string, inputs: Record<string, string> = {}, outputs: string[] = [name], extra: Partial<StepDefinition> = {}): StepDefinition {
  const refs: Record<string, InputRef> = {};
  for (const [k, v] of Object.entries(inputs)) {
    const [s, o] = v.split('.');
    refs[k] = { step: s, output: o };
  }
  return { name, kind: 'shell', cmd: `echo ${name}`, inputs: refs, outputs, params: {}, retry: { ...DEFAULT_RETRY }, tags: [], cache: true, deps: [], ...extra };
}

const pipeline = (...steps: StepDefinition[]): PipelineDefinition => ({ name: 'p', steps });

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_INVALID_ARGUMENT');
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

/** a → b, a → c, b → d, c → d. */
const diamond = () => pipeline(step('a'), step('b', { x: 'a.a' }), step('c', { x: 'a.a' }), step('d', { l: 'b.b', r: 'c.c' }));

describe('ordering-only dependencies (after)', () => {
  it('orders steps without data and checks the names', () => {
    const def = pipeline(step('a'), step('b', {}, ['b'], { after: ['a'] }));
    expect(() => validatePipeline(def)).not.toThrow();
    expect(planOrder(def)).toEqual(['a', 'b']);
    expect(upstreamOf(def, ['b'])).toContain('a');
    expect(messageOf(() => validatePipeline(pipeline(step('a'), step('b', {}, ['b'], { after: ['zz'] }))))).toBe('pipeline "p", step "b": "after" refers to step "zz", which does not exist');
    expect(messageOf(() => validatePipeline(pipeline(step('a', {}, ['a'], { after: ['a'] }))))).toBe('pipeline "p", step "a": "after" names the step itself');
  });

  it('finds a cycle made through after', () => {
    const def = pipeline(step('a', {}, ['a'], { after: ['b'] }), step('b', { x: 'a.a' }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "a": steps form a cycle: a → b → a');
  });

  it('is written with handles or names in TypeScript', () => {
    const def = definePipeline('p', ({ step: s }) => {
      const train = s('train', { cmd: 'true' });
      s('promote', { cmd: 'true', after: [train, 'train'] });
    });
    expect(def.steps[1].after).toEqual(['train']);
    expect(def.steps[0].after).toBeUndefined();
  });
});

describe('validatePipeline', () => {
  it('accepts a valid diamond', () => {
    expect(() => validatePipeline(diamond())).not.toThrow();
  });

  it('names a two-step cycle as its path', () => {
    const def = pipeline(step('a', { x: 'b.b' }), step('b', { x: 'a.a' }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "a": steps form a cycle: a → b → a');
  });

  it('names a longer cycle and leaves out steps not on it', () => {
    const def = pipeline(step('src'), step('a', { s: 'src.src', x: 'c.c' }), step('b', { x: 'a.a' }), step('c', { x: 'b.b' }), step('tail', { x: 'c.c' }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "a": steps form a cycle: a → b → c → a');
  });

  it('names a step reading its own output', () => {
    const def = pipeline(step('a', { x: 'a.a' }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "a": steps form a cycle: a → a');
  });

  it('rejects an input naming a missing step', () => {
    const def = pipeline(step('a'), step('b', { x: 'nope.a' }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "b": input "x" refers to step "nope", which does not exist');
  });

  it('rejects an input naming a missing output, listing the real ones', () => {
    const def = pipeline(step('a', {}, ['raw', 'meta']), step('b', { x: 'a.rwa' }));
    expect(messageOf(() => validatePipeline(def))).toBe(
      'pipeline "p", step "b": input "x" refers to output "rwa" of step "a", which does not exist (its outputs are raw, meta)',
    );
  });

  it('rejects duplicate step names', () => {
    const def = pipeline(step('a'), step('b', {}, ['b']), step('a', {}, ['a2']));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p": step "a" is defined twice');
  });

  it('rejects an output declared by two steps', () => {
    const def = pipeline(step('a', {}, ['raw']), step('b', {}, ['raw']));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "b": output "raw" is already declared by step "a"');
  });

  it('rejects a step with no way to run', () => {
    const def = pipeline(step('a', {}, ['a'], { kind: 'shell', cmd: undefined }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "a": the step has no way to run: kind "shell" needs a command (cmd)');
    const fn = pipeline(step('f', {}, ['f'], { kind: 'function', cmd: undefined }));
    expect(messageOf(() => validatePipeline(fn))).toBe('pipeline "p", step "f": the step has no way to run: kind "function" needs a function (run)');
  });

  it('rejects an unknown step kind', () => {
    const def = pipeline(step('a', {}, ['a'], { kind: 'python' as never }));
    expect(messageOf(() => validatePipeline(def))).toBe('pipeline "p", step "a": unknown step kind "python" (known: function, shell, sql, builtin)');
  });

  it('rejects an unknown built-in when the known set is given', () => {
    const def = pipeline(step('a', {}, ['a'], { kind: 'builtin', cmd: undefined, uses: 'ingets', with: {} }));
    expect(messageOf(() => validatePipeline(def, { builtins: ['validate', 'ingest'] }))).toBe(
      'pipeline "p", step "a": unknown built-in step "ingets" (known: ingest, validate)',
    );
  });

  it('rejects a malformed dataset input', () => {
    const def = pipeline({ ...step('a'), inputs: { o: { dataset: 'orders@' } } });
    expect(messageOf(() => validatePipeline(def))).toMatch(/^pipeline "p", step "a": input "o": Invalid dataset reference "orders@"/);
  });

  it('prefixes messages with the source file', () => {
    const def = { ...pipeline(step('a'), step('a', {}, ['z'])), source: 'flywheel.yaml' };
    expect(messageOf(() => validatePipeline(def))).toBe('flywheel.yaml: pipeline "p": step "a" is defined twice');
  });
});

describe('validateParams', () => {
  const def = pipeline(step('a', {}, ['a'], { params: { k: 3, mode: 'fast' } }), step('b', {}, ['b'], { params: { k: 1, on: false } }), step('c'));

  it('returns declared defaults without overrides', () => {
    expect(validateParams(def)).toEqual({ a: { k: 3, mode: 'fast' }, b: { k: 1, on: false }, c: {} });
  });

  it('applies a bare key to every step declaring it and a qualified key to one step, converting CLI strings', () => {
    expect(validateParams(def, { 'b.k': '7', k: '5', on: 'true' })).toEqual({ a: { k: 5, mode: 'fast' }, b: { k: 7, on: true }, c: {} });
  });

  it('rejects a param of a step that does not declare it', () => {
    expect(messageOf(() => validateParams(def, { 'a.depth': 2 }))).toBe('pipeline "p", step "a": unknown param "depth" (declared: k, mode)');
    expect(messageOf(() => validateParams(def, { 'c.depth': 2 }))).toBe('pipeline "p", step "c": unknown param "depth" (the step declares no params)');
  });

  it('rejects a bare param no step declares, and a missing step', () => {
    expect(messageOf(() => validateParams(def, { depth: 2 }))).toBe('pipeline "p": no step declares param "depth"');
    expect(messageOf(() => validateParams(def, { 'zz.k': 2 }))).toBe('pipeline "p" has no step "zz" (param override "zz.k")');
  });

  it('rejects a value of the wrong type', () => {
    expect(messageOf(() => validateParams(def, { 'a.k': 'three' }))).toBe('pipeline "p", step "a": param "k" must be a number (got "three")');
  });
});

describe('planOrder', () => {
  it('orders a diamond, ties by definition order', () => {
    expect(planOrder(diamond())).toEqual(['a', 'b', 'c', 'd']);
    const def = pipeline(step('d', { l: 'b.b', r: 'c.c' }), step('c', { x: 'a.a' }), step('b', { x: 'a.a' }), step('a'));
    expect(planOrder(def)).toEqual(['a', 'c', 'b', 'd']);
  });

  it('puts an independent step defined early before a later ready one', () => {
    const def = pipeline(step('b', { x: 'a.a' }), step('x'), step('a'));
    expect(planOrder(def)).toEqual(['x', 'a', 'b']);
  });

  it('orders a 50-step random DAG so every edge goes forward', () => {
    // A seeded generator (mulberry32) so a failure reproduces.
    let seed = 42;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const n = 50;
    // Hidden topological rank i → edges only from lower to higher rank; define steps shuffled.
    const steps: StepDefinition[] = [];
    const edges: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      const inputs: Record<string, string> = {};
      for (let j = 0; j < i; j++) {
        if (rand() < 0.1) {
          inputs[`in${j}`] = `s${j}.s${j}`;
          edges.push([`s${j}`, `s${i}`]);
        }
      }
      steps.push(step(`s${i}`, inputs));
    }
    for (let i = steps.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [steps[i], steps[j]] = [steps[j], steps[i]];
    }
    const def = pipeline(...steps);
    validatePipeline(def);
    const order = planOrder(def);
    expect([...order].sort()).toEqual(steps.map((s) => s.name).sort());
    expect(edges.length).toBeGreaterThan(50);
    const pos = new Map(order.map((name, i) => [name, i]));
    const backward = edges.filter(([from, to]) => pos.get(from)! >= pos.get(to)!);
    expect(backward).toEqual([]);
  });

  it('throws on a cycle', () => {
    expect(messageOf(() => planOrder(pipeline(step('a', { x: 'b.b' }), step('b', { x: 'a.a' }))))).toBe(
      'pipeline "p", step "a": steps form a cycle: a → b → a',
    );
  });
});

describe('downstreamOf / upstreamOf', () => {
  it('follows consumers and producers on a diamond', () => {
    const def = diamond();
    expect(downstreamOf(def, ['a'])).toEqual(['b', 'c', 'd']);
    expect(downstreamOf(def, ['b'])).toEqual(['d']);
    expect(downstreamOf(def, ['d'])).toEqual([]);
    expect(downstreamOf(def, ['b', 'c'])).toEqual(['d']);
    expect(upstreamOf(def, ['d'])).toEqual(['a', 'b', 'c']);
    expect(upstreamOf(def, ['c'])).toEqual(['a']);
  });

  it('rejects an unknown step', () => {
    expect(messageOf(() => downstreamOf(diamond(), ['x']))).toBe('pipeline "p" has no step "x"');
  });

  it('works on definitions from the builder', () => {
    const def = definePipeline('churn', ({ step: s }) => {
      const raw = s('ingest', { uses: 'ingest', outputs: ['raw'] });
      const other = s('other', { cmd: 'true', outputs: ['o'] });
      const feats = s('features', { inputs: { raw }, cmd: 'true', outputs: ['features'] });
      s('report', { inputs: { f: feats, o: other }, cmd: 'true', outputs: ['report'] });
    });
    expect(downstreamOf(def, ['ingest'])).toEqual(['features', 'report']);
    expect(downstreamOf(def, ['other'])).toEqual(['report']);
  });
});
