/**
 * Deployment rules: creating a deployment and every later change as a new
 * numbered revision (each with its event, in one transaction), marking what a
 * serving process managed to load, rollbacks, the prediction log and ground
 * truth feedback joined to it.
 *
 * Model references are checked against the registry when a revision is made
 * (an unknown model or alias is FW_NOT_FOUND and nothing is written); what an
 * alias points at is resolved again by each serving process as it loads, so
 * moving the alias rolls the deployment. The registry is reached through its
 * service, never its tables.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FlywheelError, invalidArgument, notFound } from '../core/errors.js';
import { recordEvent } from '../events/service.js';
import { recordEdges } from '../lineage/service.js';
import type { ResolvedModel } from '../registry/types.js';
import type { Store } from '../store/index.js';
import type { Database } from '../store/schema.js';
import { buildPolicy, parsePolicy, type PolicyInput } from './policy.js';
import {
  currentRevisionRows,
  findDeployment,
  findRevision,
  insertPredictions,
  listDeploymentRows,
  listRevisionRows,
  toDeployment,
  toLoggedPrediction,
  toRevision,
  type DeploymentRow,
  type PredictionLogInsert,
} from './store.js';
import type { Deployment, DeploymentDetail, LoggedPrediction, ResolvedArm, Revision, RevisionStatus, TrafficPolicy } from './types.js';

type Db = Kysely<Database>;

export interface DeploymentServiceOptions {
  store: Store;
  /** The registry's URI resolution (RegistryService.resolveModelUri fits). */
  resolveModelUri: (uri: string) => Promise<ResolvedModel>;
  actor?: string;
  now?: () => number;
}

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Deployment names are URL path segments and V2 model names: lower-case letters, digits and inner dashes, at most 63. */
export function validateDeploymentName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw invalidArgument(`Invalid deployment name ${JSON.stringify(name)}: use 1-63 lower-case letters, digits and dashes, starting and ending with a letter or digit`, { field: 'name' });
  }
  return name;
}

export interface FeedbackItem {
  predictionId: string;
  label: unknown;
}

export interface FeedbackResult {
  accepted: number;
  /** Ids with a logged prediction of this deployment; feedback for the others is kept, to join when (if) their prediction is flushed. */
  matched: number;
  unmatched: string[];
}

export interface PredictionQuery {
  since?: number;
  until?: number;
  arm?: string;
  /** Only predictions with feedback. */
  labelled?: boolean;
  limit?: number;
  /** Newest first (default) or oldest first. */
  order?: 'asc' | 'desc';
}

export const MAX_FEEDBACK_ITEMS = 10_000;

export class DeploymentService {
  readonly store: Store;
  private readonly db: Db;
  private readonly resolve: DeploymentServiceOptions['resolveModelUri'];
  private readonly actor: string;
  private readonly now: () => number;

  constructor(options: DeploymentServiceOptions) {
    this.store = options.store;
    this.db = options.store.db;
    this.resolve = options.resolveModelUri;
    this.actor = options.actor ?? 'flywheel';
    this.now = options.now ?? Date.now;
  }

  private async require(name: string): Promise<DeploymentRow> {
    const row = await findDeployment(this.db, validateDeploymentName(name));
    if (!row) throw notFound(`Deployment ${name} not found`);
    return row;
  }

  /** Resolves every arm now, so a revision naming an unknown model or alias is refused before anything is written. */
  private async checkArms(policy: TrafficPolicy): Promise<ResolvedModel[]> {
    return Promise.all(policy.arms.map((a) => this.resolve(a.model)));
  }

