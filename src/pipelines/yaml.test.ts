import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { definePipeline } from './define.js';
import { loadPipelinesYaml, parseDuration, parsePipelinesYaml } from './yaml.js';

const FIXTURES = path.resolve(__dirname, '../../test/fixtures/pipelines');

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

const parse = (text: string) => parsePipelinesYaml(text, 'flywheel.yaml', { baseDir: FIXTURES });

/** A one-pipeline document whose steps are the given YAML lines (indented under `steps:`). */
const doc = (...stepLines: string[]) => ['pipelines:', '  churn:', '    steps:', ...stepLines.map((l) => `      ${l}`), ''].join('\n');

describe('parsePipelinesYaml', () => {
  it('yields the same definition as the builder for the same pipeline', () => {
    const file = path.join(FIXTURES, 'flywheel.yaml');
    const fromYaml = loadPipelinesYaml(file);
    const fromTs = definePipeline(
      'churn',
      ({ step }) => {
        const ingest = step('ingest', { uses: 'ingest', with: { source: 'data/orders.csv', format: 'csv' }, outputs: ['raw'] });
        const features = step('features', {
          cmd: 'python features.py',
          inputs: { raw: ingest, customers: { dataset: 'customers@2' } },
          deps: ['features.py'],
          params: { k: 3, scale: true, label: 'churned' },
          outputs: ['features'],
          retries: 2,
          timeoutMs: 600_000,
          tags: ['db'],
        });
        step('agg', {
          sql: "select customer_id, avg(k) as k from {{ ref('features') }} group by 1\n",
          inputs: { features },
          outputs: ['agg'],
          cache: false,
        });
      },
      { concurrency: 4, tagConcurrency: { db: 1 }, onFailure: 'continue', source: file },
    );
    expect(fromYaml).toEqual([fromTs]);
  });

  it('keeps the order of pipelines and steps as written', () => {
    const defs = parse(
      ['pipelines:', '  b:', '    steps:', '      z: { cmd: "true" }', '      a: { cmd: "true" }', '  a:', '    steps:', '      only: { cmd: "true" }', ''].join('\n'),
    );
    expect(defs.map((d) => [d.name, d.steps.map((s) => s.name)])).toEqual([
      ['b', ['z', 'a']],
      ['a', ['only']],
    ]);
  });

  it('reports a YAML syntax error with line and column', () => {
    // Line 4 is `      a: { cmd: x, outputs: [a }`: the `}` at column 32 closes a flow sequence never closed.
    expect(messageOf(() => parse(doc('a: { cmd: x, outputs: [a }')))).toBe(
      'flywheel.yaml:4:32: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    // A duplicate key on line 6, indented 8 spaces.
    expect(messageOf(() => parse(doc('a:', '  cmd: x', '  cmd: y')))).toBe('flywheel.yaml:6:9: YAML syntax error: Map keys must be unique');
  });

  it('names file, line, column, pipeline and step for an unknown field', () => {
    expect(messageOf(() => parse(doc('a:', '  cmd: x', '  python: train.py')))).toBe(
      'flywheel.yaml:6:9: pipeline "churn", step "a": unknown field "python" (known: uses, with, cmd, sql, sql_file, inputs, outputs, params, deps, retries, backoff, max_backoff, timeout, tags, cache, sweep, after)',
    );
  });

  it('requires exactly one of cmd, sql, sql_file or uses', () => {
    expect(messageOf(() => parse(doc('a:', '  outputs: [a]')))).toBe(
      'flywheel.yaml:5:9: pipeline "churn", step "a": give exactly one of cmd, sql, sql_file or uses (the step has no way to run)',
    );
    expect(messageOf(() => parse(doc('a:', '  cmd: x', '  uses: ingest')))).toBe(
      'flywheel.yaml:6:9: pipeline "churn", step "a": give exactly one of cmd, sql, sql_file or uses (got cmd and uses)',
    );
  });

  it('rejects a bad duration, naming the field at its value', () => {
    expect(messageOf(() => parse(doc('a:', '  cmd: x', '  timeout: 10 minutes')))).toBe(
      'flywheel.yaml:6:18: pipeline "churn", step "a", field "timeout": "10 minutes" is not a duration (e.g. 90s, 10m, 1h30m)',
    );
  });

  it('rejects a malformed input string and a missing sql_file', () => {
    expect(messageOf(() => parse(doc('a:', '  cmd: x', '  inputs: { raw: ingest }')))).toBe(
      'flywheel.yaml:6:24: pipeline "churn", step "a", field "inputs.raw": "ingest" is neither "step.output" nor "dataset:NAME@VERSION"',
    );
    expect(messageOf(() => parse(doc('a:', '  sql_file: models/nope.sql', '  outputs: [a]')))).toBe(
      `flywheel.yaml:5:19: pipeline "churn", step "a", field "sql_file": cannot read "models/nope.sql" (looked for ${path.join(FIXTURES, 'models/nope.sql')})`,
    );
  });

  it('checks the graph: a cycle names the source and the path', () => {
    expect(messageOf(() => parse(doc('a: { cmd: x, inputs: { i: b.b }, outputs: [a] }', 'b: { cmd: x, inputs: { i: a.a }, outputs: [b] }')))).toBe(
      'flywheel.yaml:4:7: pipeline "churn", step "a": steps form a cycle: a → b → a',
    );
  });

  it('rejects a document without a pipelines section and an unknown pipeline field', () => {
    expect(messageOf(() => parse('pipeline:\n  churn: {}\n'))).toBe('flywheel.yaml:1:1: the file has no "pipelines" section');
    expect(messageOf(() => parse('pipelines:\n  churn:\n    step: {}\n'))).toBe(
      'flywheel.yaml:3:5: pipeline "churn": unknown field "step" (known: concurrency, tag_concurrency, on_failure, schedule, triggers, steps)',
    );
  });

  it('reads retry backoff durations', () => {
    const [def] = parse(doc('a: { cmd: x, retries: 4, backoff: 500ms, max_backoff: 1m }'));
    expect(def.steps[0].retry).toEqual({ retries: 4, backoffMs: 500, maxBackoffMs: 60000 });
  });

  it('reports a missing file', () => {
    expect(messageOf(() => loadPipelinesYaml(path.join(FIXTURES, 'absent.yaml')))).toBe(`pipeline file ${path.join(FIXTURES, 'absent.yaml')} does not exist`);
  });
});

describe('parseDuration', () => {
  it('reads units and compounds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('ten minutes')).toBeUndefined();
  });
});
