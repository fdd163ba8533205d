/** MicroBatcher: grouping, bounds, timeouts, error isolation and shutdown, driven by a model whose calls the test settles by hand. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { MicroBatcher } from './batcher.js';

interface Call {
  rows: string[];
  resolve(results: string[]): void;
  reject(err: unknown): void;
}

/** A fake model: every call waits until the test settles it. */
function manualModel() {
  const calls: Call[] = [];
  const run = (rows: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ rows, resolve, reject });
    });
  /** Answers a call with "p:<row>" for each row. */
  const answer = (call: Call) => call.resolve(call.rows.map((r) => `p:${r}`));
  return { calls, run, answer };
}

/** One event-loop turn: lets microtask-scheduled dispatches and settled promises run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** For fake-timer tests, where setImmediate is faked too. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

async function rejectionOf(promise: Promise<unknown>): Promise<FlywheelError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MicroBatcher grouping', () => {
  it('runs a request on an idle model at once and returns its results in row order', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run);
    const result = batcher.submit(['a', 'b']);
    await nextTurn();
    expect(model.calls.map((c) => c.rows)).toEqual([['a', 'b']]);
    model.answer(model.calls[0]);
    await expect(result).resolves.toEqual(['p:a', 'p:b']);
  });

  it('groups requests that arrive while the model is busy into the next batch, and splits the results back', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run);
    const first = batcher.submit(['r0']);
    await nextTurn();
    const later: Promise<string[]>[] = [];
    for (let i = 1; i <= 10; i++) {
      later.push(batcher.submit([`r${i}`, `r${i}b`]));
      await nextTurn(); // separate arrivals, as HTTP requests would be
    }
    expect(model.calls).toHaveLength(1);
    expect(batcher.queuedRows).toBe(20);
    model.answer(model.calls[0]);
    await expect(first).resolves.toEqual(['p:r0']);
    await nextTurn();
    expect(model.calls).toHaveLength(2);
    const expectedRows = Array.from({ length: 10 }, (_, k) => [`r${k + 1}`, `r${k + 1}b`]).flat();
    expect(model.calls[1].rows).toEqual(expectedRows);
    model.answer(model.calls[1]);
    const results = await Promise.all(later);
    results.forEach((res, k) => expect(res).toEqual([`p:r${k + 1}`, `p:r${k + 1}b`]));
  });

  it('groups requests submitted in the same tick even with no wait window', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run);
    void batcher.submit(['a']);
    void batcher.submit(['b']);
    await nextTurn();
    expect(model.calls.map((c) => c.rows)).toEqual([['a', 'b']]);
  });

  it('splits the queue into batches of at most maxBatchSize rows, first come first served', async () => {
    const model = manualModel();
    const batches: [number, number][] = [];
    const batcher = new MicroBatcher(model.run, { maxBatchSize: 4 }, { onBatch: (rows, requests) => batches.push([rows, requests]) });
    void batcher.submit(['busy']);
    await nextTurn();
    const a = batcher.submit(['a1', 'a2']);
    const b = batcher.submit(['b1', 'b2']);
    const c = batcher.submit(['c1', 'c2']);
    await nextTurn();
    model.answer(model.calls[0]);
    await nextTurn();
    expect(model.calls[1].rows).toEqual(['a1', 'a2', 'b1', 'b2']);
    model.answer(model.calls[1]);
    await nextTurn();
    expect(model.calls[2].rows).toEqual(['c1', 'c2']);
    model.answer(model.calls[2]);
    await expect(Promise.all([a, b, c])).resolves.toEqual([
      ['p:a1', 'p:a2'],
      ['p:b1', 'p:b2'],
      ['p:c1', 'p:c2'],
    ]);
    expect(batches).toEqual([
      [1, 1],
      [4, 2],
      [2, 1],
    ]);
  });

  it('does not let a later small request jump ahead of one that does not fit', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxBatchSize: 4 });
    void batcher.submit(['busy']);
    await nextTurn();
    void batcher.submit(['a1', 'a2', 'a3']);
    void batcher.submit(['b1', 'b2']);
    void batcher.submit(['c1']);
    await nextTurn();
    model.answer(model.calls[0]);
    await nextTurn();
    expect(model.calls[1].rows).toEqual(['a1', 'a2', 'a3']);
    model.answer(model.calls[1]);
    await nextTurn();
    expect(model.calls[2].rows).toEqual(['b1', 'b2', 'c1']);
  });

  it('runs a single request larger than maxBatchSize alone and whole', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxBatchSize: 2 });
    void batcher.submit(['busy']);
    await nextTurn();
    const big = batcher.submit(['x1', 'x2', 'x3', 'x4', 'x5']);
    const small = batcher.submit(['y']);
    await nextTurn();
    model.answer(model.calls[0]);
    await nextTurn();
    expect(model.calls[1].rows).toEqual(['x1', 'x2', 'x3', 'x4', 'x5']);
    model.answer(model.calls[1]);
    await expect(big).resolves.toHaveLength(5);
    await nextTurn();
    expect(model.calls[2].rows).toEqual(['y']);
    model.answer(model.calls[2]);
    await expect(small).resolves.toEqual(['p:y']);
  });

  it('keeps up to maxConcurrentBatches calls in flight', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxConcurrentBatches: 2 });
    void batcher.submit(['a']);
    await nextTurn();
    void batcher.submit(['b']);
    await nextTurn();
    void batcher.submit(['c']);
    await nextTurn();
    expect(model.calls.map((c) => c.rows)).toEqual([['a'], ['b']]);
    model.answer(model.calls[1]);
    await nextTurn();
    expect(model.calls.map((c) => c.rows)).toEqual([['a'], ['b'], ['c']]);
  });
});

describe('MicroBatcher wait window', () => {
  it('holds the oldest request up to maxWaitMicros so requests arriving within it share its batch', async () => {
    vi.useFakeTimers();
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxWaitMicros: 10_000 });
    void batcher.submit(['a']);
    await flushMicrotasks();
    vi.advanceTimersByTime(5);
    await flushMicrotasks();
    expect(model.calls).toHaveLength(0);
    void batcher.submit(['b']);
    await flushMicrotasks();
    expect(model.calls).toHaveLength(0);
    vi.advanceTimersByTime(5);
    await flushMicrotasks();
    expect(model.calls.map((c) => c.rows)).toEqual([['a', 'b']]);
  });

  it('dispatches before the window ends once a full batch is queued', async () => {
    vi.useFakeTimers();
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxWaitMicros: 1_000_000, maxBatchSize: 2 });
    void batcher.submit(['a']);
    await flushMicrotasks();
    expect(model.calls).toHaveLength(0);
    void batcher.submit(['b']);
    await flushMicrotasks();
    expect(model.calls.map((c) => c.rows)).toEqual([['a', 'b']]);
  });

  it('resolves a wait shorter than 1 ms as one event-loop turn', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxWaitMicros: 500 });
    void batcher.submit(['a']);
    await Promise.resolve();
    await Promise.resolve();
    void batcher.submit(['b']); // same turn, after the first dispatch check
    expect(model.calls).toHaveLength(0);
    await nextTurn();
    expect(model.calls.map((c) => c.rows)).toEqual([['a', 'b']]);
  });
});

describe('MicroBatcher bounds', () => {
  it('refuses at once, never queues, a submit that would exceed maxQueueRows, with FW_OVERLOADED and a retry delay', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run, { maxQueueRows: 4 });
    void batcher.submit(['busy']);
    await nextTurn();
    const queued = batcher.submit(['a', 'b', 'c']);
    const err = await rejectionOf(batcher.submit(['d', 'e']));
    expect(err.code).toBe('FW_OVERLOADED');
    expect(err.status).toBe(503);
    expect(err.details).toEqual({ retryAfterSeconds: 1 });
    expect(batcher.queuedRows).toBe(3);
    const fits = batcher.submit(['f']);
    expect(batcher.queuedRows).toBe(4);
    model.answer(model.calls[0]);
    await nextTurn();
    expect(model.calls[1].rows).toEqual(['a', 'b', 'c', 'f']);
    model.answer(model.calls[1]);
    await expect(queued).resolves.toEqual(['p:a', 'p:b', 'p:c']);
    await expect(fits).resolves.toEqual(['p:f']);
  });

  it('refuses a request larger than the whole queue as a limit, since retrying cannot help', async () => {
    const batcher = new MicroBatcher(manualModel().run, { maxQueueRows: 2 });
    const err = await rejectionOf(batcher.submit(['a', 'b', 'c']));
    expect(err.code).toBe('FW_LIMIT_EXCEEDED');
    expect(err.message).toContain('at most 2 rows');
  });

  it('refuses with FW_OVERLOADED a request still queued after queueTimeoutMs, and never runs it', async () => {
    vi.useFakeTimers();
    const model = manualModel();
    const depths: number[] = [];
    const batcher = new MicroBatcher(model.run, { queueTimeoutMs: 100 }, { onQueueDepth: (rows) => depths.push(rows) });
    void batcher.submit(['busy']);
    await flushMicrotasks();
    const waiting = batcher.submit(['late']);
    const outcome = rejectionOf(waiting);
    vi.advanceTimersByTime(99);
    await flushMicrotasks();
    expect(batcher.queuedRows).toBe(1);
    vi.advanceTimersByTime(1);
    const err = await outcome;
    expect(err.code).toBe('FW_OVERLOADED');
    expect(err.details).toEqual({ retryAfterSeconds: 1 });
    expect(batcher.queuedRows).toBe(0);
    expect(depths.at(-1)).toBe(0);
    model.answer(model.calls[0]);
    await flushMicrotasks();
    expect(model.calls).toHaveLength(1);
  });

  it('rejects options that make no sense, naming the option', () => {
    expect(() => new MicroBatcher(manualModel().run, { maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => new MicroBatcher(manualModel().run, { maxWaitMicros: -1 })).toThrow(/maxWaitMicros/);
  });
});

describe('MicroBatcher failures', () => {
  it('re-runs a failed batch request by request so only the poisoned request fails', async () => {
    const calls: string[][] = [];
    const run = async (rows: string[]) => {
      calls.push(rows);
      if (rows.includes('poison')) throw new Error('cannot score row "poison"');
      return rows.map((r) => `p:${r}`);
    };
    const gate = manualModel();
    let busy = true;
    // First call blocks so the next three requests queue up and share one batch.
    const batcher = new MicroBatcher((rows: string[]) => (busy ? ((busy = false), gate.run(rows)) : run(rows)));
    void batcher.submit(['busy']);
    await nextTurn();
    const ok1 = batcher.submit(['a']);
    const bad = batcher.submit(['poison']);
    const ok2 = batcher.submit(['b']);
    await nextTurn();
    gate.answer(gate.calls[0]);
    await expect(ok1).resolves.toEqual(['p:a']);
    await expect(ok2).resolves.toEqual(['p:b']);
    const err = await rejectionOf(bad);
    expect(err.code).toBe('FW_PREDICTION_FAILED');
    expect(err.message).toBe('the model failed on this request: cannot score row "poison"');
    expect(calls).toEqual([['a', 'poison', 'b'], ['a'], ['poison'], ['b']]);
  });

  it('passes a FlywheelError from the model through unchanged', async () => {
    const batcher = new MicroBatcher<string, string>(async () => {
      throw new FlywheelError('FW_INVALID_ARGUMENT', 'row 0: field x must be a number');
    });
    const err = await rejectionOf(batcher.submit(['a']));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toBe('row 0: field x must be a number');
  });

  it('fails the whole batch with FW_PREDICTION_FAILED when the model returns the wrong number of results', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run);
    void batcher.submit(['busy']);
    await nextTurn();
    const a = batcher.submit(['a']);
    const b = batcher.submit(['b']);
    await nextTurn();
    model.answer(model.calls[0]);
    await nextTurn();
    model.calls[1].resolve(['only one']);
    expect((await rejectionOf(a)).code).toBe('FW_PREDICTION_FAILED');
    const err = await rejectionOf(b);
    expect(err.code).toBe('FW_PREDICTION_FAILED');
    expect(err.message).toContain('1 results for 2 rows');
  });

  it('keeps serving after a failure', async () => {
    let fail = true;
    const batcher = new MicroBatcher(async (rows: string[]) => {
      if (fail) throw new Error('boom');
      return rows;
    });
    expect((await rejectionOf(batcher.submit(['a']))).code).toBe('FW_PREDICTION_FAILED');
    fail = false;
    await expect(batcher.submit(['b'])).resolves.toEqual(['b']);
  });
});

describe('MicroBatcher drain and close', () => {
  it('drain resolves only once queued and in-flight requests are answered, and still accepts submits meanwhile', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run);
    void batcher.submit(['a']);
    await nextTurn();
    void batcher.submit(['b']);
    let drained = false;
    const draining = batcher.drain().then(() => {
      drained = true;
    });
    const during = batcher.submit(['c']);
    model.answer(model.calls[0]);
    await nextTurn();
    expect(drained).toBe(false);
    expect(model.calls[1].rows).toEqual(['b', 'c']);
    model.answer(model.calls[1]);
    await draining;
    expect(drained).toBe(true);
    await expect(during).resolves.toEqual(['p:c']);
  });

  it('drain dispatches queued requests without waiting out the wait window', async () => {
    const model = manualModel();
    // A window far longer than the test timeout: the test only passes if drain cuts it short.
    const batcher = new MicroBatcher(model.run, { maxWaitMicros: 3_600_000_000 });
    const result = batcher.submit(['a']);
    await nextTurn();
    expect(model.calls).toHaveLength(0);
    const draining = batcher.drain();
    expect(model.calls).toHaveLength(1);
    model.answer(model.calls[0]);
    await draining;
    await expect(result).resolves.toEqual(['p:a']);
  });

  it('drain on an idle batcher resolves at once', async () => {
    await expect(new MicroBatcher(manualModel().run).drain()).resolves.toBeUndefined();
  });

  it('close refuses new submits with FW_NOT_READY and resolves after the accepted ones are answered', async () => {
    const model = manualModel();
    const batcher = new MicroBatcher(model.run);
    const accepted = batcher.submit(['a']);
    await nextTurn();
    let closed = false;
    const closing = batcher.close().then(() => {
      closed = true;
    });
    const err = await rejectionOf(batcher.submit(['late']));
    expect(err.code).toBe('FW_NOT_READY');
    expect(closed).toBe(false);
    model.answer(model.calls[0]);
    await closing;
    await expect(accepted).resolves.toEqual(['p:a']);
    expect(model.calls).toHaveLength(1);
  });
});

describe('MicroBatcher hooks', () => {
  it('reports queue depth on every change and each batch with its row and request counts', async () => {
    const model = manualModel();
    const depths: number[] = [];
    const batches: [number, number][] = [];
    const batcher = new MicroBatcher(model.run, {}, {
      onQueueDepth: (rows) => depths.push(rows),
      onBatch: (rows, requests) => batches.push([rows, requests]),
    });
    void batcher.submit(['a', 'b']); // queued 2, dispatched → 0
    await nextTurn();
    void batcher.submit(['c']); // 1
    void batcher.submit(['d', 'e', 'f']); // 4
    await nextTurn();
    model.answer(model.calls[0]);
    await nextTurn(); // dispatched → 0
    expect(depths).toEqual([2, 0, 1, 4, 0]);
    expect(batches).toEqual([
      [2, 1],
      [4, 2],
    ]);
  });

  it('keeps serving when a hook throws', async () => {
    const batcher = new MicroBatcher(async (rows: string[]) => rows, {}, {
      onBatch: () => {
        throw new Error('metrics down');
      },
    });
    await expect(batcher.submit(['a'])).resolves.toEqual(['a']);
  });
});
