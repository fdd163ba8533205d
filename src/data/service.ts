/**
 * DataService: the rules of datasets and their versions. It ingests sources
 * (files, globs, PostgreSQL queries) into zstd Parquet through the Engine,
 * stores each distinct content once under `datasets/blobs/<sha256>.parquet`,
 * profiles it, and records the version in one transaction — or, on any
 * failure, records nothing and leaves no blob behind. It implements the
 * DatasetReader/DatasetWriter contract other slices (quality, transforms,
 * diff, pipelines) code against. A `beforeCommit` hook sees the staged data
 * and may refuse it, or set some rows aside as `<name>__quarantine` and let
 * the rest be committed (`data add --suite … --quarantine`).
 *
 * An unchanged source file (same absolute path, size and mtime as recorded
 * with the latest version, read with the same options) is recognised from
 * `stat` alone: no DuckDB work, no reading of the file.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ArtifactStore } from '../artifacts/types.js';
import { FlywheelError, invalidArgument, notFound } from '../core/errors.js';
import { sqlIdent, sqlLiteral, type DuckDBValue, type Engine } from '../engine/index.js';
import { recordEvent } from '../events/service.js';
import { recordEdges } from '../lineage/service.js';
import type { Store } from '../store/index.js';
import type { Database } from '../store/schema.js';
import type { TrackingApi } from '../tracking/api.js';
import { blobKey, hashFile, localBlobPath, makeWorkDir, putBlob } from './blobs.js';
import { ingestFiles, PARQUET_COPY_OPTIONS, type BadRows, type BadRowsPolicy } from './ingest.js';
import { parseRef, quarantineName, validateDatasetName, MIN_HASH_PREFIX } from './names.js';
import { exportPostgresQuery } from './postgres-source.js';
import { computeProfile, DEFAULT_EXACT_DISTINCT_BOUND } from './profile.js';
import { fingerprintOf, resolveSource, type FileFormat, type SourceSpec } from './sources.js';
import {
  blobReferences,
  getDatasetRow,
  latestVersionRow,
  listDatasetRows,
  rowToDataset,
  rowToProfile,
  rowToVersion,
  versionRowById,
  versionRowByNumber,
  versionRows,
  versionRowsByHashPrefix,
  type VersionRow,
} from './store.js';
import type { DataApi } from './api.js';
import type { ColumnSchema, CommitParquetInput, Dataset, DatasetProfile, DatasetReader, DatasetVersion, DatasetWriter } from './types.js';

export type { BadRowsPolicy } from './ingest.js';

/** Source file formats; inferred from the extension when not given. */
export type SourceFormat = FileFormat;

export interface DataServiceDeps {
  store: Store;
  artifacts: ArtifactStore;
  /** The DuckDB engine, or a function opening it on first use (so paths without columnar work never start DuckDB). */
  engine: Engine | (() => Promise<Engine>);
  /** Used to check that a run named in commitParquet/add exists. */
  tracking?: Pick<TrackingApi, 'getRun'>;
  /** Default author of versions (a user name, "server"). */
  actor?: string;
  /** Where blobs of a non-local artifact store are downloaded for DuckDB. */
  cacheDir?: string;
  /** Row count under which distinct counts and quantiles are exact (default 1,000,000). */
  exactDistinctBound?: number;
}

/** What a version looked like before it was committed; given to `beforeCommit`. */
export interface StagedVersion {
  dataset: string;
  /** Local path of the finished Parquet file (read-only; removed after the add). */
  parquetPath: string;
  schema: ColumnSchema[];
  rowCount: number;
  contentHash: string;
  profile: DatasetProfile;
}

/** Rows `beforeCommit` sets aside: they become a version of `<name>__quarantine`, the others the new version. */
export interface SetAsideRequest {
  /** SQL condition over the staged columns, TRUE for a row to set aside (NULL counts as FALSE). */
  where: string;
  /** Values of the `$1…$n` parameters `where` uses. */
  params?: DuckDBValue[];
  /** Extra columns of the set-aside rows: name → SQL expression over the row (may use `where`'s parameters, no others). */
  annotate?: Record<string, string>;
  /** Why, for people: goes into the quarantine version's message and its `flywheel.set_aside_reason` tag. */
  reason: string;
}

