/** PredictionLog: order, batch sizes, overflow policies, sink failures and close, with sinks the test controls. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PredictionLog, type PredictionRecord } from './prediction-log.js';

function record(n: number): PredictionRecord {
  return {
    predictionId: `p${n}`,
    deploymentId: 'dep-1',
    deployment: 'churn',
    revision: 1,
    arm: 'primary',
    modelName: 'churn-model',
    modelVersion: '3',
    shadow: false,
    time: 1_700_000_000_000 + n,
    latencyMs: 1.5,
    requestKey: null,
    features: { x: n },
    prediction: n % 2,
    probability: [0.5, 0.5],
    error: null,
  };
}

const records = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => record(from + i));
const ids = (rs: PredictionRecord[]) => rs.map((r) => r.predictionId);

/** A sink that records every call and answers at once. */
function recordingSink() {
  const calls: PredictionRecord[][] = [];
  const sink = async (batch: PredictionRecord[]) => {
    calls.push([...batch]);
  };
  return { calls, sink, written: () => calls.flat() };
}

/** A sink whose calls wait until the test settles them. */
function manualSink() {
  const calls: { batch: PredictionRecord[]; resolve(): void; reject(err: unknown): void }[] = [];
  const sink = (batch: PredictionRecord[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ batch: [...batch], resolve, reject });
    });
  return { calls, sink };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('PredictionLog writing', () => {
  it('writes in append order, in batches of at most batchSize', async () => {
    const out = recordingSink();
    const log = new PredictionLog(out.sink, { batchSize: 3 });
    log.append(records(0, 2));
    log.append(records(2, 7));
    await log.flush();
    expect(out.calls.map((c) => c.length)).toEqual([3, 3, 1]);
    expect(ids(out.written())).toEqual(ids(records(0, 7)));
    expect(log.stats()).toEqual({ buffered: 0, dropped: 0, written: 7, sinkErrors: 0 });
    await log.close();
  });

  it('never calls the sink on the append path; a full batch is written on a later tick', async () => {
    const out = recordingSink();
    const log = new PredictionLog(out.sink, { batchSize: 2, flushIntervalMs: 3_600_000 });
    log.append(records(0, 2));
    expect(out.calls).toHaveLength(0);
    await nextTurn();
    expect(out.calls.map(ids)).toEqual([['p0', 'p1']]);
    await log.close();
  });

  it('writes a partial batch once flushIntervalMs has passed', async () => {
    vi.useFakeTimers();
    const out = recordingSink();
    const log = new PredictionLog(out.sink, { batchSize: 100, flushIntervalMs: 200 });
    log.append(records(0, 1));
    await vi.advanceTimersByTimeAsync(199);
    expect(out.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(out.calls.map(ids)).toEqual([['p0']]);
    await log.close();
  });

  it('never keeps the process alive with its flush timer', async () => {
    const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const log = new PredictionLog(recordingSink().sink, { flushIntervalMs: 3_600_000 });
    const before = refTimers();
    log.append(records(0, 1)); // arms the hour-long flush timer
    expect(refTimers()).toBe(before);
    await log.close();
  });

  it('makes one sink call at a time', async () => {
    const out = manualSink();
    const log = new PredictionLog(out.sink, { batchSize: 2 });
    log.append(records(0, 4));
    const flushed = log.flush();
    await nextTurn();
    expect(out.calls).toHaveLength(1);
    out.calls[0].resolve();
    await nextTurn();
    expect(out.calls).toHaveLength(2);
    out.calls[1].resolve();
    await flushed;
    expect(out.calls.map((c) => ids(c.batch))).toEqual([
      ['p0', 'p1'],
      ['p2', 'p3'],
    ]);
  });

  it('flush waits only for what was appended before it', async () => {
    const out = manualSink();
    const log = new PredictionLog(out.sink, { batchSize: 10 });
    log.append(records(0, 2));
    let flushed = false;
    const flushing = log.flush().then(() => {
      flushed = true;
    });
    await nextTurn();
    log.append(records(2, 3)); // arrives while the first write is in flight
    out.calls[0].resolve();
    await flushing;
    expect(flushed).toBe(true);
    expect(log.stats().buffered).toBe(1);
    await nextTurn();
    out.calls[1]?.resolve();
  });
});

describe('PredictionLog overflow', () => {
  it("'drop' keeps the first records that fit, drops and counts the rest, synchronously", async () => {
    const out = manualSink();
    const dropped: number[] = [];
    const log = new PredictionLog(out.sink, { capacity: 5, batchSize: 100 }, { onDrop: (n) => dropped.push(n) });
    expect(log.append(records(0, 3))).toBeUndefined();
    log.append(records(3, 7));
    expect(dropped).toEqual([2]);
    expect(log.stats()).toEqual({ buffered: 5, dropped: 2, written: 0, sinkErrors: 0 });
    const closing = log.close();
    await nextTurn();
    out.calls[0].resolve();
    await closing;
    expect(ids(out.calls[0].batch)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it("'block' makes append wait until its records fit, and keeps append order", async () => {
    const out = manualSink();
    const log = new PredictionLog(out.sink, { capacity: 2, batchSize: 2, policy: 'block' });
    await log.append(records(0, 2));
    let accepted = false;
    const waiting = (log.append(records(2, 3)) as Promise<void>).then(() => {
      accepted = true;
    });
    await nextTurn(); // the full batch starts a write
    expect(out.calls).toHaveLength(1);
    expect(accepted).toBe(false);
    expect(log.stats()).toMatchObject({ buffered: 2, dropped: 0 });
    out.calls[0].resolve();
    await waiting;
    expect(accepted).toBe(true);
    const closing = log.close();
    await nextTurn();
    out.calls[1].resolve();
    await closing;
    expect(out.calls.map((c) => ids(c.batch))).toEqual([['p0', 'p1'], ['p2']]);
    expect(log.stats()).toEqual({ buffered: 0, dropped: 0, written: 3, sinkErrors: 0 });
  });
});

describe('PredictionLog sink failures', () => {
  it('keeps the records of a failed write, reports the error, and writes them on retry', async () => {
    const attempts: string[][] = [];
    const errors: unknown[] = [];
    let failuresLeft = 1;
    const failure = new Error('database unavailable');
    const log = new PredictionLog(
      async (batch) => {
        attempts.push(ids(batch));
        if (failuresLeft-- > 0) throw failure;
      },
      { retryDelayMs: 0 },
      { onSinkError: (err) => errors.push(err) },
    );
    log.append(records(0, 3));
    await log.flush();
    expect(attempts).toEqual([
      ['p0', 'p1', 'p2'],
      ['p0', 'p1', 'p2'],
    ]);
    expect(errors).toEqual([failure]);
    expect(log.stats()).toEqual({ buffered: 0, dropped: 0, written: 3, sinkErrors: 1 });
    await log.close();
  });

  it('still bounds the buffer by capacity while the sink fails: what does not fit is dropped', async () => {
    const out = manualSink();
    const log = new PredictionLog(out.sink, { capacity: 3, batchSize: 10, retryDelayMs: 0 });
    log.append(records(0, 2));
    const flushed = log.flush();
    await nextTurn();
    out.calls[0].reject(new Error('down'));
    for (let i = 0; i < 10; i++) await Promise.resolve(); // the failure is seen; the retry waits on a timer
    expect(log.stats()).toMatchObject({ buffered: 2, sinkErrors: 1 });
    log.append(records(2, 4)); // one fits, one is dropped
    expect(log.stats()).toMatchObject({ buffered: 3, dropped: 1 });
    await vi.waitFor(() => expect(out.calls).toHaveLength(2));
    expect(ids(out.calls[1].batch)).toEqual(['p0', 'p1', 'p2']);
    out.calls[1].resolve();
    await flushed;
    expect(log.stats()).toEqual({ buffered: 0, dropped: 1, written: 3, sinkErrors: 1 });
  });
});

describe('PredictionLog close', () => {
  it('writes every appended record before resolving, then refuses appends as dropped', async () => {
    const out = recordingSink();
    const dropped: number[] = [];
    const log = new PredictionLog(out.sink, { batchSize: 1000, flushIntervalMs: 3_600_000 }, { onDrop: (n) => dropped.push(n) });
    let next = 0;
    for (const size of [1, 999, 700, 800]) {
      log.append(records(next, next + size));
      next += size;
    }
    await log.close();
    expect(out.written()).toHaveLength(2500);
    expect(ids(out.written())).toEqual(ids(records(0, 2500)));
    expect(out.calls.every((c) => c.length <= 1000)).toBe(true);
    const callsAtClose = out.calls.length;
    log.append(records(2500, 2502));
    await nextTurn();
    expect(out.calls).toHaveLength(callsAtClose);
    expect(dropped).toEqual([2]);
    expect(log.stats()).toEqual({ buffered: 0, dropped: 2, written: 2500, sinkErrors: 0 });
  });

  it('writes blocked appends too', async () => {
    const out = recordingSink();
    const log = new PredictionLog(out.sink, { capacity: 2, batchSize: 2, policy: 'block' });
    void log.append(records(0, 2));
    const blocked = log.append(records(2, 5));
    await log.close();
    await blocked;
    expect(ids(out.written())).toEqual(ids(records(0, 5)));
  });

  it('gives a failing sink three attempts, then reports what was lost', async () => {
    let attempts = 0;
    const dropped: number[] = [];
    const log = new PredictionLog(
      async () => {
        attempts += 1;
        throw new Error('database unavailable');
      },
      { retryDelayMs: 0, flushIntervalMs: 3_600_000 },
      { onDrop: (n) => dropped.push(n) },
    );
    log.append(records(0, 4));
    await log.close();
    expect(attempts).toBe(3);
    expect(dropped).toEqual([4]);
    expect(log.stats()).toEqual({ buffered: 0, dropped: 4, written: 0, sinkErrors: 3 });
  });

  it('close on an empty log resolves and can be called twice', async () => {
    const log = new PredictionLog(recordingSink().sink);
    await log.close();
    await expect(log.close()).resolves.toBeUndefined();
  });

  it('rejects options that make no sense, naming the option', () => {
    expect(() => new PredictionLog(recordingSink().sink, { capacity: 0 })).toThrow(/capacity/);
    expect(() => new PredictionLog(recordingSink().sink, { batchSize: 1.5 })).toThrow(/batchSize/);
  });
});
