/**
 * `flywheel worker`: a process that takes queued step attempts (queue.ts)
 * and runs them with the same code as a local run (PipelineRunner
 * .executeStep), on any machine that reaches the PostgreSQL store and the
 * artifact store.
 *
 * For each job: claim the attempt (its step record must still hold the job's
 * token and have no worker), rebuild the step's context from the pipeline
 * run's record (definition snapshot, params, parent tracking run; function
 * steps load from the definition's module, which must be the same code:
 * its snapshot hash is compared), run it, NOTIFY the coordinator. Step
 * failures are recorded on the step, never thrown to the queue: the queue
 * re-delivers a job only when its worker vanished.
 *
 * Every `heartbeatMs` the worker records its heartbeat and its running
 * steps', learns whether each attempt still holds its claim and whether its
 * run was cancelled (and aborts those that do not), and reaps workers whose
 * heartbeat went stale (dispatcher.ts reapLostWorkers). A worker that finds
 * itself declared lost aborts its steps (their claims are gone) and stops.
 *
 * The project root (where shell steps run and relative sources are read) is
 * `root` when given, else the directory of the definition's module or YAML
 * file when it exists on this machine, else the working directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { run as runGraphile, type Runner, type RunnerOptions, type Task } from 'graphile-worker';
import type { ArtifactStore } from '../artifacts/index.js';
import type { DataService } from '../data/service.js';
import type { Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import { DEFAULT_LOST_AFTER_MS, reapLostWorkers } from './dispatcher.js';
import { PipelineCancelledError, StepTimeoutError } from './executor.js';
import { validateParams } from './graph.js';
import { FunctionPool } from './function-pool.js';
import { loadPipelineModule } from './load.js';
import { graphileWorkerIds, notifyStepDone, queueLogger, queueSchema, STEP_TASK, StepQueue, type StepJob } from './queue.js';
import { definitionSnapshot, PipelineRunner } from './runner.js';
import * as q from './store.js';
import type { PipelineDefinition } from './types.js';

export interface WorkerOptions {
  store: Store;
  tracking: TrackingApi;
  data: DataService;
  engine: Engine;
  artifacts?: ArtifactStore;
  /** The store's connection string. */
  url: string;
  /** Steps run at once (default 1). */
  concurrency?: number;
  root?: string;
  heartbeatMs?: number;
  lostAfterMs?: number;
  log?: (message: string) => void;
}

interface RunContext {
  def: PipelineDefinition;
  record: q.PipelineRunRecord;
  experimentId: string;
  root: string;
}

interface Running {
  job: StepJob;
  controller: AbortController;
}

/** The attempt's run was cancelled, or its claim was revoked or handed to another worker. */
class ClaimLostError extends Error {
  constructor(step: string) {
    super(`step "${step}": this worker no longer holds the attempt (revoked or given to another worker)`);
    this.name = 'ClaimLostError';
  }
}

export class PipelineWorker {
  readonly id: string;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly lostAfterMs: number;
  private readonly log: (message: string) => void;
  private readonly running = new Set<Running>();
  private readonly runs = new Map<string, Promise<RunContext>>();
  private runners: Runner[] = [];
  private queue: StepQueue | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stepsDone = 0;
  /** Child processes for function steps (modules' pipelines), made on first use, one slot per worker slot. */
  private functionPool: FunctionPool | undefined;
  private stopping: Promise<void> | undefined;
  private lostResolve: (() => void) | undefined;
  /** Resolves when the worker was declared lost by another process. */
  readonly lost: Promise<void>;

