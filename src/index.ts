/**
 * The `flywheel` package's public surface: the SDK (`Flywheel`, `ActiveRun`),
 * the tracking interface and vocabulary it speaks, the data, quality and
 * lineage types `fw.data` and `fw.lineage` return (and `defineSuite`), and
 * the typed errors every call may throw. Importing it loads no server code.
 */
export { Flywheel, ActiveRun, RemoteTracking, DEFAULT_FLUSH_INTERVAL_MS, trackingUriFromEnv } from './sdk/index.js';
export type { ClientOptions, MetricOptions, OpenOptions, ParamValue, StartRunOptions } from './sdk/index.js';
export type { DataRow, DataValidateOptions, FlywheelAddOptions, FlywheelAddResult, FlywheelData, LineageOptions, ReadOptions, SuiteInput, TransformSpec } from './sdk/index.js';
export type { FlywheelSuites, ListSuitesOptions, SuiteSource } from './sdk/index.js';
export type { ColumnSchema, Dataset, DatasetProfile, DatasetVersion } from './data/types.js';
export type { DatasetDiff, DiffOptions } from './data/diff.js';
export type { TransformResult } from './data/transform.js';
export type { Check, CheckResult, PutSuiteResult, RegisteredSuite, Suite, SuiteChange, SuiteSpec, ValidationResult } from './quality/types.js';
export { defineSuite } from './quality/suite.js';
export type { Direction, LineageGraph, LabelledNode } from './lineage/graph.js';
export type { TrackingApi } from './tracking/api.js';
export type {
  CreateExperimentInput,
  CreateRunInput,
  Experiment,
  LifecycleStage,
  LogBatchInput,
  Metric,
  Page,
  Run,
  RunData,
  RunInfo,
  RunStatus,
  SearchExperimentsInput,
  SearchRunsInput,
  UpdateRunInput,
  ViewType,
} from './tracking/types.js';
export { RUN_STATUSES, VIEW_TYPES } from './tracking/types.js';
export { SOURCE_TAGS } from './tracking/source-tags.js';
export { ERROR_CODES, FlywheelError, isFlywheelError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export { FLYWHEEL_VERSION } from './core/version.js';
