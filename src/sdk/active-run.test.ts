/**
 * ActiveRun's metric buffer against a recording fake of TrackingApi: points
 * are checked when logged, written in chunks of at most 1000 in order,
 * flushed on end before the status is recorded, and a failed write is never
 * swallowed.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import type { TrackingApi } from '../tracking/api.js';
import type { LogBatchInput, Run, RunInfo, RunStatus } from '../tracking/types.js';
import { ActiveRun } from './active-run.js';

const RUN_ID = '0123456789abcdef0123456789abcdef';

type Call = { op: 'logBatch'; batch: LogBatchInput } | { op: 'endRun'; status: RunStatus };

function fakeApi(options: { failLogBatch?: FlywheelError } = {}) {
  const calls: Call[] = [];
  let onBatch: (() => void) | null = null;
  const info: RunInfo = {
    runId: RUN_ID,
    runName: 'r',
    experimentId: '0',
    userId: 'u',
    status: 'RUNNING',
    startTime: 1,
    endTime: null,
    artifactUri: 'mlflow-artifacts:/0/r/artifacts',
    lifecycleStage: 'active',
    parentRunId: null,
  };
  const api = {
    async logBatch(_runId: string, batch: LogBatchInput) {
      calls.push({ op: 'logBatch', batch });
      onBatch?.();
      if (options.failLogBatch) throw options.failLogBatch;
    },
    async endRun(_runId: string, status: RunStatus = 'FINISHED') {
      calls.push({ op: 'endRun', status });
      return { ...info, status, endTime: 2 };
    },
  } as unknown as TrackingApi;
  const run: Run = { info, data: { metrics: [], params: {}, tags: {} } };
  /** Resolves at the next logBatch call. */
  const nextBatch = () => new Promise<void>((resolve) => (onBatch = resolve));
  return { api, run, calls, nextBatch };
}

const metricCounts = (calls: Call[]) => calls.filter((c) => c.op === 'logBatch').map((c) => (c as { batch: LogBatchInput }).batch.metrics?.length);

describe('ActiveRun metric buffer', () => {
  it('writes full chunks of 1000 as they fill and the rest on end, before the status', async () => {
    const { api, run, calls } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 999; i++) await active.logMetric('loss', i, { step: i });
    expect(calls).toEqual([]);
    await active.logMetric('loss', 999, { step: 999 });
    expect(metricCounts(calls)).toEqual([1000]);
    for (let i = 1000; i < 2500; i++) await active.logMetric('loss', i, { step: i });
    await active.end();
    expect(metricCounts(calls)).toEqual([1000, 1000, 500]);
    expect(calls.map((c) => c.op)).toEqual(['logBatch', 'logBatch', 'logBatch', 'endRun']);
    expect(calls[3]).toEqual({ op: 'endRun', status: 'FINISHED' });
    // Nothing lost, nothing reordered: steps 0..2499 in the order logged.
    const steps = calls.flatMap((c) => (c.op === 'logBatch' ? c.batch.metrics!.map((m) => m.step) : []));
    expect(steps.length).toBe(2500);
    expect(steps[0]).toBe(0);
    expect(steps[1000]).toBe(1000);
    expect(steps[2499]).toBe(2499);
    expect(steps.every((s, i) => s === i)).toBe(true);
  });

  it('stamps a point when it is logged, not when it is written', async () => {
    const { api, run, calls } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 3_600_000 });
    await active.logMetric('acc', 0.5, { step: 3, timestamp: 1_700_000_000_000 });
    await active.logMetrics({ a: 1, b: Number.NaN }, { step: 4, timestamp: 1_700_000_000_001 });
    await active.flush();
    expect(calls).toEqual([
      {
        op: 'logBatch',
        batch: {
          metrics: [
            { key: 'acc', value: 0.5, step: 3, timestamp: 1_700_000_000_000 },
            { key: 'a', value: 1, step: 4, timestamp: 1_700_000_000_001 },
            { key: 'b', value: Number.NaN, step: 4, timestamp: 1_700_000_000_001 },
          ],
        },
      },
    ]);
  });

  it('writes a lone point once the flush interval has passed, without end()', async () => {
    const { api, run, calls, nextBatch } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 1 });
    const written = nextBatch();
    await active.logMetric('loss', 0.25, { step: 7, timestamp: 5 });
    await written;
    expect(calls).toEqual([{ op: 'logBatch', batch: { metrics: [{ key: 'loss', value: 0.25, step: 7, timestamp: 5 }] } }]);
  });

  it('writes every call through when flushIntervalMs is 0', async () => {
    const { api, run, calls } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 0 });
    await active.logMetric('loss', 1, { timestamp: 5 });
    expect(calls).toEqual([{ op: 'logBatch', batch: { metrics: [{ key: 'loss', value: 1, step: 0, timestamp: 5 }] } }]);
  });

  it('raises a failed background write from end() and ends the run FAILED', async () => {
    const failure = new FlywheelError('FW_INVALID_STATE', 'run is deleted');
    const { api, run, calls, nextBatch } = fakeApi({ failLogBatch: failure });
    const active = new ActiveRun(api, run, { flushIntervalMs: 1 });
    const attempted = nextBatch();
    await active.logMetric('loss', 1);
    await attempted;
    await expect(active.end()).rejects.toBe(failure);
    expect(calls.map((c) => c.op)).toEqual(['logBatch', 'endRun']);
    expect(calls[1]).toEqual({ op: 'endRun', status: 'FAILED' });
    expect(active.ended).toBe(true);
  });

  it('raises a failed write from flush()', async () => {
    const failure = new FlywheelError('FW_INVALID_STATE', 'run is deleted');
    const { api, run } = fakeApi({ failLogBatch: failure });
    const active = new ActiveRun(api, run, { flushIntervalMs: 3_600_000 });
    await active.logMetric('loss', 1);
    await expect(active.flush()).rejects.toBe(failure);
  });

  it('checks key, value and step when logged', async () => {
    const { api, run, calls } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 3_600_000 });
    await expect(active.logMetric('bad key!', 1)).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    await expect(active.logMetric('loss', '1' as unknown as number)).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    await expect(active.logMetric('loss', 1, { step: 1.5 })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    await active.end();
    expect(calls).toEqual([{ op: 'endRun', status: 'FINISHED' }]);
  });

  it('refuses logging after end and ends only once', async () => {
    const { api, run, calls } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 3_600_000 });
    const first = await active.end('KILLED');
    expect(first.status).toBe('KILLED');
    expect((await active.end()).status).toBe('KILLED');
    await expect(active.logMetric('loss', 1)).rejects.toMatchObject({ code: 'FW_INVALID_STATE' });
    await expect(active.logParam('lr', 0.1)).rejects.toMatchObject({ code: 'FW_INVALID_STATE' });
    expect(calls).toEqual([{ op: 'endRun', status: 'KILLED' }]);
  });

  it('sends params as strings in chunks of 100', async () => {
    const { api, run, calls } = fakeApi();
    const active = new ActiveRun(api, run, { flushIntervalMs: 0 });
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, i]));
    await active.logParams(params);
    const sizes = calls.map((c) => (c.op === 'logBatch' ? c.batch.params?.length : -1));
    expect(sizes).toEqual([100, 50]);
    expect((calls[1] as { batch: LogBatchInput }).batch.params![49]).toEqual({ key: 'p149', value: '149' });
  });
});
