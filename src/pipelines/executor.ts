/**
 * The local executor: runs a pipeline's steps in dependency order, in
 * parallel up to a global limit and per-tag limits, with per-step retries
 * (exponential backoff, full jitter), per-attempt timeouts, cancellation and
 * a failure policy (fail-fast or continue).
 *
 * Execution is apart from storage: the executor never records anything
 * itself. It calls `runStep(step, attempt, signal, upstream)` — which a later
 * layer wires to tracking runs, caching and data commits — and reports what
 * happens through `onEvent` (see events.ts). A step starts once every upstream
 * step SUCCEEDED or was CACHED. `skip` lets resume mark steps as already done
 * so their recorded outcome is reused and they do not run again.
 *
 * An attempt ends when its promise settles. When an attempt is aborted (its
 * timeout fired or the pipeline was cancelled) its signal aborts and the
 * executor waits for it to settle, but at most `abortGraceMs`; after that the
 * attempt is abandoned so a step that ignores its signal cannot hang the run.
 */
import os from 'node:os';
import { invalidArgument } from '../core/errors.js';
import { EventEmitter, type EventListener, type PipelineStatus, type SkipReason } from './events.js';
import { dependenciesOf, planOrder } from './graph.js';
import { ConcurrencyLimiter } from './limits.js';
import { backoffDelay, sleep, type RandomSource } from './retry.js';
import type { PipelineDefinition, StepDefinition, StepStatus } from './types.js';

/** What a step attempt hands back on success. */
export interface StepOutcome {
  /** Served from cache: the recorded outputs were reused (status CACHED). */
  cached?: boolean;
  /** Output name → what downstream steps consume (e.g. a dataset version ref). */
  outputs?: Record<string, string>;
}

/**
 * Runs one attempt of a step. `attempt` is 1-based; `signal` aborts on timeout
 * or cancellation and the step should stop promptly when it does; `upstream`
 * holds the outcomes of the step's direct upstream steps by step name.
 * Resolving means success; throwing (or rejecting) fails the attempt.
 */
export type RunStep = (
  step: StepDefinition,
  attempt: number,
  signal: AbortSignal,
  upstream: Readonly<Record<string, StepOutcome>>,
) => Promise<StepOutcome | void>;

export interface ExecuteOptions {
  runStep: RunStep;
  /** Global limit of steps running at once; defaults to the definition's, then to the CPU count. */
  concurrency?: number;
  /** Per-tag limits, merged over the definition's. */
  tagConcurrency?: Record<string, number>;
  /** Defaults to the definition's, then to fail-fast. */
  onFailure?: 'fail-fast' | 'continue';
  /** Cancels the run: running attempts are aborted, nothing new starts, the rest ends CANCELLED. */
  signal?: AbortSignal;
  onEvent?: EventListener;
  /** Resume: steps already done in an earlier run (by name, or with their recorded outcome). */
  skip?: readonly string[] | Readonly<Record<string, StepOutcome>>;
  /** Source of jitter; tests pass a fixed one. */
  random?: RandomSource;
  /** How long an aborted attempt may take to settle before it is abandoned (default 10 s). */
  abortGraceMs?: number;
}

export interface StepReport {
  status: StepStatus;
  /** Attempts started (0 when the step never ran). */
  attempts: number;
  /** The last attempt's error, for FAILED steps. */
  error?: string;
  /** Why a SKIPPED or never-started CANCELLED step did not run. */
  reason?: SkipReason;
  outcome?: StepOutcome;
}

export interface PipelineResult {
  status: PipelineStatus;
  steps: Record<string, StepReport>;
  /** Errors thrown by the `onEvent` listener (execution went on regardless). */
  listenerErrors: unknown[];
}

/** The error of an attempt that ran past the step's `timeoutMs`. */
export class StepTimeoutError extends Error {
  constructor(
    readonly step: string,
    readonly timeoutMs: number,
  ) {
    super(`step "${step}" timed out after ${formatSeconds(timeoutMs)}`);
    this.name = 'StepTimeoutError';
  }
}

/** The abort reason of attempts stopped by cancellation. */
export class PipelineCancelledError extends Error {
  constructor() {
    super('pipeline cancelled');
    this.name = 'PipelineCancelledError';
  }
}

const DEFAULT_ABORT_GRACE_MS = 10_000;

/**
 * Direct upstream step names of each step. Checks only what execution itself
 * relies on (unique names, inputs naming existing steps, no cycle via
 * graph.ts's planOrder); full validation is `validatePipeline`'s job, before.
 */
function planGraph(def: PipelineDefinition): { ups: Map<string, string[]>; order: string[] } {
  const names = new Set<string>();
  for (const step of def.steps) {
    if (names.has(step.name)) throw invalidArgument(`pipeline "${def.name}": duplicate step name "${step.name}"`);
    names.add(step.name);
  }
  const ups = new Map<string, string[]>();
  for (const step of def.steps) {
    const deps = dependenciesOf(step);
    const unknown = deps.find((d) => !names.has(d));
    if (unknown !== undefined) throw invalidArgument(`pipeline "${def.name}", step "${step.name}": input refers to unknown step "${unknown}"`);
    ups.set(step.name, deps);
  }
  return { ups, order: planOrder(def) };
}

