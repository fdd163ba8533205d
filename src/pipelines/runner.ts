/**
 * The pipeline runner: connects the executor (executor.ts, which knows only
 * `runStep` and events) to storage — pipeline and step records (store.ts),
 * tracking runs, dataset versions, lineage and the step cache.
 *
 * A run records its definition snapshot (canonical JSON, functions by their
 * source text) and its sha256, opens a parent tracking run in the experiment
 * `pipelines/<name>`, and for each step execution (each attempt) a child run
 * with the step's params, tags `flywheel.pipeline`, `flywheel.step`,
 * `flywheel.cache_key`, `flywheel.pipeline_run_id`, lineage run —consumes→
 * each input version, the step log as the artifact `logs/step.log` (when the
 * step logged anything), and status
 * FINISHED, FAILED or KILLED (cancel/timeout). Outputs are dataset versions
 * committed by the step's run (run —produces→ version).
 *
 * Caching: the key is cacheKey() over the step, its effective params and the
 * content hashes of its resolved input versions (plus, for built-ins, the
 * file they read: ingest's source, validate's suite). A SUCCEEDED execution
 * of the same pipeline and step with the same key is reused — same version
 * ids — unless `force` or the step says `cache: false`. A cache hit opens NO
 * tracking run: its step record says CACHED and keeps the key; the versions'
 * lineage stays with the run that made them.
 *
 * Resume makes a new pipeline run (resumed_from → the old one) from the old
 * run's snapshot and params; its SUCCEEDED/CACHED steps are passed to the
 * executor as `skip` with their outputs, so only the failed step and what is
 * downstream of it run.
 */
import type { Kysely } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlywheelError, invalidArgument, notFound } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { newRunId } from '../core/ids.js';
import type { ArtifactStore } from '../artifacts/index.js';
import type { DataService } from '../data/service.js';
import type { DatasetVersion } from '../data/types.js';
import type { Engine } from '../engine/index.js';
import { recordEdges } from '../lineage/service.js';
import type { Store } from '../store/index.js';
import type { Database } from '../store/schema.js';
import type { TrackingApi } from '../tracking/api.js';
import { TrackingService } from '../tracking/service.js';
import type { RunStatus } from '../tracking/types.js';
import { cacheKey, canonicalJson } from './cache-key.js';
import type { QueueDispatcher } from './dispatcher.js';
import type { ParamValue } from './define.js';
import type { EventListener } from './events.js';
import { executePipeline, PipelineCancelledError, StepTimeoutError, type PipelineResult, type StepOutcome } from './executor.js';
import { validateParams, validatePipeline } from './graph.js';
import { rotatedLogPath } from './shell.js';
import { implicitDeps, runStepKind } from './step-runners.js';
import { runSweep } from './sweep-runner.js';
import { FunctionPool, isTypeScriptFile } from './function-pool.js';
import * as q from './store.js';
import type { PipelineDefinition, ResolvedInput, StepDefinition } from './types.js';

export const PIPELINE_TAGS = {
  pipeline: 'flywheel.pipeline',
  step: 'flywheel.step',
  cacheKey: 'flywheel.cache_key',
  pipelineRunId: 'flywheel.pipeline_run_id',
  error: 'flywheel.error',
} as const;
export const STEP_LOG_ARTIFACT = 'logs/step.log';
const MAX_ERROR_TEXT = 8000;
/** Who runs steps executed in this process. */
const LOCAL_WORKER = `${os.hostname()}:${process.pid}`;
/** How often a running pipeline checks whether `pipelines cancel` asked it to stop. */
export const CANCEL_POLL_MS = 1000;

export interface PipelineRunnerDeps {
  store: Store;
  tracking: TrackingApi;
  data: DataService;
  engine: Engine;
  artifacts?: ArtifactStore;
  /** Where commands run and `deps`/sources are read from. */
  projectRoot: string;
}

