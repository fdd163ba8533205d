/**
 * The data slice's queries on the metadata database: datasets and version
 * rows, and their mapping to the domain types. JSON columns (schema, tags,
 * profile, source fingerprint) are stored as text and parsed here.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, DatasetVersionsTable, DatasetsTable } from '../store/schema.js';
import type { ColumnSchema, Dataset, DatasetProfile, DatasetVersion } from './types.js';

type Db = Kysely<Database>;
export type VersionRow = Selectable<DatasetVersionsTable>;
export type DatasetRow = Selectable<DatasetsTable>;

export function rowToVersion(r: VersionRow): DatasetVersion {
  return {
    id: r.version_id,
    dataset: r.dataset,
    version: Number(r.version),
    contentHash: r.content_hash,
    schema: JSON.parse(r.schema_json) as ColumnSchema[],
    rowCount: Number(r.row_count),
    byteSize: Number(r.byte_size),
    parentVersionId: r.parent_version_id,
    message: r.message,
    author: r.author,
    createdTime: Number(r.created_time),
    tags: JSON.parse(r.tags_json) as Record<string, string>,
    storageKey: r.storage_key,
    runId: r.run_id,
  };
}

export function rowToProfile(r: Pick<VersionRow, 'profile_json'>): DatasetProfile | null {
  return r.profile_json ? (JSON.parse(r.profile_json) as DatasetProfile) : null;
}

export function rowToDataset(r: DatasetRow, latestVersion: number | null): Dataset {
  return {
    name: r.name,
    description: r.description,
    createdTime: Number(r.created_time),
    lifecycleStage: r.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
    latestVersion,
  };
}

export async function getDatasetRow(db: Db, name: string): Promise<DatasetRow | undefined> {
  return db.selectFrom('datasets').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function listDatasetRows(db: Db, includeDeleted: boolean): Promise<(DatasetRow & { latest: number | null })[]> {
  let q = db
    .selectFrom('datasets as d')
    .leftJoin('dataset_versions as v', 'v.dataset', 'd.name')
    .select(['d.name', 'd.description', 'd.created_time', 'd.lifecycle_stage', 'd.deleted_time'])
    .select((eb) => eb.fn.max('v.version').as('latest'))
    .groupBy(['d.name', 'd.description', 'd.created_time', 'd.lifecycle_stage', 'd.deleted_time'])
    .orderBy('d.name');
  if (!includeDeleted) q = q.where('d.lifecycle_stage', '=', 'active');
  const rows = await q.execute();
  return rows.map((r) => ({ ...r, latest: r.latest === null ? null : Number(r.latest) }));
}

export async function latestVersionNumber(db: Db, name: string): Promise<number | null> {
  const r = await db.selectFrom('dataset_versions').select((eb) => eb.fn.max('version').as('v')).where('dataset', '=', name).executeTakeFirst();
  return r?.v === null || r?.v === undefined ? null : Number(r.v);
}

export async function latestVersionRow(db: Db, name: string): Promise<VersionRow | undefined> {
  return db.selectFrom('dataset_versions').selectAll().where('dataset', '=', name).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function versionRowByNumber(db: Db, name: string, version: number): Promise<VersionRow | undefined> {
  return db.selectFrom('dataset_versions').selectAll().where('dataset', '=', name).where('version', '=', version).executeTakeFirst();
}

export async function versionRowById(db: Db, id: string): Promise<VersionRow | undefined> {
  return db.selectFrom('dataset_versions').selectAll().where('version_id', '=', id).executeTakeFirst();
}

/** Versions whose content hash starts with `prefix` (lowercase hex, validated), newest first. */
export async function versionRowsByHashPrefix(db: Db, name: string, prefix: string): Promise<VersionRow[]> {
  return db
    .selectFrom('dataset_versions')
    .selectAll()
    .where('dataset', '=', name)
    .where('content_hash', 'like', `${prefix}%`)
    .orderBy('version', 'desc')
    .execute();
}

export async function versionRows(db: Db, name: string): Promise<VersionRow[]> {
  return db.selectFrom('dataset_versions').selectAll().where('dataset', '=', name).orderBy('version', 'desc').execute();
}

/** How many version rows (of any dataset) point at a blob. */
export async function blobReferences(db: Db, storageKey: string): Promise<number> {
  const r = await db.selectFrom('dataset_versions').select((eb) => eb.fn.countAll().as('n')).where('storage_key', '=', storageKey).executeTakeFirst();
  return Number(r?.n ?? 0);
}
