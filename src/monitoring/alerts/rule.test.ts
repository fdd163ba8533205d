/**
 * Alert rules: the one-line text form (every clause, defaults, signs and
 * exponents), errors naming the rule and the 1-based column, validation of
 * rules given as data, and the comparison that decides a bad window.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { formatAlertRule, isBad, parseAlertRule, validateAlertRule } from './rule.js';

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

describe('parseAlertRule', () => {
  it('reads the example from the issue, with defaults for what is not written', () => {
    expect(parseAlertRule('feature_drift_share >= 0.5 for 3 resolve 2', { name: 'drift' })).toEqual({
      name: 'drift',
      metric: 'feature_drift_share',
      op: '>=',
      threshold: 0.5,
      for: 3,
      resolveAfter: 2,
      severity: 'warning',
      labels: {},
    });
    expect(parseAlertRule('error_rate > 0.01', { name: 'errors' })).toMatchObject({ for: 1, resolveAfter: 1, severity: 'warning' });
  });

  it('accepts every operator, clauses in any order, a name prefix, dotted metrics, signs and exponents', () => {
    for (const op of ['>', '>=', '<', '<=', '==', '!='] as const) {
      expect(parseAlertRule(`m ${op} 1`, { name: 'r' }).op).toBe(op);
    }
    const r = parseAlertRule('p99: serving.latency.p99>2.5e2 severity critical resolve 4 for 2', { labels: { team: 'ml' } });
    expect(r).toEqual({ name: 'p99', metric: 'serving.latency.p99', op: '>', threshold: 250, for: 2, resolveAfter: 4, severity: 'critical', labels: { team: 'ml' } });
    expect(parseAlertRule('margin < -0.25', { name: 'm' }).threshold).toBe(-0.25);
    expect(parseAlertRule('margin < −.5', { name: 'm' }).threshold).toBe(-0.5);
    // The prefix wins over the default name; the line's severity over the default severity.
    expect(parseAlertRule('a: x > 1 severity info', { name: 'b', severity: 'critical' })).toMatchObject({ name: 'a', severity: 'info' });
    expect(parseAlertRule('x > 1', { name: 'b', severity: 'critical' }).severity).toBe('critical');
  });

  it('reads back what formatAlertRule writes', () => {
    const rules = [
      validateAlertRule({ name: 'a', metric: 'x.y', op: '!=', threshold: -1e-7, for: 3, resolveAfter: 2, severity: 'critical' }),
      validateAlertRule({ name: 'b-2', metric: 'z', op: '<=', threshold: 0 }),
    ];
    for (const r of rules) expect(parseAlertRule(formatAlertRule(r))).toEqual(r);
    expect(formatAlertRule(rules[1])).toBe('b-2: z <= 0');
  });

  it('reports syntax errors with the rule name and the column', () => {
    const cases: [string, RegExp][] = [
      ['feature_drift_share 0.5', /expected a comparison \(> >= < <= == !=\) but found "0.5" at column 21/],
      ['x >= ', /expected a number after ">=" but found end of rule at column 6/],
      ['x >= high', /expected a number after ">=" but found "high" at column 6/],
      ['x => 1', /unexpected character "=" at column 3/],
      ['x > 1 for', /"for" needs a whole number of windows \(at least 1\) but found end of rule at column 10/],
      ['x > 1 for 0', /"for" needs a whole number .* but found "0" at column 11/],
      ['x > 1 for 2.5', /"for" needs a whole number .* but found "2.5" at column 11/],
      ['x > 1 resolve -1', /"resolve" needs a whole number .* but found "-1" at column 15/],
      ['x > 1 for 2 for 3', /"for" is given twice \(first at column 7\) at column 13/],
      ['x > 1 severity loud', /"severity" needs one of info, warning, critical but found "loud" at column 16/],
      ['x > 1 until 3', /expected "for", "resolve", "severity" or the end of the rule but found "until" at column 7/],
      ['x > 1 $', /unexpected character "\$" at column 7/],
      ['x > 1abc', /unexpected "a" after a number at column 6/],
      ['> 1', /expected a metric name but found ">" at column 1/],
      ['x. > 1', /expected a name after "." but found ">" at column 4/],
    ];
    for (const [text, re] of cases) {
      const err = errorOf(() => parseAlertRule(text, { name: 'drift' }));
      expect(err.message).toMatch(/^alert rule "drift"/);
      expect(err.message).toMatch(re);
    }
    expect(errorOf(() => parseAlertRule('x > 1 for 0', { name: 'drift' })).details).toEqual({ rule: 'drift', column: 11 });
  });

  it('requires a name and non-empty text', () => {
    expect(errorOf(() => parseAlertRule('x > 1')).message).toMatch(/has no name/);
    expect(errorOf(() => parseAlertRule('  ', { name: 'r' })).message).toMatch(/alert rule "r": the rule text must be a non-empty string/);
  });
});

describe('validateAlertRule', () => {
  it('fills defaults and copies labels', () => {
    const labels = { team: 'ml' };
    const r = validateAlertRule({ name: 'r', metric: 'm', op: '<', threshold: 3, labels });
    expect(r).toEqual({ name: 'r', metric: 'm', op: '<', threshold: 3, for: 1, resolveAfter: 1, severity: 'warning', labels: { team: 'ml' } });
    expect(r.labels).not.toBe(labels);
  });

  it('names the rule and the field of each bad value', () => {
    const base = { name: 'r', metric: 'm', op: '>', threshold: 1 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, name: '' }, /^alert rule: "name"/],
      [{ ...base, name: 'has space' }, /"name" must be/],
      [{ ...base, metric: 'a b' }, /alert rule "r": "metric"/],
      [{ ...base, op: '=>' }, /alert rule "r": "op" must be one of > >= < <= == !=/],
      [{ ...base, threshold: '1' }, /"threshold" must be a finite number/],
      [{ ...base, threshold: Number.NaN }, /"threshold" must be a finite number/],
      [{ ...base, threshold: Infinity }, /"threshold" must be a finite number/],
      [{ ...base, for: 0 }, /"for" must be a whole number of windows, at least 1/],
      [{ ...base, resolveAfter: 1.5 }, /"resolveAfter" must be a whole number/],
      [{ ...base, severity: 'page' }, /"severity" must be one of info, warning, critical/],
      [{ ...base, labels: { team: 3 } }, /"labels.team" must be a string/],
      [{ ...base, labels: ['x'] }, /"labels" must be an object/],
    ];
    for (const [input, re] of cases) expect(errorOf(() => validateAlertRule(input)).message).toMatch(re);
    expect(errorOf(() => validateAlertRule({ ...base, for: -2 })).details).toEqual({ rule: 'r', field: 'for' });
    expect(errorOf(() => validateAlertRule(null)).message).toMatch(/must be an object/);
  });
});

describe('isBad', () => {
  it('applies the operator with the value on the left and the threshold on the right', () => {
    const t = 0.5;
    const table: [string, number, boolean][] = [
      ['>', 0.5, false], ['>', 0.6, true],
      ['>=', 0.5, true], ['>=', 0.4, false],
      ['<', 0.5, false], ['<', 0.4, true],
      ['<=', 0.5, true], ['<=', 0.6, false],
      ['==', 0.5, true], ['==', 0.6, false],
      ['!=', 0.5, false], ['!=', 0.6, true],
    ];
    for (const [op, v, bad] of table) expect([op, v, isBad({ op: op as '>', threshold: t }, v)]).toEqual([op, v, bad]);
  });
});
