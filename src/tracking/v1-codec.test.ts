/** The wire spelling of metric values: JSON numbers, plus "NaN", "Infinity" and "-Infinity" for what JSON cannot carry. */
import { describe, expect, it } from 'vitest';
import { decodeMetricValue, encodeMetricValue, fromWireRun, toWireMetric } from './v1-codec.js';

describe('metric value codec', () => {
  it('spells non-finite values as proto-JSON strings and leaves numbers alone', () => {
    expect(encodeMetricValue(Number.NaN)).toBe('NaN');
    expect(encodeMetricValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(encodeMetricValue(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(encodeMetricValue(-0.125)).toBe(-0.125);
    expect(JSON.stringify(toWireMetric({ key: 'k', value: Number.NaN, timestamp: 1, step: 2 }))).toBe('{"key":"k","value":"NaN","timestamp":1,"step":2}');
  });

  it('reads the spellings back', () => {
    expect(decodeMetricValue('NaN')).toBeNaN();
    expect(decodeMetricValue('Infinity')).toBe(Number.POSITIVE_INFINITY);
    expect(decodeMetricValue('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(decodeMetricValue(3)).toBe(3);
    expect(decodeMetricValue('2.5')).toBe(2.5);
    expect(() => decodeMetricValue('inf')).toThrow(expect.objectContaining({ code: 'FW_INVALID_ARGUMENT' }));
    expect(() => decodeMetricValue('')).toThrow(expect.objectContaining({ code: 'FW_INVALID_ARGUMENT' }));
  });

  it('decodes the metrics of a run from the wire', () => {
    const info = { runId: 'r', runName: 'n', experimentId: '0', userId: '', status: 'RUNNING' as const, startTime: 1, endTime: null, artifactUri: '', lifecycleStage: 'active' as const, parentRunId: null };
    const run = fromWireRun({ info, data: { metrics: [{ key: 'a', value: '-Infinity', timestamp: 1, step: 0 }], params: {}, tags: {} } });
    expect(run.data.metrics[0].value).toBe(Number.NEGATIVE_INFINITY);
  });
});
