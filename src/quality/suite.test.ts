/**
 * Suite definitions: YAML and TypeScript give the same normalized suite, and
 * every mistake is reported with where it is (line:column for YAML, the check
 * index and field always).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { FIXTURES, tempDir } from '../../test/fixtures/quality/support.js';
import { defineSuite, loadSuiteFile, parseDuration, parseSuite, parseSuiteYaml, suiteHash } from './suite.js';

function error(fn: () => unknown): FlywheelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    return err as FlywheelError;
  }
  throw new Error('expected an error');
}

describe('parseSuiteYaml', () => {
  it('reads a suite and fills in defaults', () => {
    const suite = parseSuiteYaml(
      [
        'name: orders_basic',
        'dataset: orders',
        'checks:',
        '  - type: not_null',
        '    column: id',
        '  - type: between',
        '    column: amount',
        '    min: 0',
        '    max_inclusive: false',
        '    max: 1000',
        '    mostly: 0.95',
        '    severity: warn',
        '  - type: unique',
        '    columns: [customer_id, day]',
        '  - type: psi',
        '    column: amount',
        '  - type: mean_within',
        '    column: amount',
        '    reference: "@3"',
        '    tolerance: 0.1',
      ].join('\n'),
    );
    expect(suite).toEqual({
      name: 'orders_basic',
      dataset: 'orders',
      checks: [
        { type: 'not_null', column: 'id', severity: 'error', mostly: 1, name: 'not_null(id)' },
        { type: 'between', column: 'amount', min: 0, max: 1000, min_inclusive: true, max_inclusive: false, severity: 'warn', mostly: 0.95, name: 'between(amount)' },
        { type: 'unique', columns: ['customer_id', 'day'], severity: 'error', mostly: 1, name: 'unique(customer_id, day)' },
        { type: 'psi', column: 'amount', reference: 'previous', threshold: 0.2, severity: 'error', name: 'psi(amount)' },
        { type: 'mean_within', column: 'amount', reference: 'orders@3', tolerance: 0.1, severity: 'error', name: 'mean_within(amount)' },
      ],
    });
  });

  it('reports a YAML syntax error with its line and column', () => {
    const err = error(() => parseSuiteYaml('name: s\ndataset: orders\nchecks:\n  - type: not_null\n    column: id: x\n', 'suites/bad.yaml'));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toBe('suites/bad.yaml:5:13: YAML syntax error: Nested mappings are not allowed in compact mappings');
    const unique = error(() => parseSuiteYaml('name: s\ndataset: orders\nname: t\nchecks: []\n', 'x.yaml'));
    expect(unique.message).toBe('x.yaml:3:1: YAML syntax error: Map keys must be unique');
    const indent = error(() => parseSuiteYaml('name: s\ndataset: orders\nchecks:\n  - type: not_null\n    column: id\n   severity: warn\n', 'y.yaml'));
    expect(indent.message).toBe('y.yaml:6:1: YAML syntax error: Sequence item without - indicator');
  });

  it('names the index, line and value of an unknown check type', () => {
    const text = 'name: s\ndataset: orders\nchecks:\n  - type: not_null\n    column: id\n  - type: not_nul\n    column: id\n';
    expect(error(() => parseSuiteYaml(text, 's.yaml')).message).toBe(
      's.yaml:6:5: checks[1]: unknown check type "not_nul" (expected one of column_exists, column_type, not_null, unique, in_set, between, regex, length, row_count, freshness, referential, sql, mean_within, std_within, psi, no_new_categories)',
    );
  });

  it('names a missing or unknown field', () => {
    const missing = 'name: s\ndataset: orders\nchecks:\n  - type: in_set\n    column: status\n';
    expect(error(() => parseSuiteYaml(missing, 's.yaml')).message).toBe('s.yaml:4:5: checks[0] (in_set): missing field "values"');
    const typo = 'name: s\ndataset: orders\nchecks:\n  - type: not_null\n    colum: id\n';
    expect(error(() => parseSuiteYaml(typo, 's.yaml')).message).toBe('s.yaml:4:5: checks[0] (not_null): missing field "column"');
    const extra = 'name: s\ndataset: orders\nchecks:\n  - type: not_null\n    column: id\n    colour: red\n';
    expect(error(() => parseSuiteYaml(extra, 's.yaml')).message).toBe('s.yaml:4:5: checks[0] (not_null): unknown field "colour"');
  });
});

describe('parseSuite', () => {
  const bad = (checks: unknown[], message: string) => expect(error(() => parseSuite({ name: 's', dataset: 'orders', checks }, 'body')).message).toBe(message);

  it('rejects malformed checks with the index and field', () => {
    bad([{ type: 'not_null', column: 'id', mostly: 1.5 }], 'body: checks[0] (not_null): field "mostly" must be at most 1');
    bad([{ type: 'row_count', min: 1, mostly: 0.5 }], 'body: checks[0] (row_count): field "mostly" does not apply to row_count checks');
    bad([{ type: 'not_null', column: 'id', severity: 'fatal' }], 'body: checks[0] (not_null): field "severity" must be "warn" or "error"');
    bad([{ type: 'row_count', min: 1 }, { type: 'between', column: 'x' }], 'body: checks[1] (between): give "min", "max" or both');
    bad([{ type: 'between', column: 'x', min: 5, max: 1 }], 'body: checks[0] (between): "min" (5) is greater than "max" (1)');
    bad([{ type: 'freshness', column: 't', max_age: 'a day' }], 'body: checks[0] (freshness): field "max_age" must be a duration such as 90s, 30m, 24h, 7d or 1h30m (got "a day")');
    bad([{ type: 'unique', column: 'a', columns: ['a', 'b'] }], 'body: checks[0] (unique): give "column" or "columns", not both');
    bad([{ type: 'in_set', column: 's', values: ['a', null] }], 'body: checks[0] (in_set): values[1] is null; nulls are never judged by in_set (use not_null)');
    bad([{ column: 'id' }], 'body: checks[0]: missing field "type" (one of column_exists, column_type, not_null, unique, in_set, between, regex, length, row_count, freshness, referential, sql, mean_within, std_within, psi, no_new_categories)');
    bad(['not_null'], 'body: checks[0]: a check must be a mapping with a "type"');
  });

  it('rejects a malformed suite', () => {
    expect(error(() => parseSuite({ dataset: 'orders', checks: [] }, 'body')).message).toBe('body: missing field "name"');
    expect(error(() => parseSuite({ name: 's', dataset: 'orders@2', checks: [{ type: 'row_count', min: 1 }] }, 'body')).message).toBe(
      'body: field "dataset" must be a dataset name without a version ("orders@2")',
    );
    expect(error(() => parseSuite({ name: 's', dataset: 'orders', checks: [] }, 'body')).message).toBe('body: field "checks" must be a non-empty list');
    expect(error(() => parseSuite({ name: 's', dataset: 'orders', checks: [{ type: 'row_count', min: 1 }], owner: 'x' }, 'body')).message).toBe('body: unknown suite field "owner"');
  });
});

describe('defineSuite', () => {
  it('gives the same suite and hash as the YAML form', () => {
    const ts = defineSuite({
      name: 'orders_basic',
      dataset: 'orders',
      checks: [
        { type: 'unique', column: 'id' },
        { type: 'sql', expect: "amount >= 0 or status = 'refund'", severity: 'warn' },
      ],
    });
    const yaml = parseSuiteYaml(`checks:\n  - {type: unique, column: id}\n  - expect: "amount >= 0 or status = 'refund'"\n    severity: warn\n    type: sql\ndataset: orders\nname: orders_basic\n`);
    expect(ts).toEqual(yaml);
    expect(suiteHash(ts)).toBe(suiteHash(yaml));
    expect(suiteHash(ts)).toMatch(/^[0-9a-f]{64}$/);
    expect(suiteHash(defineSuite({ ...ts, checks: [ts.checks[0]] }))).not.toBe(suiteHash(ts));
  });

  it('throws FW_INVALID_ARGUMENT naming the suite', () => {
    const err = error(() => defineSuite({ name: 'x', dataset: 'orders', checks: [{ type: 'nope' } as never] }));
    expect(err.message).toMatch(/^suite "x": checks\[0\]: unknown check type "nope"/);
  });
});

describe('loadSuiteFile', () => {
  it('reads YAML files and names a suite without a name after its file', () => {
    expect(loadSuiteFile(path.join(FIXTURES, 'suites/orders.yaml')).checks).toHaveLength(5);
    const dir = tempDir();
    const file = path.join(dir, 'daily-orders.yml');
    fs.writeFileSync(file, 'dataset: orders\nchecks:\n  - {type: row_count, min: 1}\n');
    expect(loadSuiteFile(file).name).toBe('daily-orders');
  });

  it('says when the file does not exist', () => {
    expect(error(() => loadSuiteFile('/nonexistent/suite.yaml')).message).toBe('suite file /nonexistent/suite.yaml does not exist');
  });
});

describe('parseDuration', () => {
  it('reads units and compounds', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('h')).toBeUndefined();
    expect(parseDuration('24')).toBeUndefined();
  });
});
