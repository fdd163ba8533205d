/**
 * The registry's tables (migration 0009): registered_models, model_versions,
 * their tags, and registered_model_aliases. Small queries named for what they
 * do, each taking the caller's connection or transaction, plus the search
 * compiler that turns parsed registry filters (search.ts) into one
 * parameterized query on SQLite and PostgreSQL alike. Only the registry slice
 * reads these tables.
 */
import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { StoreAdapter } from '../store/adapter.js';
import type { Database, ModelVersionsTable, RegisteredModelsTable } from '../store/schema.js';
import { likeMatches, type RegistryClause, type RegistryOrder } from './search.js';
import { STAGES, type ModelVersion, type RegisteredModel, type Stage } from './types.js';

type Db = Kysely<Database>;
export type ModelRow = Selectable<RegisteredModelsTable>;
export type VersionRow = Selectable<ModelVersionsTable> & { name: string };

/** Ids per IN list when hydrating, well under every database's bind-parameter limit. */
const CHUNK = 500;

// ------------------------------------------------------------ registered models

export async function findModel(db: Db, name: string): Promise<ModelRow | undefined> {
  return db.selectFrom('registered_models').selectAll().where('name', '=', name).executeTakeFirst();
}

/**
 * Inserts the model unless its name is taken; false when it was. ON CONFLICT
 * (not a read first) keeps two concurrent creations of one name from failing
 * on the unique index in PostgreSQL: the second waits, then finds it taken.
 */
export async function insertModel(db: Db, row: ModelRow, tags: [string, string][]): Promise<boolean> {
  const r = await db
    .insertInto('registered_models')
    .values(row)
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return false;
  if (tags.length) await db.insertInto('registered_model_tags').values(tags.map(([key, value]) => ({ model_id: row.model_id, key, value }))).execute();
  return true;
}

/**
 * Sets the model's last-updated time. As the first write of a transaction it
 * also takes the model row's lock in PostgreSQL, so concurrent version
 * creations for one model number their versions one after the other.
 */
export async function touchModel(db: Db, modelId: string, time: number): Promise<void> {
  await db.updateTable('registered_models').set({ last_updated_time: time }).where('model_id', '=', modelId).execute();
}

export async function setModelFields(db: Db, modelId: string, fields: Partial<Pick<ModelRow, 'name' | 'description' | 'last_updated_time'>>): Promise<void> {
  await db.updateTable('registered_models').set(fields).where('model_id', '=', modelId).execute();
}

/** Every version's last-updated time (a rename touches them all, as in MLflow). */
export async function touchAllVersions(db: Db, modelId: string, time: number): Promise<void> {
  await db.updateTable('model_versions').set({ last_updated_time: time }).where('model_id', '=', modelId).where('deleted_time', 'is', null).execute();
}

/** Removes the model and everything under it, children first (no reliance on ON DELETE CASCADE). */
export async function deleteModelTree(db: Db, modelId: string): Promise<void> {
  const versions = db.selectFrom('model_versions').select('version_id').where('model_id', '=', modelId);
  await db.deleteFrom('registered_model_aliases').where('model_id', '=', modelId).execute();
  await db.deleteFrom('model_version_tags').where('version_id', 'in', versions).execute();
  await db.deleteFrom('model_versions').where('model_id', '=', modelId).execute();
  await db.deleteFrom('registered_model_tags').where('model_id', '=', modelId).execute();
  await db.deleteFrom('registered_models').where('model_id', '=', modelId).execute();
}

export async function upsertModelTag(db: Db, modelId: string, key: string, value: string): Promise<void> {
  await db
    .insertInto('registered_model_tags')
    .values({ model_id: modelId, key, value })
    .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
    .execute();
}

