/**
 * Unit tests of the filter parser: the clauses each MLflow filter string yields,
 * and the FW_FILTER_SYNTAX errors (with their positions) for what it rejects.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { parseExperimentFilter, parseRunFilter } from './filter.js';

function syntaxErrorOf(fn: () => unknown): FlywheelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_FILTER_SYNTAX');
    return err as FlywheelError;
  }
  throw new Error('expected FW_FILTER_SYNTAX, nothing was thrown');
}

describe('parseRunFilter', () => {
  it('parses the four entity kinds joined by AND', () => {
    const clauses = parseRunFilter("metrics.acc > 0.9 and params.lr = '0.01' and tags.team LIKE 'a%' and attributes.status = 'FINISHED'");
    expect(clauses).toEqual([
      { type: 'metric', key: 'acc', op: '>', value: 0.9 },
      { type: 'param', key: 'lr', op: '=', value: '0.01' },
      { type: 'tag', key: 'team', op: 'LIKE', value: 'a%' },
      { type: 'attribute', key: 'status', op: '=', value: 'FINISHED' },
    ]);
  });

  it('has no clauses for an empty or blank filter', () => {
    expect(parseRunFilter('')).toEqual([]);
    expect(parseRunFilter('   \n')).toEqual([]);
    expect(parseRunFilter(undefined)).toEqual([]);
  });

  it('accepts every entity alias and case-insensitive keywords', () => {
    const clauses = parseRunFilter(
      "metric.a = 1 AnD param.b ilike 'x' and parameters.c != 'y' and parameter.d like 'z' and tag.e = 'v' and attr.status = 'RUNNING' and run.user_id = 'u'",
    );
    expect(clauses.map((c) => [c.type, c.key, c.op])).toEqual([
      ['metric', 'a', '='],
      ['param', 'b', 'ILIKE'],
      ['param', 'c', '!='],
      ['param', 'd', 'LIKE'],
      ['tag', 'e', '='],
      ['attribute', 'status', '='],
      ['attribute', 'user_id', '='],
    ]);
  });

  it('reads quoted keys and dotted keys', () => {
    expect(parseRunFilter('metrics.`my metric` >= 2')).toEqual([{ type: 'metric', key: 'my metric', op: '>=', value: 2 }]);
    expect(parseRunFilter(`tags."a b" = 'x'`)).toEqual([{ type: 'tag', key: 'a b', op: '=', value: 'x' }]);
    expect(parseRunFilter("tags.mlflow.source.name = 'train.py'")).toEqual([
      { type: 'tag', key: 'mlflow.source.name', op: '=', value: 'train.py' },
    ]);
    expect(parseRunFilter("params.`lr' or 1=1 --` = 'x'")[0].key).toBe("lr' or 1=1 --");
  });

  it('reads numbers in every notation, with or without spaces around the comparator', () => {
    const values = ['1', '-1', '+2.5', '.5', '3.', '1e-3', '-2.5E+4', '1E10'].map((v) => parseRunFilter(`metrics.m<=${v}`)[0].value);
    expect(values).toEqual([1, -1, 2.5, 0.5, 3, 0.001, -25000, 1e10]);
    expect(parseRunFilter('metrics.m<-1')).toEqual([{ type: 'metric', key: 'm', op: '<', value: -1 }]);
  });

  it('decodes doubled and backslash-escaped quotes in values', () => {
    expect(parseRunFilter("params.x = 'it''s'")[0].value).toBe("it's");
    expect(parseRunFilter("params.x = 'it\\'s'")[0].value).toBe("it's");
    expect(parseRunFilter(`params.x = "say ""hi"""`)[0].value).toBe('say "hi"');
    expect(parseRunFilter("params.x = 'C:\\\\dir'")[0].value).toBe('C:\\dir');
    expect(parseRunFilter("params.x LIKE 'a\\_b'")[0].value).toBe('a\\_b');
  });

  it('parses IN / NOT IN lists and IS [NOT] NULL', () => {
    expect(parseRunFilter("attributes.run_id IN ('a', \"b\",'c')")).toEqual([{ type: 'attribute', key: 'run_id', op: 'IN', value: ['a', 'b', 'c'] }]);
    expect(parseRunFilter("tags.team not in ('x')")).toEqual([{ type: 'tag', key: 'team', op: 'NOT IN', value: ['x'] }]);
    expect(parseRunFilter('params.lr IS NULL and tags.t is not null')).toEqual([
      { type: 'param', key: 'lr', op: 'IS NULL', value: null },
      { type: 'tag', key: 't', op: 'IS NOT NULL', value: null },
    ]);
  });

  it('maps attribute aliases and numeric attributes', () => {
    expect(parseRunFilter('attributes.created > 1700000000000 and Created <= 2e12')).toEqual([
      { type: 'attribute', key: 'start_time', op: '>', value: 1700000000000 },
      { type: 'attribute', key: 'start_time', op: '<=', value: 2e12 },
    ]);
    expect(parseRunFilter("attributes.`Run Name` = 'x' and run_name != 'y'").map((c) => c.key)).toEqual(['run_name', 'run_name']);
    expect(parseRunFilter("attributes.experiment_id IN ('1', 2)")).toEqual([
      { type: 'attribute', key: 'experiment_id', op: 'IN', value: ['1', '2'] },
    ]);
  });

  it('rejects OR with its position', () => {
    const err = syntaxErrorOf(() => parseRunFilter("metrics.a > 1 or params.b = 'x'"));
    expect(err.message).toBe(`Invalid filter "metrics.a > 1 or params.b = 'x'": OR is not supported (only AND joins clauses) at position 14`);
    expect(err.details).toEqual({ position: 14 });
  });

  it.each([
    ["(metrics.a > 1) and params.b = 'x'", /parentheses for grouping are not supported .* at position 0$/],
    ["params.b = 'x", /unterminated string.* at position 11$/],
    ['metrics.a >', /missing value after > at position 11$/],
    ['metrics.a', /expected a comparator .* found the end of the text at position 9$/],
    ['foo.a = 1', /unknown entity "foo" \(valid entities for runs: metrics, params, tags, attributes\) at position 0$/],
    ["metrics.acc = 'high'", /expected a numeric value for metric "acc", found "'high'" at position 14$/],
    ['params.lr = 0.01', /expected a quoted string value for param "lr" .* found "0.01" at position 12$/],
    ["attributes.bogus = 'x'", /invalid attribute "bogus" \(valid attributes for runs: run_id, run_name, .*start_time.*\) at position 0$/],
    ["metrics.a LIKE 'x%'", /comparator LIKE is not supported for metric "a" .* at position 10$/],
    ['attributes.status > 1', /comparator > is not supported for attribute "status" .* at position 18$/],
    ['metrics.a IS NULL', /comparator IS NULL is not supported for metric "a"/],
    ['params.a IN ()', /the IN list is empty at position 13$/],
    ["params.a IN ('x', 'y'", /the "\(" of the IN list is never closed at position 12$/],
    ["params.a IN ('x' 'y')", /expected "," or "\)" in the IN list, found "'y'" at position 17$/],
    ["params.a = ('x')", /a parenthesized list needs IN or NOT IN, not = at position 11$/],
    ['metrics.a > 1 and', /expected a clause .* at position 17$/],
    ["metrics.a > 1 params.b = 'x'", /expected AND or the end of the filter after a clause, found "params.b" at position 14$/],
    ["metrics.a > 1)", /unbalanced "\)" at position 13$/],
    ['metrics.a <> 1', /unknown comparator "<>" \(use !=\) at position 10$/],
    ['attributes.start_time > 1.5', /expected an integer .* at position 24$/],
    ["params.a = `x`", /expected a quoted string value .* at position 11$/],
    ["metrics. = 1", /missing key after "metrics\." at position 8$/],
    ["params.a LIKE 'x\\'", /unterminated string/],
    ["params.a LIKE 'x\\\\'", /LIKE pattern ends with the escape character/],
    ["params.a NOT LIKE 'x'", /expected IN after NOT, found "LIKE" at position 13$/],
    ['params.a IS 1', /expected NULL after IS, found "1" at position 12$/],
    ["constructor.x = 'y'", /unknown entity "constructor"/],
  ])('rejects %s', (filter, message) => {
    expect(syntaxErrorOf(() => parseRunFilter(filter)).message).toMatch(message);
  });
});

describe('parseExperimentFilter', () => {
  it('parses name (bare or attribute), times and tags', () => {
    expect(parseExperimentFilter("name = 'a' and attributes.name ILIKE '%B%' and attribute.creation_time > 5 and last_update_time <= 9 and tags.t != 'x'")).toEqual([
      { type: 'attribute', key: 'name', op: '=', value: 'a' },
      { type: 'attribute', key: 'name', op: 'ILIKE', value: '%B%' },
      { type: 'attribute', key: 'creation_time', op: '>', value: 5 },
      { type: 'attribute', key: 'last_update_time', op: '<=', value: 9 },
      { type: 'tag', key: 't', op: '!=', value: 'x' },
    ]);
  });

  it('rejects run-only entities and attributes', () => {
    expect(syntaxErrorOf(() => parseExperimentFilter('metrics.a > 1')).message).toMatch(/unknown entity "metrics" \(valid entities for experiments: tags, attributes\)/);
    expect(syntaxErrorOf(() => parseExperimentFilter("status = 'x'")).message).toMatch(/invalid attribute "status" \(valid attributes for experiments: name, creation_time, last_update_time\)/);
    expect(syntaxErrorOf(() => parseExperimentFilter("name IN ('a')")).message).toMatch(/comparator IN is not supported for attribute "name"/);
  });
});
