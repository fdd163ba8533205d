import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { definePipeline } from './define.js';

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

describe('definePipeline', () => {
  it('builds steps with every default filled in', () => {
    const run = async () => {};
    const def = definePipeline('churn', (b) => {
      const raw = b.step('ingest', { uses: 'ingest', with: { source: 'orders.csv' }, outputs: ['raw'] });
      b.step('features', { inputs: { raw: raw.output('raw') }, params: { k: 3 }, run, outputs: ['features'] });
    });
    expect(def).toEqual({
      name: 'churn',
      steps: [
        {
          name: 'ingest',
          kind: 'builtin',
          uses: 'ingest',
          with: { source: 'orders.csv' },
          inputs: {},
          outputs: ['raw'],
          params: {},
          retry: { retries: 0, backoffMs: 1000, maxBackoffMs: 60000 },
          tags: [],
          cache: true,
          deps: [],
        },
        {
          name: 'features',
          kind: 'function',
          fn: run,
          inputs: { raw: { step: 'ingest', output: 'raw' } },
          outputs: ['features'],
          params: { k: 3 },
          retry: { retries: 0, backoffMs: 1000, maxBackoffMs: 60000 },
          tags: [],
          cache: true,
          deps: [],
        },
      ],
    });
  });

  it('accepts the destructured form, a handle as input and the function as third argument', () => {
    const fn = async () => {};
    const def = definePipeline(
      'churn',
      ({ step }) => {
        const raw = step('ingest', { uses: 'ingest', outputs: ['raw'] });
        step('features', { inputs: { raw, orders: { dataset: 'orders@latest' }, customers: 'dataset:customers@2' }, outputs: ['features'] }, fn);
        step('report', { inputs: { f: 'features.features' }, cmd: 'cat $FLYWHEEL_INPUT_F', retries: 3, retry: { backoffMs: 10 }, timeoutMs: 5000, tags: ['db'], cache: false });
      },
      { concurrency: 2, onFailure: 'continue' },
    );
    expect(def.concurrency).toBe(2);
    expect(def.onFailure).toBe('continue');
    const [, features, report] = def.steps;
    expect(features.kind).toBe('function');
    expect(features.fn).toBe(fn);
    expect(features.inputs).toEqual({ raw: { step: 'ingest', output: 'raw' }, orders: { dataset: 'orders@latest' }, customers: { dataset: 'customers@2' } });
    expect(report).toMatchObject({
      kind: 'shell',
      inputs: { f: { step: 'features', output: 'features' } },
      retry: { retries: 3, backoffMs: 10, maxBackoffMs: 60000 },
      timeoutMs: 5000,
      tags: ['db'],
      cache: false,
    });
  });

  it('rejects a handle with several outputs used as a single input', () => {
    expect(
      messageOf(() =>
        definePipeline('p', ({ step }) => {
          const two = step('split', { cmd: 'true', outputs: ['train', 'test'] });
          step('fit', { inputs: { data: two }, cmd: 'true' });
        }),
      ),
    ).toBe(`pipeline "p", step "fit", input "data": step "split" has 2 outputs (train, test); name one with split.output('…')`);
  });

  it('rejects a step with no way to run, and one with two', () => {
    expect(messageOf(() => definePipeline('p', ({ step }) => void step('a', { outputs: ['a'] })))).toBe(
      'pipeline "p", step "a": the step has no way to run; give exactly one of run (a function), cmd, sql or uses',
    );
    expect(messageOf(() => definePipeline('p', ({ step }) => void step('a', { cmd: 'true', sql: 'select 1' })))).toBe(
      'pipeline "p", step "a": give exactly one of run, cmd, sql or uses (got cmd and sql)',
    );
  });

  it('rejects a step name with a dot and an unparseable input string', () => {
    expect(messageOf(() => definePipeline('p', ({ step }) => void step('a.b', { cmd: 'true' })))).toBe(
      'pipeline "p", step "a.b": invalid step name "a.b": use letters, digits, "_" or "-", starting with a letter or "_" (no ".")',
    );
    expect(messageOf(() => definePipeline('p', ({ step }) => void step('a', { cmd: 'true', inputs: { x: 'orders' } })))).toBe(
      'pipeline "p", step "a", input "x": "orders" is neither "step.output" nor "dataset:NAME@VERSION"',
    );
  });

  it('validates the graph: a duplicate step name', () => {
    expect(
      messageOf(() =>
        definePipeline('p', ({ step }) => {
          step('a', { cmd: 'true' });
          step('a', { cmd: 'false' });
        }),
      ),
    ).toBe('pipeline "p": step "a" is defined twice');
  });

  it('rejects a non-integer retries count', () => {
    expect(messageOf(() => definePipeline('p', ({ step }) => void step('a', { cmd: 'true', retries: 1.5 })))).toBe(
      'pipeline "p", step "a": field "retries" must be a non-negative integer (got 1.5)',
    );
  });
});

describe('cache defaults', () => {
  it('a promote step is not served from cache unless it asks to be', () => {
    const def = definePipeline('p', ({ step }) => {
      step('gate', { uses: 'promote', with: { model: 'm' } });
      step('gate_cached', { uses: 'promote', with: { model: 'm' }, cache: true });
      step('fit', { uses: 'train', with: { target: 'y' } });
    });
    expect(def.steps.map((s) => [s.name, s.cache])).toEqual([
      ['gate', false],
      ['gate_cached', true],
      ['fit', true],
    ]);
  });
});
