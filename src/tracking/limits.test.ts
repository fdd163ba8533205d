/** MLflow's name and value rules (mlflow/utils/validation.py), case by case. */
import { describe, expect, it } from 'vitest';
import { validateInt64, validateKey, validateMetricValue } from './limits.js';

describe('validateKey', () => {
  it.each(['acc', 'val/loss', 'a.b-c_d e', 'métrique', '日本'])('accepts %j', (k) => expect(validateKey('metric', k)).toBe(k));
  it.each([
    ['', /Missing value/],
    ['a*b', /may only contain/],
    ['a\nb', /may only contain/],
    ['/abs', /must not resolve/],
    ['a/../b', /must not resolve/],
    ['a//b', /must not resolve/],
    ['trailing/', /must not resolve/],
    ['.', /must not resolve/],
    ['k'.repeat(251), /exceeded length limit of 250/],
  ])('refuses %j', (k, message) => expect(() => validateKey('param', k)).toThrow(message));
});

describe('validateMetricValue and validateInt64', () => {
  it('accepts numbers and proto-JSON spellings of non-finite doubles', () => {
    expect(validateMetricValue('m', 0.5)).toBe(0.5);
    expect(validateMetricValue('m', 'NaN')).toBeNaN();
    expect(validateMetricValue('m', '-Infinity')).toBe(-Infinity);
    expect(validateMetricValue('m', '1e-3')).toBe(0.001);
    expect(() => validateMetricValue('m', 'high')).toThrow(/invalid value/);
    expect(() => validateMetricValue('m', null)).toThrow(/invalid value/);
  });

  it('accepts int64 as numbers or decimal strings, and refuses fractions', () => {
    expect(validateInt64('step', '42')).toBe(42);
    expect(validateInt64('step', undefined, 0)).toBe(0);
    expect(() => validateInt64('step', 1.5)).toThrow(/expected an integer/);
    expect(() => validateInt64('step', undefined)).toThrow(/Missing value for required parameter 'step'/);
  });
});
