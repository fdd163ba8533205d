/** The algorithm table: defaults, parsing of string values, and the errors users get. */
import { describe, expect, it } from 'vitest';
import { algorithms, validateParams } from './params.js';

describe('algorithms', () => {
  it('lists the four built-in learners and the tasks they do', () => {
    expect(algorithms.map((a) => [a.name, a.tasks])).toEqual([
      ['logistic_regression', ['classification']],
      ['linear_regression', ['regression']],
      ['random_forest', ['classification', 'regression']],
      ['gradient_boosting', ['classification', 'regression']],
    ]);
  });
});

describe('validateParams', () => {
  it('fills in defaults', () => {
    const p = validateParams('gradient_boosting', 'regression');
    expect(p).toMatchObject({ n_estimators: 100, learning_rate: 0.1, max_depth: 6, min_samples_leaf: 20, test_fraction: 0.2, seed: 42, impute: 'mean' });
  });

  it("max_features defaults to 'sqrt' for forest classification and 'all' for regression", () => {
    expect(validateParams('random_forest', 'classification').max_features).toBe('sqrt');
    expect(validateParams('random_forest', 'regression').max_features).toBe('all');
    expect(validateParams('random_forest', 'regression', { max_features: '0.5' }).max_features).toBe(0.5);
  });

  it('parses numbers and booleans given as strings (CLI flags, YAML)', () => {
    const p = validateParams('logistic_regression', 'classification', { C: '0.25', standardize: 'false', max_iter: '20' });
    expect(p).toMatchObject({ C: 0.25, standardize: false, max_iter: 20 });
  });

  it('rejects an unknown algorithm, listing the known ones', () => {
    expect(() => validateParams('xgboost', 'classification')).toThrow(
      expect.objectContaining({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('known: logistic_regression, linear_regression, random_forest, gradient_boosting') }),
    );
  });

  it('rejects an unknown param, listing the algorithm’s params', () => {
    expect(() => validateParams('linear_regression', 'regression', { lambda: 1 })).toThrow(
      expect.objectContaining({ code: 'FW_INVALID_ARGUMENT', message: expect.stringMatching(/unknown param 'lambda' for linear_regression; known: .*alpha.*standardize/) }),
    );
  });

  it('rejects values of the wrong type or out of range', () => {
    const bad = (algo: string, params: Record<string, unknown>) => () => validateParams(algo, algo === 'linear_regression' ? 'regression' : 'classification', params);
    expect(bad('logistic_regression', { C: 0 })).toThrow(/param 'C' of logistic_regression must be a number > 0/);
    expect(bad('gradient_boosting', { n_estimators: 2.5 })).toThrow(/must be an integer/);
    expect(bad('gradient_boosting', { max_bins: 256 })).toThrow(/≤ 255/);
    expect(bad('random_forest', { max_features: 'half' })).toThrow(/one of sqrt, log2, all or a fraction/);
    expect(bad('logistic_regression', { standardize: 'yes' })).toThrow(/true or false/);
    expect(bad('logistic_regression', { impute: 'mode' })).toThrow(/one of mean, median/);
  });

  it('rejects a task the algorithm does not do', () => {
    expect(() => validateParams('linear_regression', 'classification')).toThrow(/does not do classification/);
  });
});