/** What `beforeCommit` may do with the staged data besides refusing it. */
export interface StagedActions {
  /**
   * Splits the staged rows (once per add): those matching `where` are set
   * aside, the rest are re-written, re-hashed and re-profiled as the content
   * to commit, which is returned. When no row matches, nothing changes.
   */
  setAside(request: SetAsideRequest): Promise<StagedVersion>;
}

export interface AddOptions {
  message?: string;
  author?: string;
  tags?: Record<string, string>;
  /** When the content (or the unchanged source file) equals the latest version's, make no version. */
  skipUnchanged?: boolean;
  /** `fail` (default) refuses a source with bad rows; `quarantine` keeps the good rows and stores the bad ones as `<name>__quarantine`. */
  onBadRows?: BadRowsPolicy;
  /** The SQL query, when SOURCE is a postgres:// URL. */
  query?: string;
  /** Overrides the format inferred from the file extension. */
  format?: SourceFormat;
  /** CSV/TSV: DuckDB types for some columns instead of sniffed ones, e.g. {zip: 'VARCHAR'}. */
  columnTypes?: Record<string, string>;
  /** Accept a schema that differs from the latest version's (default: refuse). */
  allowSchemaChange?: boolean;
  /** The run doing the add; its `produces` lineage edge is recorded. */
  runId?: string;
  /**
   * Runs after the Parquet is staged and before anything is recorded; throwing
   * aborts the add, `actions.setAside` keeps only some rows (quality suites
   * hook in here).
   */
  beforeCommit?: (staged: StagedVersion, actions: StagedActions) => Promise<void>;
}

export interface AddResult {
  /** The new version, or the latest one when nothing changed and skipUnchanged was set. */
  version: DatasetVersion;
  /** False when skipUnchanged found nothing new. */
  created: boolean;
  /** How an unchanged source was recognised: by file fingerprint (no DuckDB work), by content hash, or not at all. */
  unchanged: 'fingerprint' | 'content' | null;
  /** Bad rows stored aside under onBadRows=quarantine. */
  quarantine: { version: DatasetVersion; rows: number } | null;
  /** Rows `beforeCommit` set aside (also in `<name>__quarantine`); absent when it set none aside. */
  setAside?: { version: DatasetVersion; rows: number; reason: string };
}

export interface ExportResult {
  path: string;
  format: 'csv' | 'parquet';
  rows: number;
}

export interface HeadResult {
  version: DatasetVersion;
  columns: ColumnSchema[];
  /** JSON-safe values: numbers (64-bit integers beyond 2^53 as strings), dates and timestamps as text, NaN as "NaN". */
  rows: Record<string, unknown>[];
}

export interface ListOptions {
  /** Include soft-deleted datasets. */
  includeDeleted?: boolean;
}

/** A text column counts as mixed when at least this share of its (leading) values are numbers, but not all. */
export const MIXED_NUMERIC_SHARE = 0.5;
/** `head` returns at most this many rows. */
export const MAX_HEAD_ROWS = 10_000;

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$/;

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(e?.message ?? '');
}

function validateTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw invalidArgument('tags must be an object of strings');
  for (const [k, v] of Object.entries(tags)) {
    if (k === '' || k.length > 250) throw invalidArgument(`Invalid tag key "${k}": 1-250 characters`);
    if (typeof v !== 'string') throw invalidArgument(`Tag "${k}" must have a string value`);
    if (v.length > 5000) throw invalidArgument(`Tag "${k}" is longer than 5000 characters`);
  }
  return { ...(tags as Record<string, string>) };
}

function schemaDiff(before: ColumnSchema[], after: ColumnSchema[]): string[] {
  const changes: string[] = [];
  const old = new Map(before.map((c) => [c.name, c]));
  const now = new Map(after.map((c) => [c.name, c]));
  for (const c of before) if (!now.has(c.name)) changes.push(`column "${c.name}" removed`);
  for (const c of after) {
    const o = old.get(c.name);
    if (!o) changes.push(`column "${c.name}" added (${c.type})`);
    else if (o.type !== c.type) changes.push(`column "${c.name}" changed type from ${o.type} to ${c.type}`);
  }
  if (changes.length === 0 && before.map((c) => c.name).join('\0') !== after.map((c) => c.name).join('\0')) changes.push('columns reordered');
  return changes;
}

function schemaFromProfile(profile: DatasetProfile): ColumnSchema[] {
  return profile.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nulls > 0 }));
}

