/**
 * Registry rules, after MLflow's model registry: registered models; numbered,
 * immutable versions created from a run's model package (a number is never
 * handed out twice: deleted versions keep theirs); tags and descriptions;
 * aliases (any name but MLflow's reserved `latest` and `v<N>`); MLflow's
 * legacy stages; search with MLflow's filter strings; and the resolution of
 * `models:/…` and `runs:/…` URIs to a version and its files.
 *
 * Every write validates first, then runs in one transaction with its events
 * (entity `registered_model`, id = the model's name), so a rejected request
 * leaves the registry as it was. Setting an alias on another version, deleting
 * one and transitioning a stage are events that promotion and audits read.
 * Runs and their artifacts are reached through the TrackingApi, never its tables.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FlywheelError, alreadyExists, invalidArgument, notFound } from '../core/errors.js';
import { recordEvent } from '../events/service.js';
import { recordEdges } from '../lineage/service.js';
import type { Store } from '../store/index.js';
import type { Database } from '../store/schema.js';
import type { TrackingApi } from '../tracking/api.js';
import { validateMaxResults } from '../tracking/limits.js';
import { decodePageToken, encodePageToken } from '../tracking/page-token.js';
import { readManifestSummary, type ManifestSummary } from './manifest.js';
import {
  REGISTRY_LIMITS,
  canonicalStage,
  checkArchiveExisting,
  parseVersion,
  validateAlias,
  validateDescription,
  validateModelName,
  validateRegistryTag,
  validateTags,
} from './rules.js';
import { parseModelVersionFilter, parseModelVersionOrderBy, parseRegisteredModelFilter, parseRegisteredModelOrderBy } from './search.js';
import {
  archiveOthersInStage,
  deleteAlias,
  deleteAliasesOfVersion,
  deleteModelTag,
  deleteModelTree,
  deleteVersionTag,
  deleteVersionTags,
  findAlias,
  findModel,
  findVersion,
  findVersionById,
  hydrateModels,
  hydrateVersions,
  insertModel,
  insertVersion,
  latestVersion,
  listVersions,
  nextVersionNumber,
  searchModelRows,
  searchVersionRows,
  setModelFields,
  setVersionFields,
  touchAllVersions,
  touchModel,
  upsertAlias,
  upsertModelTag,
  upsertVersionTag,
  type ModelRow,
  type VersionRow,
} from './store.js';
import {
  STAGES,
  type AliasChange,
  type CreateModelVersionInput,
  type CreateRegisteredModelInput,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type ResolvedModel,
  type SearchInput,
  type Stage,
} from './types.js';
import { parseModelUri, runsUri, type ParsedModelUri } from './uri.js';

type Db = Kysely<Database>;

export interface RegistryServiceOptions {
  store: Store;
  /** Runs and their artifacts: a version's run must exist, its package manifest is read through it. */
  tracking: Pick<TrackingApi, 'getRun' | 'getRunArtifact'>;
  /** Who the events name (a user, "server"…). */
  actor?: string;
  /** The clock, epoch ms (tests pin it). */
  now?: () => number;
}

/** A registered model with its live versions, newest first (Flywheel's API and `models show`). */
export interface RegisteredModelDetail extends RegisteredModel {
  versions: ModelVersion[];
}

const newId = () => randomUUID().replaceAll('-', '');

const modelNotFound = (name: string) => notFound(`Registered Model with name=${name} not found`);
const versionNotFound = (name: string, version: number | string) => notFound(`Model Version (name=${name}, version=${version}) not found`);

export class RegistryService {
  private readonly store: Store;
  private readonly db: Db;
  private readonly tracking: RegistryServiceOptions['tracking'];
  private readonly actor: string;
  private readonly now: () => number;

  constructor(options: RegistryServiceOptions) {
    this.store = options.store;
    this.db = options.store.db;
    this.tracking = options.tracking;
    this.actor = options.actor ?? 'flywheel';
    this.now = options.now ?? Date.now;
  }

  private write<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  private event(trx: Db, kind: string, name: string, time: number, payload: Record<string, unknown>): Promise<void> {
    return recordEvent(trx, { actor: this.actor, kind, entityType: 'registered_model', entityId: name, time, payload });
  }