  /**
   * Creates the deployment (revision 1) or gives it a new revision with this
   * policy. `policy` may be the CLI's shorthand or a whole policy object.
   */
  async deploy(name: string, spec: PolicyInput | { policy: unknown }, options: { description?: string } = {}): Promise<DeploymentDetail> {
    validateDeploymentName(name);
    const policy = 'policy' in spec ? parsePolicy(spec.policy) : buildPolicy(spec);
    const resolved = await this.checkArms(policy);
    const time = this.now();
    await this.db.transaction().execute(async (trx) => {
      // Concurrent changes (replicas, users) must each get their own number: a creation racing another
      // finds the row the other made, and the increment in place holds the row's lock (PostgreSQL)
      // until commit, so the number read back after it is this transaction's alone.
      const newId = randomUUID().replaceAll('-', '');
      let existing = await findDeployment(trx, name);
      if (!existing) {
        await trx
          .insertInto('deployments')
          .values({ deployment_id: newId, name, description: options.description ?? '', current_revision: 1, serving_revision: null, creation_time: time, last_updated_time: time })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        existing = (await findDeployment(trx, name))!;
      }
      const id = existing.deployment_id;
      let revision = 1;
      if (id !== newId) {
        await trx
          .updateTable('deployments')
          .set((eb) => ({ current_revision: eb('current_revision', '+', 1), last_updated_time: time, ...(options.description !== undefined ? { description: options.description } : {}) }))
          .where('deployment_id', '=', id)
          .execute();
        revision = Number((await findDeployment(trx, name))!.current_revision);
      }
      await trx
        .insertInto('deployment_revisions')
        .values({ deployment_id: id, revision, policy: JSON.stringify(policy), status: 'pending', status_message: null, resolved: null, actor: this.actor, creation_time: time, status_time: time })
        .execute();
      await recordEvent(trx, {
        actor: this.actor,
        kind: revision === 1 ? 'deployment.created' : 'deployment.revised',
        entityType: 'deployment',
        entityId: name,
        time,
        payload: { revision, policy },
      });
      const versions = resolved.map((r) => r.modelVersion?.id).filter((v): v is string => typeof v === 'string');
      await recordEdges(trx, versions.map((v) => ({ from: { type: 'deployment', id }, relation: 'serves', to: { type: 'model_version', id: v } })));
    });
    return this.get(name);
  }

  /** A new revision like the current one with the arms changed: the primary kept unless `model` is given. */
  async setTraffic(name: string, change: Partial<PolicyInput>): Promise<DeploymentDetail> {
    const current = await this.get(name);
    const answering = current.revision.policy.arms.filter((a) => !a.shadow);
    // A whole policy may name its arms freely: then its first answering arm is the primary.
    const primary = answering.find((a) => a.name === 'primary' || a.name === 'a') ?? answering[0];
    return this.deploy(name, { model: change.model ?? primary.model, canary: change.canary, ab: change.ab, shadow: change.shadow, key: change.key ?? current.revision.policy.key });
  }

  /** A new revision with the policy of an earlier one (default: the one before the current). */
  async rollback(name: string, toRevision?: number): Promise<DeploymentDetail> {
    const row = await this.require(name);
    const target = toRevision ?? Number(row.current_revision) - 1;
    const rev = await findRevision(this.db, row.deployment_id, target);
    if (!rev) throw notFound(`Deployment ${name} has no revision ${target}`);
    return this.deploy(name, { policy: JSON.parse(rev.policy) });
  }

  async list(): Promise<(Deployment & { revision: Revision })[]> {
    const rows = await currentRevisionRows(this.db);
    return rows.map((r) => ({ ...toDeployment(r.deployment), revision: toRevision(r.deployment.name, r.revision) }));
  }

  async get(name: string): Promise<DeploymentDetail> {
    const row = await this.require(name);
    const revisions = (await listRevisionRows(this.db, row.deployment_id)).map((r) => toRevision(row.name, r));
    const current = revisions.find((r) => r.revision === Number(row.current_revision))!;
    return { ...toDeployment(row), revision: current, revisions };
  }

  async getRevision(name: string, revision: number): Promise<Revision> {
    const row = await this.require(name);
    const rev = await findRevision(this.db, row.deployment_id, revision);
    if (!rev) throw notFound(`Deployment ${name} has no revision ${revision}`);
    return toRevision(row.name, rev);
  }

  /** What every serving process polls: each deployment with its current and last-served revision. */
  async servingState(): Promise<{ deployment: Deployment; revision: Revision; serving: Revision | null }[]> {
    const rows = await currentRevisionRows(this.db);
    return rows.map((r) => ({
      deployment: toDeployment(r.deployment),
      revision: toRevision(r.deployment.name, r.revision),
      serving: r.serving ? toRevision(r.deployment.name, r.serving) : null,
    }));
  }

