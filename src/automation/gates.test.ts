/**
 * The gate rule language: precedence and associativity (checked by the value
 * a rule computes, worked out by hand), syntax and type errors with their
 * column, the metric names an evaluation offers, unknown metrics, and the
 * verdicts (including skipped without a champion and a metric with no value).
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { checkRulePaths, judgeRule, parseRule } from './gates.js';
import { metricValues, type ModelEvaluation } from './evaluator.js';
import { defineGate } from './policy.js';

const vals = (o: Record<string, number | null>) => new Map(Object.entries(o));

function errorOf(fn: () => unknown): FlywheelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    return err as FlywheelError;
  }
  throw new Error('expected an error');
}

describe('parseRule', () => {
  it('gives * and / precedence over + and -, and evaluates left to right', () => {
    // 2 + 3 * 4 = 14 (not 20); 10 - 4 - 3 = 3 (not 9); 8 / 4 / 2 = 1 (not 4).
    const r = judgeRule(parseRule('2 + 3 * 4 == x and 10 - 4 - 3 == y and 8 / 4 / 2 == z'), vals({ x: 14, y: 3, z: 1 }), null);
    expect(r.verdict).toBe('pass');
    expect(judgeRule(parseRule('2 + 3 * 4 == 20'), vals({}), null).verdict).toBe('fail');
    expect(judgeRule(parseRule('(2 + 3) * 4 == 20'), vals({}), null).verdict).toBe('pass');
  });

  it('binds "and" tighter than "or", and accepts unicode operators', () => {
    // true or (false and false) = true; (true or false) and false would be false.
    expect(judgeRule(parseRule('a > 0 or a < 0 and a > 5'), vals({ a: 1 }), null).verdict).toBe('pass');
    expect(judgeRule(parseRule('(a > 0 or a < 0) and a > 5'), vals({ a: 1 }), null).verdict).toBe('fail');
    expect(judgeRule(parseRule('a × 2 − 1 ÷ 4 >= 1.75 && not a > 1'), vals({ a: 1 }), null).verdict).toBe('pass');
    expect(judgeRule(parseRule('-a == -1 || a != 1'), vals({ a: 1 }), null).verdict).toBe('pass');
  });

  it('lists the metric paths of each side', () => {
    const r = parseRule('auc >= champion.auc - 0.005 and fairness.demographic_parity_difference <= 1e-1');
    expect(r.paths).toEqual(['auc', 'fairness.demographic_parity_difference']);
    expect(r.championPaths).toEqual(['auc']);
  });

  it('reports syntax and type errors with the rule and the column', () => {
    const cases: [string, RegExp][] = [
      ['auc >= ', /expected a number, a metric or "\(" but found end of rule at column 8/],
      ['auc >= 0.8 )', /unexpected "\)" at column 12/],
      ['auc >= (0.8', /expected "\)" but found end of rule at column 12/],
      ['auc $ 1', /unexpected character "\$" at column 5/],
      ['0 < auc < 1', /comparisons cannot be chained .* at column 9/],
      ['auc + 1', /a rule needs a condition .* at column 5/],
      ['auc', /a rule needs a condition/],
      // The position is the offending operand's operator: the ">" inside the parentheses.
      ['(auc > 1) + 2 > 0', /"\+" needs a number, not a condition at column 6/],
      ['auc > 1 and 2', /"and" needs a condition .* at column 13/],
      ['champion > 1', /"champion" needs a metric/],
      ['fairness. > 1', /expected a name after "\." but found ">" at column 11/],
      ['2abc > 1', /unexpected "a" after a number at column 2/],
    ];
    for (const [rule, message] of cases) {
      const err = errorOf(() => parseRule(rule));
      expect(err.code).toBe('FW_INVALID_ARGUMENT');
      expect(err.message).toContain(`gate rule "${rule}"`);
      expect(err.message).toMatch(message);
    }
  });

  it('a policy parses every rule when it is defined', () => {
    expect(errorOf(() => defineGate({ rules: ['auc >= 0.8', 'auc >>= 1'] })).message).toMatch(/gate rule "auc >>= 1"/);
    expect(errorOf(() => defineGate({ rules: [] })).message).toMatch(/non-empty list/);
    expect(errorOf(() => defineGate({ rules: ['auc > 0'], colour: 'red' } as never)).message).toMatch(/unknown field colour/);
    expect(defineGate({ rules: ['auc > 0'], data: 'orders@2' }).parsed.map((r) => r.paths)).toEqual([['auc']]);
  });
});

describe('metricValues', () => {
  const evaluation: ModelEvaluation = {
    report: {
      metrics: { roc_auc: 0.9, pr_auc: 0.8, f1: 0.7, log_loss: Number.NaN },
      fairness: { attribute: 'region', demographic_parity_difference: 0.05, demographic_parity_ratio: null, equalized_odds_difference: 0.1, groups: [] },
      slices: { plan: [{ value: 'basic', count: 10, metrics: { f1: 0.6 } }, { value: 'has space', count: 2, metrics: { f1: 1 } }] },
    },
    dataset: 'orders@3',
    rowCount: 1200,
    latency: { p50_ms: 0.2, p99_ms: 1.5 },
  };

  it('offers the report metrics, the usual short names, fairness, latency, rows and plain-named slices', () => {
    const m = metricValues(evaluation);
    expect(Object.fromEntries(m)).toEqual({
      roc_auc: 0.9,
      'metrics.roc_auc': 0.9,
      pr_auc: 0.8,
      'metrics.pr_auc': 0.8,
      f1: 0.7,
      'metrics.f1': 0.7,
      log_loss: null,
      'metrics.log_loss': null,
      auc: 0.9,
      average_precision: 0.8,
      'fairness.demographic_parity_difference': 0.05,
      'fairness.demographic_parity_ratio': null,
      'fairness.equalized_odds_difference': 0.1,
      'fairness.dp_difference': 0.05,
      'fairness.dp_ratio': null,
      'fairness.eo_difference': 0.1,
      p50_latency_ms: 0.2,
      p99_latency_ms: 1.5,
      'latency.p50_ms': 0.2,
      'latency.p99_ms': 1.5,
      rows: 1200,
      'slices.plan.basic.f1': 0.6,
    });
  });

  it('an unknown metric names the rule and lists what is available', () => {
    const m = metricValues(evaluation);
    const err = errorOf(() => checkRulePaths([parseRule('auc > 0.5'), parseRule('acurracy >= champion.acurracy')], m, m));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toContain('gate rule "acurracy >= champion.acurracy" references unknown metrics acurracy, champion.acurracy');
    expect(err.message).toContain('available metrics: auc, average_precision, f1, fairness.demographic_parity_difference');
    // Without a champion, champion paths are still checked against the challenger's names.
    expect(errorOf(() => checkRulePaths([parseRule('auc >= champion.acu')], m, null)).message).toMatch(/unknown metric champion\.acu;/);
  });
});

describe('judgeRule', () => {
  it('reports the observed values and both sides of a comparison', () => {
    const r = judgeRule(parseRule('auc >= champion.auc - 0.005'), vals({ auc: 0.9 }), vals({ auc: 0.91 }));
    // 0.91 - 0.005 = 0.905 > 0.9: fails.
    expect(r).toEqual({ rule: 'auc >= champion.auc - 0.005', verdict: 'fail', observed: { auc: 0.9, 'champion.auc': 0.91 }, left: 0.9, right: 0.91 - 0.005 });
    expect(judgeRule(parseRule('auc >= champion.auc - 0.005'), vals({ auc: 0.906 }), vals({ auc: 0.91 })).verdict).toBe('pass');
  });

  it('skips champion rules without a champion, and fails a rule whose metric has no value', () => {
    expect(judgeRule(parseRule('auc >= champion.auc'), vals({ auc: 0.9 }), null)).toMatchObject({ verdict: 'skipped', observed: { auc: 0.9 } });
    const r = judgeRule(parseRule('log_loss < 1'), vals({ log_loss: null }), null);
    expect(r).toMatchObject({ verdict: 'fail', left: null, right: 1, reason: 'log_loss has no value' });
  });
});
