/** The SDK: `Flywheel` (embedded or remote), the runs it starts, and the HTTP client behind remote mode. */
export { Flywheel, DEFAULT_FLUSH_INTERVAL_MS, trackingUriFromEnv } from './flywheel.js';
export type { ClientOptions, OpenOptions, StartRunOptions } from './flywheel.js';
export { ActiveRun } from './active-run.js';
export type { MetricOptions, ParamValue } from './active-run.js';
export { RemoteTracking } from './remote.js';
export type { DataRow, DataValidateOptions, FlywheelAddOptions, FlywheelAddResult, FlywheelData, ReadOptions, SuiteInput, TransformSpec } from './data-extra.js';
export type { FlywheelSuites, ListSuitesOptions, SuiteSource } from './suites.js';
export type { LineageOptions } from './lineage.js';
