/**
 * The coordinator's side of a distributed pipeline run: instead of running a
 * step, the executor's `runStep` (executor.ts) queues it and waits.
 *
 * For each attempt: write the step record PENDING with a fresh claim token,
 * put a `flywheel_step` job on the queue (queue.ts), then wait until the
 * record says how it ended — woken by the workers' NOTIFY on
 * `flywheel_step_done`, with a poll as the safety net. SUCCEEDED/CACHED give
 * the outputs to the executor; FAILED rejects with the step's error, so the
 * executor's retries, fail-fast/continue policy and resume work exactly as
 * in a local run.
 *
 * When the attempt is aborted (pipeline cancelled, step timeout), the token
 * is revoked: the worker sees that at its next heartbeat and stops, and
 * anything it would still record is refused (store.ts saveClaimedStepRun).
 *
 * Never a hung pipeline: the coordinator also reaps lost workers (heartbeat
 * older than `lostAfterMs` → LOST, their queue jobs unlocked for another
 * worker, the lost attempts' tracking runs FAILED), and an attempt that no
 * live worker has taken for `noWorkerTimeoutMs` fails with a message saying
 * to start `flywheel worker`.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import { PipelineCancelledError, StepTimeoutError, type StepOutcome } from './executor.js';
import { graphileWorkerIds, STEP_DONE_CHANNEL, StepQueue } from './queue.js';
import * as q from './store.js';
import type { StepDefinition } from './types.js';

export interface DispatcherOptions {
  store: Store;
  tracking: TrackingApi;
  /** The store's connection string (the queue and LISTEN use it too). */
  url: string;
  /** A worker whose heartbeat is older than this is lost (default 10 s). */
  lostAfterMs?: number;
  /** An attempt no live worker took within this fails (default 60 s). */
  noWorkerTimeoutMs?: number;
  /** Safety-net poll of waiting attempts (default 1 s). */
  pollMs?: number;
  log?: (message: string) => void;
}

export interface DispatchContext {
  pipelineRunId: string;
  pipeline: string;
  force: boolean;
  started: Map<string, number>;
}

export const DEFAULT_LOST_AFTER_MS = 10_000;
const DEFAULT_NO_WORKER_TIMEOUT_MS = 60_000;
const DEFAULT_POLL_MS = 1000;

/** Ends the tracking runs of attempts taken off lost workers and unlocks their jobs; shared by coordinators and workers. */
export async function reapLostWorkers(store: Store, tracking: TrackingApi, queue: StepQueue, lostAfterMs: number, log: (m: string) => void): Promise<number> {
  const lost = await q.declareLostWorkers(store.db, Date.now() - lostAfterMs);
  for (const w of lost) {
    log(`worker ${w.id} (${w.hostname}, pid ${w.pid}) lost: no heartbeat for over ${Math.round(lostAfterMs / 1000)} s; its steps go to other workers`);
    const released = await q.releaseStepsOfWorker(store.db, w.id);
    for (const s of released) {
      if (s.trackingRunId === null) continue;
      await tracking.logBatch(s.trackingRunId, { tags: [{ key: 'flywheel.error', value: `worker ${w.id} was lost mid-step` }] }).catch(() => undefined);
      await tracking.endRun(s.trackingRunId, 'FAILED').catch(() => undefined);
    }
    await queue.forceUnlockWorkers(graphileWorkerIds(w.id, w.concurrency));
  }
  return lost.length;
}

export class QueueDispatcher {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Notifications seen per pipeline run: a waiter compares before sleeping, so one arriving while it read the record is not missed. */
  private readonly ticks = new Map<string, number>();
  private listener: pg.Client | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private readonly lostAfterMs: number;
  private readonly noWorkerTimeoutMs: number;
  private readonly pollMs: number;
  private readonly log: (message: string) => void;

  private constructor(
    private readonly options: DispatcherOptions,
    private readonly queue: StepQueue,
  ) {
    this.lostAfterMs = options.lostAfterMs ?? DEFAULT_LOST_AFTER_MS;
    this.noWorkerTimeoutMs = options.noWorkerTimeoutMs ?? DEFAULT_NO_WORKER_TIMEOUT_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.log = options.log ?? ((m) => process.stderr.write(`flywheel: ${m}\n`));
  }

