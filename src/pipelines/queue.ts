/**
 * The job queue of distributed pipeline runs: graphile-worker on the same
 * PostgreSQL database as the store, in a schema of its own next to the
 * store's (`<schema>_queue`, or `flywheel_queue` beside `public`). One task,
 * `flywheel_step`: "run attempt N of step S of pipeline run R". The job only
 * carries what the step record cannot: the attempt's claim token, the
 * outcomes of the step's upstream steps and `force`.
 *
 * graphile-worker brings what a queue must get right (SKIP LOCKED claims,
 * LISTEN/NOTIFY wake-ups, retries of jobs whose worker vanished); Flywheel
 * adds the heartbeats that decide a worker vanished (worker.ts) and the claim
 * token that records each step once (store.ts).
 */
import { Logger, makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { sql } from 'kysely';
import { FlywheelError } from '../core/errors.js';
import type { Store } from '../store/index.js';
import type { StepOutcome } from './executor.js';

export const STEP_TASK = 'flywheel_step';
/** Channel a worker notifies (payload: pipeline run id) when it finished an attempt. */
export const STEP_DONE_CHANNEL = 'flywheel_step_done';
/** A job re-delivered after its worker was lost counts as an attempt of the job; this many are allowed. */
const MAX_DELIVERIES = 25;

export interface StepJob {
  pipelineRunId: string;
  step: string;
  attempt: number;
  token: string;
  upstream: Record<string, StepOutcome>;
  force: boolean;
  /** When the step first started (kept across attempts). */
  startedTime: number;
}

/** The graphile-worker schema beside the store's schema. */
export async function queueSchema(store: Store): Promise<string> {
  if (store.adapter.name !== 'postgres') {
    throw new FlywheelError('FW_INVALID_ARGUMENT', 'distributed pipeline runs need the PostgreSQL store: set FLYWHEEL_DB=postgres://… (workers on other machines share it)');
  }
  const schema = (await store.adapter.currentSchema(store.db)) ?? 'public';
  return schema === 'public' ? 'flywheel_queue' : `${schema}_queue`;
}

/** graphile-worker's logger, quiet except for warnings and errors (to `log`). */
export function queueLogger(log: (message: string) => void): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') log(`queue: ${message}`);
  });
}

export class StepQueue {
  private constructor(
    private readonly utils: WorkerUtils,
    readonly schema: string,
  ) {}

  /** Opens the queue (creating or migrating its schema). `url` is the store's connection string. */
  static async open(store: Store, url: string, log: (message: string) => void = () => undefined): Promise<StepQueue> {
    const schema = await queueSchema(store);
    const utils = await makeWorkerUtils({ connectionString: url, schema, logger: queueLogger(log) });
    await utils.migrate();
    return new StepQueue(utils, schema);
  }

  /** Queues one attempt; the job key makes queueing the same attempt twice a no-op. */
  async add(job: StepJob): Promise<string> {
    const added = await this.utils.addJob(STEP_TASK, job, { jobKey: `${job.pipelineRunId}:${job.step}:${job.attempt}`, maxAttempts: MAX_DELIVERIES });
    return added.id;
  }

  /** Makes the jobs of crashed graphile workers available again. */
  forceUnlockWorkers(ids: string[]): Promise<void> {
    return ids.length > 0 ? this.utils.forceUnlockWorkers(ids) : Promise.resolve();
  }

  /** Drops jobs that nobody holds (an attempt revoked before a worker took it). */
  async removeUnlocked(jobIds: string[]): Promise<void> {
    if (jobIds.length > 0) await this.utils.completeJobs(jobIds);
  }

  async close(): Promise<void> {
    await this.utils.release();
  }
}

/** The graphile worker ids a `flywheel worker` uses: one per slot, so a lost worker's jobs can be unlocked by id. */
export function graphileWorkerIds(workerId: string, concurrency: number): string[] {
  return Array.from({ length: concurrency }, (_, i) => `${workerId}-${i}`);
}

/** Tells waiting coordinators that an attempt of `pipelineRunId` ended. */
export async function notifyStepDone(store: Store, pipelineRunId: string): Promise<void> {
  await sql`select pg_notify(${STEP_DONE_CHANNEL}, ${pipelineRunId})`.execute(store.db);
}
