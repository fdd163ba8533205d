/**
 * The in-memory metric functions on small cases worked out by hand (or
 * quoted from scikit-learn's documentation examples), chosen for the rules
 * that are easy to get wrong: tied scores, the calibration bin a score on an
 * edge falls in, log-loss clipping, 0/0 cases, fairlearn's TPR of a group
 * without positives, R² of constant labels.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { binaryPass, calibrationCurve, classificationMetrics, fairnessFrom, FLOAT64_EPS, regressionMetrics } from './metrics.js';

describe('classificationMetrics', () => {
  it('counts tied scores half in ROC AUC and as one threshold in average precision', () => {
    // Positives score 0.6, 0.9, 0.2; negatives 0.2, 0.6, 0.1. Of the 9 (positive, negative) pairs the
    // positive wins 6 and ties 2: AUC = (6 + 2/2) / 9 = 7/9 (sklearn: roc_auc_score gives 0.7777777777777778).
    // Thresholds 0.9, 0.6, 0.2, 0.1 → (tp, fp) = (1,0), (2,1), (3,2), (3,3); recall steps by 1/3 at the first three:
    // AP = 1/3·1 + 1/3·2/3 + 1/3·3/5 = 34/45 (sklearn: average_precision_score gives 0.7555555555555555).
    const m = classificationMetrics({ label: [0, 0, 1, 1, 1, 0], score: [0.2, 0.6, 0.6, 0.9, 0.2, 0.1] });
    expect(m.roc_auc).toBeCloseTo(7 / 9, 15);
    expect(m.pr_auc).toBeCloseTo(34 / 45, 15);
  });

  it('predicts positive at a score equal to the threshold, and averages over both classes', () => {
    // score ≥ 0.5 → predicted [1, 1, 0, 1]; labels [1, 0, 0, 1]: tp 2, fp 1, tn 1, fn 0.
    const m = classificationMetrics({ label: [true, false, false, true], score: [0.5, 0.7, 0.2, 0.9] });
    expect(m.confusion_matrix).toEqual({ tn: 1, fp: 1, fn: 0, tp: 2 });
    expect(m.accuracy).toBe(3 / 4);
    expect(m.precision).toBeCloseTo(2 / 3, 15);
    expect(m.recall).toBe(1);
    expect(m.f1).toBeCloseTo(0.8, 15);
    // Negative class: precision 1/1, recall 1/2, f1 2/3.
    expect(m.precision_macro).toBeCloseTo((2 / 3 + 1) / 2, 15);
    expect(m.recall_macro).toBeCloseTo((1 + 1 / 2) / 2, 15);
    expect(m.f1_macro).toBeCloseTo((0.8 + 2 / 3) / 2, 15);
    // Two rows of each class: weighted equals macro here.
    expect(m.f1_weighted).toBeCloseTo(m.f1_macro, 15);
    // brier = (0.25 + 0.49 + 0.04 + 0.01) / 4
    expect(m.brier).toBeCloseTo(0.1975, 15);
  });

  it('clips probabilities at float64 epsilon in log loss', () => {
    // A positive scored 0 costs −log(ε) = 52·ln 2; a negative scored 0 costs −log(1 − ε) ≈ ε.
    const m = classificationMetrics({ label: [1, 0], score: [0, 0] });
    expect(m.log_loss).toBeCloseTo((52 * Math.LN2 + FLOAT64_EPS) / 2, 12);
    expect(FLOAT64_EPS).toBe(2.220446049250313e-16);
  });

  it('gives null ranking metrics where a class is missing, and 0 for 0/0 precision and recall', () => {
    const negatives = classificationMetrics({ label: [0, 0, 0], score: [0.1, 0.6, 0.3] });
    expect([negatives.roc_auc, negatives.pr_auc]).toEqual([null, null]);
    expect([negatives.precision, negatives.recall, negatives.f1]).toEqual([0, 0, 0]);
    const positives = classificationMetrics({ label: [1, 1], score: [0.1, 0.6] });
    expect(positives.roc_auc).toBeNull();
    // Every threshold has precision 1: average precision is 1.
    expect(positives.pr_auc).toBe(1);
  });

  it('refuses labels other than 0/1, scores outside [0, 1], NaN, and arrays of different lengths', () => {
    const bad = [
      { label: [0, 2], score: [0.1, 0.2] },
      { label: [0, 1], score: [0.1, 1.2] },
      { label: [0, 1], score: [0.1, Number.NaN] },
      { label: [0, 1, 1], score: [0.1, 0.2] },
      { label: [], score: [] },
    ];
    for (const input of bad) {
      expect(() => classificationMetrics(input)).toThrow(FlywheelError);
    }
    expect(() => classificationMetrics({ label: [0, 1], score: [0.1, 0.2], threshold: 2 })).toThrow(/threshold must be a number in \[0, 1\]/);
  });
});

describe('calibrationCurve', () => {
  it('puts a score on an inner edge in the lower bin, as numpy.searchsorted(side="left") does', () => {
    // Edges are linspace(0, 1, 11): 0.1, 0.2, 0.30000000000000004, … so 0.1 → bin 0, 0.2 → bin 1,
    // 0.3 (below 0.30000000000000004) → bin 2, 0 → bin 0, 1 → bin 9.
    const c = calibrationCurve(Uint8Array.from([1, 0, 1, 1, 0]), Float64Array.from([0, 0.1, 0.2, 0.3, 1]));
    expect(c.bins.map((b) => [b.bin, b.count])).toEqual([
      [0, 2],
      [1, 1],
      [2, 1],
      [9, 1],
    ]);
    expect(c.bins[0]).toMatchObject({ lower: 0, upper: 0.1, mean_predicted: 0.05, fraction_positive: 0.5 });
    expect(c.bins[3]).toMatchObject({ lower: 0.9, upper: 1, mean_predicted: 1, fraction_positive: 0 });
  });
});

describe('fairnessFrom', () => {
  it("uses fairlearn's rates: a group without positives has TPR 0, and ratio min/max", () => {
    // Group 0: labels [1, 0], predicted [1, 1] → selection 1, TPR 1, FPR 1.
    // Group 1: labels [0, 0], predicted [1, 0] → selection 1/2, TPR 0 (no positives: nan_to_num), FPR 1/2.
    const positive = Uint8Array.from([1, 0, 0, 0]);
    const score = Float64Array.from([0.9, 0.8, 0.7, 0.1]);
    const predicted = Uint8Array.from([1, 1, 1, 0]);
    const [acc] = binaryPass({ positive, score, predicted }, [{ codes: Int32Array.from([0, 0, 1, 1]), size: 2 }]);
    const f = fairnessFrom(acc, ['a', 'b']);
    expect(f.groups.map((g) => [g.value, g.selection_rate, g.tpr, g.fpr])).toEqual([
      ['a', 1, 1, 1],
      ['b', 0.5, 0, 0.5],
    ]);
    expect(f.demographic_parity_difference).toBe(0.5);
    expect(f.demographic_parity_ratio).toBe(0.5);
    expect(f.equalized_odds_difference).toBe(1);
  });

  it('gives a null ratio when no group is ever selected', () => {
    const [acc] = binaryPass(
      { positive: Uint8Array.from([1, 0]), score: Float64Array.from([0.4, 0.3]), predicted: Uint8Array.from([0, 0]) },
      [{ codes: Int32Array.from([0, 1]), size: 2 }],
    );
    const f = fairnessFrom(acc, ['a', 'b']);
    expect(f.demographic_parity_difference).toBe(0);
    expect(f.demographic_parity_ratio).toBeNull();
  });
});

describe('regressionMetrics', () => {
  it("matches scikit-learn's documentation examples", () => {
    // sklearn docstrings: y_true [3, -0.5, 2, 7], y_pred [2.5, 0.0, 2, 8] → MAE 0.5, MSE 0.375,
    // R² 0.948…, MAPE 0.3273809523809524.
    const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(m.mae).toBe(0.5);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 15);
    // SS_res 0.375·4 = 1.5; mean 2.875, SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875.
    expect(m.r2).toBeCloseTo(1 - 1.5 / 29.1875, 15);
    expect(m.mape).toBeCloseTo(0.3273809523809524, 15);
  });

  it('divides by float64 epsilon for labels of 0 in MAPE', () => {
    expect(regressionMetrics([0, 2], [1, 2]).mape).toBeCloseTo(1 / FLOAT64_EPS / 2, 0);
  });

  it('sets R² to 1 for exact predictions, 0 for constant labels, null for one row', () => {
    expect(regressionMetrics([1, 1, 1], [1, 1, 1]).r2).toBe(1);
    expect(regressionMetrics([1, 1, 1], [1, 2, 1]).r2).toBe(0);
    expect(regressionMetrics([4], [3]).r2).toBeNull();
  });
});
