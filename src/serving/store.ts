/**
 * Serving's queries: deployments, revisions, the prediction log and feedback.
 * Only src/serving reads or writes these tables; other slices go through
 * DeploymentService.
 */
import type { Kysely, Selectable } from 'kysely';
import type { StoreAdapter } from '../store/adapter.js';
import type { Database, DeploymentRevisionsTable, DeploymentsTable, PredictionLogTable } from '../store/schema.js';
import type { Deployment, LoggedPrediction, ResolvedArm, Revision, RevisionStatus, TrafficPolicy } from './types.js';

type Db = Kysely<Database>;
export type DeploymentRow = Selectable<DeploymentsTable>;
export type RevisionRow = Selectable<DeploymentRevisionsTable>;

export function toDeployment(r: DeploymentRow): Deployment {
  return {
    deploymentId: r.deployment_id,
    name: r.name,
    description: r.description,
    currentRevision: Number(r.current_revision),
    servingRevision: r.serving_revision === null ? null : Number(r.serving_revision),
    creationTime: Number(r.creation_time),
    lastUpdatedTime: Number(r.last_updated_time),
  };
}

export function toRevision(name: string, r: RevisionRow): Revision {
  return {
    deployment: name,
    revision: Number(r.revision),
    policy: JSON.parse(r.policy) as TrafficPolicy,
    status: r.status as RevisionStatus,
    statusMessage: r.status_message,
    resolved: r.resolved === null ? null : (JSON.parse(r.resolved) as ResolvedArm[]),
    actor: r.actor,
    creationTime: Number(r.creation_time),
    statusTime: Number(r.status_time),
  };
}

export const findDeployment = (db: Db, name: string) => db.selectFrom('deployments').selectAll().where('name', '=', name).executeTakeFirst();

export const listDeploymentRows = (db: Db) => db.selectFrom('deployments').selectAll().orderBy('name').execute();

export const findRevision = (db: Db, deploymentId: string, revision: number) =>
  db.selectFrom('deployment_revisions').selectAll().where('deployment_id', '=', deploymentId).where('revision', '=', revision).executeTakeFirst();

export const listRevisionRows = (db: Db, deploymentId: string) =>
  db.selectFrom('deployment_revisions').selectAll().where('deployment_id', '=', deploymentId).orderBy('revision', 'desc').execute();

/** The current revision of every deployment, in one query (what a serving process polls). */
export async function currentRevisionRows(db: Db): Promise<{ deployment: DeploymentRow; revision: RevisionRow; serving: RevisionRow | null }[]> {
  const deployments = await listDeploymentRows(db);
  if (deployments.length === 0) return [];
  const wanted = deployments.flatMap((d) => [Number(d.current_revision), ...(d.serving_revision === null ? [] : [Number(d.serving_revision)])]);
  const rows = await db
    .selectFrom('deployment_revisions')
    .selectAll()
    .where('deployment_id', 'in', deployments.map((d) => d.deployment_id))
    .where('revision', 'in', [...new Set(wanted)])
    .execute();
  const byKey = new Map(rows.map((r) => [`${r.deployment_id}/${Number(r.revision)}`, r]));
  return deployments.map((d) => ({
    deployment: d,
    revision: byKey.get(`${d.deployment_id}/${Number(d.current_revision)}`)!,
    serving: d.serving_revision === null ? null : (byKey.get(`${d.deployment_id}/${Number(d.serving_revision)}`) ?? null),
  }));
}

/** One prediction as a row of prediction_log. */
export interface PredictionLogInsert {
  predictionId: string;
  deploymentId: string;
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
}

const LOG_COLUMNS = 14;

/** Inserts a batch in statements under the bind limit; a prediction id already logged is left as it is (a retried flush). */
export async function insertPredictions(db: Db, adapter: StoreAdapter, records: readonly PredictionLogInsert[]): Promise<void> {
  const per = Math.max(1, Math.floor(adapter.maxBindParameters / LOG_COLUMNS));
  for (let i = 0; i < records.length; i += per) {
    const values = records.slice(i, i + per).map((r) => ({
      prediction_id: r.predictionId,
      deployment_id: r.deploymentId,
      revision: r.revision,
      arm: r.arm,
      model_name: r.modelName,
      model_version: r.modelVersion,
      shadow: r.shadow ? 1 : 0,
      time: r.time,
      latency_ms: r.latencyMs,
      request_key: r.requestKey,
      features: JSON.stringify(r.features),
      prediction: r.prediction === undefined ? null : JSON.stringify(r.prediction),
      probability: r.probability === null ? null : JSON.stringify(r.probability),
      error: r.error,
    }));
    await db.insertInto('prediction_log').values(values).onConflict((oc) => oc.column('prediction_id').doNothing()).execute();
  }
}

export function toLoggedPrediction(name: string, r: Selectable<PredictionLogTable>): LoggedPrediction {
  return {
    predictionId: r.prediction_id,
    deployment: name,
    revision: Number(r.revision),
    arm: r.arm,
    modelName: r.model_name,
    modelVersion: r.model_version,
    shadow: Number(r.shadow) === 1,
    time: Number(r.time),
    latencyMs: Number(r.latency_ms),
    requestKey: r.request_key,
    features: JSON.parse(r.features) as Record<string, unknown>,
    prediction: r.prediction === null ? null : JSON.parse(r.prediction),
    probability: r.probability === null ? null : (JSON.parse(r.probability) as number[]),
    error: r.error,
  };
}
