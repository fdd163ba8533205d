/**
 * The registry vocabulary: registered models, their numbered versions,
 * aliases and MLflow's legacy stages, in Flywheel's camelCase domain shapes.
 * MLflow's proto shapes are made from these at the routes (mlflow-shapes.ts).
 */

/** MLflow's stages, in MLflow's order (ALL_STAGES); names are matched case-insensitively. */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/** The stages `archive_existing_versions` may be used with (MLflow's DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS). */
export const ACTIVE_STAGES: readonly Stage[] = ['Staging', 'Production'];

export interface ModelVersion {
  /** Stable id (32 hex characters): the lineage node id; unchanged by a rename of the model. */
  id: string;
  name: string;
  /** 1, 2, 3… per registered model; a number is never handed out twice. */
  version: number;
  creationTime: number;
  lastUpdatedTime: number;
  description: string;
  userId: string | null;
  currentStage: Stage;
  /** The URI the version was registered from, e.g. `runs:/<runId>/model`. */
  source: string;
  /** Where the files are: for a runs:/ source, the run's artifact URI and path. */
  storageLocation: string;
  runId: string | null;
  runLink: string | null;
  /** Versions are registered synchronously, so always READY. */
  status: 'READY';
  tags: Record<string, string>;
  /** Aliases pointing at this version, sorted. */
  aliases: string[];
  /** From the package manifest (flywheel-model.json), when the source was a Flywheel model package. */
  flavor: string | null;
  signature: Record<string, unknown> | null;
  task: string | null;
}

export interface RegisteredModel {
  name: string;
  creationTime: number;
  lastUpdatedTime: number;
  description: string;
  tags: Record<string, string>;
  /** Alias → version number. */
  aliases: Record<string, number>;
  /** The highest version in each stage that has one, in stage order (None, Staging, Production, Archived). */
  latestVersions: ModelVersion[];
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export interface CreateRegisteredModelInput {
  name: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface CreateModelVersionInput {
  name: string;
  /** `runs:/<runId>/<path>`, a `models:/…` URI of this registry, or any URI (MLflow clients send the run's artifact URI). */
  source: string;
  runId?: string;
  runLink?: string;
  description?: string;
  tags?: Record<string, string>;
  userId?: string;
  /**
   * Create the registered model when it does not exist. MLflow's
   * model-versions/create never does (the REST routes leave it false);
   * Flywheel's API and CLI register in one step.
   */
  createModel?: boolean;
}

export interface SearchInput {
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

/** What a model URI or reference names, down to the files. */
export interface ResolvedModel {
  /** The URI as given. */
  uri: string;
  /** The registered model and version, for models:/ URIs. */
  name: string | null;
  version: number | null;
  /** The version's source (for models:/ URIs) or the runs:/ URI itself. */
  source: string;
  runId: string | null;
  /** Path of the package under the run's artifact root (`model`), when the files are a run's artifacts. */
  artifactPath: string | null;
  /** `runs:/<runId>/<artifactPath>`: what `loadModel` takes; null when the files are not a run's artifacts. */
  packageUri: string | null;
  modelVersion: ModelVersion | null;
}

/** A change of an alias, for callers that report it (`flywheel models alias`). */
export interface AliasChange {
  name: string;
  alias: string;
  version: number;
  /** The version the alias pointed at before, or null when it is new. */
  previousVersion: number | null;
}
