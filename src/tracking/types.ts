/** The tracking vocabulary: experiments, runs and what is logged to them. */

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

export type LifecycleStage = 'active' | 'deleted';

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  parentRunId: string | null;
}

export interface Metric {
  key: string;
  /** May be NaN or ±Infinity, as MLflow allows. */
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
  step: number;
}

export interface RunData {
  /** The latest point of each metric (by step, then timestamp, then value). */
  metrics: Metric[];
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface Run {
  info: RunInfo;
  data: RunData;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export interface CreateExperimentInput {
  name: string;
  artifactLocation?: string;
  tags?: Record<string, string>;
}

export interface CreateRunInput {
  experimentId: string;
  runName?: string;
  userId?: string;
  startTime?: number;
  tags?: Record<string, string>;
  parentRunId?: string;
}

export interface UpdateRunInput {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

export interface LogBatchInput {
  metrics?: Metric[];
  params?: { key: string; value: string }[];
  tags?: { key: string; value: string }[];
}

export interface SearchRunsInput {
  experimentIds: string[];
  filter?: string;
  viewType?: ViewType;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface SearchExperimentsInput {
  filter?: string;
  viewType?: ViewType;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}
