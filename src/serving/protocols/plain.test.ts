/** Flywheel's plain predict protocol: {"rows", "key"?} in, one result per row naming model version and arm out. */
import { describe, expect, it } from 'vitest';
import type { ModelSignature } from '../../models/manifest.js';
import { parsePlainRequest, plainResponse } from './plain.js';

function errorOf(fn: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

const signature: ModelSignature = {
  inputs: [
    { name: 'age', type: 'double', nullable: true },
    { name: 'city', type: 'string', nullable: false },
  ],
  outputs: [],
};

describe('parsePlainRequest', () => {
  it('returns the checked rows and the sticky key', () => {
    expect(parsePlainRequest({ rows: [{ age: 30, city: 'Oslo', user_id: 'u1' }], key: 'u1' }, signature)).toEqual({ rows: [{ age: 30, city: 'Oslo' }], key: 'u1' });
    expect(parsePlainRequest({ rows: [{ age: 'NaN', city: 'Oslo' }] }, signature)).toEqual({ rows: [{ age: null, city: 'Oslo' }] });
  });

  it('refuses a body without rows, a non-string key, and rows that do not fit the signature', () => {
    expect(errorOf(() => parsePlainRequest({ row: [] }, signature)).message).toBe('rows must be an array of objects, got nothing');
    expect(errorOf(() => parsePlainRequest([{ age: 1, city: 'x' }], signature)).message).toMatch(/^the request body must be an object/);
    const keyError = errorOf(() => parsePlainRequest({ rows: [{ age: 1, city: 'x' }], key: 7 }, signature));
    expect(keyError.message).toBe('key must be a string, got number 7');
    expect(keyError.details).toEqual({ field: 'key' });
    const rowError = errorOf(() => parsePlainRequest({ rows: [{ age: 1, city: 'x' }, { age: 2 }] }, signature));
    expect(rowError.code).toBe('FW_INVALID_ARGUMENT');
    expect(rowError.message).toBe('row 1: field "city" is missing (the signature requires it)');
  });
});

describe('plainResponse', () => {
  it('gives one entry per row with its id, prediction, probabilities when given, model "name/version" and arm', () => {
    const res = plainResponse({
      deployment: 'churn-prod',
      revision: 4,
      results: [
        { predictionId: 'p1', modelName: 'churn', modelVersion: '3', arm: 'stable', prediction: { prediction: 'yes', probability: [0.3, 0.7] } },
        { predictionId: 'p2', modelName: 'churn', modelVersion: '4', arm: 'canary', prediction: { prediction: 'no' } },
      ],
    });
    expect(res).toEqual({
      deployment: 'churn-prod',
      revision: 4,
      predictions: [
        { prediction_id: 'p1', prediction: 'yes', probability: [0.3, 0.7], model: 'churn/3', arm: 'stable' },
        { prediction_id: 'p2', prediction: 'no', model: 'churn/4', arm: 'canary' },
      ],
    });
    expect(res.predictions[1]).not.toHaveProperty('probability');
  });
});