export async function deleteModelTag(db: Db, modelId: string, key: string): Promise<boolean> {
  const r = await db.deleteFrom('registered_model_tags').where('model_id', '=', modelId).where('key', '=', key).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---------------------------------------------------------------- model versions

function versionsWithName(db: Db) {
  return db.selectFrom('model_versions as mv').innerJoin('registered_models as rm', 'rm.model_id', 'mv.model_id').selectAll('mv').select('rm.name');
}

/** A live (not deleted) version of a model. */
export async function findVersion(db: Db, modelId: string, version: number): Promise<VersionRow | undefined> {
  return versionsWithName(db).where('mv.model_id', '=', modelId).where('mv.version', '=', version).where('mv.deleted_time', 'is', null).executeTakeFirst();
}

/** A live version by its stable id. */
export async function findVersionById(db: Db, versionId: string): Promise<VersionRow | undefined> {
  return versionsWithName(db).where('mv.version_id', '=', versionId).where('mv.deleted_time', 'is', null).executeTakeFirst();
}

/** One past the highest number ever given, deleted versions included: numbers are never reused. */
export async function nextVersionNumber(db: Db, modelId: string): Promise<number> {
  const row = await db
    .selectFrom('model_versions')
    .select((eb) => eb.fn.max('version').as('max'))
    .where('model_id', '=', modelId)
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

export async function insertVersion(db: Db, row: Selectable<ModelVersionsTable>, tags: [string, string][]): Promise<void> {
  await db.insertInto('model_versions').values(row).execute();
  if (tags.length) await db.insertInto('model_version_tags').values(tags.map(([key, value]) => ({ version_id: row.version_id, key, value }))).execute();
}

export async function setVersionFields(
  db: Db,
  versionId: string,
  fields: Partial<Pick<ModelVersionsTable, 'description' | 'current_stage' | 'last_updated_time' | 'deleted_time'>>,
): Promise<void> {
  await db.updateTable('model_versions').set(fields).where('version_id', '=', versionId).execute();
}

/** Moves the model's other live versions in `stage` to Archived; returns their numbers. */
export async function archiveOthersInStage(db: Db, modelId: string, exceptVersionId: string, stage: Stage, time: number): Promise<number[]> {
  const rows = await db
    .selectFrom('model_versions')
    .select(['version_id', 'version'])
    .where('model_id', '=', modelId)
    .where('current_stage', '=', stage)
    .where('version_id', '!=', exceptVersionId)
    .where('deleted_time', 'is', null)
    .orderBy('version')
    .execute();
  if (rows.length) {
    await db
      .updateTable('model_versions')
      .set({ current_stage: 'Archived', last_updated_time: time })
      .where('version_id', 'in', rows.map((r) => r.version_id))
      .execute();
  }
  return rows.map((r) => Number(r.version));
}

/** Live versions of a model, newest first. */
export async function listVersions(db: Db, modelId: string): Promise<VersionRow[]> {
  return versionsWithName(db).where('mv.model_id', '=', modelId).where('mv.deleted_time', 'is', null).orderBy('mv.version', 'desc').execute();
}

/** The highest live version of a model, in `stage` when given. */
export async function latestVersion(db: Db, modelId: string, stage?: Stage): Promise<VersionRow | undefined> {
  let q = versionsWithName(db).where('mv.model_id', '=', modelId).where('mv.deleted_time', 'is', null);
  if (stage) q = q.where('mv.current_stage', '=', stage);
  return q.orderBy('mv.version', 'desc').limit(1).executeTakeFirst();
}

export async function upsertVersionTag(db: Db, versionId: string, key: string, value: string): Promise<void> {
  await db
    .insertInto('model_version_tags')
    .values({ version_id: versionId, key, value })
    .onConflict((oc) => oc.columns(['version_id', 'key']).doUpdateSet({ value }))
    .execute();
}

export async function deleteVersionTag(db: Db, versionId: string, key: string): Promise<boolean> {
  const r = await db.deleteFrom('model_version_tags').where('version_id', '=', versionId).where('key', '=', key).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function deleteVersionTags(db: Db, versionId: string): Promise<void> {
  await db.deleteFrom('model_version_tags').where('version_id', '=', versionId).execute();
}

// ------------------------------------------------------------------------ aliases

export async function findAlias(db: Db, modelId: string, alias: string): Promise<{ versionId: string; version: number } | undefined> {
  const row = await db
    .selectFrom('registered_model_aliases as a')
    .innerJoin('model_versions as mv', 'mv.version_id', 'a.version_id')
    .select(['a.version_id', 'mv.version'])
    .where('a.model_id', '=', modelId)
    .where('a.alias', '=', alias)
    .executeTakeFirst();
  return row ? { versionId: row.version_id, version: Number(row.version) } : undefined;
}

export async function upsertAlias(db: Db, modelId: string, alias: string, versionId: string): Promise<void> {
  await db
    .insertInto('registered_model_aliases')
    .values({ model_id: modelId, alias, version_id: versionId })
    .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version_id: versionId }))
    .execute();
}