export interface RunOptions {
  /** Param overrides: `name` (every step declaring it) or `step.name`. */
  params?: Record<string, ParamValue>;
  /** Ignore the cache: every step runs. */
  force?: boolean;
  signal?: AbortSignal;
  onEvent?: EventListener;
  concurrency?: number;
  /** Called once the pipeline run record exists (before any step runs), with its id. */
  onStarted?: (pipelineRunId: string) => void;
  /** Extra tags on the pipeline's parent tracking run (e.g. what triggered it). */
  tags?: Record<string, string>;
  /** Distributed: queue each step for `flywheel worker` processes instead of running it here (dispatcher.ts). */
  dispatcher?: QueueDispatcher;
}

/** What one step execution needs to know about its pipeline run. */
export interface StepExecutionContext {
  def: PipelineDefinition;
  pipelineRunId: string;
  /** The pipeline's parent tracking run. */
  parentRunId: string;
  experimentId: string;
  /** The step's effective params. */
  params: Record<string, ParamValue>;
  force: boolean;
  /** First start time of each step (kept across attempts). */
  started: Map<string, number>;
  /** Who runs the attempt (recorded on the step); default `host:pid`. */
  worker?: string;
  /** A queued attempt's claim token (distributed): records are written only while it holds. */
  attemptToken?: string;
  /** Worker processes for the function steps of a module pipeline (`def.module`); without it they run in-process. */
  functionPool?: FunctionPool;
  /** A sweep step's trials at once when its sweep sets no `parallel` (the run's concurrency). */
  concurrency?: number;
  /** Receives a sweep step's `step.progress` events. */
  onEvent?: EventListener;
}

/** A queued attempt lost its claim (revoked or given to another worker); nothing it did is recorded on the step. */
export class AttemptSupersededError extends Error {
  constructor(pipelineRunId: string, step: string) {
    super(`the attempt of step "${step}" of pipeline run ${pipelineRunId} no longer holds its claim (cancelled, timed out, or given to another worker); its result is discarded`);
    this.name = 'AttemptSupersededError';
  }
}

export interface PipelineRunReport {
  run: q.PipelineRunRecord;
  steps: q.StepRunRecord[];
  result: PipelineResult;
}

export function experimentName(pipeline: string): string {
  return `pipelines/${pipeline}`;
}

/** The definition as stored: canonical JSON, function steps by their source text. */
export function definitionSnapshot(def: PipelineDefinition): { json: string; hash: string } {
  // The module's path is where this machine keeps the code, not part of it (it is stored beside, in pipeline_runs.module).
  const { module: _module, ...rest } = def;
  const plain = {
    ...rest,
    steps: rest.steps.map(({ fn, ...s }) => (fn ? { ...s, fnSource: fn.toString() } : s)),
  };
  const json = canonicalJson(plain);
  return { json, hash: sha256Hex(json) };
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_TEXT);
}

export class PipelineRunner {
  constructor(private readonly deps: PipelineRunnerDeps) {}

  private get db() {
    return this.deps.store.db;
  }

  async run(def: PipelineDefinition, options: RunOptions = {}): Promise<PipelineRunReport> {
    return this.start(def, options, null, {});
  }

  /** Reruns a FAILED or CANCELLED run from its snapshot; function pipelines need their definition passed again. */
  async resume(pipelineRunId: string, options: Omit<RunOptions, 'params'> & { definition?: PipelineDefinition } = {}): Promise<PipelineRunReport> {
    const old = await q.getPipelineRun(this.db, pipelineRunId);
    if (!old) throw notFound(`No pipeline run with id ${pipelineRunId}`);
    if (old.status === 'SUCCEEDED') throw invalidArgument(`pipeline run ${pipelineRunId} succeeded; there is nothing to resume`);
    if (old.status === 'RUNNING') throw invalidArgument(`pipeline run ${pipelineRunId} is still running`);
    let def: PipelineDefinition;
    if (options.definition) {
      if (definitionSnapshot(options.definition).hash !== old.definitionHash) {
        throw invalidArgument(`the definition given differs from the one pipeline run ${pipelineRunId} ran (snapshot ${old.definitionHash.slice(0, 12)})`);
      }
      def = options.definition;
    } else {
      def = JSON.parse(old.definition) as PipelineDefinition;
      const fnStep = def.steps.find((s) => s.kind === 'function');
      if (fnStep) throw invalidArgument(`pipeline run ${pipelineRunId} has function step "${fnStep.name}": pass its definition to resume it`);
    }
    const skip: Record<string, StepOutcome> = {};
    const previous: Record<string, q.StepRunRecord> = {};
    for (const s of await q.listStepRuns(this.db, pipelineRunId)) {
      if (s.status === 'SUCCEEDED' || s.status === 'CACHED') {
        skip[s.step] = { cached: s.status === 'CACHED', outputs: s.outputs };
        previous[s.step] = s;
      }
    }
    return this.start(def, { ...options, params: old.params }, old.id, skip, previous);
  }