type AttemptResult =
  | { kind: 'ok'; outcome: StepOutcome }
  | { kind: 'error'; error: string }
  | { kind: 'cancelled' };

export async function executePipeline(def: PipelineDefinition, opts: ExecuteOptions): Promise<PipelineResult> {
  const { ups, order } = planGraph(def);
  const downs = new Map<string, string[]>(def.steps.map((s) => [s.name, []]));
  for (const [name, list] of ups) for (const up of list) downs.get(up)!.push(name);

  const limiter = new ConcurrencyLimiter(
    opts.concurrency ?? def.concurrency ?? Math.max(1, os.availableParallelism()),
    { ...def.tagConcurrency, ...opts.tagConcurrency },
  );
  const policy = opts.onFailure ?? def.onFailure ?? 'fail-fast';
  const random = opts.random ?? Math.random;
  const grace = opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
  const runSignal = opts.signal;
  const events = new EventEmitter(def.name, opts.onEvent);
  const started = Date.now();

  const reports = new Map<string, StepReport>(def.steps.map((s) => [s.name, { status: 'PENDING', attempts: 0 }]));
  const report = (name: string) => reports.get(name)!;

  // Resume: mark finished steps as done before anything is scheduled.
  const skip = opts.skip ?? [];
  const skipped: Array<[string, StepOutcome]> = Array.isArray(skip)
    ? (skip as readonly string[]).map((name) => [name, {}])
    : Object.entries(skip as Record<string, StepOutcome>);
  for (const [name, outcome] of skipped) {
    if (!reports.has(name)) throw invalidArgument(`pipeline "${def.name}": cannot skip unknown step "${name}"`);
    const status: StepStatus = outcome.cached ? 'CACHED' : 'SUCCEEDED';
    Object.assign(report(name), { status, reason: 'resumed', outcome });
    events.emit({ type: 'step.skipped', step: name, reason: 'resumed', status });
  }

  let running = 0;
  let stopScheduling = false; // fail-fast after a final failure
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const isDone = (s: StepStatus) => s === 'SUCCEEDED' || s === 'CACHED';
  const cancelled = () => runSignal?.aborted === true;

  /** Marks every not-yet-started step downstream of `name` SKIPPED. */
  const skipDownstream = (name: string) => {
    for (const down of downs.get(name)!) {
      const r = report(down);
      if (r.status !== 'PENDING') continue;
      Object.assign(r, { status: 'SKIPPED', reason: 'upstream-failed' });
      events.emit({ type: 'step.skipped', step: down, reason: 'upstream-failed', status: 'SKIPPED' });
      skipDownstream(down);
    }
  };

  const settleRemaining = () => {
    for (const name of order) {
      const r = report(name);
      if (r.status !== 'PENDING') continue;
      const upstreamFailed = ups.get(name)!.some((up) => {
        const u = report(up);
        return u.status === 'FAILED' || (u.status === 'SKIPPED' && u.reason === 'upstream-failed');
      });
      const reason: SkipReason = cancelled() ? 'cancelled' : upstreamFailed ? 'upstream-failed' : 'fail-fast';
      const status: StepStatus = reason === 'cancelled' ? 'CANCELLED' : 'SKIPPED';
      Object.assign(r, { status, reason });
      events.emit({ type: 'step.skipped', step: name, reason, status });
    }
  };

  // Ready queue: PENDING steps whose upstream steps are all done, in definition order.
  // Each step becomes ready once (when its last upstream finishes), so scheduling is O(edges) overall.
  const indexOf = new Map(def.steps.map((s, i) => [s.name, i]));
  const waiting = new Map(def.steps.map((s) => [s.name, ups.get(s.name)!.filter((up) => !isDone(report(up).status)).length]));
  const ready: number[] = [];
  const makeReady = (name: string) => {
    const i = indexOf.get(name)!;
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ready[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, i);
  };
  for (const step of def.steps) if (report(step.name).status === 'PENDING' && waiting.get(step.name) === 0) makeReady(step.name);
  const onDone = (name: string) => {
    for (const down of downs.get(name)!) {
      const left = waiting.get(down)! - 1;
      waiting.set(down, left);
      if (left === 0 && report(down).status === 'PENDING') makeReady(down);
    }
  };

  const schedule = () => {
    if (!cancelled() && !stopScheduling) {
      for (let k = 0; k < ready.length && limiter.inUse().global < limiter.global; ) {
        const step = def.steps[ready[k]];
        const r = report(step.name);
        if (r.status !== 'PENDING') {
          ready.splice(k, 1);
          continue;
        }
        if (!limiter.tryAcquire(step.tags)) {
          k++;
          continue;
        }
        ready.splice(k, 1);
        r.status = 'RUNNING';
        running++;
        void runStepWithRetries(step)
          .catch((err: unknown) => {
            // A bug in the executor itself must still end the step, never hang the run.
            Object.assign(r, { status: 'FAILED', error: `internal error: ${messageOf(err)}` });
            events.emit({ type: 'step.failed', step: step.name, attempt: r.attempts, error: r.error!, durationMs: 0 });
            if (policy === 'fail-fast') stopScheduling = true;
            else skipDownstream(step.name);
          })
          .finally(() => {
            limiter.release(step.tags);
            running--;
            if (isDone(r.status)) onDone(step.name);
            schedule();
          });
      }
    }
    if (running === 0) {
      settleRemaining();
      finish();
    }
  };

  const runStepWithRetries = async (step: StepDefinition): Promise<void> => {
    const r = report(step.name);
    const upstream = Object.fromEntries(ups.get(step.name)!.map((up) => [up, report(up).outcome ?? {}]));
    const maxAttempts = 1 + Math.max(0, step.retry?.retries ?? 0);
    for (let attempt = 1; ; attempt++) {
      r.attempts = attempt;
      events.emit({ type: 'step.started', step: step.name, attempt });
      const t0 = Date.now();
      const result = await runAttempt(step, attempt, upstream);
      const durationMs = Date.now() - t0;
      if (result.kind === 'ok') {
        const cached = result.outcome.cached === true;
        Object.assign(r, { status: cached ? 'CACHED' : 'SUCCEEDED', outcome: result.outcome });
        events.emit({ type: 'step.succeeded', step: step.name, attempt, cached, durationMs });
        return;
      }
      if (result.kind === 'cancelled') {
        r.status = 'CANCELLED';
        events.emit({ type: 'step.cancelled', step: step.name, attempt });
        return;
      }
      if (attempt < maxAttempts && !cancelled()) {
        const delayMs = backoffDelay(attempt, step.retry, random);
        events.emit({ type: 'step.retrying', step: step.name, attempt, delayMs, error: result.error });
        if (!(await sleep(delayMs, runSignal))) {
          r.status = 'CANCELLED';
          events.emit({ type: 'step.cancelled', step: step.name, attempt });
          return;
        }
        continue;
      }
      Object.assign(r, { status: 'FAILED', error: result.error });
      events.emit({ type: 'step.failed', step: step.name, attempt, error: result.error, durationMs });
      if (policy === 'fail-fast') stopScheduling = true;
      else skipDownstream(step.name);
      return;
    }
  };

  const runAttempt = async (
    step: StepDefinition,
    attempt: number,
    upstream: Record<string, StepOutcome>,
  ): Promise<AttemptResult> => {
    if (cancelled()) return { kind: 'cancelled' };
    const ac = new AbortController();
    const onCancel = () => ac.abort(new PipelineCancelledError());
    runSignal?.addEventListener('abort', onCancel, { once: true });
    const timer =
      step.timeoutMs !== undefined
        ? setTimeout(() => ac.abort(new StepTimeoutError(step.name, step.timeoutMs!)), step.timeoutMs)
        : undefined;
    type Settled = { ok: true; value: StepOutcome | void } | { ok: false; error: unknown };
    const work: Promise<Settled> = Promise.resolve()
      .then(() => opts.runStep(step, attempt, ac.signal, upstream))
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const aborted = new Promise<'aborted'>((resolve) => {
      if (ac.signal.aborted) resolve('aborted');
      ac.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    try {
      const first = await Promise.race([work, aborted]);
      if (first !== 'aborted') {
        if (first.ok) return { kind: 'ok', outcome: first.value ?? {} };
        if (!ac.signal.aborted) return { kind: 'error', error: messageOf(first.error) };
      } else {
        // Give the attempt a chance to stop cleanly (kill its processes), but never wait forever.
        let graceTimer: NodeJS.Timeout | undefined;
        await Promise.race([work, new Promise((resolve) => (graceTimer = setTimeout(resolve, grace)))]);
        clearTimeout(graceTimer);
      }
      const reason: unknown = ac.signal.reason;
      if (reason instanceof PipelineCancelledError) return { kind: 'cancelled' };
      return { kind: 'error', error: messageOf(reason) };
    } finally {
      clearTimeout(timer);
      runSignal?.removeEventListener('abort', onCancel);
    }
  };

  if (cancelled()) {
    settleRemaining();
  } else {
    schedule();
    await done;
  }

  const steps = Object.fromEntries(reports);
  const statuses = Object.values(steps).map((s) => s.status);
  const status: PipelineStatus = statuses.includes('CANCELLED')
    ? 'CANCELLED'
    : statuses.every(isDone)
      ? 'SUCCEEDED'
      : 'FAILED';
  events.emit({ type: 'pipeline.finished', status, durationMs: Date.now() - started });
  return { status, steps, listenerErrors: events.errors };
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : String(err);
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