export async function deleteAlias(db: Db, modelId: string, alias: string): Promise<void> {
  await db.deleteFrom('registered_model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).execute();
}

/** Removes every alias pointing at a version; returns their names. */
export async function deleteAliasesOfVersion(db: Db, versionId: string): Promise<string[]> {
  const rows = await db.selectFrom('registered_model_aliases').select('alias').where('version_id', '=', versionId).orderBy('alias').execute();
  if (rows.length) await db.deleteFrom('registered_model_aliases').where('version_id', '=', versionId).execute();
  return rows.map((r) => r.alias);
}

// ---------------------------------------------------------------------- hydration

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Versions with their tags and aliases, in the order given. */
export async function hydrateVersions(db: Db, rows: VersionRow[]): Promise<ModelVersion[]> {
  const tags = new Map<string, Record<string, string>>();
  const aliases = new Map<string, string[]>();
  for (const ids of chunks(rows.map((r) => r.version_id))) {
    for (const t of await db.selectFrom('model_version_tags').selectAll().where('version_id', 'in', ids).orderBy('key').execute()) {
      (tags.get(t.version_id) ?? tags.set(t.version_id, {}).get(t.version_id)!)[t.key] = t.value;
    }
    for (const a of await db.selectFrom('registered_model_aliases').select(['version_id', 'alias']).where('version_id', 'in', ids).orderBy('alias').execute()) {
      (aliases.get(a.version_id) ?? aliases.set(a.version_id, []).get(a.version_id)!).push(a.alias);
    }
  }
  return rows.map((r) => ({
    id: r.version_id,
    name: r.name,
    version: Number(r.version),
    creationTime: Number(r.creation_time),
    lastUpdatedTime: Number(r.last_updated_time),
    description: r.description,
    userId: r.user_id,
    currentStage: r.current_stage as Stage,
    source: r.source,
    storageLocation: r.storage_location,
    runId: r.run_id,
    runLink: r.run_link,
    status: 'READY',
    tags: tags.get(r.version_id) ?? {},
    aliases: (aliases.get(r.version_id) ?? []).sort(byKey),
    flavor: r.flavor,
    signature: r.signature === null ? null : (JSON.parse(r.signature) as Record<string, unknown>),
    task: r.task,
  }));
}

/** Models with tags, aliases and the latest live version of each stage, in the order given. */
export async function hydrateModels(db: Db, rows: ModelRow[]): Promise<RegisteredModel[]> {
  const tags = new Map<string, Record<string, string>>();
  const aliases = new Map<string, Record<string, number>>();
  const latest = new Map<string, VersionRow[]>();
  for (const ids of chunks(rows.map((r) => r.model_id))) {
    for (const t of await db.selectFrom('registered_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute()) {
      (tags.get(t.model_id) ?? tags.set(t.model_id, {}).get(t.model_id)!)[t.key] = t.value;
    }
    const aliasRows = await db
      .selectFrom('registered_model_aliases as a')
      .innerJoin('model_versions as mv', 'mv.version_id', 'a.version_id')
      .select(['a.model_id', 'a.alias', 'mv.version'])
      .where('a.model_id', 'in', ids)
      .orderBy('a.alias')
      .execute();
    for (const a of aliasRows) (aliases.get(a.model_id) ?? aliases.set(a.model_id, {}).get(a.model_id)!)[a.alias] = Number(a.version);
    // The highest live version of each (model, stage).
    const latestRows = await versionsWithName(db)
      .where('mv.model_id', 'in', ids)
      .where('mv.deleted_time', 'is', null)
      .where(({ eb, selectFrom }) =>
        eb(
          'mv.version',
          '=',
          selectFrom('model_versions as m2')
            .select((e) => e.fn.max('m2.version').as('v'))
            .whereRef('m2.model_id', '=', 'mv.model_id')
            .whereRef('m2.current_stage', '=', 'mv.current_stage')
            .where('m2.deleted_time', 'is', null),
        ),
      )
      .execute();
    for (const v of latestRows) (latest.get(v.model_id) ?? latest.set(v.model_id, []).get(v.model_id)!).push(v);
  }
  const stageOrder = (s: string) => STAGES.indexOf(s as Stage);
  const latestRows = rows.flatMap((r) => (latest.get(r.model_id) ?? []).sort((a, b) => stageOrder(a.current_stage) - stageOrder(b.current_stage)));
  const hydrated = new Map((await hydrateVersions(db, latestRows)).map((v) => [v.id, v]));
  return rows.map((r) => ({
    name: r.name,
    creationTime: Number(r.creation_time),
    lastUpdatedTime: Number(r.last_updated_time),
    description: r.description,
    tags: tags.get(r.model_id) ?? {},
    aliases: aliases.get(r.model_id) ?? {},
    latestVersions: (latest.get(r.model_id) ?? []).map((v) => hydrated.get(v.version_id)!),
  }));
}

// ------------------------------------------------------------------------- search

const SQL_OPERATORS: Record<string, string> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };
/** Backslash escapes `%`, `_` and itself in LIKE patterns (bound, not spelled in SQL), as in tracking search. */
const LIKE_ESCAPE = '\\';

function compare(column: Expression<unknown>, clause: RegistryClause, adapter: StoreAdapter): Expression<SqlBool> {
  const v = clause.value;
  switch (clause.op) {
    case 'LIKE':
      return sql<SqlBool>`${column} like ${v} escape ${LIKE_ESCAPE}`;
    case 'ILIKE':
      return adapter.supportsIlike ? sql<SqlBool>`${column} ilike ${v} escape ${LIKE_ESCAPE}` : sql<SqlBool>`lower(${column}) like lower(${v}) escape ${LIKE_ESCAPE}`;
    case 'IN':
      return sql<SqlBool>`${column} in (${sql.join(v as string[])})`;
    case 'NOT IN':
      return sql<SqlBool>`${column} not in (${sql.join(v as string[])})`;
    default:
      return sql<SqlBool>`${column} ${sql.raw(SQL_OPERATORS[clause.op])} ${v}`;
  }
}

/**
 * MLflow marks prompts (stored as registered models) with this tag, and MLflow
 * 2.21+ clients add `tags.\`mlflow.prompt.is_prompt\` != 'true'` to every model
 * search. A model without the tag counts as "false", as MLflow's stores read it.
 */
const PROMPT_TAG = 'mlflow.prompt.is_prompt';

function missingTagMatches(clause: RegistryClause): boolean {
  const v = String(clause.value);
  switch (clause.op) {
    case '=':
      return v === 'false';
    case '!=':
      return v !== 'false';
    case 'LIKE':
      return likeMatches('false', v, false);
    case 'ILIKE':
      return likeMatches('false', v, true);
    default:
      return false;
  }
}

function tagCondition(table: 'registered_model_tags' | 'model_version_tags', owner: Expression<unknown>, clause: RegistryClause, adapter: StoreAdapter): Expression<SqlBool> {
  const fk = sql.ref(table === 'registered_model_tags' ? 't.model_id' : 't.version_id');
  const t = sql.table(table);
  const match = sql<SqlBool>`exists (select 1 from ${t} t where ${fk} = ${owner} and t.key = ${clause.key} and ${compare(sql.ref('t.value'), clause, adapter)})`;
  if (clause.key !== PROMPT_TAG || !missingTagMatches(clause)) return match;
  return sql<SqlBool>`(${match} or not exists (select 1 from ${t} t where ${fk} = ${owner} and t.key = ${clause.key}))`;
}

const MODEL_COLUMNS: Record<string, string> = { name: 'rm.name', creation_timestamp: 'rm.creation_time', last_updated_timestamp: 'rm.last_updated_time' };
const VERSION_COLUMNS: Record<string, string> = {
  name: 'rm.name',
  run_id: 'mv.run_id',
  source_path: 'mv.source',
  version_number: 'mv.version',
  creation_timestamp: 'mv.creation_time',
  last_updated_timestamp: 'mv.last_updated_time',
};

export interface SearchPage {
  clauses: RegistryClause[];
  orders: RegistryOrder[];
  /** Rows to return; one more is fetched to know whether a next page exists. */
  limit: number;
  offset: number;
}

/** Registered models matching the clauses; ties broken by name, as MLflow's SQL store does. */
export async function searchModelRows(db: Db, adapter: StoreAdapter, p: SearchPage): Promise<{ rows: ModelRow[]; more: boolean }> {
  let q = db.selectFrom('registered_models as rm').selectAll('rm');
  for (const c of p.clauses) {
    q = q.where(c.type === 'tag' ? tagCondition('registered_model_tags', sql.ref('rm.model_id'), c, adapter) : compare(sql.ref(MODEL_COLUMNS[c.key]), c, adapter));
  }
  const orders = p.orders.some((o) => o.key === 'name') ? p.orders : [...p.orders, { key: 'name', ascending: true }];
  for (const o of orders) q = q.orderBy(sql.ref(MODEL_COLUMNS[o.key]), o.ascending ? 'asc' : 'desc');
  const rows = await q.limit(p.limit + 1).offset(p.offset).execute();
  return { rows: rows.slice(0, p.limit), more: rows.length > p.limit };
}

/**
 * Live model versions matching the clauses. Default order is MLflow's:
 * last_updated_timestamp DESC, then name ASC and version DESC as tie-breakers.
 */
export async function searchVersionRows(db: Db, adapter: StoreAdapter, p: SearchPage): Promise<{ rows: VersionRow[]; more: boolean }> {
  let q = versionsWithName(db).where('mv.deleted_time', 'is', null);
  for (const c of p.clauses) {
    q = q.where(c.type === 'tag' ? tagCondition('model_version_tags', sql.ref('mv.version_id'), c, adapter) : compare(sql.ref(VERSION_COLUMNS[c.key]), c, adapter));
  }
  const orders: RegistryOrder[] = p.orders.length ? [...p.orders] : [{ key: 'last_updated_timestamp', ascending: false }];
  if (!orders.some((o) => o.key === 'name')) orders.push({ key: 'name', ascending: true });
  if (!orders.some((o) => o.key === 'version_number')) orders.push({ key: 'version_number', ascending: false });
  for (const o of orders) q = q.orderBy(sql.ref(VERSION_COLUMNS[o.key]), o.ascending ? 'asc' : 'desc');
  const rows = await q.limit(p.limit + 1).offset(p.offset).execute();
  return { rows: rows.slice(0, p.limit), more: rows.length > p.limit };
}
