/**
 * The serving vocabulary: a Deployment is a named endpoint; each change of
 * what it serves is a new numbered Revision holding a TrafficPolicy over arms,
 * each arm a model reference (a registry URI, which may follow an alias).
 */

export const POLICY_KINDS = ['single', 'canary', 'ab', 'shadow'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export interface Arm {
  /** primary, canary, a, b or shadow. */
  name: string;
  /** `models:/churn@champion` (follows the alias) or `models:/churn/3` (pinned). */
  model: string;
  /** Share of requests in percent (0 for a shadow arm). */
  weight: number;
  /** A shadow arm gets a copy of every request; its answer is logged, never returned. */
  shadow: boolean;
}

export interface TrafficPolicy {
  kind: PolicyKind;
  arms: Arm[];
  /** Row field whose value keys the sticky split when the request names no key; null = none. */
  key: string | null;
}

export const REVISION_STATUSES = ['pending', 'ready', 'failed', 'superseded'] as const;
export type RevisionStatus = (typeof REVISION_STATUSES)[number];

/** The model version an arm resolved to when the revision was last loaded. */
export interface ResolvedArm {
  arm: string;
  model: string;
  modelName: string;
  modelVersion: string;
  /** The registry's stable id of the version (the lineage node). */
  versionId?: string | null;
}

export interface Revision {
  deployment: string;
  revision: number;
  policy: TrafficPolicy;
  status: RevisionStatus;
  statusMessage: string | null;
  resolved: ResolvedArm[] | null;
  actor: string;
  creationTime: number;
  statusTime: number;
}

export interface Deployment {
  deploymentId: string;
  name: string;
  description: string;
  /** The revision asked for (the newest). */
  currentRevision: number;
  /** The revision a serving process last loaded; null before any did. */
  servingRevision: number | null;
  creationTime: number;
  lastUpdatedTime: number;
}

export interface DeploymentDetail extends Deployment {
  revision: Revision;
  revisions: Revision[];
}

/** A logged prediction joined with its feedback, for monitoring. */
export interface LoggedPrediction {
  predictionId: string;
  deployment: string;
  revision: number;
  arm: string;
  modelName: string;
  modelVersion: string;
  shadow: boolean;
  time: number;
  latencyMs: number;
  requestKey: string | null;
  features: Record<string, unknown>;
  prediction: unknown;
  probability: number[] | null;
  error: string | null;
  /** Ground truth, once feedback arrived. */
  label?: unknown;
  labelTime?: number | null;
}
