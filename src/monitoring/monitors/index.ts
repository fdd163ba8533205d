/**
 * Monitors (issue 7, part 3): definitions bound to a deployment or a dataset,
 * executed window by window into Runs whose metrics form time series, with
 * alert rules evaluated on each window. Routes, CLI and schedules live with
 * their callers.
 */
export { MonitorService, monitorExperimentName } from './service.js';
export type { MonitorServiceOptions, MonitorRunResult, AlertOutcome } from './service.js';
export { computeMonitor, checkMonitorTargets, modelCacheDir, MAX_WINDOW_ROWS } from './compute.js';
export type { MonitorDeps, MonitorComputation, PerformanceGroup } from './compute.js';
export { validateMonitorInput, parseMonitorAlerts, MONITOR_CHECKS, DEFAULT_WINDOW } from './types.js';
export type { Monitor, MonitorDefinition, MonitorInput, MonitorCheck, MonitorTarget, MonitorWindow } from './types.js';
