/**
 * Sweeps, the execution side: runs a sweep step's trials and keeps the best.
 * The runner calls `runSweep` instead of `runStepKind` once the step's own
 * tracking run exists; that run is the sweep's parent run.
 *
 * Each trial (see sweep.ts for how trials are expanded) runs the step's kind
 * through `runStepKind` with the trial's values over the step's params,
 * under its own tracking run: a child of the sweep run, named `step[i]`,
 * tagged like a step run plus `flywheel.sweep.trial` = i, with its params,
 * input lineage, log artifact, and its outputs committed as usual. Trials run
 * up to `sweep.parallel` at once (default: the pipeline's concurrency) —
 * outside the executor's slots, so one sweep step may run that many trials
 * besides the other steps. A `step.progress` event goes out as each trial
 * ends.
 *
 * A failed trial is recorded (run FAILED, `flywheel.error`) and left out. The
 * metric of a trial is the latest value of `sweep.metric` on its run (a
 * function step logs it with `ctx.run.logMetric`; a shell step can log it on
 * the run `$FW_RUN_ID` through the SDK or the REST API). The best trial is the
 * highest (goal max) or lowest (min) metric, ties to the lowest index. The
 * sweep run gets params `best_trial` and `best.<name>` (the best trial's
 * swept values), metric `best_<metric>`, tag `flywheel.sweep.best_run_id`.
 * The step fails when no trial succeeded, or none that succeeded logged the
 * metric.
 *
 * The step's outputs are the best trial's output versions. Every trial wrote
 * to the same datasets, so the last one to finish would otherwise be their
 * `@latest`: when the best trial's version is not the latest, its content is
 * committed again (by the sweep run, same blob) so that `@latest` is the best.
 *
 * The step's signal (cancel, timeout — which covers the whole sweep) aborts
 * running trials and starts no more; their runs end KILLED. Retries apply to
 * the sweep step as a whole: a retry runs every trial again. The step
 * record's `details` holds the trials and the best (sweep.ts SweepDetails).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordEdges } from '../lineage/service.js';
import type { ParamValue } from './define.js';
import type { EventListener } from './events.js';
import { runStepKind, type StepKindDeps, type StepWork } from './step-runners.js';
import * as q from './store.js';
import { expandSweep, pickBest, type SweepDetails, type SweepTrialRecord } from './sweep.js';

/** Tags of trial runs: the runner's step-run tags (PIPELINE_TAGS; kept equal by a test) and the sweep's own. */
export const SWEEP_TAGS = {
  pipeline: 'flywheel.pipeline',
  step: 'flywheel.step',
  pipelineRunId: 'flywheel.pipeline_run_id',
  error: 'flywheel.error',
  trial: 'flywheel.sweep.trial',
  bestRunId: 'flywheel.sweep.best_run_id',
} as const;
/** Where a trial's log goes on its run (the runner's STEP_LOG_ARTIFACT). */
const LOG_ARTIFACT = 'logs/step.log';
const MAX_ERROR_TEXT = 8000;

export interface SweepContext {
  /** The pipeline's experiment, where trial runs go. */
  experimentId: string;
  pipelineRunId: string;
  /** Trials at once when the sweep sets no `parallel`; default: the CPU count. */
  concurrency?: number;
  /** Receives `step.progress` events. */
  onEvent?: EventListener;
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_TEXT);
}

/**
 * Runs the trials of `work.step` (which has a sweep) and returns the best
 * trial's outputs. `work.runId` is the sweep's parent run.
 */