  private async start(
    def: PipelineDefinition,
    options: RunOptions,
    resumedFrom: string | null,
    skip: Record<string, StepOutcome>,
    previous: Record<string, q.StepRunRecord> = {},
  ): Promise<PipelineRunReport> {
    validatePipeline(def);
    const overrides = options.params ?? {};
    const effective = validateParams(def, overrides);
    const { json, hash } = definitionSnapshot(def);
    const { tracking } = this.deps;

    const experiment = await tracking.ensureExperiment(experimentName(def.name));
    const id = newRunId();
    const parent = await tracking.createRun({
      experimentId: experiment.experimentId,
      runName: def.name,
      tags: { ...options.tags, [PIPELINE_TAGS.pipeline]: def.name, [PIPELINE_TAGS.pipelineRunId]: id, ...(resumedFrom ? { 'flywheel.resumed_from': resumedFrom } : {}) },
    });
    const record: q.PipelineRunRecord = {
      id,
      pipeline: def.name,
      status: 'RUNNING',
      params: overrides,
      definitionHash: hash,
      definition: json,
      trackingRunId: parent.info.runId,
      resumedFrom,
      error: null,
      startedTime: Date.now(),
      endedTime: null,
      module: def.module ?? null,
      mode: options.dispatcher ? 'distributed' : 'local',
    };
    await q.insertPipelineRun(this.db, record);
    options.onStarted?.(id);
    const paramList = Object.entries(overrides).map(([key, value]) => ({ key, value: String(value) }));
    if (paramList.length > 0) await tracking.logBatch(parent.info.runId, { params: paramList });

    const started = new Map<string, number>();
    // Cancellation comes from the caller's signal or, from any process, through the run's record.
    const cancel = new AbortController();
    const onCallerAbort = () => cancel.abort();
    if (options.signal?.aborted) cancel.abort();
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const poll = setInterval(() => {
      q.cancelRequestedTime(this.db, id).then(
        (t) => {
          if (t !== null) cancel.abort();
        },
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    poll.unref();
    // Function steps of a pipeline loaded from a module run in worker processes, started on first use, ended with the run.
    const functionPool =
      def.module !== undefined && def.steps.some((s) => s.kind === 'function')
        ? new FunctionPool({ size: options.concurrency ?? def.concurrency ?? os.availableParallelism(), typescript: isTypeScriptFile(def.module) })
        : undefined;
    let result: PipelineResult;
    try {
      result = await executePipeline(def, {
        signal: cancel.signal,
        onEvent: options.onEvent,
        concurrency: options.concurrency,
        skip,
        runStep: (step, attempt, signal, upstream) =>
          options.dispatcher
            ? options.dispatcher.runStep({ pipelineRunId: id, pipeline: def.name, force: options.force === true, started }, step, attempt, signal, upstream)
            : this.executeStep({ def, pipelineRunId: id, parentRunId: parent.info.runId, experimentId: experiment.experimentId, params: effective[step.name], force: options.force === true, started, functionPool, concurrency: options.concurrency ?? def.concurrency, onEvent: options.onEvent }, step, attempt, signal, upstream),
      });
    } catch (err) {
      await q.finishPipelineRun(this.db, id, 'FAILED', errorText(err));
      await tracking.endRun(parent.info.runId, 'FAILED').catch(() => undefined);
      throw err;
    } finally {
      clearInterval(poll);
      options.signal?.removeEventListener('abort', onCallerAbort);
      await functionPool?.close();
    }

    // Steps that never reached runStep (skipped, cancelled, resumed) get their record here.
    const have = new Set((await q.listStepRuns(this.db, id)).map((s) => s.step));
    for (const [name, rep] of Object.entries(result.steps)) {
      if (have.has(name)) continue;
      const prev = previous[name];
      await q.saveStepRun(this.db, {
        pipelineRunId: id,
        pipeline: def.name,
        step: name,
        status: rep.status,
        attempts: 0,
        cacheKey: null,
        cached: rep.status === 'CACHED',
        trackingRunId: prev?.trackingRunId ?? null,
        error: rep.reason ? `not run: ${rep.reason}` : null,
        outputs: rep.outcome?.outputs ?? {},
        startedTime: null,
        endedTime: null,
      });
    }
    const failed = Object.entries(result.steps).find(([, r]) => r.status === 'FAILED');
    const error = failed ? `step "${failed[0]}" failed: ${failed[1].error ?? ''}`.slice(0, MAX_ERROR_TEXT) : null;
    await q.finishPipelineRun(this.db, id, result.status, error);
    const endStatus: RunStatus = result.status === 'SUCCEEDED' ? 'FINISHED' : result.status === 'CANCELLED' ? 'KILLED' : 'FAILED';
    await tracking.endRun(parent.info.runId, endStatus);
    return { run: (await q.getPipelineRun(this.db, id))!, steps: await q.listStepRuns(this.db, id), result };
  }

  private async resolveInputs(step: StepDefinition, upstream: Readonly<Record<string, StepOutcome>>): Promise<Record<string, ResolvedInput & { version: DatasetVersion }>> {
    const { data } = this.deps;
    const out: Record<string, ResolvedInput & { version: DatasetVersion }> = {};
    for (const [name, ref] of Object.entries(step.inputs)) {
      let version: DatasetVersion;
      if ('dataset' in ref) {
        version = await data.resolve(ref.dataset);
      } else {
        const id = upstream[ref.step]?.outputs?.[ref.output];
        if (id === undefined) throw new Error(`step "${step.name}", input "${name}": step "${ref.step}" recorded no output "${ref.output}"`);
        version = await data.getVersion(id);
      }
      out[name] = { ref: `${version.dataset}@${version.version}`, versionId: version.id, parquetPath: await data.parquetPath(version), version };
    }
    return out;
  }

  /**
   * One attempt of one step, start to end: resolve inputs, cache lookup,
   * tracking run, the step's work, outputs, log, records. The local executor
   * calls it in this process; a `flywheel worker` calls it for a step taken
   * from the queue (worker.ts), with a context rebuilt from the run's record.
   */
  async executeStep(
    ctx: StepExecutionContext,
    step: StepDefinition,
    attempt: number,
    signal: AbortSignal,
    upstream: Readonly<Record<string, StepOutcome>>,
  ): Promise<StepOutcome> {
    const { tracking, data, projectRoot } = this.deps;
    const db = this.db;
    if (!ctx.started.has(step.name)) ctx.started.set(step.name, Date.now());
    const base = { pipelineRunId: ctx.pipelineRunId, pipeline: ctx.def.name, step: step.name, attempts: attempt, startedTime: ctx.started.get(step.name)! };

    const worker = ctx.worker ?? LOCAL_WORKER;
    const inputs = await this.resolveInputs(step, upstream);
    const key = cacheKey(
      { ...step, deps: [...step.deps, ...implicitDeps(step, projectRoot)] },
      { params: ctx.params, inputVersionHashes: Object.fromEntries(Object.entries(inputs).map(([n, i]) => [n, i.version.contentHash])), projectRoot },
    );

    if (step.cache && !ctx.force) {
      const hit = await q.findCachedStep(db, ctx.def.name, step.name, key);
      if (hit && (await this.versionsExist(hit.outputs))) {
        await this.record(db, ctx, { ...base, status: 'CACHED', cacheKey: key, cached: true, trackingRunId: hit.trackingRunId, error: null, outputs: hit.outputs, endedTime: Date.now(), worker });
        // A cached sweep shows the trials that chose its outputs.
        if (hit.details) await q.setStepRunDetails(db, ctx.pipelineRunId, step.name, hit.details);
        return { cached: true, outputs: hit.outputs };
      }
    }

    // The step's tracking run and its RUNNING record commit together (one commit per write is most of a no-op step's cost).
    // The record names the live log file, for `pipelines logs --follow`.
    const { runId, workDir, logFile } = await this.together(async (t, trx) => {
      const run = await t.createRun({
        experimentId: ctx.experimentId,
        runName: step.name,
        parentRunId: ctx.parentRunId,
        tags: { [PIPELINE_TAGS.pipeline]: ctx.def.name, [PIPELINE_TAGS.step]: step.name, [PIPELINE_TAGS.cacheKey]: key, [PIPELINE_TAGS.pipelineRunId]: ctx.pipelineRunId },
      });
      const dir = path.join(os.tmpdir(), `fw-pstep-${run.info.runId}`);
      const file = path.join(dir, 'step.log');
      await this.record(trx, ctx, { ...base, status: 'RUNNING', cacheKey: key, cached: false, trackingRunId: run.info.runId, error: null, outputs: {}, endedTime: null, logPath: file, worker });
      return { runId: run.info.runId, workDir: dir, logFile: file };
    });
    // Function steps create their directory only when they log (most no-op steps never do).
    if (step.kind !== 'function') fs.mkdirSync(workDir, { recursive: true });
    const log = { exists: step.kind !== 'function' };
    try {
      const params = Object.entries(ctx.params).map(([k, value]) => ({ key: k, value: String(value) }));
      const inputParams = Object.entries(inputs).map(([n, i]) => ({ key: `input.${n}`, value: i.ref }));
      if (params.length + inputParams.length > 0) await tracking.logBatch(runId, { params: [...params, ...inputParams] });
      await recordEdges(
        db,
        Object.values(inputs).map((i) => ({ from: { type: 'run' as const, id: runId }, relation: 'consumes' as const, to: { type: 'dataset_version' as const, id: i.versionId } })),
      );
      const kindDeps = { store: this.deps.store, tracking, data, engine: this.deps.engine, projectRoot, functionPool: ctx.functionPool };
      const work = { pipeline: ctx.def.name, step, runId, params: ctx.params, inputs, signal, workDir, logFile, module: ctx.def.module };
      // A sweep step's run is the parent of its trials, which do the step's work (sweep-runner.ts).
      const outputs = step.sweep
        ? await runSweep(kindDeps, work, { experimentId: ctx.experimentId, pipelineRunId: ctx.pipelineRunId, concurrency: ctx.concurrency, onEvent: ctx.onEvent })
        : await runStepKind(kindDeps, work);
      if (signal.aborted) throw signal.reason;
      await this.uploadLog(runId, logFile, log);
      await this.together(async (t, trx) => {
        await t.endRun(runId, 'FINISHED');
        const done = { ...base, status: 'SUCCEEDED' as const, cacheKey: key, cached: false, trackingRunId: runId, error: null, outputs, endedTime: Date.now() };
        if (ctx.attemptToken !== undefined) await this.record(trx, ctx, { ...done, worker, logPath: logFile });
        else if (!(await q.finishStepRun(trx, done))) await q.saveStepRun(trx, { ...done, worker });
      });
      return { outputs };
    } catch (err) {
      const message = errorText(err);
      const killed = err instanceof PipelineCancelledError || (signal.aborted && !(signal.reason instanceof StepTimeoutError));
      await this.uploadLog(runId, logFile, log).catch(() => undefined);
      await tracking.logBatch(runId, { tags: [{ key: PIPELINE_TAGS.error, value: message }] }).catch(() => undefined);
      await tracking.endRun(runId, killed ? 'KILLED' : 'FAILED').catch(() => undefined);
      if (!(err instanceof AttemptSupersededError)) {
        await this.record(db, ctx, { ...base, status: killed ? 'CANCELLED' : 'FAILED', cacheKey: key, cached: false, trackingRunId: runId, error: message, outputs: {}, endedTime: Date.now(), worker, logPath: logFile }).catch((e: unknown) => {
          if (!(e instanceof AttemptSupersededError)) throw e;
        });
      }
      throw err instanceof FlywheelError || err instanceof Error ? err : new Error(message);
    } finally {
      // A function step's directory exists only if it logged.
      if (log.exists) fs.rmSync(workDir, { recursive: true, force: true });
    }
  }

  /**
   * Writes the step's record. A queued attempt (distributed) writes only
   * while it still holds its claim, and otherwise stops with
   * AttemptSupersededError: its run was cancelled, it timed out, or its
   * worker was presumed lost and the step went to another one.
   */
  private async record(db: Kysely<Database>, ctx: StepExecutionContext, r: q.StepRunRecord): Promise<void> {
    if (ctx.attemptToken === undefined) return q.saveStepRun(db, r);
    if (!(await q.saveClaimedStepRun(db, { ...r, attemptToken: ctx.attemptToken, worker: r.worker ?? ctx.worker ?? LOCAL_WORKER }))) {
      throw new AttemptSupersededError(ctx.pipelineRunId, r.step);
    }
  }

  /**
   * Runs `fn` with a tracking service and a database handle that share one
   * transaction — when the tracking service is the embedded one on this
   * runner's store; otherwise with the plain service and handle, one commit
   * per write as before.
   */
  private together<T>(fn: (tracking: TrackingApi, db: Kysely<Database>) => Promise<T>): Promise<T> {
    const { tracking } = this.deps;
    if (!(tracking instanceof TrackingService) || !tracking.sharesStore(this.deps.store)) return fn(tracking, this.db);
    return this.db.transaction().execute((trx) => fn(tracking.inTransaction(trx), trx));
  }

  /** Uploads the step log as `logs/step.log`; a step that logged nothing gets no log artifact. Sets `log.exists` when there is a log file. */
  private async uploadLog(runId: string, logFile: string, log: { exists: boolean }): Promise<void> {
    if (!fs.existsSync(logFile)) return;
    log.exists = true;
    // A rotated log (shell.ts) keeps its previous part beside it: the stored log is both, in order (at most twice the cap).
    const rotated = rotatedLogPath(logFile);
    const body = fs.existsSync(rotated) ? Buffer.concat([fs.readFileSync(rotated), fs.readFileSync(logFile)]) : fs.readFileSync(logFile);
    if (body.length === 0) return;
    await this.deps.tracking.putRunArtifact(runId, STEP_LOG_ARTIFACT, body);
  }

  private async versionsExist(outputs: Record<string, string>): Promise<boolean> {
    for (const id of Object.values(outputs)) {
      try {
        await this.deps.data.getVersion(id);
      } catch {
        return false;
      }
    }
    return true;
  }

  /** A pipeline run with its steps. */
  async show(pipelineRunId: string): Promise<{ run: q.PipelineRunRecord; steps: q.StepRunRecord[] }> {
    const run = await q.getPipelineRun(this.db, pipelineRunId);
    if (!run) throw notFound(`No pipeline run with id ${pipelineRunId}`);
    return { run, steps: await q.listStepRuns(this.db, pipelineRunId) };
  }

  /** Recent pipeline runs, newest first. */
  runs(pipeline?: string): Promise<q.PipelineRunRecord[]> {
    return q.listPipelineRuns(this.db, pipeline);
  }
}
