/**
 * Adaptive micro-batching in front of one loaded model.
 *
 * Models predict many rows far faster than they predict one row many times, so
 * concurrent requests are grouped FIFO into batches of up to `maxBatchSize` rows
 * and handed to `run` together; each request gets back exactly its own slice of
 * the results. With the default `maxWaitMicros = 0` a batch is dispatched as soon
 * as the model is free, so an idle server adds no latency and batches grow only
 * while the model is busy (requests that arrive in the same tick share a batch:
 * dispatch is deferred by one microtask). With `maxWaitMicros > 0` the oldest
 * queued request may wait up to that long for company. Timer resolution: waits
 * of 1000 µs or more use setTimeout and are rounded up to whole milliseconds;
 * shorter waits use setImmediate and last one event-loop turn, whatever the
 * value.
 *
 * The queue is bounded (`maxQueueRows`) and so is the time spent in it
 * (`queueTimeoutMs`): an overloaded model answers FW_OVERLOADED (503 with
 * Retry-After) instead of letting latency and memory grow without limit. A batch
 * that fails is retried request by request, so one poisoned request cannot fail
 * the others it happened to share a batch with.
 */
import { FlywheelError, invalidArgument, isFlywheelError } from '../core/errors.js';

export interface BatcherOptions {
  /** Most rows in one call to `run` (a single larger request still runs, alone and whole). */
  maxBatchSize: number;
  /** How long the oldest queued request may wait for more; 0 = dispatch as soon as the model is free. */
  maxWaitMicros: number;
  /** Most rows waiting in the queue; a submit that would exceed it is refused with FW_OVERLOADED. */
  maxQueueRows: number;
  /** Calls to `run` that may be in flight at once. */
  maxConcurrentBatches: number;
  /** A request still queued after this long is refused with FW_OVERLOADED. */
  queueTimeoutMs: number;
}

export interface BatcherHooks {
  /** Called when a batch is dispatched, with its row and request counts. */
  onBatch?(rows: number, requests: number): void;
  /** Called whenever the number of queued rows changes. */
  onQueueDepth?(rows: number): void;
}

export const DEFAULT_BATCHER_OPTIONS: Readonly<BatcherOptions> = Object.freeze({
  maxBatchSize: 64,
  maxWaitMicros: 0,
  maxQueueRows: 1024,
  maxConcurrentBatches: 1,
  queueTimeoutMs: 5000,
});

/** Seconds a client is told to wait before retrying an overloaded model. */
const RETRY_AFTER_SECONDS = 1;

interface Pending<R, P> {
  readonly rows: R[];
  readonly enqueuedAt: number; // performance.now() in ms
  readonly resolve: (results: P[]) => void;
  readonly reject: (err: unknown) => void;
  /** Settles (never rejects) when the request has been answered; drain() waits on it. */
  readonly done: Promise<void>;
  /** Set once its wait window has passed (by the wait timer, or forced by drain). */
  waitExpired: boolean;
  timeout?: NodeJS.Timeout;
}

function validateOptions(options: BatcherOptions): void {
  const positiveIntegers = ['maxBatchSize', 'maxQueueRows', 'maxConcurrentBatches'] as const;
  for (const name of positiveIntegers) {
    const value = options[name];
    if (!Number.isInteger(value) || value < 1) {
      throw invalidArgument(`batcher option ${name} must be an integer of at least 1, got ${value}`, { field: name });
    }
  }
  if (!Number.isFinite(options.maxWaitMicros) || options.maxWaitMicros < 0) {
    throw invalidArgument(`batcher option maxWaitMicros must be a finite number of at least 0, got ${options.maxWaitMicros}`, {
      field: 'maxWaitMicros',
    });
  }
  if (!Number.isFinite(options.queueTimeoutMs) || options.queueTimeoutMs <= 0) {
    throw invalidArgument(`batcher option queueTimeoutMs must be a finite number above 0, got ${options.queueTimeoutMs}`, {
      field: 'queueTimeoutMs',
    });
  }
}

