/**
 * The histogram trees against known results: scikit-learn 1.2.1's
 * HistGradientBoosting{Regressor,Classifier} and DecisionTree{Regressor,Classifier}
 * on test/fixtures/train/trees.csv (integer features, so every value has its
 * own bin on both sides; literals printed by make_fixtures.py), plus binning
 * and boosting facts that follow from the definitions.
 */
import { describe, expect, it } from 'vitest';
import { design, readNumericCsv } from '../../../test/fixtures/train/support.js';
import { seededRandom } from './random.js';
import { binColumns, ensembleRaw, fitGradientBoosting, fitRandomForest, leafOf, type Tree } from './trees.js';

const { n, columns } = readNumericCsv('trees.csv');
const X = design(columns, ['a', 'b', 'c'], n);
const grid = [[0, 0, 0], [1, 5, 2], [3, 9, 9], [5, 2, 7], [7, 7, 1], [9, 0, 4], [2, 8, 5], [8, 3, 3]];
const G = Float64Array.from(grid.flat());
const hgb = { nEstimators: 10, learningRate: 0.3, maxDepth: 3, minSamplesLeaf: 5, l2: 0.5, maxBins: 255 };
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function softmaxRows(raw: Float64Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < raw.length / k; i++) {
    const e = Array.from(raw.subarray(i * k, i * k + k), Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

describe('gradient boosting', () => {
  it('regression matches HistGradientBoostingRegressor', () => {
    const m = fitGradientBoosting(X, n, 3, columns.yr, 'regression', 0, hgb);
    const expected = [0.8502087954, 4.374912264, 4.863006938, -0.6289740025, 5.664821106, 1.769585467, 6.470991628, 3.96911193];
    expect(Array.from(ensembleRaw(m, G, 8, 3))).toEqual(expected.map((v) => expect.closeTo(v, 5)));
  });

  it('binary classification matches HistGradientBoostingClassifier', () => {
    const m = fitGradientBoosting(X, n, 3, Int32Array.from(columns.yc), 'classification', 2, hgb);
    const expected = [0.02826489038, 0.09977955177, 0.6770343333, 0.2260064223, 0.9292487111, 0.2973452572, 0.8313752391, 0.8600699873];
    expect(Array.from(ensembleRaw(m, G, 8, 3), sigmoid)).toEqual(expected.map((v) => expect.closeTo(v, 5)));
  });

  it('multiclass classification matches HistGradientBoostingClassifier', () => {
    const m = fitGradientBoosting(X, n, 3, Int32Array.from(columns.ym), 'classification', 3, hgb);
    expect(m.trees).toHaveLength(30); // one tree per class per round
    const expected = [
      0.9935336229, 0.004562572185, 0.00190380489, 0.9568604333, 0.03887008116, 0.004269485519, 0.6239355151, 0.3645048207,
      0.01155966416, 0.09105350293, 0.8372926958, 0.07165380129, 0.01594346816, 0.4224566669, 0.5615998649, 0.02519238431,
      0.1279594869, 0.8468481288, 0.6463847574, 0.3412915355, 0.01232370705, 0.02562367571, 0.1408714284, 0.8335048959,
    ];
    expect(softmaxRows(ensembleRaw(m, G, 8, 3), 3)).toEqual(expected.map((v) => expect.closeTo(v, 5)));
  });

  it('one split on a step: each round closes the learning-rate share of the gap', () => {
    // y = 1 for x < 5, 3 otherwise; mean 2; after r rounds of rate 0.5 each side is 2 ± (1 − 0.5^r).
    const x = Float64Array.from({ length: 10 }, (_, i) => i);
    const y = Float64Array.from(x, (v) => (v < 5 ? 1 : 3));
    const m = fitGradientBoosting(x, 10, 1, y, 'regression', 0, { nEstimators: 3, learningRate: 0.5, maxDepth: 1, minSamplesLeaf: 1, l2: 0, maxBins: 255 });
    expect(m.trees[0].threshold[0]).toBe(4.5);
    const raw = ensembleRaw(m, Float64Array.of(0, 9), 2, 1);
    expect(raw[0]).toBeCloseTo(2 - (1 - 0.125), 12);
    expect(raw[1]).toBeCloseTo(2 + (1 - 0.125), 12);
  });
});

describe('random forest trees', () => {
  const single = { nEstimators: 1, maxDepth: 3, minSamplesLeaf: 5, maxBins: 255, maxFeatures: 3, bootstrap: false, random: Math.random };

  it('one unbagged tree with every feature is CART: matches DecisionTreeRegressor', () => {
    const m = fitRandomForest(X, n, 3, columns.yr, 'regression', 0, single);
    const expected = [2.671122449, 2.671122449, 5.204633846, -0.5850432432, 6.329892857, 2.801072973, 5.204633846, 3.866532353];
    expect(Array.from(ensembleRaw(m, G, 8, 3))).toEqual(expected.map((v) => expect.closeTo(v, 8)));
  });

  it('one unbagged tree with every feature is CART: matches DecisionTreeClassifier (Gini)', () => {
    const m = fitRandomForest(X, n, 3, Int32Array.from(columns.ym), 'classification', 3, single);
    const expected = [
      1, 0, 0, 1, 0, 0, 0.5869565217, 0.4130434783, 0, 0.09411764706, 0.7882352941, 0.1176470588, 0.0243902439, 0.3658536585,
      0.6097560976, 0, 0.1408450704, 0.8591549296, 0.5869565217, 0.4130434783, 0, 0, 0.1408450704, 0.8591549296,
    ];
    expect(Array.from(ensembleRaw(m, G, 8, 3))).toEqual(expected.map((v) => expect.closeTo(v, 8)));
  });

  it('averages its trees: class probabilities sum to one', () => {
    let s = 1;
    const random = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const m = fitRandomForest(X, n, 3, Int32Array.from(columns.ym), 'classification', 3, { ...single, nEstimators: 7, maxFeatures: 1, bootstrap: true, random });
    const raw = ensembleRaw(m, G, 8, 3);
    for (let i = 0; i < 8; i++) expect(raw[i * 3] + raw[i * 3 + 1] + raw[i * 3 + 2]).toBeCloseTo(1, 12);
  });
});

describe('leaves hold what their rows define (2,000 continuous rows: every histogram path is taken)', () => {
  const random = seededRandom(5);
  const N = 2000;
  const P = 4;
  const Xc = Float64Array.from({ length: N * P }, () => random());
  const yv = Float64Array.from({ length: N }, (_, i) => 3 * Xc[i * P] + Math.sin(6 * Xc[i * P + 1]) + random());
  const yk = Int32Array.from(yv, (v) => (v < 1.5 ? 0 : v < 2.5 ? 1 : 2));

  /** Training rows grouped by the leaf they reach. */
  function rowsByLeaf(tree: Tree): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (let i = 0; i < N; i++) {
      const leaf = leafOf(tree, Xc, i, P);
      out.set(leaf, [...(out.get(leaf) ?? []), i]);
    }
    return out;
  }

  it('regression tree: each leaf is the mean of its rows, each with at least min_samples_leaf rows', () => {
    const m = fitRandomForest(Xc, N, P, yv, 'regression', 0, { nEstimators: 1, maxDepth: 12, minSamplesLeaf: 3, maxBins: 255, maxFeatures: P, bootstrap: false, random });
    const leaves = rowsByLeaf(m.trees[0]);
    expect(leaves.size).toBeGreaterThan(100);
    for (const [leaf, rows] of leaves) {
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(m.trees[0].value[leaf]).toBeCloseTo(rows.reduce((s, i) => s + yv[i], 0) / rows.length, 9);
    }
  });

  it('classification tree with sampled features: each leaf holds its rows’ class fractions', () => {
    const m = fitRandomForest(Xc, N, P, yk, 'classification', 3, { nEstimators: 1, maxDepth: 12, minSamplesLeaf: 1, maxBins: 255, maxFeatures: 2, bootstrap: false, random });
    const tree = m.trees[0];
    for (const [leaf, rows] of rowsByLeaf(tree)) {
      for (let c = 0; c < 3; c++) expect(tree.value[leaf * 3 + c]).toBeCloseTo(rows.filter((i) => yk[i] === c).length / rows.length, 12);
    }
  });

  it('first boosting tree: each leaf is −learning_rate·G/(H+λ) of its rows', () => {
    const m = fitGradientBoosting(Xc, N, P, yv, 'regression', 0, { nEstimators: 1, learningRate: 0.5, maxDepth: 8, minSamplesLeaf: 2, l2: 1, maxBins: 255 });
    const mean = yv.reduce((s, v) => s + v, 0) / N;
    for (const [leaf, rows] of rowsByLeaf(m.trees[0])) {
      const G = rows.reduce((s, i) => s + (mean - yv[i]), 0); // squared error: g = prediction − y, h = 1
      expect(m.trees[0].value[leaf]).toBeCloseTo((-0.5 * G) / (rows.length + 1), 9);
    }
  });
});

describe('binning', () => {
  it('splits halfway between distinct values when there are few of them', () => {
    const b = binColumns(Float64Array.of(3, 1, 2, 1, 3), 5, 1, 255);
    expect(Array.from(b.thresholds[0])).toEqual([1.5, 2.5]);
    expect(Array.from(b.bins[0])).toEqual([2, 0, 1, 0, 2]);
  });

  it('uses at most max_bins bins, edges at data values', () => {
    const x = Float64Array.from({ length: 1000 }, (_, i) => i);
    const b = binColumns(x, 1000, 1, 4);
    expect(Array.from(b.thresholds[0])).toEqual([250, 500, 750]);
    expect(b.bins[0][250]).toBe(0);
    expect(b.bins[0][251]).toBe(1);
    expect(b.bins[0][999]).toBe(3);
  });

  it('thresholds are float32 values', () => {
    const b = binColumns(Float64Array.of(0.1, 0.2), 2, 1, 255);
    expect(b.thresholds[0][0]).toBe(Math.fround(b.thresholds[0][0]));
  });
});
