/**
 * A bounded, asynchronous buffer between the prediction path and storage.
 *
 * Serving must never wait on the database to answer a prediction, and a slow or
 * failing database must never grow serving's memory without limit. So appends
 * only copy records into a buffer of at most `capacity` records; a single writer
 * hands them to the sink later (on a timer, or on the next tick once a batch is
 * full), one sink call at a time, in batches of at most `batchSize`, in append
 * order. When the buffer is full the policy decides: 'drop' loses the newest
 * records (counted, reported through onDrop), 'block' makes append() wait for
 * space (back-pressure onto the caller). A failed sink call keeps its records
 * and is retried after `retryDelayMs`; they still count against `capacity`.
 *
 * What a crash can lose: everything still buffered, so at most `capacity`
 * records; at normal load, when the sink keeps up, about `flushIntervalMs`
 * worth of predictions. close() flushes everything, giving a failing sink
 * three attempts before it discards (and counts as dropped) what is left.
 */
import { invalidArgument } from '../core/errors.js';

export interface PredictionRecord {
  predictionId: string;
  deploymentId: string;
  deployment: string;
  revision: number;
  arm: string;
  modelName: string;
  modelVersion: string;
  shadow: boolean;
  /** Milliseconds since the epoch. */
  time: number;
  latencyMs: number;
  requestKey: string | null;
  features: Record<string, unknown>;
  prediction: unknown;
  probability: number[] | null;
  error: string | null;
}

export type OverflowPolicy = 'drop' | 'block';

export interface PredictionLogOptions {
  /** Most records held (including a batch being written); default 100000. */
  capacity?: number;
  /** Most records per sink call; default 1000. */
  batchSize?: number;
  /** How long an appended record may wait before a write is started; default 200. */
  flushIntervalMs?: number;
  /** What append does when the buffer is full; default 'drop'. */
  policy?: OverflowPolicy;
  /** Wait after a failed sink call before trying again; default 500. */
  retryDelayMs?: number;
}

export interface PredictionLogHooks {
  /** Records lost: dropped on a full buffer, appended after close, or discarded by close after failed attempts. */
  onDrop?(n: number): void;
  /** Records the sink accepted. */
  onWrite?(n: number): void;
  /** A sink call failed; its records are kept and retried. */
  onSinkError?(err: unknown): void;
}

export interface PredictionLogStats {
  buffered: number;
  dropped: number;
  written: number;
  sinkErrors: number;
}

/** Sink attempts close() makes before giving up on what is still buffered. */
const CLOSE_ATTEMPTS = 3;

interface BlockedAppend {
  records: PredictionRecord[];
  /** How many of `records` have been accepted so far. */
  accepted: number;
  resolve: () => void;
}

interface FlushWaiter {
  /** Resolve once this many records have left the buffer (written or discarded). */
  throughSequence: number;
  resolve: () => void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw invalidArgument(`prediction log option ${name} must be an integer of at least 1, got ${value}`, { field: name });
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw invalidArgument(`prediction log option ${name} must be a finite number of at least 0, got ${value}`, { field: name });
  }
  return value;
}

export class PredictionLog {
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly policy: OverflowPolicy;
  private readonly retryDelayMs: number;

  /** Buffered records live in buffer[head..]; the prefix is compacted away now and then. */
  private buffer: PredictionRecord[] = [];
  private head = 0;
  private readonly blocked: BlockedAppend[] = [];
  private readonly flushWaiters: FlushWaiter[] = [];

  /** Records ever accepted into the buffer, and records ever taken out (written or discarded). */
  private acceptedSequence = 0;
  private removedSequence = 0;

  private dropped = 0;
  private written = 0;
  private sinkErrors = 0;