/** A staged Parquet file with everything a version records about it. */
interface Staged {
  parquetPath: string;
  /** True for files in our own scratch folder, which may be moved into the store. */
  owned: boolean;
  contentHash: string;
  byteSize: number;
  profile: DatasetProfile;
  schema: ColumnSchema[];
}

/** The content `beforeCommit` left to commit, and the rows it set aside. */
interface Checked {
  staged: Staged;
  setAside: { staged: Staged; reason: string } | null;
}

interface NewVersion {
  dataset: string;
  staged: Staged;
  message: string;
  author: string;
  tags: Record<string, string>;
  runId: string | null;
  fingerprint: string | null;
}

export class DataService implements DataApi, DatasetReader, DatasetWriter {
  private readonly db: Kysely<Database>;
  private readonly exactDistinctBound: number;
  private enginePromise: Promise<Engine> | undefined;

  constructor(readonly deps: DataServiceDeps) {
    this.db = deps.store.db;
    this.exactDistinctBound = deps.exactDistinctBound ?? DEFAULT_EXACT_DISTINCT_BOUND;
  }

  /** The engine, opened on first use when a factory was given. */
  engine(): Promise<Engine> {
    const e = this.deps.engine;
    if (typeof e !== 'function') return Promise.resolve(e);
    this.enginePromise ??= e();
    return this.enginePromise;
  }

  private get actor(): string {
    return this.deps.actor ?? osUser();
  }

  // ------------------------------------------------------------------ writing

  /** Ingests SOURCE (file, glob, or postgres:// URL with options.query) as a new version of `name`. */
  async add(name: string, source: string, options: AddOptions = {}): Promise<AddResult> {
    validateDatasetName(name);
    const onBadRows = options.onBadRows ?? 'fail';
    if (onBadRows !== 'fail' && onBadRows !== 'quarantine') throw invalidArgument(`onBadRows must be "fail" or "quarantine", got "${String(onBadRows)}"`);
    const tags = validateTags(options.tags);
    const columnTypes = options.columnTypes ?? {};
    for (const [col, type] of Object.entries(columnTypes)) {
      if (!TYPE_PATTERN.test(type)) throw invalidArgument(`Invalid type "${type}" for column "${col}"`);
    }
    if (options.runId) await this.checkRun(options.runId);
    const spec = await resolveSource(source, { query: options.query, format: options.format });
    const fingerprint = fingerprintOf(spec, { onBadRows, columnTypes });
    const latest = await latestVersionRow(this.db, name);

    if (fingerprint !== null && latest && latest.source_fingerprint === fingerprint) {
      return this.addUnchanged(name, latest, fingerprint, tags, options);
    }

    const workDir = await makeWorkDir(this.deps.artifacts);
    try {
      const { staged, badRows } = await this.stage(spec, workDir, onBadRows, columnTypes);
      if (latest && !options.allowSchemaChange) {
        const changes = schemaDiff(JSON.parse(latest.schema_json) as ColumnSchema[], staged.schema);
        if (changes.length > 0) {
          throw new FlywheelError(
            'FW_CONFLICT',
            `Schema of dataset "${name}" changed from version ${latest.version}: ${changes.join('; ')}. Pass allowSchemaChange (--allow-schema-change) to accept it`,
            { dataset: name, changes },
          );
        }
      }
      if (options.skipUnchanged && latest && latest.content_hash === staged.contentHash) {
        return { version: rowToVersion(latest), created: false, unchanged: 'content', quarantine: null };
      }
      const checked = await this.checkStaged(name, staged, staged.parquetPath, options.beforeCommit, async () => workDir);
      const final = checked.staged;
      if (checked.setAside && options.skipUnchanged && latest && latest.content_hash === final.contentHash) {
        return { version: rowToVersion(latest), created: false, unchanged: 'content', quarantine: null };
      }
      const main: NewVersion = {
        dataset: name,
        staged: final,
        message: options.message ?? '',
        author: options.author ?? this.actor,
        tags,
        runId: options.runId ?? null,
        // A version holding only some of the source's rows is not what the file fingerprint stands for.
        fingerprint: checked.setAside ? null : fingerprint,
      };
      const extras: NewVersion[] = [];
      if (badRows) {
        const q = await this.stageParquet(badRows.parquetPath, true);
        extras.push({
          dataset: quarantineName(name),
          staged: q,
          message: `Bad rows set aside when adding ${name}${options.message ? `: ${options.message}` : ''}`,
          author: main.author,
          tags: { 'flywheel.source_dataset': name },
          runId: null,
          fingerprint: null,
        });
      }
      if (checked.setAside) extras.push(this.setAsideVersion(name, checked.setAside, main.author));
      const [version, ...made] = await this.commit(main, extras);
      return {
        version,
        created: true,
        unchanged: latest?.content_hash === final.contentHash ? 'content' : null,
        quarantine: badRows ? { version: made[0], rows: badRows.count } : null,
        ...(checked.setAside ? { setAside: { version: made[made.length - 1], rows: checked.setAside.staged.profile.rowCount, reason: checked.setAside.reason } } : {}),
      };
    } finally {
      await fsp.rm(workDir, { recursive: true, force: true });
    }
  }