export async function runSweep(deps: StepKindDeps, work: StepWork, ctx: SweepContext): Promise<Record<string, string>> {
  const { step, signal } = work;
  const sweep = step.sweep!;
  const goal = sweep.goal ?? 'max';
  const { tracking } = deps;
  const trials = expandSweep(sweep, step.name);
  const records: SweepTrialRecord[] = trials.map((params, index) => ({ index, params, runId: null, status: 'CANCELLED', metric: null }));
  const outputsOf = new Map<number, Record<string, string>>();

  const runTrial = async (record: SweepTrialRecord): Promise<void> => {
    const params: Record<string, ParamValue> = { ...work.params, ...record.params };
    let workDir: string | undefined;
    let logFile = '';
    try {
      const run = await tracking.createRun({
        experimentId: ctx.experimentId,
        runName: `${step.name}[${record.index}]`,
        parentRunId: work.runId,
        tags: { [SWEEP_TAGS.pipeline]: work.pipeline, [SWEEP_TAGS.step]: step.name, [SWEEP_TAGS.pipelineRunId]: ctx.pipelineRunId, [SWEEP_TAGS.trial]: String(record.index) },
      });
      record.runId = run.info.runId;
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-ptrial-'));
      logFile = path.join(workDir, 'step.log');
      const paramList = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));
      const inputList = Object.entries(work.inputs).map(([n, i]) => ({ key: `input.${n}`, value: i.ref }));
      await tracking.logBatch(record.runId, { params: [...paramList, ...inputList] });
      await recordEdges(
        deps.store.db,
        Object.values(work.inputs).map((i) => ({ from: { type: 'run' as const, id: record.runId! }, relation: 'consumes' as const, to: { type: 'dataset_version' as const, id: i.versionId } })),
      );
      const outputs = await runStepKind(deps, { ...work, runId: record.runId, params, workDir, logFile });
      if (signal.aborted) throw signal.reason;
      await uploadLog(deps, record.runId, logFile);
      await tracking.endRun(record.runId, 'FINISHED');
      const metric = (await tracking.getRun(record.runId)).data.metrics.find((m) => m.key === sweep.metric);
      record.status = 'SUCCEEDED';
      record.metric = metric === undefined || Number.isNaN(metric.value) ? null : metric.value;
      outputsOf.set(record.index, outputs);
    } catch (err) {
      const killed = signal.aborted;
      record.status = killed ? 'CANCELLED' : 'FAILED';
      record.error = errorText(err);
      if (record.runId !== null) {
        const runId = record.runId;
        await uploadLog(deps, runId, logFile).catch(() => undefined);
        await tracking.logBatch(runId, { tags: [{ key: SWEEP_TAGS.error, value: record.error }] }).catch(() => undefined);
        await tracking.endRun(runId, killed ? 'KILLED' : 'FAILED').catch(() => undefined);
      }
    } finally {
      if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
    }
  };

  // A simple pool: `limit` loops, each taking the next trial until none is left or the step is aborted.
  const limit = Math.max(1, Math.min(trials.length, sweep.parallel ?? ctx.concurrency ?? os.availableParallelism()));
  let next = 0;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (next < records.length && !signal.aborted) {
      const record = records[next++];
      await runTrial(record);
      done++;
      progress(ctx.onEvent, work, records, done, sweep.metric, goal);
    }
  };
  await Promise.all(Array.from({ length: limit }, loop));

  const details = (best: number | null): SweepDetails => ({ metric: sweep.metric, goal, trials: records, best });
  const save = (best: number | null) => q.setStepRunDetails(deps.store.db, ctx.pipelineRunId, step.name, details(best));
  if (signal.aborted) {
    await save(null).catch(() => undefined);
    throw signal.reason instanceof Error ? signal.reason : new Error(`step "${step.name}": sweep aborted`);
  }
  const succeeded = records.filter((r) => r.status === 'SUCCEEDED');
  const best = pickBest(succeeded, goal);
  if (best === null) {
    await save(null);
    if (succeeded.length === 0) {
      const first = records.find((r) => r.error !== undefined);
      throw new Error(`sweep of step "${step.name}": none of its ${records.length} trials succeeded${first ? ` (trial ${first.index}: ${first.error})` : ''}`);
    }
    throw new Error(
      `sweep of step "${step.name}": no successful trial logged metric "${sweep.metric}" on its run ` +
        `(${succeeded.length} of ${records.length} trials succeeded); log it there, e.g. ctx.run.logMetric('${sweep.metric}', value)`,
    );
  }

  const winner = records[best];
  await tracking.logBatch(work.runId, {
    params: [{ key: 'best_trial', value: String(best) }, ...Object.entries(winner.params).map(([k, v]) => ({ key: `best.${k}`, value: String(v) }))],
    metrics: [{ key: `best_${sweep.metric}`, value: winner.metric!, timestamp: Date.now(), step: 0 }],
    tags: [{ key: SWEEP_TAGS.bestRunId, value: winner.runId! }],
  });
  const outputs = await promote(deps, work, outputsOf.get(best)!, winner.runId!);
  await save(best);
  return outputs;
}

/** Makes each of the best trial's output versions its dataset's latest (committing the same content again when another trial's came later). */
async function promote(deps: StepKindDeps, work: StepWork, outputs: Record<string, string>, bestRunId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, versionId] of Object.entries(outputs)) {
    const version = await deps.data.getVersion(versionId);
    const latest = await deps.data.resolve(`${version.dataset}@latest`);
    if (latest.id === versionId) {
      out[name] = versionId;
      continue;
    }
    const again = await deps.data.commitParquet({
      dataset: version.dataset,
      parquetFile: await deps.data.parquetPath(version),
      runId: work.runId,
      skipUnchanged: true,
      message: `pipeline ${work.pipeline}, step ${work.step.name}: best trial of the sweep (version ${version.version})`,
      tags: { [SWEEP_TAGS.bestRunId]: bestRunId },
    });
    out[name] = again.id;
  }
  return out;
}

async function uploadLog(deps: StepKindDeps, runId: string, logFile: string): Promise<void> {
  if (logFile === '' || !fs.existsSync(logFile)) return;
  const body = fs.readFileSync(logFile);
  if (body.length > 0) await deps.tracking.putRunArtifact(runId, LOG_ARTIFACT, body);
}

function progress(onEvent: EventListener | undefined, work: StepWork, records: readonly SweepTrialRecord[], done: number, metric: string, goal: 'max' | 'min'): void {
  if (!onEvent) return;
  const finished = records.filter((r) => r.status === 'SUCCEEDED');
  const failed = records.filter((r) => r.status === 'FAILED').length;
  const best = pickBest(finished, goal);
  const parts = [best === null ? `no ${metric} yet` : `best ${metric}=${records[best].metric} (trial ${best})`];
  if (failed > 0) parts.push(`${failed} failed`);
  try {
    onEvent({ type: 'step.progress', pipeline: work.pipeline, at: Date.now(), step: work.step.name, done, total: records.length, detail: parts.join(', ') });
  } catch {
    // A listener that throws must not stop the sweep (as with the executor's own events).
  }
}