/** What a rejection from the model becomes for the client. */
export function toPredictionError(err: unknown): FlywheelError {
  if (isFlywheelError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FlywheelError('FW_PREDICTION_FAILED', `the model failed on this request: ${message}`);
}

function overloaded(message: string): FlywheelError {
  return new FlywheelError('FW_OVERLOADED', message, { retryAfterSeconds: RETRY_AFTER_SECONDS });
}

export class MicroBatcher<R, P> {
  private readonly options: BatcherOptions;
  private readonly queue: Pending<R, P>[] = [];
  private readonly inFlight = new Set<Pending<R, P>>();
  private rowsQueued = 0;
  private runningBatches = 0;
  private closed = false;
  private pumpScheduled = false;
  /** The request the pending wait timer was set for, and how to cancel it. */
  private waitTarget: Pending<R, P> | undefined;
  private cancelWait: (() => void) | undefined;

  constructor(
    private readonly run: (rows: R[]) => Promise<P[]>,
    options: Partial<BatcherOptions> = {},
    private readonly hooks: BatcherHooks = {},
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...DEFAULT_BATCHER_OPTIONS, ...defined };
    validateOptions(this.options);
  }

  /** Rows waiting for a batch (not counting rows the model is working on). */
  get queuedRows(): number {
    return this.rowsQueued;
  }

  /** Predicts `rows`, possibly together with other requests; resolves with one result per row, in order. */
  submit(rows: R[]): Promise<P[]> {
    if (this.closed) {
      return Promise.reject(new FlywheelError('FW_NOT_READY', 'the model is shutting down and accepts no more requests'));
    }
    if (rows.length === 0) return Promise.resolve([]);
    if (rows.length > this.options.maxQueueRows) {
      // Retrying cannot help a request that is larger than the whole queue.
      return Promise.reject(
        new FlywheelError(
          'FW_LIMIT_EXCEEDED',
          `the request has ${rows.length} rows; this model accepts at most ${this.options.maxQueueRows} rows per request`,
          { rows: rows.length, maxRows: this.options.maxQueueRows },
        ),
      );
    }
    if (this.rowsQueued + rows.length > this.options.maxQueueRows) {
      return Promise.reject(
        overloaded(
          `the model's queue is full (${this.rowsQueued} of ${this.options.maxQueueRows} rows waiting); retry in ${RETRY_AFTER_SECONDS} s`,
        ),
      );
    }
    let resolve!: (results: P[]) => void;
    let reject!: (err: unknown) => void;
    const result = new Promise<P[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: Pending<R, P> = {
      rows,
      enqueuedAt: performance.now(),
      resolve,
      reject,
      done: result.then(
        () => undefined,
        () => undefined,
      ),
      waitExpired: false,
    };
    pending.timeout = setTimeout(() => this.expire(pending), this.options.queueTimeoutMs);
    this.queue.push(pending);
    this.setQueuedRows(this.rowsQueued + rows.length);
    this.schedulePump();
    return result;
  }

  /**
   * Resolves once every request queued or in flight when it was called has been
   * answered. Queued requests are dispatched without waiting out their wait
   * window. Submits made meanwhile are accepted and not waited for.
   */
  async drain(): Promise<void> {
    const outstanding = [...this.inFlight, ...this.queue];
    for (const pending of this.queue) pending.waitExpired = true;
    this.pump();
    await Promise.all(outstanding.map((p) => p.done));
  }

  /** Refuses new submits with FW_NOT_READY from now on, and resolves once everything accepted has been answered. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private setQueuedRows(rows: number): void {
    this.rowsQueued = rows;
    this.callHook(() => this.hooks.onQueueDepth?.(rows));
  }

  /** Hooks feed metrics; a failing hook must never fail a prediction. */
  private callHook(call: () => void): void {
    try {
      call();
    } catch {
      // Ignored on purpose: see above.
    }
  }

  /** Requests submitted in the same tick share a batch: the first pump waits one microtask. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Dispatches every batch that is due while a concurrency slot is free. */
  private pump(): void {
    while (this.runningBatches < this.options.maxConcurrentBatches && this.queue.length > 0) {
      const oldest = this.queue[0];
      const waitedMicros = (performance.now() - oldest.enqueuedAt) * 1000;
      const due =
        this.options.maxWaitMicros === 0 ||
        oldest.waitExpired ||
        waitedMicros >= this.options.maxWaitMicros ||
        this.rowsQueued >= this.options.maxBatchSize;
      if (!due) {
        this.armWaitTimer(oldest, this.options.maxWaitMicros - waitedMicros);
        return;
      }
      this.dispatch(this.takeBatch());
    }
  }

  private armWaitTimer(target: Pending<R, P>, remainingMicros: number): void {
    if (this.waitTarget === target) return;
    this.cancelWait?.();
    this.waitTarget = target;
    const fire = () => {
      this.waitTarget = undefined;
      this.cancelWait = undefined;
      target.waitExpired = true;
      this.pump();
    };
    if (this.options.maxWaitMicros >= 1000) {
      const timer = setTimeout(fire, Math.max(1, Math.ceil(remainingMicros / 1000)));
      this.cancelWait = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(fire);
      this.cancelWait = () => clearImmediate(immediate);
    }
  }

  /** Takes requests from the head, FIFO, while they fit in maxBatchSize; the first is always taken. */
  private takeBatch(): Pending<R, P>[] {
    const batch = [this.queue.shift()!];
    let rows = batch[0].rows.length;
    while (this.queue.length > 0 && rows + this.queue[0].rows.length <= this.options.maxBatchSize) {
      const next = this.queue.shift()!;
      batch.push(next);
      rows += next.rows.length;
    }
    if (this.waitTarget !== undefined && batch.includes(this.waitTarget)) {
      this.cancelWait?.();
      this.waitTarget = undefined;
      this.cancelWait = undefined;
    }
    for (const pending of batch) {
      clearTimeout(pending.timeout);
      this.inFlight.add(pending);
    }
    this.setQueuedRows(this.rowsQueued - rows);
    this.callHook(() => this.hooks.onBatch?.(rows, batch.length));
    return batch;
  }

  private dispatch(batch: Pending<R, P>[]): void {
    this.runningBatches += 1;
    void this.execute(batch).finally(() => {
      this.runningBatches -= 1;
      for (const pending of batch) this.inFlight.delete(pending);
      this.pump();
    });
  }

  private async execute(batch: Pending<R, P>[]): Promise<void> {
    if (batch.length === 1) {
      await this.runAlone(batch[0]);
      return;
    }
    const rows: R[] = [];
    for (const pending of batch) for (const row of pending.rows) rows.push(row);
    let results: P[];
    try {
      results = await this.run(rows);
    } catch {
      // Find out which request(s) the model failed on: each runs again, alone.
      for (const pending of batch) await this.runAlone(pending);
      return;
    }
    const mismatch = this.checkResults(results, rows.length);
    if (mismatch !== undefined) {
      for (const pending of batch) pending.reject(mismatch);
      return;
    }
    let offset = 0;
    for (const pending of batch) {
      pending.resolve(results.slice(offset, offset + pending.rows.length));
      offset += pending.rows.length;
    }
  }

  private async runAlone(pending: Pending<R, P>): Promise<void> {
    try {
      const results = await this.run(pending.rows);
      const mismatch = this.checkResults(results, pending.rows.length);
      if (mismatch !== undefined) pending.reject(mismatch);
      else pending.resolve(results);
    } catch (err) {
      pending.reject(toPredictionError(err));
    }
  }

  private checkResults(results: unknown, rows: number): FlywheelError | undefined {
    if (Array.isArray(results) && results.length === rows) return undefined;
    const got = Array.isArray(results) ? `${results.length} results` : `a ${typeof results}`;
    return new FlywheelError('FW_PREDICTION_FAILED', `the model returned ${got} for ${rows} rows`);
  }

  /** Queue timeout: the request is taken out of the queue and refused. */
  private expire(pending: Pending<R, P>): void {
    const index = this.queue.indexOf(pending);
    if (index < 0) return;
    this.queue.splice(index, 1);
    if (this.waitTarget === pending) {
      this.cancelWait?.();
      this.waitTarget = undefined;
      this.cancelWait = undefined;
    }
    this.setQueuedRows(this.rowsQueued - pending.rows.length);
    pending.reject(
      overloaded(`the request waited ${this.options.queueTimeoutMs} ms in the model's queue without being served; retry in ${RETRY_AFTER_SECONDS} s`),
    );
    this.pump();
  }
}