  private async requireModel(db: Db, name: unknown): Promise<ModelRow> {
    const n = validateModelName(name);
    const row = await findModel(db, n);
    if (!row) throw modelNotFound(n);
    return row;
  }

  private async requireVersion(db: Db, name: unknown, version: unknown): Promise<{ model: ModelRow; row: VersionRow }> {
    const model = await this.requireModel(db, name);
    const v = parseVersion(version);
    const row = await findVersion(db, model.model_id, v);
    if (!row) throw versionNotFound(model.name, v);
    return { model, row };
  }

  private async oneVersion(db: Db, row: VersionRow): Promise<ModelVersion> {
    return (await hydrateVersions(db, [row]))[0];
  }

  private async oneModel(db: Db, row: ModelRow): Promise<RegisteredModel> {
    return (await hydrateModels(db, [row]))[0];
  }

  // ----------------------------------------------------------- registered models

  async createRegisteredModel(input: CreateRegisteredModelInput): Promise<RegisteredModel> {
    const name = validateModelName(input?.name);
    const description = validateDescription(input.description);
    const tags = validateTags(input.tags);
    return this.write(async (trx) => {
      const row = await this.insertModelRow(trx, name, description, tags);
      if (!row) throw alreadyExists(`Registered Model (name=${name}) already exists.`);
      return this.oneModel(trx, row);
    });
  }

  /** The new model's row, or null when the name is taken. */
  private async insertModelRow(trx: Db, name: string, description: string, tags: [string, string][]): Promise<ModelRow | null> {
    const time = this.now();
    const row: ModelRow = { model_id: newId(), name, description, creation_time: time, last_updated_time: time };
    if (!(await insertModel(trx, row, tags))) return null;
    await this.event(trx, 'registered_model.created', name, time, { modelId: row.model_id, description, tags: Object.fromEntries(tags) });
    return row;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.oneModel(this.db, await this.requireModel(this.db, name));
  }

  /** The model with its live versions, newest first. */
  async getRegisteredModelDetail(name: string): Promise<RegisteredModelDetail> {
    const row = await this.requireModel(this.db, name);
    const [model, versions] = await Promise.all([this.oneModel(this.db, row), listVersions(this.db, row.model_id).then((rows) => hydrateVersions(this.db, rows))]);
    return { ...model, versions };
  }

  async searchRegisteredModels(input: SearchInput = {}): Promise<Page<RegisteredModel>> {
    const clauses = parseRegisteredModelFilter(input.filter);
    const orders = parseRegisteredModelOrderBy(input.orderBy);
    const limit = validateMaxResults(input.maxResults, REGISTRY_LIMITS.searchModelsDefault, REGISTRY_LIMITS.searchModelsMax);
    const offset = decodePageToken(input.pageToken);
    const { rows, more } = await searchModelRows(this.db, this.store.adapter, { clauses, orders, limit, offset });
    return { items: await hydrateModels(this.db, rows), nextPageToken: more ? encodePageToken(offset + limit) : null };
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    const to = validateModelName(newName, 'new_name');
    return this.write(async (trx) => {
      const model = await this.requireModel(trx, name);
      if (to !== model.name && (await findModel(trx, to))) throw alreadyExists(`Registered Model (name=${to}) already exists.`);
      const time = this.now();
      await setModelFields(trx, model.model_id, { name: to, last_updated_time: time });
      await touchAllVersions(trx, model.model_id, time);
      await this.event(trx, 'registered_model.renamed', to, time, { modelId: model.model_id, from: model.name, to });
      return this.oneModel(trx, (await findModel(trx, to))!);
    });
  }

  async updateRegisteredModel(name: string, input: { description?: string }): Promise<RegisteredModel> {
    const description = validateDescription(input?.description);
    return this.write(async (trx) => {
      const model = await this.requireModel(trx, name);
      const time = this.now();
      await setModelFields(trx, model.model_id, { description, last_updated_time: time });
      await this.event(trx, 'registered_model.updated', model.name, time, { description });
      return this.oneModel(trx, (await findModel(trx, model.name))!);
    });
  }

