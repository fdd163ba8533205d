/**
 * Execution events: what the executor tells the outside world while a
 * pipeline runs. Execution only emits them; the storage layer (tracking runs,
 * caching, lineage) and the terminal progress view consume them, so the
 * executor knows nothing of either — Dagster's split between the execution
 * plan and the event log.
 *
 * Every event carries the pipeline name and a wall-clock timestamp (`at`, ms
 * since the epoch). Step events carry the step name; attempts are 1-based.
 */
import type { StepStatus } from './types.js';

/** Why a step never ran. */
export type SkipReason =
  /** An upstream step failed or was skipped (status SKIPPED). */
  | 'upstream-failed'
  /** fail-fast stopped scheduling after another step's failure (status SKIPPED). */
  | 'fail-fast'
  /** The pipeline was cancelled before the step started (status CANCELLED). */
  | 'cancelled'
  /** Resume: the step had finished in an earlier run; its outputs are reused. */
  | 'resumed';

export type PipelineStatus = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Base {
  pipeline: string;
  at: number;
}

export type ExecutionEvent =
  | (Base & { type: 'step.started'; step: string; attempt: number })
  | (Base & { type: 'step.retrying'; step: string; attempt: number; delayMs: number; error: string })
  | (Base & { type: 'step.succeeded'; step: string; attempt: number; cached: boolean; durationMs: number })
  | (Base & { type: 'step.failed'; step: string; attempt: number; error: string; durationMs: number })
  | (Base & { type: 'step.skipped'; step: string; reason: SkipReason; status: StepStatus })
  | (Base & { type: 'step.cancelled'; step: string; attempt: number })
  /** A running step's progress: `done` of `total` units (a sweep's trials…), shown as a bar. */
  | (Base & { type: 'step.progress'; step: string; done: number; total: number; detail?: string })
  | (Base & { type: 'pipeline.finished'; status: PipelineStatus; durationMs: number });

export type ExecutionEventType = ExecutionEvent['type'];

/** A consumer of events. It is called synchronously and should not throw. */
export type EventListener = (event: ExecutionEvent) => void;

/** Distributive Omit, so each member of the union keeps its own fields. */
export type EventInput = ExecutionEvent extends infer E ? (E extends ExecutionEvent ? Omit<E, 'pipeline' | 'at'> : never) : never;

/**
 * An emitter bound to one pipeline run. A listener that throws cannot stop or
 * hang the pipeline: the error is kept (see `errors`) and execution goes on.
 */
export class EventEmitter {
  readonly errors: unknown[] = [];

  constructor(
    private readonly pipeline: string,
    private readonly listener?: EventListener,
    private readonly now: () => number = Date.now,
  ) {}

  emit(event: EventInput): void {
    if (!this.listener) return;
    try {
      this.listener({ ...event, pipeline: this.pipeline, at: this.now() } as ExecutionEvent);
    } catch (err) {
      this.errors.push(err);
    }
  }
}
