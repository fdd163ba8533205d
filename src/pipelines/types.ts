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
  /**
   * Steps that must finish (SUCCEEDED or CACHED) before this one starts, with
   * no data passed: ordering only (e.g. promote after train). Not part of the
   * cache key. Absent when empty.
   */
  after?: string[];
  /** kind 'shell': the command line, run by /bin/sh -c. */
  cmd?: string;
  /** kind 'sql': a transform's SQL text (with {{ ref() }}), into `outputs[0]`. */
  sql?: string;
  /** kind 'builtin': the built-in's name (ingest, validate, …) and its arguments in `with`. */
  uses?: string;
  with?: Record<string, unknown>;
  /** kind 'function': the function (TS pipelines) — its source text is part of the code version. */
  fn?: StepFunction;
  /** Run the step once per point of a parameter grid or per random sample, keep the best by a metric (sweep.ts). */
  sweep?: SweepSpec;
}

/** Where a random sweep draws one param from: [low, high] ranges (int inclusive, the others half-open) or a list. */
export type SweepDistribution =
  | { uniform: [number, number] }
  | { loguniform: [number, number] }
  | { int: [number, number] }
  | { choice: (string | number | boolean)[] };

/** A sweep: exactly one of `grid` or `random`; swept names are declared params of the step. */
export interface SweepSpec {
  /** Every combination of these values (cartesian product). */
  grid?: Record<string, (string | number | boolean)[]>;
  /** `samples` trials drawn from `space`; the same seed draws the same trials (default seed: derived from the step name). */
  random?: { samples: number; seed?: number; space: Record<string, SweepDistribution> };
  /** The metric each trial logs on its run; the best trial by it feeds downstream steps. */
  metric: string;
  /** Default 'max'. */
  goal?: 'max' | 'min';
  /** Trials running at once; default: the pipeline's concurrency. */
  parallel?: number;
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
  /** Appends a line to the step's log (uploaded as the run's `logs/step.log`). */
  log(line: string): void;
  /** The step's own tracking run, SDK-style: what is logged here lands on it (also from a worker process). */
  run: StepRun;
  /**
   * A private directory for this attempt, removed after the step; it does not
   * exist until the step creates it (`outputPath` does).
   */
  workDir: string;
  /** A path under `workDir` (directory created) for the Parquet file of an output: `<workDir>/outputs/<name>.parquet`. */
  outputPath(output: string): string;
}

/** What a function step may record on its tracking run; each call resolves once it is stored. */
export interface StepRun {
  readonly id: string;
  /** One metric point; `step` defaults to 0. */
  logMetric(key: string, value: number, step?: number): Promise<void>;
  logParam(key: string, value: string | number | boolean): Promise<void>;
  setTag(key: string, value: string): Promise<void>;
  /** Uploads a local file as `<artifactPath>/<its name>` (at the artifact root by default); resolves to that path. */
  logArtifact(localFile: string, artifactPath?: string): Promise<string>;
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
  /** The TS/JS module that exports this definition (load.ts sets it): worker processes load function steps from it. */
  module?: string;
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
