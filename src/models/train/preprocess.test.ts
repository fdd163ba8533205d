/** Preprocessing fitted on training rows: imputation, standardisation, one-hot encoding. */
import { describe, expect, it } from 'vitest';
import { fitPreprocessor } from './preprocess.js';

const opts = { impute: 'mean' as const, standardize: false, maxCategories: 50 };
const all = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

describe('numeric features', () => {
  it('impute the training rows’ mean; held-out rows do not count', () => {
    const pre = fitPreprocessor([{ name: 'x', type: 'double' }], { x: [1, null, 3, 100] }, Uint32Array.of(0, 1, 2), opts);
    expect(pre.features[0]).toMatchObject({ kind: 'numeric', impute: { strategy: 'mean', value: 2 } });
    expect(Array.from(pre.transform({ x: [null, Number.NaN, 5] }, 3))).toEqual([2, 2, 5]);
  });

  it('impute the median when asked', () => {
    const pre = fitPreprocessor([{ name: 'x', type: 'long' }], { x: [1n, 2n, 10n, null] }, all(4), { ...opts, impute: 'median' });
    expect(pre.features[0]).toMatchObject({ impute: { strategy: 'median', value: 2 } });
  });

  it('standardise with the mean and population sd of the imputed column', () => {
    const pre = fitPreprocessor([{ name: 'x', type: 'double' }], { x: [1, null, 3] }, all(3), { ...opts, standardize: true });
    // imputed column 1, 2, 3: mean 2, sd √(2/3)
    const f = pre.features[0];
    expect(f.kind === 'numeric' && f.scale).toEqual({ offset: 2, scale: Math.fround(1 / Math.sqrt(2 / 3)) });
    const out = pre.transform({ x: [3] }, 1);
    expect(out[0]).toBeCloseTo(1 / Math.sqrt(2 / 3), 6);
  });

  it('a feature null in every training row is an error naming it', () => {
    expect(() => fitPreprocessor([{ name: 'empty', type: 'double' }], { empty: [null, null, 1] }, Uint32Array.of(0, 1), opts)).toThrow(
      expect.objectContaining({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining("'empty'") }),
    );
  });
});

describe('categorical features', () => {
  const cats = ['b', 'a', null, 'b', 'c'];

  it('one-hot the training categories in value order, missing as its own last category', () => {
    const pre = fitPreprocessor([{ name: 'k', type: 'string' }], { k: cats }, all(5), opts);
    expect(pre.features[0]).toMatchObject({ categories: ['a', 'b', 'c', null], columns: ['k=a', 'k=b', 'k=c', 'k=<missing>'], unseen: 'zeros' });
    expect(Array.from(pre.transform({ k: ['c', 'zzz', null, ''] }, 4))).toEqual([
      0, 0, 1, 0, // c
      0, 0, 0, 0, // unseen → zeros
      0, 0, 0, 1, // null → missing
      0, 0, 0, 1, // '' is missing too
    ]);
  });

  it('missing never seen in training encodes as zeros, like an unseen value', () => {
    const pre = fitPreprocessor([{ name: 'k', type: 'string' }], { k: ['x', 'y'] }, all(2), opts);
    expect(pre.features[0]).toMatchObject({ categories: ['x', 'y'] });
    expect(Array.from(pre.transform({ k: [null] }, 1))).toEqual([0, 0]);
  });

  it('max_categories keeps the most frequent; the rest encode as unseen', () => {
    const pre = fitPreprocessor([{ name: 'k', type: 'string' }], { k: cats }, all(5), { ...opts, maxCategories: 2 });
    expect(pre.features[0]).toMatchObject({ categories: ['a', 'b', null], droppedCategories: 1 });
  });

  it('booleans are the categories "false" and "true"', () => {
    const pre = fitPreprocessor([{ name: 'f', type: 'boolean' }], { f: ['true', 'false', 'true'] }, all(3), opts);
    expect(pre.features[0]).toMatchObject({ categories: ['false', 'true'] });
    expect(Array.from(pre.transform({ f: [true, false] }, 2))).toEqual([0, 1, 1, 0]);
  });
});

it('concatenates features in order into a row-major matrix', () => {
  const pre = fitPreprocessor(
    [{ name: 'x', type: 'double' }, { name: 'k', type: 'string' }],
    { x: [1, 2], k: ['a', 'b'] },
    all(2),
    opts,
  );
  expect(pre.designColumns).toEqual(['x', 'k=a', 'k=b']);
  expect(Array.from(pre.transform({ x: [5, 6], k: ['b', 'a'] }, 2))).toEqual([5, 0, 1, 6, 1, 0]);
});
