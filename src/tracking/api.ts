/**
 * The tracking interface shared by the in-process service and the HTTP client,
 * so SDK and CLI code does not care which one is behind it (as MLflow's
 * RestStore implements AbstractStore).
 */
import type {
  CreateExperimentInput,
  CreateRunInput,
  Experiment,
  LogBatchInput,
  Metric,
  Page,
  Run,
  RunInfo,
  RunStatus,
  SearchExperimentsInput,
  SearchRunsInput,
  UpdateRunInput,
} from './types.js';

export interface TrackingApi {
  createExperiment(input: CreateExperimentInput): Promise<Experiment>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment>;
  ensureExperiment(name: string): Promise<Experiment>;
  searchExperiments(input?: SearchExperimentsInput): Promise<Page<Experiment>>;
  renameExperiment(experimentId: string, newName: string): Promise<Experiment>;
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;

  createRun(input: CreateRunInput): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, input: UpdateRunInput): Promise<RunInfo>;
  endRun(runId: string, status?: RunStatus, endTime?: number): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  logBatch(runId: string, batch: LogBatchInput): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  getMetricHistory(runId: string, key: string, options?: { maxResults?: number; pageToken?: string }): Promise<Page<Metric>>;
  searchRuns(input: SearchRunsInput): Promise<Page<Run>>;

  /** Stores a file or bytes under the run's artifact root at `artifactPath`. */
  putRunArtifact(runId: string, artifactPath: string, body: Uint8Array | NodeJS.ReadableStream): Promise<void>;
  /** Streams one of the run's artifacts. */
  getRunArtifact(runId: string, artifactPath: string): Promise<NodeJS.ReadableStream>;
  /** Direct children of a directory under the run's artifact root ("" for the root). */
  listRunArtifacts(runId: string, artifactPath?: string): Promise<{ path: string; isDir: boolean; size: number }[]>;
}