  private writer: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushImmediate: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly sink: (records: PredictionRecord[]) => Promise<void>,
    options: PredictionLogOptions = {},
    private readonly hooks: PredictionLogHooks = {},
  ) {
    this.capacity = positiveInteger('capacity', options.capacity ?? 100_000);
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 1000);
    this.flushIntervalMs = nonNegative('flushIntervalMs', options.flushIntervalMs ?? 200);
    this.retryDelayMs = nonNegative('retryDelayMs', options.retryDelayMs ?? 500);
    this.policy = options.policy ?? 'drop';
    if (this.policy !== 'drop' && this.policy !== 'block') {
      throw invalidArgument(`prediction log option policy must be 'drop' or 'block', got ${String(this.policy)}`, { field: 'policy' });
    }
  }

  /**
   * Buffers `records` for writing; never calls the sink itself. Under 'drop'
   * it returns at once and what does not fit is dropped; under 'block' the
   * promise resolves once every record has been accepted into the buffer.
   * After close() records are dropped (and counted) under either policy.
   */
  append(records: PredictionRecord[]): void | Promise<void> {
    if (this.closed) {
      this.drop(records.length);
      return this.policy === 'block' ? Promise.resolve() : undefined;
    }
    if (this.policy === 'drop') {
      const fits = Math.min(records.length, this.capacity - this.size);
      this.accept(records, 0, fits);
      if (fits < records.length) this.drop(records.length - fits);
      return undefined;
    }
    // 'block': FIFO behind earlier blocked appends, so order is append order.
    if (this.blocked.length === 0) {
      const fits = Math.min(records.length, this.capacity - this.size);
      this.accept(records, 0, fits);
      if (fits === records.length) return Promise.resolve();
      return new Promise<void>((resolve) => this.blocked.push({ records, accepted: fits, resolve }));
    }
    return new Promise<void>((resolve) => this.blocked.push({ records, accepted: 0, resolve }));
  }

  /** Resolves once every record appended before the call has been written. While the sink fails it keeps retrying, so it waits. */
  flush(): Promise<void> {
    const target = this.acceptedSequence + this.blocked.reduce((n, b) => n + b.records.length - b.accepted, 0);
    if (this.removedSequence >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ throughSequence: target, resolve }));
    this.retryTimer?.ref(); // someone now awaits the retry
    this.startWriter();
    return done;
  }

  /**
   * Refuses further appends (counted as dropped), writes everything buffered or
   * still blocked, and stops the timers. A sink that fails CLOSE_ATTEMPTS times
   * in a row during close makes it discard the rest, reported through onDrop.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.retryTimer?.ref(); // someone now awaits the retry
    this.closing = (async () => {
      while (this.size > 0 || this.blocked.length > 0 || this.writer) {
        this.startWriter();
        await this.writer;
      }
      this.clearTimers();
    })();
    return this.closing;
  }

  stats(): PredictionLogStats {
    return { buffered: this.size, dropped: this.dropped, written: this.written, sinkErrors: this.sinkErrors };
  }

  private get size(): number {
    return this.buffer.length - this.head;
  }

  private accept(records: PredictionRecord[], from: number, to: number): void {
    for (let i = from; i < to; i++) this.buffer.push(records[i]);
    this.acceptedSequence += to - from;
    if (to > from) this.scheduleWrite();
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.dropped += n;
    this.callHook(() => this.hooks.onDrop?.(n));
  }

  /** Hooks feed metrics and logs; a failing hook must not break the log. */
  private callHook(call: () => void): void {
    try {
      call();
    } catch {
      // Ignored on purpose: see above.
    }
  }

  /** Never writes on the append path: a full batch starts the writer next tick, otherwise a timer does. */
  private scheduleWrite(): void {
    if (this.writer) return; // The running writer keeps going while records remain.
    if (this.size >= this.batchSize) {
      if (this.flushImmediate) return;
      this.flushImmediate = setImmediate(() => {
        this.flushImmediate = undefined;
        this.startWriter();
      });
      this.flushImmediate.unref();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.startWriter();
    }, this.flushIntervalMs);
    this.flushTimer.unref();
  }

  private clearTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flushTimer = undefined;
    this.flushImmediate = undefined;
  }

  private startWriter(): void {
    if (this.writer) return;
    this.clearTimers();
    this.writer = this.writeAll().finally(() => {
      this.writer = undefined;
      // Records appended while the last sink call was finishing still need a write.
      if (this.size > 0 && !this.closed) this.scheduleWrite();
    });
  }

  /** The single writer: hands the buffer to the sink batch by batch until it is empty. */
  private async writeAll(): Promise<void> {
    let closeFailures = 0;
    this.admitBlocked();
    while (this.size > 0) {
      const batch = this.buffer.slice(this.head, this.head + this.batchSize);
      try {
        await this.sink(batch);
      } catch (err) {
        this.sinkErrors += 1;
        this.callHook(() => this.hooks.onSinkError?.(err));
        if (this.closed && ++closeFailures >= CLOSE_ATTEMPTS) {
          this.discardEverything();
          return;
        }
        await this.delay(this.retryDelayMs);
        continue;
      }
      closeFailures = 0;
      this.written += batch.length;
      this.callHook(() => this.hooks.onWrite?.(batch.length));
      this.removeHead(batch.length);
      this.admitBlocked();
    }
  }

  private removeHead(n: number): void {
    this.head += n;
    this.removedSequence += n;
    if (this.head >= 4096 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    this.resolveFlushWaiters();
  }

  /** Moves blocked appends into freed space, oldest first. */
  private admitBlocked(): void {
    while (this.blocked.length > 0 && this.size < this.capacity) {
      const first = this.blocked[0];
      const take = Math.min(first.records.length - first.accepted, this.capacity - this.size);
      for (let i = first.accepted; i < first.accepted + take; i++) this.buffer.push(first.records[i]);
      first.accepted += take;
      this.acceptedSequence += take;
      if (first.accepted < first.records.length) break;
      this.blocked.shift();
      first.resolve();
    }
  }

  /** close() gave up on the sink: what is left is lost, and said so. */
  private discardEverything(): void {
    let lost = this.size;
    this.buffer = [];
    this.head = 0;
    this.removedSequence += lost;
    for (const blocked of this.blocked.splice(0)) {
      const rest = blocked.records.length - blocked.accepted;
      lost += rest;
      // Counted as if accepted and discarded, so flush() targets stay reachable.
      this.acceptedSequence += rest;
      this.removedSequence += rest;
      blocked.resolve();
    }
    this.drop(lost);
    this.resolveFlushWaiters();
  }

  private resolveFlushWaiters(): void {
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.flushWaiters[i];
      if (this.removedSequence >= waiter.throughSequence) {
        this.flushWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** The retry wait keeps the process alive only when someone awaits flush() or close(). */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.retryTimer = undefined;
        resolve();
      }, ms);
      this.retryTimer = timer;
      if (!this.closed && this.flushWaiters.length === 0) timer.unref();
    });
  }
}