  private constructor(private readonly options: WorkerOptions) {
    this.id = `w-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.lostAfterMs = options.lostAfterMs ?? DEFAULT_LOST_AFTER_MS;
    this.log = options.log ?? ((m) => process.stderr.write(`flywheel worker: ${m}\n`));
    this.lost = new Promise((resolve) => (this.lostResolve = resolve));
  }

  static async start(options: WorkerOptions): Promise<PipelineWorker> {
    const w = new PipelineWorker(options);
    await w.begin();
    return w;
  }

  private async begin(): Promise<void> {
    const { store } = this.options;
    const schema = await queueSchema(store);
    this.queue = await StepQueue.open(store, this.options.url, this.log);
    const now = Date.now();
    await q.registerWorker(store.db, { id: this.id, hostname: os.hostname(), pid: process.pid, concurrency: this.concurrency, startedTime: now, heartbeatTime: now });
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    const task: Task = (payload) => this.handle(payload as StepJob);
    // One graphile runner per slot, each with a known worker id, so a lost worker's jobs can be unlocked by id.
    // (graphile-worker 0.16 reads `workerId` from the raw options of a runner with concurrency 1; it is not in its types.)
    for (const workerId of graphileWorkerIds(this.id, this.concurrency)) {
      const options: RunnerOptions & { workerId: string } = {
        connectionString: this.options.url,
        schema,
        concurrency: 1,
        workerId,
        noHandleSignals: true,
        pollInterval: 500,
        logger: queueLogger(this.log),
        taskList: { [STEP_TASK]: task },
      };
      this.runners.push(await runGraphile(options));
    }
  }

  /** Heartbeat of the worker and its steps, aborting attempts that lost their claim, and reaping lost workers. */
  private async beat(): Promise<void> {
    const { store } = this.options;
    try {
      const now = Date.now();
      if (!(await q.heartbeatWorker(store.db, this.id, now, this.stepsDone))) {
        this.log(`this worker (${this.id}) was declared lost; stopping`);
        for (const r of this.running) r.controller.abort(new ClaimLostError(r.job.step));
        this.lostResolve?.();
        return;
      }
      const running = [...this.running];
      const keep = await q.heartbeatSteps(
        store.db,
        this.id,
        running.map((r) => ({ pipelineRunId: r.job.pipelineRunId, step: r.job.step, token: r.job.token })),
        now,
      );
      for (const [i, ok] of keep.entries()) {
        if (ok) continue;
        const r = running[i];
        const run = await q.getPipelineRun(store.db, r.job.pipelineRunId);
        r.controller.abort(run?.cancelRequestedTime ? new PipelineCancelledError() : new ClaimLostError(r.job.step));
      }
      await reapLostWorkers(store, this.options.tracking, this.queue!, this.lostAfterMs, this.log);
    } catch (err) {
      this.log(`heartbeat failed: ${(err as Error).message}`);
    }
  }

  private context(pipelineRunId: string): Promise<RunContext> {
    let ctx = this.runs.get(pipelineRunId);
    if (!ctx) {
      ctx = this.loadContext(pipelineRunId);
      this.runs.set(pipelineRunId, ctx);
      // A failed load is retried by the next job; a loaded one is kept (runs are immutable snapshots).
      ctx.catch(() => this.runs.delete(pipelineRunId));
      if (this.runs.size > 100) this.runs.delete(this.runs.keys().next().value!);
    }
    return ctx;
  }

  private async loadContext(pipelineRunId: string): Promise<RunContext> {
    const { store, tracking } = this.options;
    const record = await q.getPipelineRun(store.db, pipelineRunId);
    if (!record) throw new Error(`no pipeline run ${pipelineRunId}`);
    let def = JSON.parse(record.definition) as PipelineDefinition;
    if (record.module) {
      const loaded = (await loadPipelineModule(record.module)).find((d) => d.name === record.pipeline);
      if (!loaded) throw new Error(`module ${record.module} no longer exports pipeline "${record.pipeline}"`);
      if (definitionSnapshot(loaded).hash !== record.definitionHash) {
        throw new Error(`module ${record.module} on this worker differs from the definition pipeline run ${pipelineRunId} started with (snapshot ${record.definitionHash.slice(0, 12)})`);
      }
      def = loaded;
    }
    const parent = await tracking.getRun(record.trackingRunId!);
    const near = record.module ?? (def.source && path.isAbsolute(def.source) ? def.source : undefined);
    const root = this.options.root ?? (near && fs.existsSync(near) ? path.dirname(near) : process.cwd());
    return { def, record, experimentId: parent.info.experimentId, root };
  }

  private async handle(job: StepJob): Promise<void> {
    const { store } = this.options;
    if (!(await q.claimStepAttempt(store.db, job.pipelineRunId, job.step, job.token, this.id, Date.now()))) return;
    const controller = new AbortController();
    const entry: Running = { job, controller };
    this.running.add(entry);
    let timer: NodeJS.Timeout | undefined;
    try {
      let ctx: RunContext;
      try {
        ctx = await this.context(job.pipelineRunId);
      } catch (err) {
        await this.failClaimed(job, `worker ${this.id} cannot run step "${job.step}": ${(err as Error).message}`);
        return;
      }
      const step = ctx.def.steps.find((s) => s.name === job.step);
      if (!step) {
        await this.failClaimed(job, `pipeline run ${job.pipelineRunId} has no step "${job.step}"`);
        return;
      }
      if (step.timeoutMs !== undefined) timer = setTimeout(() => controller.abort(new StepTimeoutError(step.name, step.timeoutMs!)), step.timeoutMs);
      const runner = new PipelineRunner({ ...this.options, projectRoot: ctx.root });
      const params = validateParams(ctx.def, ctx.record.params)[step.name];
      await runner
        .executeStep(
          {
            def: ctx.def,
            pipelineRunId: job.pipelineRunId,
            parentRunId: ctx.record.trackingRunId!,
            experimentId: ctx.experimentId,
            params,
            force: job.force,
            started: new Map([[step.name, job.startedTime]]),
            worker: this.id,
            attemptToken: job.token,
            functionPool: ctx.record.module && step.kind === 'function' ? (this.functionPool ??= new FunctionPool({ size: this.concurrency })) : undefined,
          },
          step,
          job.attempt,
          controller.signal,
          job.upstream,
        )
        // The outcome is on the step record (or was refused, when the claim was lost).
        .catch(() => undefined);
      this.stepsDone++;
    } finally {
      clearTimeout(timer);
      this.running.delete(entry);
      await notifyStepDone(store, job.pipelineRunId).catch(() => undefined);
    }
  }

  /** Records a claimed attempt as FAILED before it ran (bad module, unknown step). */
  private async failClaimed(job: StepJob, message: string): Promise<void> {
    const { store } = this.options;
    const record = await q.getStepRun(store.db, job.pipelineRunId, job.step);
    if (!record) return;
    await q.saveClaimedStepRun(store.db, { ...record, status: 'FAILED', error: message, endedTime: Date.now(), attempts: job.attempt, attemptToken: job.token, worker: this.id });
    this.log(message);
  }

  /** Running attempts (for status displays). */
  get active(): number {
    return this.running.size;
  }

  /**
   * Stops taking jobs, lets running steps finish (graphile's graceful stop),
   * and records the worker STOPPED. Steps still running after `graceMs` are
   * aborted (recorded CANCELLED/FAILED by their runner).
   */
  stop(graceMs = 30_000): Promise<void> {
    this.stopping ??= (async () => {
      const abortLater = setTimeout(() => {
        for (const r of this.running) r.controller.abort(new Error(`worker ${this.id} is shutting down`));
      }, graceMs);
      try {
        await Promise.allSettled(this.runners.map((r) => r.stop()));
      } finally {
        clearTimeout(abortLater);
        clearInterval(this.heartbeat);
        await this.functionPool?.close().catch(() => undefined);
        await q.stopWorker(this.options.store.db, this.id, Date.now()).catch(() => undefined);
        await this.queue?.close().catch(() => undefined);
      }
    })();
    return this.stopping;
  }
}
