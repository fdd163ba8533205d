/**
 * Permutation importance with a small JS model: score = sigmoid(3·x1), so x1
 * decides everything and x2 nothing. Checks the definition (baseline minus
 * permuted score; permuted minus baseline for losses), the population
 * standard deviation, the seeded shuffle, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { classificationMetrics } from './metrics.js';
import { permutationImportance, type Columns } from './permutation.js';

const n = 200;
const x1 = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 2);
const x2 = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'red' : 'blue'));
const label = Uint8Array.from(x1, (v) => (v > 0 ? 1 : 0));
let calls = 0;
const predict = (cols: Columns) => {
  calls++;
  const a = cols.x1 as Float64Array;
  return Float64Array.from(a, (v) => 1 / (1 + Math.exp(-3 * v)));
};

describe('permutationImportance', () => {
  it('scores each feature by how much shuffling it hurts the metric', async () => {
    calls = 0;
    const r = await permutationImportance({ predict, columns: { x1, x2 }, label, metric: 'roc_auc', repeats: 4, seed: 7 });
    expect(calls).toBe(1 + 2 * 4);
    expect(r.metric).toBe('roc_auc');
    expect(r.greater_is_better).toBe(true);
    // The model ranks every row correctly: baseline AUC 1.
    expect(r.baseline).toBe(1);
    expect(r.features.map((f) => f.feature)).toEqual(['x1', 'x2']);
    const [f1, f2] = r.features;
    // Shuffling x2 changes no prediction: every repeat's importance is exactly 0.
    expect(f2.importances).toEqual([0, 0, 0, 0]);
    expect(f1.importances).toHaveLength(4);
    // A shuffled x1 is unrelated to the labels: AUC near 0.5, importance near 0.5.
    for (const v of f1.importances) expect(v).toBeGreaterThan(0.25);
    const mean = f1.importances.reduce((a, b) => a + b, 0) / 4;
    expect(f1.importance_mean).toBeCloseTo(mean, 15);
    expect(f1.importance_std).toBeCloseTo(Math.sqrt(f1.importances.reduce((a, b) => a + (b - mean) ** 2, 0) / 4), 15);
  });

  it('measures a loss the other way round: permuted minus baseline', async () => {
    const r = await permutationImportance({ predict, columns: { x1, x2 }, label, metric: 'log_loss', repeats: 2, seed: 1 });
    expect(r.greater_is_better).toBe(false);
    expect(r.baseline).toBeCloseTo(classificationMetrics({ label, score: predict({ x1 }) }).log_loss, 15);
    expect(r.features[0].feature).toBe('x1');
    expect(r.features[0].importance_mean).toBeGreaterThan(0);
  });

  it('is reproducible for a seed, differs across seeds, and accepts a custom metric', async () => {
    const opts = { predict, columns: { x1, x2 }, label, metric: 'accuracy' as const, repeats: 3, features: ['x1'] };
    const a = await permutationImportance({ ...opts, seed: 42 });
    const b = await permutationImportance({ ...opts, seed: 42 });
    const c = await permutationImportance({ ...opts, seed: 43 });
    expect(a.features[0].importances).toEqual(b.features[0].importances);
    expect(a.features[0].importances).not.toEqual(c.features[0].importances);
    const share = {
      name: 'share_positive',
      greaterIsBetter: true,
      compute: (_y: ArrayLike<unknown>, s: ArrayLike<number>) => Array.from(s).filter((v) => v >= 0.5).length / s.length,
    };
    const custom = await permutationImportance({ ...opts, metric: share, seed: 42 });
    expect(custom.metric).toBe('share_positive');
    // Shuffling keeps the multiset of x1 values, so the share of positive predictions never changes.
    expect(custom.features[0].importances).toEqual([0, 0, 0]);
  });

  it('refuses unknown features, ragged columns, and models that return the wrong number of scores', async () => {
    const base = { predict, columns: { x1, x2 }, label, metric: 'roc_auc' as const };
    await expect(permutationImportance({ ...base, features: ['x9'] })).rejects.toThrow(/feature x9 is not among the columns/);
    await expect(permutationImportance({ ...base, columns: { x1, x2: x2.slice(1) } })).rejects.toThrow(/column x2 has 199 rows/);
    await expect(permutationImportance({ ...base, predict: () => [0.5] })).rejects.toThrow(FlywheelError);
    await expect(permutationImportance({ ...base, repeats: 0 })).rejects.toThrow(/repeats must be/);
  });
});
