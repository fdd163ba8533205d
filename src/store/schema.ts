/**
 * Table types of the metadata database, shared by both dialects.
 *
 * Times are epoch milliseconds (bigint columns, read as JS numbers). Booleans
 * are 0/1 integers so both dialects read them the same way.
 */
import type { Generated } from 'kysely';

export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}

export interface RunsTable {
  run_id: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
  parent_run_id: string | null;
  deleted_time: number | null;
  /** Last heartbeat from the process that owns a RUNNING run (ms). */
  heartbeat_time: number | null;
}

export interface ParamsTable {
  run_id: string;
  key: string;
  value: string;
}

export interface TagsTable {
  run_id: string;
  key: string;
  value: string;
}

export interface MetricsTable {
  run_id: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

/** The latest point per (run, key) by (step, timestamp, value), kept for fast search. */
export interface LatestMetricsTable {
  run_id: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

export interface EventsTable {
  event_id: Generated<number>;
  time: number;
  actor: string;
  kind: string;
  entity_type: string;
  entity_id: string;
  payload: string;
}

export interface LineageEdgesTable {
  from_type: string;
  from_id: string;
  relation: string;
  to_type: string;
  to_id: string;
  created_time: number;
}

export interface DatasetsTable {
  name: string;
  description: string;
  created_time: number;
  lifecycle_stage: string;
  deleted_time: number | null;
}

export interface DatasetVersionsTable {
  version_id: string;
  dataset: string;
  version: number;
  content_hash: string;
  schema_json: string;
  row_count: number;
  byte_size: number;
  parent_version_id: string | null;
  message: string;
  author: string;
  created_time: number;
  tags_json: string;
  storage_key: string;
  run_id: string | null;
  profile_json: string | null;
  source_fingerprint: string | null;
}

/** One suite run on one dataset version (src/quality); statistics, checks and suite are JSON. */
export interface ValidationResultsTable {
  result_id: string;
  dataset: string;
  version_id: string;
  suite_name: string;
  suite_hash: string;
  suite: string;
  time: number;
  success: number;
  statistics: string;
  checks: string;
}

/** A quality suite registered by name (src/quality); definition is the normalized suite as JSON. */
export interface QualitySuitesTable {
  name: string;
  dataset: string;
  definition: string;
  hash: string;
  created_time: number;
  updated_time: number;
}

/** One run of a pipeline (src/pipelines); params and definition are JSON, definition_hash its sha256. */
export interface PipelineRunsTable {
  id: string;
  pipeline: string;
  status: string;
  params: string;
  definition_hash: string;
  definition: string;
  tracking_run_id: string | null;
  resumed_from: string | null;
  error: string | null;
  started_time: number;
  ended_time: number | null;
  /** Set by `pipelines cancel` from any process; the running process polls it (0008). */
  cancel_requested_time: number | null;
  /** The TS/JS module the definition was loaded from (function steps), if any. */
  module: string | null;
  /** 'local' or 'distributed'; NULL for runs from before 0008 (local). */
  mode: string | null;
}

/** One step of a pipeline run (src/pipelines); outputs is JSON {output name: dataset version id}. */
export interface PipelineStepRunsTable {
  pipeline_run_id: string;
  pipeline: string;
  step: string;
  status: string;
  attempts: number;
  cache_key: string | null;
  cached: number;
  tracking_run_id: string | null;
  error: string | null;
  outputs: string;
  started_time: number | null;
  ended_time: number | null;
  /** The worker running (or that ran) the current attempt (0008). */
  worker: string | null;
  heartbeat_time: number | null;
  /** Claim of the current attempt: only its holder may finish the step. */
  attempt_token: string | null;
  /** The live log file of the running attempt. */
  log_path: string | null;
  /** JSON extras, e.g. a sweep's trials. */
  details: string | null;
}

/** A `flywheel worker` process (src/pipelines/worker.ts); times in ms. */
export interface PipelineWorkersTable {
  id: string;
  hostname: string;
  pid: number;
  /** RUNNING, STOPPED (clean exit) or LOST (heartbeat went stale). */
  status: string;
  concurrency: number;
  started_time: number;
  heartbeat_time: number;
  stopped_time: number | null;
  steps_done: number;
}

/** A pipeline's cron schedule (src/pipelines/scheduler.ts); times in ms, last_fire_time is the last tick claimed. */
export interface PipelineSchedulesTable {
  pipeline: string;
  cron: string;
  timezone: string;
  missed: string;
  last_fire_time: number;
  next_fire_time: number | null;
  updated_time: number;
}

/** The last version of a watched dataset a pipeline's trigger has seen (src/pipelines/triggers.ts). */
export interface PipelineTriggerStateTable {
  pipeline: string;
  dataset: string;
  last_version_id: string | null;
  updated_time: number;
}

/** A registered model (src/registry); model_id stays the same across renames. */
export interface RegisteredModelsTable {
  model_id: string;
  name: string;
  description: string;
  creation_time: number;
  last_updated_time: number;
}

export interface RegisteredModelTagsTable {
  model_id: string;
  key: string;
  value: string;
}

/** One numbered version of a registered model; a deleted version keeps its row (deleted_time) so its number is never reused. */
export interface ModelVersionsTable {
  version_id: string;
  model_id: string;
  version: number;
  source: string;
  /** Where the files are: a runs:/ source resolved to the run's artifact URI, else the source. */
  storage_location: string;
  run_id: string | null;
  run_link: string | null;
  /** Always READY: versions are registered synchronously. */
  status: string;
  /** MLflow's legacy stage: None, Staging, Production or Archived. */
  current_stage: string;
  description: string;
  user_id: string | null;
  creation_time: number;
  last_updated_time: number;
  deleted_time: number | null;
  /** Copied from the package manifest (flywheel-model.json) when there is one; signature is JSON. */
  flavor: string | null;
  signature: string | null;
  task: string | null;
}

export interface ModelVersionTagsTable {
  version_id: string;
  key: string;
  value: string;
}

/** A named pointer (champion, challenger…) from a registered model to one of its versions. */
export interface RegisteredModelAliasesTable {
  model_id: string;
  alias: string;
  version_id: string;
}

export interface DeploymentsTable {
  deployment_id: string;
  name: string;
  description: string;
  current_revision: number;
  serving_revision: number | null;
  creation_time: number;
  last_updated_time: number;
}

export interface DeploymentRevisionsTable {
  deployment_id: string;
  revision: number;
  policy: string;
  status: string;
  status_message: string | null;
  resolved: string | null;
  actor: string;
  creation_time: number;
  status_time: number;
}

export interface PredictionLogTable {
  prediction_id: string;
  deployment_id: string;
  revision: number;
  arm: string;
  model_name: string;
  model_version: string;
  shadow: number;
  time: number;
  latency_ms: number;
  request_key: string | null;
  features: string;
  prediction: string | null;
  probability: string | null;
  error: string | null;
}

export interface PredictionFeedbackTable {
  prediction_id: string;
  deployment_id: string;
  label: string;
  time: number;
  actor: string;
}

export interface MonitorsTable {
  monitor_id: string;
  name: string;
  /** The monitor definition as JSON (src/monitoring/monitors/types.ts). */
  definition: string;
  /** Rule name → alert state, as JSON. */
  alert_state: string;
  executions: number;
  last_run_time: number | null;
  creation_time: number;
  last_updated_time: number;
}

export interface Database {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  params: ParamsTable;
  tags: TagsTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  events: EventsTable;
  lineage_edges: LineageEdgesTable;
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  validation_results: ValidationResultsTable;
  quality_suites: QualitySuitesTable;
  pipeline_runs: PipelineRunsTable;
  pipeline_step_runs: PipelineStepRunsTable;
  pipeline_schedules: PipelineSchedulesTable;
  pipeline_trigger_state: PipelineTriggerStateTable;
  pipeline_workers: PipelineWorkersTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  registered_model_aliases: RegisteredModelAliasesTable;
  deployments: DeploymentsTable;
  deployment_revisions: DeploymentRevisionsTable;
  prediction_log: PredictionLogTable;
  prediction_feedback: PredictionFeedbackTable;
  monitors: MonitorsTable;
}