  /** The fast path: the source is the file(s) the latest version was made from, untouched. */
  private async addUnchanged(name: string, latest: VersionRow, fingerprint: string, tags: Record<string, string>, options: AddOptions): Promise<AddResult> {
    const latestVersion = rowToVersion(latest);
    if (options.skipUnchanged) return { version: latestVersion, created: false, unchanged: 'fingerprint', quarantine: null };
    const profile = rowToProfile(latest);
    const staged: Staged = {
      parquetPath: '',
      owned: false,
      contentHash: latest.content_hash,
      byteSize: Number(latest.byte_size),
      profile: profile ?? { rowCount: Number(latest.row_count), columns: [], exactDistinctBound: this.exactDistinctBound, piiSampleSize: 0 },
      schema: latestVersion.schema,
    };
    let workDir: string | undefined;
    try {
      const readPath = options.beforeCommit ? await this.parquetPath(latestVersion) : '';
      const checked = await this.checkStaged(name, staged, readPath, options.beforeCommit, async () => (workDir ??= await makeWorkDir(this.deps.artifacts)));
      const author = options.author ?? this.actor;
      const [version, ...made] = await this.commit(
        { dataset: name, staged: checked.staged, message: options.message ?? '', author, tags, runId: options.runId ?? null, fingerprint: checked.setAside ? null : fingerprint },
        checked.setAside ? [this.setAsideVersion(name, checked.setAside, author)] : [],
      );
      if (!checked.setAside) return { version, created: true, unchanged: 'fingerprint', quarantine: null };
      return { version, created: true, unchanged: null, quarantine: null, setAside: { version: made[0], rows: checked.setAside.staged.profile.rowCount, reason: checked.setAside.reason } };
    } finally {
      if (workDir) await fsp.rm(workDir, { recursive: true, force: true });
    }
  }

  /**
   * Runs `beforeCommit` on the staged content (read from `readPath`) and
   * applies a split it asks for: the kept rows become the content to commit.
   */
  private async checkStaged(
    name: string,
    staged: Staged,
    readPath: string,
    hook: AddOptions['beforeCommit'],
    workDir: () => Promise<string>,
  ): Promise<Checked> {
    if (!hook) return { staged, setAside: null };
    const view = (s: Staged, file: string): StagedVersion => ({
      dataset: name,
      parquetPath: file,
      schema: s.schema,
      rowCount: s.profile.rowCount,
      contentHash: s.contentHash,
      profile: s.profile,
    });
    const checked: Checked = { staged, setAside: null };
    let split = false;
    await hook(view(staged, readPath), {
      setAside: async (request) => {
        if (split) throw new Error('setAside may be called once per add');
        split = true;
        const parts = await this.splitParquet(readPath, request, await workDir());
        if (!parts) return view(staged, readPath);
        checked.staged = parts.kept;
        checked.setAside = { staged: parts.rejected, reason: request.reason };
        return view(parts.kept, parts.kept.parquetPath);
      },
    });
    return checked;
  }

