/**
 * The pipeline vocabulary, shared by definitions (TypeScript `definePipeline`
 * and YAML `flywheel.yaml`), graph validation, caching and the executor.
 *
 * A Pipeline is a DAG of Steps. A step declares named inputs (outputs of other
 * steps, or dataset refs like `orders@latest`), named outputs, params, and how
 * it runs (its kind). Execution emits events; storage (runs, lineage) consumes
 * them — definitions know nothing of either.
 */

export type StepKind = 'function' | 'shell' | 'sql' | 'builtin';

/** Where a step input comes from: another step's output, or a dataset version. */
export type InputRef = { step: string; output: string } | { dataset: string };

export interface RetryPolicy {
  /** Attempts after the first (0 = no retry). */
  retries: number;
  /** First delay; doubles each attempt (exponential backoff) with full jitter. */
  backoffMs: number;
  /** Upper bound of one delay. */
  maxBackoffMs: number;
}

export interface StepDefinition {
  name: string;
  kind: StepKind;
  /** Named inputs. */
  inputs: Record<string, InputRef>;
  /** Names of the outputs the step produces (dataset names for data outputs). */
  outputs: string[];
  /** Declared params with defaults; a run may override them, never add unknown ones. */
  params: Record<string, string | number | boolean>;
  retry: RetryPolicy;
  /** Wall-clock limit of one attempt; undefined = none. */
  timeoutMs?: number;
  /** Tags for per-tag concurrency limits (e.g. "gpu", "db"). */
  tags: string[];
  /** false: never served from cache. */
  cache: boolean;
  /** Files whose contents are part of the step's code version (cache key). */
  deps: string[];
  /** kind 'shell': the command line, run by /bin/sh -c. */
  cmd?: string;
  /** kind 'sql': a transform's SQL text (with {{ ref() }}), into `outputs[0]`. */
  sql?: string;
  /** kind 'builtin': the built-in's name (ingest, validate, …) and its arguments in `with`. */
  uses?: string;
  with?: Record<string, unknown>;
  /** kind 'function': the function (TS pipelines) — its source text is part of the code version. */
  fn?: StepFunction;
}

export interface StepContext {
  pipeline: string;
  step: string;
  /** The tracking run of this step execution. */
  runId: string;
  params: Record<string, string | number | boolean>;
  /** Resolved inputs: for data, the dataset version ref and a local Parquet path. */
  inputs: Record<string, ResolvedInput>;
  /** Aborted on cancel or timeout. */
  signal: AbortSignal;
  log(line: string): void;
}

export interface ResolvedInput {
  /** e.g. `orders@3`. */
  ref: string;
  versionId: string;
  parquetPath: string;
}

/** What a function step returns: for each declared output, a Parquet file to commit as a new version. */
export type StepResult = Record<string, { parquetFile: string } | undefined> | void;

export type StepFunction = (ctx: StepContext) => Promise<StepResult> | StepResult;

export interface PipelineDefinition {
  name: string;
  steps: StepDefinition[];
  /** Global concurrency limit (default: CPU cores). */
  concurrency?: number;
  /** Per-tag concurrency limits. */
  tagConcurrency?: Record<string, number>;
  /** fail-fast: stop scheduling on the first failure; continue: run everything not downstream of a failure. */
  onFailure?: 'fail-fast' | 'continue';
  /** Where the definition came from (file path), for messages. */
  source?: string;
  /** Cron schedule, fired by the scheduler in `flywheel server` (scheduler.ts). */
  schedule?: ScheduleSpec;
  /** Runs started by events: a new dataset version, a monitoring alert (triggers.ts). */
  triggers?: TriggerSpec[];
}

/** What to do about ticks that passed while no server was running: skip them, or run once now. */
export type MissedTickPolicy = 'skip' | 'catch_up_one';

export interface ScheduleSpec {
  /** 5 fields (or 6 with seconds), croner syntax. */
  cron: string;
  /** IANA zone the pattern is read in; default UTC. */
  timezone: string;
  missed: MissedTickPolicy;
}

export type TriggerSpec = { on: 'dataset'; dataset: string } | { on: 'alert'; monitor: string };

export type StepStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'CACHED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';
