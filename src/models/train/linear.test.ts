/**
 * The linear estimators against known results: scikit-learn's
 * LogisticRegression on test/fixtures/train/logistic.csv (literals printed by
 * make_fixtures.py) and least squares / ridge solved by hand.
 */
import { describe, expect, it } from 'vitest';
import { design, readNumericCsv } from '../../../test/fixtures/train/support.js';
import { fitLinearRegression, fitLogisticBinary, fitLogisticMultinomial, linearScores } from './linear.js';

const { n, columns } = readNumericCsv('logistic.csv');
const X = design(columns, ['x1', 'x2', 'x3'], n);

describe('logistic regression', () => {
  it('binary: matches scikit-learn LogisticRegression(C=0.5) coefficients', () => {
    const m = fitLogisticBinary(X, n, 3, columns.y, { C: 0.5, maxIter: 100, tol: 1e-10 });
    const coef = [0.7381236124, -0.406793127, 1.138479046];
    coef.forEach((c, j) => expect(m.coef[j]).toBeCloseTo(c, 6));
    expect(m.intercept[0]).toBeCloseTo(-0.3543330887, 6);
  });

  it('multinomial: matches scikit-learn LogisticRegression(C=1) for 3 classes', () => {
    const y = Int32Array.from(columns.y3);
    const m = fitLogisticMultinomial(X, n, 3, y, 3, { C: 1, maxIter: 2000, tol: 1e-10 });
    const coef = [0.7799739473, 0.1495973991, -0.1769388568, -0.4912304847, -0.2501868601, -0.1833515172, -0.2887434626, 0.1005894609, 0.360290374];
    coef.forEach((c, j) => expect(m.coef[j]).toBeCloseTo(c, 5));
    // Softmax intercepts are defined up to a shared constant: compare them centred.
    const mean = (m.intercept[0] + m.intercept[1] + m.intercept[2]) / 3;
    [-0.174844135, -0.1313860951, 0.3062302301].forEach((b, c) => expect(m.intercept[c] - mean).toBeCloseTo(b, 5));
  });

  it('a stronger penalty shrinks the weights', () => {
    const loose = fitLogisticBinary(X, n, 3, columns.y, { C: 100, maxIter: 100, tol: 1e-10 });
    const tight = fitLogisticBinary(X, n, 3, columns.y, { C: 0.001, maxIter: 100, tol: 1e-10 });
    const norm = (w: Float64Array) => Math.hypot(...w);
    expect(norm(tight.coef)).toBeLessThan(norm(loose.coef) / 10);
  });
});

describe('linear regression', () => {
  // y at the corners of the unit square; by hand, centred: XcᵀXc = I, Xcᵀyc = (2.5, 1.5).
  const Xs = Float64Array.from([0, 0, 1, 0, 0, 1, 1, 1]);
  const ys = Float64Array.from([1, 3, 2, 5]);

  it('least squares is the normal-equation solution', () => {
    const m = fitLinearRegression(Xs, 4, 2, ys, 0);
    expect(Array.from(m.coef)).toEqual([expect.closeTo(2.5, 12), expect.closeTo(1.5, 12)]);
    expect(m.intercept[0]).toBeCloseTo(0.75, 12);
    expect(Array.from(linearScores(Xs, 4, 2, m))).toEqual([0.75, 3.25, 2.25, 4.75].map((v) => expect.closeTo(v, 12)));
  });

  it('ridge solves (XcᵀXc + αI) w = Xcᵀyc with the intercept unpenalised', () => {
    const m = fitLinearRegression(Xs, 4, 2, ys, 1);
    expect(m.coef[0]).toBeCloseTo(1.25, 12);
    expect(m.coef[1]).toBeCloseTo(0.75, 12);
    expect(m.intercept[0]).toBeCloseTo(2.75 - 0.5 * 1.25 - 0.5 * 0.75, 12);
  });

  it('collinear columns get the minimum-norm solution (a duplicated column shares its weight)', () => {
    const dup = Float64Array.from([0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1]); // x1, x2, x1 again
    const m = fitLinearRegression(dup, 4, 3, ys, 0);
    expect(m.coef[0]).toBeCloseTo(1.25, 9);
    expect(m.coef[2]).toBeCloseTo(1.25, 9);
    expect(m.coef[1]).toBeCloseTo(1.5, 9);
    expect(m.intercept[0]).toBeCloseTo(0.75, 9);
  });
});