  /** Writes the rows of `file` matching `request.where` and the others as two staged files; null when none match. */
  private async splitParquet(file: string, request: SetAsideRequest, workDir: string): Promise<{ kept: Staged; rejected: Staged } | null> {
    const engine = await this.engine();
    const source = `read_parquet(${sqlLiteral(file)})`;
    const cond = `coalesce((${request.where}), false)`;
    const params = request.params ?? [];
    const extra = Object.entries(request.annotate ?? {})
      .map(([column, expr]) => `, (${expr}) AS ${sqlIdent(column)}`)
      .join('');
    const rejectedPath = path.join(workDir, 'set-aside.parquet');
    const keptPath = path.join(workDir, 'kept.parquet');
    try {
      await engine.run(`COPY (SELECT *${extra} FROM ${source} WHERE ${cond}) TO ${sqlLiteral(rejectedPath)} ${PARQUET_COPY_OPTIONS}`, params);
      const [{ n }] = await engine.query<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(${sqlLiteral(rejectedPath)})`);
      if (Number(n) === 0) {
        await fsp.rm(rejectedPath, { force: true });
        return null;
      }
      await engine.run(`COPY (SELECT * FROM ${source} WHERE NOT ${cond}) TO ${sqlLiteral(keptPath)} ${PARQUET_COPY_OPTIONS}`, params);
    } catch (err) {
      if (err instanceof FlywheelError) throw err;
      throw invalidArgument(`Could not set rows aside (${request.reason}): ${(err as Error).message.split('\n')[0]}`);
    }
    const [kept, rejected] = await Promise.all([this.stageParquet(keptPath, true), this.stageParquet(rejectedPath, true)]);
    return { kept, rejected };
  }

  private setAsideVersion(name: string, setAside: NonNullable<Checked['setAside']>, author: string): NewVersion {
    return {
      dataset: quarantineName(name),
      staged: setAside.staged,
      message: `Rows set aside when adding ${name}: ${setAside.reason}`,
      author,
      tags: { 'flywheel.source_dataset': name, 'flywheel.set_aside_reason': setAside.reason },
      runId: null,
      fingerprint: null,
    };
  }

  /** Reads the source into a Parquet file in `workDir`, profiles it, and settles mixed-type text columns. */
  private async stage(spec: SourceSpec, workDir: string, onBadRows: BadRowsPolicy, columnTypes: Record<string, string>): Promise<{ staged: Staged; badRows: BadRows | null }> {
    const out = path.join(workDir, 'data.parquet');
    if (spec.kind === 'postgres') {
      const csv = path.join(workDir, 'postgres.csv');
      const { columns } = await exportPostgresQuery(spec.url, spec.query, csv);
      await ingestFiles(await this.engine(), { files: [csv], format: 'csv', out, workDir, onBadRows: 'fail', exactColumns: columns });
      return { staged: await this.stageParquet(out, true), badRows: null };
    }
    const base = { files: spec.files.map((f) => f.path), format: spec.format, out, workDir, onBadRows, columnTypes };
    let { badRows } = await ingestFiles(await this.engine(), base);
    const sniffed = spec.format === 'csv' || spec.format === 'tsv';
    // The hash streams through the file on this thread while DuckDB profiles it on its own.
    const hashing = hashFile(out);
    hashing.catch(() => undefined);
    let { profile, numericLike } = await computeProfile(await this.engine(), out, {
      exactDistinctBound: this.exactDistinctBound,
      numericLike: sniffed ? { exclude: Object.keys(columnTypes) } : undefined,
    });
    // Text columns that are mostly numbers: some values do not fit the column's evident type.
    const mixed: Record<string, string> = {};
    for (const c of profile.columns) {
      const n = numericLike.get(c.name);
      if (n && n.checked > 0 && n.asDouble < n.checked && n.asDouble >= MIXED_NUMERIC_SHARE * n.checked) mixed[c.name] = n.asBigint === n.asDouble ? 'BIGINT' : 'DOUBLE';
    }
    if (Object.keys(mixed).length > 0) {
      const pinned = { ...columnTypes, ...mixed };
      await hashing.catch(() => undefined);
      // Reading again with the evident types makes DuckDB name the first line (fail) or set every such row aside (quarantine).
      const again = await ingestFiles(await this.engine(), { ...base, columnTypes: pinned });
      if (onBadRows === 'fail') {
        const [col, type] = Object.entries(mixed)[0];
        throw invalidArgument(`${spec.pattern}, column "${col}": mixes numbers and text; most values are ${type}`, { file: spec.pattern, column: col });
      }
      badRows = again.badRows;
      ({ profile } = await computeProfile(await this.engine(), out, { exactDistinctBound: this.exactDistinctBound }));
      return { staged: await this.finishStaged(out, profile, true), badRows };
    }
    return { staged: await this.finishStaged(out, profile, true, await hashing), badRows };
  }

  /** Hash, size and profile of a finished Parquet file (`owned`: ours to move into the store). */
  private async stageParquet(file: string, owned: boolean): Promise<Staged> {
    const { profile } = await computeProfile(await this.engine(), file, { exactDistinctBound: this.exactDistinctBound });
    return this.finishStaged(file, profile, owned);
  }

  private async finishStaged(file: string, profile: DatasetProfile, owned: boolean, knownHash?: string): Promise<Staged> {
    const [contentHash, st] = await Promise.all([knownHash ?? hashFile(file), fsp.stat(file)]);
    return { parquetPath: file, owned, contentHash, byteSize: st.size, profile, schema: schemaFromProfile(profile) };
  }

  private async checkRun(runId: string): Promise<void> {
    if (this.deps.tracking) await this.deps.tracking.getRun(runId);
  }

  /**
   * Stores the blobs, then records the versions in one transaction. If the
   * transaction fails, blobs this call wrote are removed again unless some
   * other version has come to reference them meanwhile.
   */
  private async commit(main: NewVersion, extras: NewVersion[]): Promise<[DatasetVersion, ...DatasetVersion[]]> {
    const items = [main, ...extras];
    const written: string[] = [];
    try {
      for (const item of items) {
        if (item.staged.parquetPath === '') continue; // content already stored
        const move = item.staged.owned;
        if (await putBlob(this.deps.artifacts, item.staged.contentHash, item.staged.parquetPath, item.staged.byteSize, { move })) written.push(blobKey(item.staged.contentHash));
      }
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.db.transaction().execute(async (trx) => {
            const m = await this.insertVersion(trx, main);
            const made: DatasetVersion[] = [];
            // Versions set aside (bad rows, rows a check refused) name the version they were split from.
            for (const x of extras) made.push(await this.insertVersion(trx, { ...x, tags: { ...x.tags, 'flywheel.source_version': String(m.version) } }));
            return [m, ...made] as [DatasetVersion, ...DatasetVersion[]];
          });
        } catch (err) {
          // Two writers took the same version number: the loser tries again with the next one.
          if (attempt < 5 && isUniqueViolation(err)) continue;
          throw err;
        }
      }
    } catch (err) {
      for (const key of written) {
        if ((await blobReferences(this.db, key).catch(() => 1)) === 0) await this.deps.artifacts.delete(key).catch(() => undefined);
      }
      throw err;
    }
  }

  private async insertVersion(trx: Kysely<Database>, v: NewVersion): Promise<DatasetVersion> {
    const now = Date.now();
    await trx
      .insertInto('datasets')
      .values({ name: v.dataset, description: '', created_time: now, lifecycle_stage: 'active', deleted_time: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    // Adding to a deleted dataset brings it back.
    await trx.updateTable('datasets').set({ lifecycle_stage: 'active', deleted_time: null }).where('name', '=', v.dataset).where('lifecycle_stage', '=', 'deleted').execute();
    const parent = await latestVersionRow(trx, v.dataset);
    const row: VersionRow = {
      version_id: randomUUID().replaceAll('-', ''),
      dataset: v.dataset,
      version: (parent ? Number(parent.version) : 0) + 1,
      content_hash: v.staged.contentHash,
      schema_json: JSON.stringify(v.staged.schema),
      row_count: v.staged.profile.rowCount,
      byte_size: v.staged.byteSize,
      parent_version_id: parent?.version_id ?? null,
      message: v.message,
      author: v.author,
      created_time: now,
      tags_json: JSON.stringify(v.tags),
      storage_key: blobKey(v.staged.contentHash),
      run_id: v.runId,
      profile_json: JSON.stringify(v.staged.profile),
      source_fingerprint: v.fingerprint,
    };
    await trx.insertInto('dataset_versions').values(row).execute();
    await recordEvent(trx, {
      actor: v.author,
      kind: 'dataset.version_created',
      entityType: 'dataset',
      entityId: v.dataset,
      time: now,
      payload: { version: row.version, versionId: row.version_id, contentHash: row.content_hash, rowCount: row.row_count },
    });
    if (v.runId) {
      await recordEdges(trx, [{ from: { type: 'run', id: v.runId }, relation: 'produces', to: { type: 'dataset_version', id: row.version_id } }]);
    }
    return rowToVersion(row);
  }

  /** Stores a finished Parquet file as a new version (transforms, pipeline steps). */
  async commitParquet(input: CommitParquetInput): Promise<DatasetVersion> {
    validateDatasetName(input.dataset);
    const tags = validateTags(input.tags);
    if (typeof input.parquetFile !== 'string' || !fs.existsSync(input.parquetFile)) {
      throw new FlywheelError('FW_NOT_FOUND', `Parquet file ${String(input.parquetFile)} does not exist`);
    }
    if (input.runId) await this.checkRun(input.runId);
    let staged: Staged;
    try {
      staged = await this.stageParquet(input.parquetFile, false);
    } catch (err) {
      if (err instanceof FlywheelError) throw err;
      throw invalidArgument(`${input.parquetFile} is not a readable Parquet file: ${(err as Error).message.split('\n')[0]}`);
    }
    if (input.skipUnchanged) {
      const latest = await latestVersionRow(this.db, input.dataset);
      if (latest && latest.content_hash === staged.contentHash) return rowToVersion(latest);
    }
    const [version] = await this.commit(
      { dataset: input.dataset, staged, message: input.message ?? '', author: input.author ?? this.actor, tags, runId: input.runId ?? null, fingerprint: null },
      [],
    );
    return version;
  }

  /** Soft-deletes a dataset: it leaves `ls`, its versions are kept and still resolve. */
  async rm(name: string): Promise<void> {
    validateDatasetName(name);
    await this.db.transaction().execute(async (trx) => {
      const ds = await getDatasetRow(trx, name);
      if (!ds || ds.lifecycle_stage === 'deleted') throw notFound(`Dataset "${name}" does not exist`);
      const now = Date.now();
      await trx.updateTable('datasets').set({ lifecycle_stage: 'deleted', deleted_time: now }).where('name', '=', name).execute();
      await recordEvent(trx, { actor: this.actor, kind: 'dataset.deleted', entityType: 'dataset', entityId: name, time: now });
    });
  }

  // ------------------------------------------------------------------ reading

  /** Datasets, by name. */
  async ls(options: ListOptions = {}): Promise<Dataset[]> {
    const rows = await listDatasetRows(this.db, options.includeDeleted ?? false);
    return rows.map((r) => rowToDataset(r, r.latest));
  }

  /** One dataset; FW_NOT_FOUND when absent (deleted ones are found, with lifecycleStage "deleted"). */
  async get(name: string): Promise<Dataset> {
    validateDatasetName(name);
    const ds = await getDatasetRow(this.db, name);
    if (!ds) throw notFound(`Dataset "${name}" does not exist`);
    const latest = await latestVersionRow(this.db, name);
    return rowToDataset(ds, latest ? Number(latest.version) : null);
  }

  /** Versions of a dataset, newest first. */
  async log(name: string): Promise<DatasetVersion[]> {
    await this.get(name);
    return (await versionRows(this.db, name)).map(rowToVersion);
  }

  private async resolveRow(ref: string): Promise<VersionRow> {
    const { name, selector } = parseRef(ref);
    const ds = await getDatasetRow(this.db, name);
    if (!ds) throw notFound(`Dataset "${name}" does not exist`);
    const latest = await latestVersionRow(this.db, name);
    if (!latest) throw notFound(`Dataset "${name}" has no versions`);
    if (selector.kind === 'latest') return latest;
    if (selector.kind === 'number') {
      const row = await versionRowByNumber(this.db, name, selector.version);
      if (row) return row;
      const digits = String(selector.version);
      if (digits.length < MIN_HASH_PREFIX) throw notFound(`Dataset "${name}" has no version ${selector.version} (latest is ${latest.version})`);
      return this.byHashPrefix(name, digits, ref, latest);
    }
    return this.byHashPrefix(name, selector.prefix, ref, latest);
  }

  private async byHashPrefix(name: string, prefix: string, ref: string, latest: VersionRow): Promise<VersionRow> {
    const rows = await versionRowsByHashPrefix(this.db, name, prefix);
    if (rows.length === 0) {
      throw notFound(
        /^\d+$/.test(prefix)
          ? `Dataset "${name}" has no version ${prefix} (latest is ${latest.version}) and no version whose content hash starts with "${prefix}"`
          : `Dataset "${name}" has no version whose content hash starts with "${prefix}"`,
      );
    }
    const hashes = new Set(rows.map((r) => r.content_hash));
    if (hashes.size > 1) {
      throw invalidArgument(`"${ref}" is ambiguous: versions ${rows.map((r) => r.version).join(', ')} have content hashes starting with "${prefix}"; give more characters`);
    }
    // The same content may have been added more than once: the newest version with it.
    return rows[0];
  }

  /** Resolves `NAME`, `NAME@3`, `NAME@latest` or `NAME@<hash prefix ≥ 4>`. */
  async resolve(ref: string): Promise<DatasetVersion> {
    return rowToVersion(await this.resolveRow(ref));
  }

  /** A version by its id; FW_NOT_FOUND when absent. */
  async getVersion(id: string): Promise<DatasetVersion> {
    const row = await versionRowById(this.db, id);
    if (!row) throw notFound(`No dataset version with id ${id}`);
    return rowToVersion(row);
  }

  /** A version with its profile. */
  async show(ref: string): Promise<{ version: DatasetVersion; profile: DatasetProfile }> {
    const row = await this.resolveRow(ref);
    return { version: rowToVersion(row), profile: await this.profileOf(row) };
  }

  /** The stored profile of a version. */
  async profile(ref: string): Promise<DatasetProfile> {
    return this.profileOf(await this.resolveRow(ref));
  }

  private async profileOf(row: VersionRow): Promise<DatasetProfile> {
    const stored = rowToProfile(row);
    if (stored) return stored;
    const { profile } = await computeProfile(await this.engine(), await this.parquetPath(rowToVersion(row)), { exactDistinctBound: this.exactDistinctBound });
    await this.db.updateTable('dataset_versions').set({ profile_json: JSON.stringify(profile) }).where('version_id', '=', row.version_id).execute();
    return profile;
  }

  /** A local Parquet path DuckDB can read for the version. */
  async parquetPath(version: DatasetVersion): Promise<string> {
    const cacheDir = this.deps.cacheDir ?? path.join(os.tmpdir(), 'flywheel-blob-cache');
    return localBlobPath(this.deps.artifacts, version.storageKey, cacheDir);
  }

  /** Writes a version to `out` as CSV or Parquet (from the extension unless `format` is given), atomically. */
  async export(ref: string, out: string, options: { format?: 'csv' | 'parquet' } = {}): Promise<ExportResult> {
    const format = options.format ?? (/\.parquet$|\.pq$/i.test(out) ? 'parquet' : /\.csv$/i.test(out) ? 'csv' : null);
    if (format !== 'csv' && format !== 'parquet') throw invalidArgument(`Cannot tell the export format of "${out}": use a .csv or .parquet file name, or give the format`);
    const version = await this.resolve(ref);
    const src = await this.parquetPath(version);
    const target = path.resolve(out);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID().slice(0, 8)}.tmp`);
    try {
      if (format === 'parquet') {
        await fsp.copyFile(src, tmp);
      } else {
        await (await this.engine()).run(`COPY (SELECT * FROM read_parquet(${sqlLiteral(src)})) TO ${sqlLiteral(tmp)} (FORMAT csv, HEADER true)`);
      }
      await fsp.rename(tmp, target);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    return { path: target, format, rows: version.rowCount };
  }

  /** The first `n` rows (default 10, at most MAX_HEAD_ROWS). */
  async head(ref: string, n = 10): Promise<HeadResult> {
    if (!Number.isInteger(n) || n < 0) throw invalidArgument(`n must be a whole number ≥ 0, got ${n}`);
    const limit = Math.min(n, MAX_HEAD_ROWS);
    const version = await this.resolve(ref);
    const src = await this.parquetPath(version);
    const rows = await (await this.engine()).withConnection(async (conn) => {
      const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet(${sqlLiteral(src)}) LIMIT ${limit}`);
      const types = reader.columnTypes().map(String);
      const names = reader.columnNames();
      // JSON-safe values; 64-bit integers and decimals become numbers where that is exact.
      return reader.getRowObjectsJson().map((r) => {
        const out: Record<string, unknown> = {};
        names.forEach((name, i) => {
          const v = (r as Record<string, unknown>)[name];
          const wide = typeof v === 'string' && /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT)$/.test(types[i]) && Number.isSafeInteger(Number(v));
          out[name] = wide || (typeof v === 'string' && types[i].startsWith('DECIMAL')) ? Number(v) : v;
        });
        return out;
      });
    });
    return { version, columns: version.schema, rows };
  }
}

export { quarantineName } from './names.js';