  /**
   * Records what a serving process made of a revision. Ready: it serves now
   * (older ready revisions become superseded). Failed: the reason is kept and
   * the previous revision goes on serving. An unchanged status writes nothing,
   * so replicas do not repeat events.
   */
  async markRevision(name: string, revision: number, status: Exclude<RevisionStatus, 'pending' | 'superseded'>, detail: { message?: string | null; resolved?: ResolvedArm[] } = {}): Promise<boolean> {
    const time = this.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await findDeployment(trx, name);
      if (!row) return false;
      // Holds the deployment row's lock (PostgreSQL) so replicas reporting at once see each other's report.
      await trx
        .updateTable('deployments')
        .set((eb) => ({ serving_revision: eb.ref('serving_revision') }))
        .where('deployment_id', '=', row.deployment_id)
        .execute();
      const rev = await findRevision(trx, row.deployment_id, revision);
      if (!rev) return false;
      const resolved = detail.resolved ? JSON.stringify(detail.resolved) : rev.resolved;
      const message = detail.message ?? null;
      if (rev.status === status && rev.resolved === resolved && rev.status_message === message) return false;
      await trx
        .updateTable('deployment_revisions')
        .set({ status, status_message: message, resolved, status_time: time })
        .where('deployment_id', '=', row.deployment_id)
        .where('revision', '=', revision)
        .execute();
      if (status === 'ready') {
        await trx
          .updateTable('deployment_revisions')
          .set({ status: 'superseded', status_time: time })
          .where('deployment_id', '=', row.deployment_id)
          .where('revision', '!=', revision)
          .where('status', '=', 'ready')
          .execute();
        await trx.updateTable('deployments').set({ serving_revision: revision }).where('deployment_id', '=', row.deployment_id).execute();
        // An alias move serves a version the revision did not name: the graph learns it here.
        const versionIds = (detail.resolved ?? []).map((a) => a.versionId).filter((v): v is string => typeof v === 'string');
        await recordEdges(trx, versionIds.map((v) => ({ from: { type: 'deployment', id: row.deployment_id }, relation: 'serves', to: { type: 'model_version', id: v } })));
      }
      const rolled = status === 'ready' && rev.status === 'ready';
      await recordEvent(trx, {
        actor: this.actor,
        kind: status === 'failed' ? 'deployment.revision_failed' : rolled ? 'deployment.rolled' : 'deployment.revision_ready',
        entityType: 'deployment',
        entityId: name,
        time,
        payload: { revision, ...(message ? { message } : {}), ...(detail.resolved ? { resolved: detail.resolved } : {}) },
      });
      return true;
    });
  }

  async delete(name: string): Promise<void> {
    const row = await this.require(name);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('deployment_revisions').where('deployment_id', '=', row.deployment_id).execute();
      await trx.deleteFrom('deployments').where('deployment_id', '=', row.deployment_id).execute();
      await recordEvent(trx, { actor: this.actor, kind: 'deployment.deleted', entityType: 'deployment', entityId: name, time: this.now(), payload: {} });
    });
  }

  // ------------------------------------------------------------------ prediction log

  /** The prediction log's sink: one batch, in statements under the bind limit. */
  async writePredictions(records: readonly PredictionLogInsert[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.transaction().execute((trx) => insertPredictions(trx, this.store.adapter, records));
  }

  /** Logged predictions joined with their feedback (a shadow row takes its primary's label). */
  async predictions(name: string, q: PredictionQuery = {}): Promise<LoggedPrediction[]> {
    const row = await this.require(name);
    const limit = q.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1_000_000) throw invalidArgument('limit must be an integer from 1 to 1000000', { field: 'limit' });
    let query = this.db
      .selectFrom('prediction_log as p')
      .leftJoin('prediction_feedback as f', 'f.prediction_id', 'p.prediction_id')
      .selectAll('p')
      .select(['f.label as label', 'f.time as label_time'])
      .where('p.deployment_id', '=', row.deployment_id);
    if (q.since !== undefined) query = query.where('p.time', '>=', q.since);
    if (q.until !== undefined) query = query.where('p.time', '<', q.until);
    if (q.arm !== undefined) query = query.where('p.arm', '=', q.arm);
    const order = q.order ?? 'desc';
    const ordered = query.orderBy('p.time', order).orderBy('p.prediction_id', order);
    type Row = Awaited<ReturnType<typeof ordered.execute>>[number];
    const withLabels = async (rows: Row[]): Promise<LoggedPrediction[]> => {
      const out = rows.map((r) => {
        const p = toLoggedPrediction(row.name, r);
        if (r.label !== null && r.label !== undefined) {
          p.label = JSON.parse(r.label as string);
          p.labelTime = Number(r.label_time);
        }
        return p;
      });
      // Shadow rows (`<primary>~<arm>`) share the primary's ground truth.
      const shadowIds = [...new Set(out.filter((p) => p.shadow && p.label === undefined).map((p) => p.predictionId.split('~')[0]))];
      if (shadowIds.length > 0) {
        const labels = new Map<string, { label: string; time: number }>();
        for (let i = 0; i < shadowIds.length; i += 500) {
          const fb = await this.db.selectFrom('prediction_feedback').select(['prediction_id', 'label', 'time']).where('prediction_id', 'in', shadowIds.slice(i, i + 500)).execute();
          for (const f of fb) labels.set(f.prediction_id, { label: f.label, time: Number(f.time) });
        }
        for (const p of out) {
          const l = p.shadow && p.label === undefined ? labels.get(p.predictionId.split('~')[0]) : undefined;
          if (l) {
            p.label = JSON.parse(l.label);
            p.labelTime = l.time;
          }
        }
      }
      return out;
    };
    if (!q.labelled) return withLabels(await ordered.limit(limit).execute());
    // Only rows with their own feedback, or shadow rows (labelled through their primary), can qualify;
    // page through them until `limit` are found, however many unlabelled rows come first.
    const candidates = ordered.where((eb) => eb.or([eb('f.prediction_id', 'is not', null), eb('p.shadow', '=', 1)]));
    const page = Math.min(Math.max(limit, 500), 10_000);
    const found: LoggedPrediction[] = [];
    for (let offset = 0; found.length < limit; offset += page) {
      const rows = await candidates.limit(page).offset(offset).execute();
      found.push(...(await withLabels(rows)).filter((p) => p.label !== undefined));
      if (rows.length < page) break;
    }
    return found.slice(0, limit);
  }

  async prediction(name: string, predictionId: string): Promise<LoggedPrediction> {
    const row = await this.require(name);
    const r = await this.db.selectFrom('prediction_log').selectAll().where('prediction_id', '=', predictionId).where('deployment_id', '=', row.deployment_id).executeTakeFirst();
    if (!r) throw notFound(`Deployment ${name} has no logged prediction ${predictionId}`);
    const p = toLoggedPrediction(row.name, r);
    const f = await this.db.selectFrom('prediction_feedback').select(['label', 'time']).where('prediction_id', '=', predictionId.split('~')[0]).executeTakeFirst();
    if (f) {
      p.label = JSON.parse(f.label);
      p.labelTime = Number(f.time);
    }
    return p;
  }

  /** Ground truth by prediction id: later feedback for an id replaces earlier. All items are checked before any is written. */
  async recordFeedback(name: string, items: readonly FeedbackItem[]): Promise<FeedbackResult> {
    const row = await this.require(name);
    if (!Array.isArray(items) || items.length === 0) throw invalidArgument('feedback needs at least one {prediction_id, label}', { field: 'feedback' });
    if (items.length > MAX_FEEDBACK_ITEMS) throw new FlywheelError('FW_LIMIT_EXCEEDED', `at most ${MAX_FEEDBACK_ITEMS} feedback items per request, got ${items.length}`);
    const seen = new Map<string, unknown>();
    items.forEach((item, i) => {
      if (typeof item?.predictionId !== 'string' || item.predictionId === '' || item.predictionId.length > 200) {
        throw invalidArgument(`feedback[${i}].prediction_id must be a prediction id string`, { field: `feedback[${i}].prediction_id`, index: i });
      }
      if (item.label === undefined) throw invalidArgument(`feedback[${i}].label is required`, { field: `feedback[${i}].label`, index: i });
      const l = item.label;
      if (!(l === null || typeof l === 'string' || typeof l === 'boolean' || (typeof l === 'number' && Number.isFinite(l)))) {
        throw invalidArgument(`feedback[${i}].label must be a finite number, a string, a boolean or null`, { field: `feedback[${i}].label`, index: i });
      }
      seen.set(item.predictionId, l);
    });
    const ids = [...seen.keys()];
    const time = this.now();
    const matchedIds = new Set<string>();
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const found = await trx.selectFrom('prediction_log').select('prediction_id').where('deployment_id', '=', row.deployment_id).where('prediction_id', 'in', chunk).execute();
        for (const f of found) matchedIds.add(f.prediction_id);
        await trx
          .insertInto('prediction_feedback')
          .values(chunk.map((id) => ({ prediction_id: id, deployment_id: row.deployment_id, label: JSON.stringify(seen.get(id)), time, actor: this.actor })))
          .onConflict((oc) => oc.column('prediction_id').doUpdateSet((eb) => ({ label: eb.ref('excluded.label'), time: eb.ref('excluded.time'), actor: eb.ref('excluded.actor') })))
          .execute();
      }
    });
    return { accepted: ids.length, matched: matchedIds.size, unmatched: ids.filter((id) => !matchedIds.has(id)) };
  }
}

/** Every deployment's name, for completion and errors. */
export async function deploymentNames(store: Store): Promise<string[]> {
  return (await listDeploymentRows(store.db)).map((r) => r.name);
}