  /** Deletes the model, its versions, tags and aliases (MLflow deletes outright; the events stay). */
  async deleteRegisteredModel(name: string): Promise<void> {
    await this.write(async (trx) => {
      const model = await this.requireModel(trx, name);
      const versions = (await listVersions(trx, model.model_id)).map((v) => Number(v.version));
      await deleteModelTree(trx, model.model_id);
      await this.event(trx, 'registered_model.deleted', model.name, this.now(), { modelId: model.model_id, versions });
    });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    const [k, v] = validateRegistryTag(key, value);
    await this.write(async (trx) => {
      const model = await this.requireModel(trx, name);
      await upsertModelTag(trx, model.model_id, k, v);
      await this.event(trx, 'registered_model.tag_set', model.name, this.now(), { key: k, value: v });
    });
  }

  /** Deleting a tag that is not set does nothing, as in MLflow. */
  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    const [k] = validateRegistryTag(key, '');
    await this.write(async (trx) => {
      const model = await this.requireModel(trx, name);
      if (await deleteModelTag(trx, model.model_id, k)) await this.event(trx, 'registered_model.tag_deleted', model.name, this.now(), { key: k });
    });
  }

  /** Live versions of a model, newest first. */
  async listModelVersions(name: string): Promise<ModelVersion[]> {
    const model = await this.requireModel(this.db, name);
    return hydrateVersions(this.db, await listVersions(this.db, model.model_id));
  }

  /** The highest version in each requested stage (every stage when none is given), in stage order. */
  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const wanted = new Set<Stage>(stages && stages.length ? stages.map(canonicalStage) : STAGES);
    const model = await this.requireModel(this.db, name);
    const rows: VersionRow[] = [];
    for (const stage of STAGES.filter((s) => wanted.has(s))) {
      const row = await latestVersion(this.db, model.model_id, stage);
      if (row) rows.push(row);
    }
    return hydrateVersions(this.db, rows);
  }

  // --------------------------------------------------------------- model versions

  /**
   * Registers a new version. A `runs:/<runId>/<path>` source must name an
   * existing run; its package manifest, when there is one, gives the version
   * its flavor, signature and task, and the run —produces→ version edge is
   * recorded for lineage. Other sources are kept as given (MLflow clients send
   * the run's artifact URI with run_id beside it).
   */
  async createModelVersion(input: CreateModelVersionInput): Promise<ModelVersion> {
    const name = validateModelName(input?.name);
    if (input.source === undefined || input.source === null || input.source === '') throw invalidArgument("Missing value for required parameter 'source'.");
    if (typeof input.source !== 'string') throw invalidArgument(`Invalid value ${JSON.stringify(input.source)} for parameter 'source': expected a string`);
    const description = validateDescription(input.description);
    const tags = validateTags(input.tags);
    for (const [field, v] of [['run_id', input.runId], ['run_link', input.runLink], ['user_id', input.userId]] as const) {
      if (v !== undefined && v !== null && typeof v !== 'string') throw invalidArgument(`Invalid value ${JSON.stringify(v)} for parameter '${field}': expected a string`);
    }
    const located = await this.locatePackage(input.source, input.runId || null);
    const manifest: ManifestSummary | null = located.runId && located.artifactPath ? await readManifestSummary(this.tracking, located.runId, located.artifactPath) : null;

    return this.write(async (trx) => {
      let model = await findModel(trx, name);
      if (!model) {
        if (!input.createModel) throw modelNotFound(name);
        // Another registration may create it first; then it is found and used.
        model = (await this.insertModelRow(trx, name, '', [])) ?? (await findModel(trx, name))!;
      }
      const time = this.now();
      // The model row's lock (PostgreSQL) serializes numbering of concurrent creations.
      await touchModel(trx, model.model_id, time);
      const number = await nextVersionNumber(trx, model.model_id);
      const versionId = newId();
      await insertVersion(
        trx,
        {
          version_id: versionId,
          model_id: model.model_id,
          version: number,
          source: input.source,
          storage_location: located.storageLocation,
          run_id: located.runId,
          run_link: input.runLink || null,
          status: 'READY',
          current_stage: 'None',
          description,
          user_id: input.userId || null,
          creation_time: time,
          last_updated_time: time,
          deleted_time: null,
          flavor: manifest?.flavor ?? null,
          signature: manifest?.signature ? JSON.stringify(manifest.signature) : null,
          task: manifest?.task ?? null,
        },
        tags,
      );
      if (located.runId && located.runExists) {
        await recordEdges(trx, [{ from: { type: 'run', id: located.runId }, relation: 'produces', to: { type: 'model_version', id: versionId } }]);
      }
      await this.event(trx, 'model_version.created', name, time, {
        version: number,
        versionId,
        source: input.source,
        runId: located.runId,
        flavor: manifest?.flavor ?? null,
      });
      return this.oneVersion(trx, (await findVersion(trx, model.model_id, number))!);
    });
  }

  /** Where a new version's files are, and which run made them. */
  private async locatePackage(
    source: string,
    runIdIn: string | null,
  ): Promise<{ runId: string | null; runExists: boolean; artifactPath: string | null; storageLocation: string }> {
    if (source.startsWith('runs:')) {
      const parsed = parseModelUri(source);
      if (parsed.kind !== 'run') throw invalidArgument(`Invalid source "${source}"`);
      if (runIdIn && runIdIn !== parsed.runId) throw invalidArgument(`run_id ${runIdIn} does not match the run of source ${source}`);
      const run = await this.tracking.getRun(parsed.runId);
      return { runId: parsed.runId, runExists: true, artifactPath: parsed.artifactPath, storageLocation: `${run.info.artifactUri}/${parsed.artifactPath}` };
    }
    if (source.startsWith('models:')) {
      // MLflow resolves a models:/ source to the files of the version it names.
      const resolved = await this.resolveModelUri(source);
      const mv = resolved.modelVersion!;
      const runId = runIdIn ?? resolved.runId;
      const sameRun = runId !== null && runId === resolved.runId;
      const runExists = runId !== null && (await this.runArtifactUri(runId)) !== null;
      return { runId, runExists, artifactPath: sameRun ? resolved.artifactPath : null, storageLocation: mv.storageLocation };
    }
    if (!runIdIn) return { runId: null, runExists: false, artifactPath: null, storageLocation: source };
    // MLflow clients send the run's artifact URI (mlflow-artifacts:/…/artifacts/model); the run may live elsewhere.
    const artifactUri = await this.runArtifactUri(runIdIn);
    const artifactPath = artifactUri !== null ? pathUnder(artifactUri, source) : null;
    return { runId: runIdIn, runExists: artifactUri !== null, artifactPath, storageLocation: source };
  }

  /** The run's artifact URI, or null when this tracking server has no such run. */
  private async runArtifactUri(runId: string): Promise<string | null> {
    try {
      return (await this.tracking.getRun(runId)).info.artifactUri;
    } catch (err) {
      if (err instanceof FlywheelError && err.code === 'FW_NOT_FOUND') return null;
      throw err;
    }
  }

  async getModelVersion(name: string, version: number | string): Promise<ModelVersion> {
    const { row } = await this.requireVersion(this.db, name, version);
    return this.oneVersion(this.db, row);
  }

  /** A version by its stable id (the lineage graph's model_version node id); FW_NOT_FOUND once deleted. */
  async getModelVersionById(id: string): Promise<ModelVersion> {
    const row = typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? await findVersionById(this.db, id) : undefined;
    if (!row) throw notFound(`Model version with id=${String(id)} not found`);
    return this.oneVersion(this.db, row);
  }

  async updateModelVersion(name: string, version: number | string, input: { description?: string }): Promise<ModelVersion> {
    const description = validateDescription(input?.description);
    return this.write(async (trx) => {
      const { model, row } = await this.requireVersion(trx, name, version);
      const time = this.now();
      await setVersionFields(trx, row.version_id, { description, last_updated_time: time });
      await this.event(trx, 'model_version.updated', model.name, time, { version: Number(row.version), description });
      return this.oneVersion(trx, (await findVersion(trx, model.model_id, Number(row.version)))!);
    });
  }

  /**
   * MLflow's semantics: the version disappears from every read and its aliases
   * are removed, but its number stays taken (the row is kept, marked deleted).
   */
  async deleteModelVersion(name: string, version: number | string): Promise<void> {
    await this.write(async (trx) => {
      const { model, row } = await this.requireVersion(trx, name, version);
      const time = this.now();
      const v = Number(row.version);
      for (const alias of await deleteAliasesOfVersion(trx, row.version_id)) {
        await this.event(trx, 'model_alias.deleted', model.name, time, { alias, version: v, reason: 'version deleted' });
      }
      await deleteVersionTags(trx, row.version_id);
      await setVersionFields(trx, row.version_id, { deleted_time: time, last_updated_time: time });
      await touchModel(trx, model.model_id, time);
      await this.event(trx, 'model_version.deleted', model.name, time, { version: v, versionId: row.version_id });
    });
  }

  async searchModelVersions(input: SearchInput = {}): Promise<Page<ModelVersion>> {
    const clauses = parseModelVersionFilter(input.filter);
    const orders = parseModelVersionOrderBy(input.orderBy);
    const limit = validateMaxResults(input.maxResults, REGISTRY_LIMITS.searchVersionsDefault, REGISTRY_LIMITS.searchVersionsMax);
    const offset = decodePageToken(input.pageToken);
    const { rows, more } = await searchVersionRows(this.db, this.store.adapter, { clauses, orders, limit, offset });
    return { items: await hydrateVersions(this.db, rows), nextPageToken: more ? encodePageToken(offset + limit) : null };
  }

  /**
   * Moves a version to a stage; with `archiveExistingVersions` (Staging and
   * Production only) the model's other versions in that stage go to Archived.
   */
  async transitionStage(name: string, version: number | string, stage: string, options: { archiveExistingVersions?: boolean } = {}): Promise<ModelVersion> {
    const to = canonicalStage(stage);
    const archive = options.archiveExistingVersions === true;
    checkArchiveExisting(to, archive);
    return this.write(async (trx) => {
      const { model, row } = await this.requireVersion(trx, name, version);
      const time = this.now();
      const archived = archive ? await archiveOthersInStage(trx, model.model_id, row.version_id, to, time) : [];
      await setVersionFields(trx, row.version_id, { current_stage: to, last_updated_time: time });
      await touchModel(trx, model.model_id, time);
      await this.event(trx, 'model_version.stage_transitioned', model.name, time, { version: Number(row.version), from: row.current_stage, to, archived });
      return this.oneVersion(trx, (await findVersion(trx, model.model_id, Number(row.version)))!);
    });
  }

  async setModelVersionTag(name: string, version: number | string, key: string, value: string): Promise<void> {
    const [k, v] = validateRegistryTag(key, value);
    await this.write(async (trx) => {
      const { model, row } = await this.requireVersion(trx, name, version);
      await upsertVersionTag(trx, row.version_id, k, v);
      await this.event(trx, 'model_version.tag_set', model.name, this.now(), { version: Number(row.version), key: k, value: v });
    });
  }

  async deleteModelVersionTag(name: string, version: number | string, key: string): Promise<void> {
    const [k] = validateRegistryTag(key, '');
    await this.write(async (trx) => {
      const { model, row } = await this.requireVersion(trx, name, version);
      if (await deleteVersionTag(trx, row.version_id, k)) {
        await this.event(trx, 'model_version.tag_deleted', model.name, this.now(), { version: Number(row.version), key: k });
      }
    });
  }

  /** Where a version's files can be downloaded from (MLflow's get-download-uri). */
  async getModelVersionDownloadUri(name: string, version: number | string): Promise<string> {
    return (await this.getModelVersion(name, version)).storageLocation;
  }

  // ------------------------------------------------------------------------ aliases

  /**
   * Points `alias` at a version. A new alias is a `model_alias.set` event, one
   * moved from another version a `model_alias.moved` event; setting it to the
   * version it already names changes nothing.
   */
  async setAlias(name: string, alias: string, version: number | string): Promise<AliasChange> {
    const a = validateAlias(alias);
    const v = parseVersion(version);
    return this.write(async (trx) => {
      const { model, row } = await this.requireVersion(trx, name, v);
      const previous = await findAlias(trx, model.model_id, a);
      const change: AliasChange = { name: model.name, alias: a, version: v, previousVersion: previous?.version ?? null };
      if (previous?.versionId === row.version_id) return change;
      await upsertAlias(trx, model.model_id, a, row.version_id);
      await this.event(trx, previous ? 'model_alias.moved' : 'model_alias.set', model.name, this.now(), { alias: a, version: v, previousVersion: change.previousVersion });
      return change;
    });
  }

  /**
   * Removes an alias. An alias that is not set is FW_NOT_FOUND, unless
   * `missingOk` (MLflow's REST API, where deleting it is a no-op).
   */
  async deleteAlias(name: string, alias: string, options: { missingOk?: boolean } = {}): Promise<AliasChange | null> {
    const a = validateAlias(alias);
    return this.write(async (trx) => {
      const model = await this.requireModel(trx, name);
      const existing = await findAlias(trx, model.model_id, a);
      if (!existing) {
        if (options.missingOk) return null;
        throw aliasNotFound(model.name, a);
      }
      await deleteAlias(trx, model.model_id, a);
      await this.event(trx, 'model_alias.deleted', model.name, this.now(), { alias: a, version: existing.version });
      return { name: model.name, alias: a, version: existing.version, previousVersion: existing.version };
    });
  }

  async getByAlias(name: string, alias: string): Promise<ModelVersion> {
    const a = validateAlias(alias);
    const model = await this.requireModel(this.db, name);
    const found = await findAlias(this.db, model.model_id, a);
    if (!found) throw aliasNotFound(model.name, a);
    return this.oneVersion(this.db, (await findVersion(this.db, model.model_id, found.version))!);
  }

  // -------------------------------------------------------------------- model URIs

  /**
   * `models:/churn@champion`, `models:/churn/3`, `models:/churn/Production`
   * (latest in the stage), `models:/churn/latest`, a bare `churn@champion`, or
   * `runs:/<runId>/model`: the version it names (if any) and where its files
   * are. An unknown model, version, alias or run is FW_NOT_FOUND.
   */
  async resolveModelUri(uri: string): Promise<ResolvedModel> {
    const parsed = parseModelUri(uri);
    if (parsed.kind === 'run') {
      await this.tracking.getRun(parsed.runId);
      return { uri, name: null, version: null, source: uri, runId: parsed.runId, artifactPath: parsed.artifactPath, packageUri: runsUri(parsed.runId, parsed.artifactPath), modelVersion: null };
    }
    const mv = await this.versionFor(parsed);
    let runId = mv.runId;
    let artifactPath: string | null = null;
    if (mv.source.startsWith('runs:')) {
      const src = parseModelUri(mv.source);
      if (src.kind === 'run') [runId, artifactPath] = [src.runId, src.artifactPath];
    } else if (runId) {
      const artifactUri = await this.runArtifactUri(runId);
      artifactPath = artifactUri !== null ? pathUnder(artifactUri, mv.storageLocation) : null;
    }
    return {
      uri,
      name: mv.name,
      version: mv.version,
      source: mv.source,
      runId,
      artifactPath,
      packageUri: runId && artifactPath ? runsUri(runId, artifactPath) : null,
      modelVersion: mv,
    };
  }

  private async versionFor(parsed: Exclude<ParsedModelUri, { kind: 'run' }>): Promise<ModelVersion> {
    switch (parsed.kind) {
      case 'version':
        return this.getModelVersion(parsed.name, parsed.version);
      case 'alias':
        return this.getByAlias(parsed.name, parsed.alias);
      case 'latest':
      case 'stage': {
        const model = await this.requireModel(this.db, parsed.name);
        const stage = parsed.kind === 'stage' ? parsed.stage : undefined;
        const row = await latestVersion(this.db, model.model_id, stage);
        if (!row) throw notFound(stage ? `Registered model ${model.name} has no version in stage ${stage}` : `Registered model ${model.name} has no versions`);
        return this.oneVersion(this.db, row);
      }
    }
  }
}

function aliasNotFound(name: string, alias: string): FlywheelError {
  return notFound(`Registered model alias ${alias} not found for registered model ${name}.`);
}

/** `uri` relative to the directory `root` (both URIs), or null when it is not below it. */
function pathUnder(root: string, uri: string): string | null {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  if (!uri.startsWith(prefix)) return null;
  const rest = uri.slice(prefix.length).replace(/\/+$/, '');
  return rest === '' || rest.split('/').some((s) => s === '' || s === '.' || s === '..') ? null : rest;
}