  static async open(options: DispatcherOptions): Promise<QueueDispatcher> {
    const queue = await StepQueue.open(options.store, options.url, options.log);
    const d = new QueueDispatcher(options, queue);
    await d.listen();
    d.reaper = setInterval(() => {
      reapLostWorkers(options.store, options.tracking, queue, d.lostAfterMs, d.log).catch((err: unknown) => d.log(`reaping lost workers failed: ${(err as Error).message}`));
    }, Math.max(250, Math.min(2000, d.lostAfterMs / 2)));
    d.reaper.unref();
    return d;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    await client.connect();
    client.on('notification', (msg) => {
      if (msg.channel !== STEP_DONE_CHANNEL || !msg.payload) return;
      const waiting = this.waiters.get(msg.payload);
      if (!waiting) return;
      this.ticks.set(msg.payload, (this.ticks.get(msg.payload) ?? 0) + 1);
      for (const wake of waiting) wake();
    });
    // A broken LISTEN connection only costs latency: the poll still sees every ending.
    client.on('error', (err) => this.log(`LISTEN connection failed (${err.message}); falling back to polling`));
    await client.query(`LISTEN ${STEP_DONE_CHANNEL}`);
    this.listener = client;
  }

  /** Queues one attempt and waits for it to end; the executor's `runStep` in distributed mode. */
  async runStep(ctx: DispatchContext, step: StepDefinition, attempt: number, signal: AbortSignal, upstream: Readonly<Record<string, StepOutcome>>): Promise<StepOutcome> {
    const { store } = this.options;
    const token = randomUUID();
    if (!ctx.started.has(step.name)) ctx.started.set(step.name, Date.now());
    const startedTime = ctx.started.get(step.name)!;
    await q.queueStepAttempt(store.db, {
      pipelineRunId: ctx.pipelineRunId,
      pipeline: ctx.pipeline,
      step: step.name,
      status: 'PENDING',
      attempts: attempt,
      cacheKey: null,
      cached: false,
      trackingRunId: null,
      error: null,
      outputs: {},
      startedTime,
      endedTime: null,
      attemptToken: token,
    });
    const jobId = await this.queue.add({ pipelineRunId: ctx.pipelineRunId, step: step.name, attempt, token, upstream: { ...upstream }, force: ctx.force, startedTime });

    let wake: () => void = () => undefined;
    const waiters = this.waiters.get(ctx.pipelineRunId) ?? new Set();
    this.waiters.set(ctx.pipelineRunId, waiters);
    let lastLive = Date.now();
    try {
      for (;;) {
        const tick = this.ticks.get(ctx.pipelineRunId) ?? 0;
        const record = await q.getStepRun(store.db, ctx.pipelineRunId, step.name);
        if (record && record.attemptToken === token) {
          if (record.status === 'SUCCEEDED' || record.status === 'CACHED') return { cached: record.status === 'CACHED', outputs: record.outputs };
          if (record.status === 'FAILED') throw new Error(record.error ?? `step "${step.name}" failed on a worker`);
          if (record.status === 'CANCELLED') throw new PipelineCancelledError();
          if (record.worker !== null && record.worker !== undefined) lastLive = Date.now();
        } else {
          throw new Error(`step "${step.name}": its attempt was taken over (record ${record ? `holds another attempt` : 'missing'})`);
        }
        if (record.worker === null || record.worker === undefined) {
          // Queued and untaken: fail rather than wait forever when no worker is alive to take it.
          if ((await q.countLiveWorkers(store.db, Date.now() - this.lostAfterMs)) > 0) lastLive = Date.now();
          else if (Date.now() - lastLive > this.noWorkerTimeoutMs) {
            const message = `no flywheel worker took step "${step.name}" within ${Math.round(this.noWorkerTimeoutMs / 1000)} s: start one with \`flywheel worker\` (same FLYWHEEL_DB)`;
            if (await q.revokeStepAttempt(store.db, ctx.pipelineRunId, step.name, token, 'FAILED', message)) {
              await this.queue.removeUnlocked([jobId]).catch(() => undefined);
              throw new Error(message);
            }
            continue;
          }
        }
        const woke = await new Promise<'woke' | 'aborted'>((resolve) => {
          const timer = setTimeout(() => resolve('woke'), this.pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve('woke');
          };
          waiters.add(wake);
          if (signal.aborted || (this.ticks.get(ctx.pipelineRunId) ?? 0) !== tick) wake();
          signal.addEventListener('abort', wake, { once: true });
        });
        waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        if (woke === 'woke' && signal.aborted) {
          const reason: unknown = signal.reason;
          const cancelled = reason instanceof PipelineCancelledError;
          const message = cancelled ? 'pipeline cancelled' : reason instanceof StepTimeoutError ? reason.message : String((reason as Error)?.message ?? reason);
          if (await q.revokeStepAttempt(store.db, ctx.pipelineRunId, step.name, token, cancelled ? 'CANCELLED' : 'FAILED', message)) {
            await this.queue.removeUnlocked([jobId]).catch(() => undefined);
          }
          throw reason instanceof Error ? reason : new Error(message);
        }
      }
    } finally {
      waiters.delete(wake);
      if (waiters.size === 0) {
        this.waiters.delete(ctx.pipelineRunId);
        this.ticks.delete(ctx.pipelineRunId);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
    await this.listener?.end().catch(() => undefined);
    await this.queue.close();
  }
}
