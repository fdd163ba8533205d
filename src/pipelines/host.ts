/**
 * Pipelines inside a long-running process (`flywheel server`): reads the
 * project's flywheel.yaml (absent file → no pipelines), starts runs in the
 * background — from the REST API, schedules or triggers — and keeps each
 * active run's AbortController so it can be cancelled (a run of another
 * process is asked to stop through its record instead). `start` and `resume`
 * resolve with the pipeline run id as soon as its record exists (bad params
 * or an unknown pipeline reject instead); the run goes on. `close` cancels
 * what is still running and waits for it, before the store closes.
 *
 * What started a run is recorded as tags on its parent tracking run:
 * `flywheel.trigger` (api, schedule, dataset, alert, resume) and
 * `flywheel.trigger.detail` (JSON, e.g. the tick, the dataset version, the
 * alert payload; capped).
 */
import fs from 'node:fs';
import type { Kysely } from 'kysely';
import path from 'node:path';
import { FlywheelError, notFound } from '../core/errors.js';
import type { Database } from '../store/schema.js';
import type { ParamValue } from './define.js';
import type { QueueDispatcher } from './dispatcher.js';
import { PipelineRunner, type PipelineRunnerDeps, type PipelineRunReport, type RunOptions } from './runner.js';
import { getPipelineRun, requestCancel } from './store.js';
import type { PipelineDefinition } from './types.js';
import { loadPipelinesYaml } from './yaml.js';

/**
 * Asks whichever process runs a pipeline run to cancel it, by setting its
 * `cancel_requested_time`. Unknown id → FW_NOT_FOUND; a run that has ended →
 * FW_INVALID_STATE naming its status.
 */
export async function requestRunCancel(db: Kysely<Database>, pipelineRunId: string): Promise<'requested'> {
  if (await requestCancel(db, pipelineRunId)) return 'requested';
  const run = await getPipelineRun(db, pipelineRunId);
  if (!run) throw notFound(`No pipeline run with id ${pipelineRunId}`);
  throw new FlywheelError('FW_INVALID_STATE', `pipeline run ${pipelineRunId} already ended (${run.status})`);
}

export type TriggerKind = 'api' | 'schedule' | 'dataset' | 'alert' | 'resume';
export const TRIGGER_TAG = 'flywheel.trigger';
export const TRIGGER_DETAIL_TAG = 'flywheel.trigger.detail';
const MAX_DETAIL = 4000;

export interface PipelineHostOptions {
  /** flywheel.yaml; commands run in its directory. */
  file: string;
  /** Where background failures go (default: stderr). */
  log?: (message: string) => void;
  /** Distributed: runs queue their steps for `flywheel worker` processes (dispatcher.ts). */
  dispatcher?: QueueDispatcher;
}

export interface StartOptions {
  params?: Record<string, ParamValue>;
  force?: boolean;
  trigger?: TriggerKind;
  detail?: unknown;
}

export class PipelineHost {
  readonly file: string;
  readonly runner: PipelineRunner;
  private readonly active = new Map<string, AbortController>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  private readonly log: (message: string) => void;
  private readonly dispatcher: QueueDispatcher | undefined;

  constructor(private readonly deps: Omit<PipelineRunnerDeps, 'projectRoot'>, options: PipelineHostOptions) {
    this.file = path.resolve(options.file);
    this.runner = new PipelineRunner({ ...deps, projectRoot: path.dirname(this.file) });
    this.log = options.log ?? ((m) => process.stderr.write(`flywheel: ${m}\n`));
    this.dispatcher = options.dispatcher;
  }

  /** The pipelines of the file, read now (edits are picked up); none when it does not exist. */
  definitions(): PipelineDefinition[] {
    if (!fs.existsSync(this.file)) return [];
    return loadPipelinesYaml(this.file);
  }

  definition(name: string): PipelineDefinition {
    const def = this.definitions().find((d) => d.name === name);
    if (!def) throw notFound(`No pipeline "${name}" in ${this.file}`);
    return def;
  }

  /** Starts a run of the named pipeline (or a definition); resolves with its id once recorded. */
  start(pipeline: string | PipelineDefinition, options: StartOptions = {}): Promise<string> {
    const def = typeof pipeline === 'string' ? this.definition(pipeline) : pipeline;
    return this.launch((o) => this.runner.run(def, { ...o, params: options.params, force: options.force }), options.trigger ?? 'api', options.detail);
  }

  /** Resumes a failed or cancelled run; resolves with the new run's id. */
  resume(pipelineRunId: string): Promise<string> {
    return this.launch((o) => this.runner.resume(pipelineRunId, o), 'resume', { resumedFrom: pipelineRunId });
  }

  isActive(pipelineRunId: string): boolean {
    return this.active.has(pipelineRunId);
  }

  /**
   * Cancels a run in progress: one running in this process is aborted at
   * once ('aborted'); one running in another process (`flywheel run`,
   * another server) is asked to stop through its record, which that process
   * polls ('requested'). Unknown id → FW_NOT_FOUND; ended → FW_INVALID_STATE.
   */
  async cancel(pipelineRunId: string): Promise<'aborted' | 'requested'> {
    const controller = this.active.get(pipelineRunId);
    if (controller) {
      controller.abort();
      return 'aborted';
    }
    return requestRunCancel(this.deps.store.db, pipelineRunId);
  }

  /** Cancels every active run and waits until all have ended. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.active.values()) c.abort();
    await Promise.allSettled([...this.pending]);
  }

  private launch(exec: (o: RunOptions) => Promise<PipelineRunReport>, trigger: TriggerKind, detail: unknown): Promise<string> {
    if (this.closed) return Promise.reject(new FlywheelError('FW_INVALID_STATE', 'the server is shutting down; no new pipeline runs'));
    const controller = new AbortController();
    const tags: Record<string, string> = { [TRIGGER_TAG]: trigger };
    if (detail !== undefined) tags[TRIGGER_DETAIL_TAG] = JSON.stringify(detail).slice(0, MAX_DETAIL);
    return new Promise<string>((resolve, reject) => {
      let id: string | undefined;
      const done: Promise<void> = exec({
        dispatcher: this.dispatcher,
        signal: controller.signal,
        tags,
        onStarted: (runId) => {
          id = runId;
          this.active.set(runId, controller);
          resolve(runId);
        },
      })
        .then(
          () => undefined,
          (err: unknown) => {
            if (id === undefined) reject(err);
            else this.log(`pipeline run ${id} failed: ${err instanceof Error ? err.message : String(err)}`);
          },
        )
        .finally(() => {
          if (id !== undefined) this.active.delete(id);
          this.pending.delete(done);
        });
      this.pending.add(done);
    });
  }
}
