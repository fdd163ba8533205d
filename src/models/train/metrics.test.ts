/** Held-out metrics on hand-worked examples (definitions as scikit-learn's). */
import { describe, expect, it } from 'vitest';
import { classificationMetrics, regressionMetrics, rocAuc } from './metrics.js';

describe('rocAuc', () => {
  it('is the share of positive–negative pairs ranked right', () => {
    // positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs right.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], (i) => i >= 2, 4)).toBe(0.75);
  });

  it('counts tied pairs as half', () => {
    // positives 0.5, 0.9 against negatives 0.5, 0.5: 0.5 + 0.5 + 1 + 1 = 3 of 4.
    expect(rocAuc([0.5, 0.5, 0.5, 0.9], (i) => i % 2 === 1, 4)).toBe(0.75);
  });

  it('is undefined with one class present', () => {
    expect(rocAuc([0.1, 0.2], () => true, 2)).toBeUndefined();
  });
});

describe('classificationMetrics', () => {
  it('binary: accuracy, log loss and AUC', () => {
    const m = classificationMetrics(Int32Array.of(0, 1, 1), Float64Array.of(0.8, 0.2, 0.3, 0.7, 0.6, 0.4), Int32Array.of(0, 1, 0), 2);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.log_loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7) + Math.log(0.4)) / 3, 12);
    expect(m.auc).toBe(1); // class-1 probabilities 0.7, 0.4 both above the negative's 0.2
  });

  it('multiclass: AUC is the macro mean of one-vs-rest AUCs', () => {
    const probs = Float64Array.of(0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.3, 0.5, 0.2);
    const m = classificationMetrics(Int32Array.of(0, 1, 2, 0), probs, Int32Array.of(0, 1, 2, 1), 3);
    // class 0: 1; class 1: positive 0.5 vs 0.3, 0.3, 0.5 → 2.5/3; class 2: 1.
    expect(m.auc).toBeCloseTo((1 + 2.5 / 3 + 1) / 3, 12);
    expect(m.accuracy).toBe(0.75);
  });
});

describe('regressionMetrics', () => {
  it('rmse, mae and r2', () => {
    const m = regressionMetrics(Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 2, 3, 5));
    expect(m.rmse).toBeCloseTo(0.5, 12);
    expect(m.mae).toBeCloseTo(0.25, 12);
    expect(m.r2).toBeCloseTo(1 - 1 / 5, 12); // total sum of squares about 2.5 is 5
  });

  it('leaves r2 out for a constant target', () => {
    expect(regressionMetrics(Float64Array.of(2, 2), Float64Array.of(1, 3))).toEqual({ rmse: 1, mae: 1 });
  });
});
