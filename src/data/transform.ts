/**
 * SQL transforms: a SELECT that reads other datasets by name —
 * `select … from {{ ref('orders') }} join {{ ref('customers@4') }} …` — run in
 * DuckDB and stored as a new version of a target dataset. Each `ref` is
 * resolved to a version and replaced by `read_parquet('<its file>')`; the
 * query is written to a zstd Parquet file with `COPY (…) TO`, and committed
 * through `DatasetWriter.commitParquet`.
 *
 * Every transform is a tracking Run in the experiment `transforms`: params
 * `sql_file`, `target` and `inputs` (the resolved refs), the SQL's sha256 as
 * a tag, the SQL text as the artifact `transform.sql`, lineage edges run
 * —consumes→ each input version and run —produces→ the new version (the
 * latter recorded by commitParquet), and status FINISHED, or FAILED with the
 * error in the tag `flywheel.transform.error`. A failure makes no version.
 *
 * Template and file problems are found before the run starts and create no
 * run; everything after (unknown refs, SQL errors) is recorded on the run.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlywheelError, invalidArgument, isFlywheelError, notFound } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { sqlLiteral, type Engine } from '../engine/index.js';
import { recordEdges } from '../lineage/service.js';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import { PARQUET_COPY_OPTIONS } from './ingest.js';
import { validateDatasetName } from './names.js';
import { parseRefTemplate, renderRefTemplate, type RefPlaceholder } from './ref-template.js';
import type { DatasetReader, DatasetVersion, DatasetWriter } from './types.js';

export const TRANSFORMS_EXPERIMENT = 'transforms';
export const TRANSFORM_ARTIFACT = 'transform.sql';
export const TRANSFORM_TAGS = {
  sqlHash: 'flywheel.transform.sql_sha256',
  target: 'flywheel.transform.target',
  output: 'flywheel.transform.output',
  error: 'flywheel.transform.error',
} as const;

const MAX_ERROR_TAG = 8000;

export interface TransformDeps {
  data: DatasetReader & DatasetWriter;
  tracking: Pick<TrackingApi, 'ensureExperiment' | 'createRun' | 'logBatch' | 'putRunArtifact' | 'endRun'>;
  engine: Engine;
  /** Where the lineage edges are recorded. */
  store: Pick<Store, 'db'>;
}

/** The SQL to run: a file, or text (named `name` in messages, default "SQL"). */
export type TransformSource = { file: string } | { sql: string; name?: string };

export interface TransformOptions {
  /** The dataset that receives the result as a new version. */
  into: string;
  /** The version's message (default: "transform <file>"). */
  message?: string;
  /** Extra params to log on the run (e.g. a pipeline step's). */
  params?: Record<string, string>;
  /** The run's user (default: the tracking service's actor). */
  author?: string;
}

export interface TransformInput {
  /** The ref as written in the SQL. */
  ref: string;
  version: DatasetVersion;
}

export interface TransformResult {
  version: DatasetVersion;
  runId: string;
  inputs: TransformInput[];
  sqlSha256: string;
}

/** The SQL text and its name for messages. */
async function readSource(source: TransformSource): Promise<{ sql: string; where: string; file: string | null }> {
  if ('file' in source) {
    try {
      return { sql: await fsp.readFile(source.file, 'utf8'), where: source.file, file: source.file };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`SQL file ${source.file} does not exist`);
      throw invalidArgument(`Cannot read SQL file ${source.file}: ${(err as Error).message}`);
    }
  }
  if (typeof source.sql !== 'string') throw invalidArgument('Transform SQL is required');
  return { sql: source.sql, where: source.name ?? 'SQL', file: null };
}

/** The query as DuckDB will run it: refs replaced, trailing semicolons dropped. */
function queryText(sql: string, placeholders: RefPlaceholder[], paths: Map<string, string>): string {
  return renderRefTemplate(sql, placeholders, (p) => `read_parquet(${sqlLiteral(paths.get(p.ref)!)})`).replace(/[\s;]+$/, '');
}

/**
 * DuckDB's message, with its "LINE n: <echo of the statement>" context turned
 * into "(line n)": the echo shows the rewritten query, not the user's file.
 * `COPY (` shares the query's first line, so line numbers are the file's.
 */
function sqlFailure(where: string, err: unknown): FlywheelError {
  const text = (err as Error)?.message ?? String(err);
  const m = /\n\s*LINE (\d+):/.exec(text);
  const head = (m ? text.slice(0, m.index) : text).trim().replace(/\s*\n\s*/g, ' ');
  return invalidArgument(`${where}: SQL failed: ${head}${m ? ` (line ${m[1]})` : ''}`);
}

/** Runs a SQL transform as a tracked run and commits its result as a new version of `options.into`. */
export async function runTransform(deps: TransformDeps, source: TransformSource, options: TransformOptions): Promise<TransformResult> {
  const into = validateDatasetName(options.into);
  const { sql, where, file } = await readSource(source);
  if (sql.trim() === '') throw invalidArgument(`${where}: the SQL is empty`);
  const placeholders = parseRefTemplate(sql, where);
  const sqlSha256 = sha256Hex(sql);

  const experiment = await deps.tracking.ensureExperiment(TRANSFORMS_EXPERIMENT);
  const run = await deps.tracking.createRun({
    experimentId: experiment.experimentId,
    runName: `transform ${into}`,
    ...(options.author ? { userId: options.author } : {}),
    tags: { [TRANSFORM_TAGS.sqlHash]: sqlSha256, [TRANSFORM_TAGS.target]: into, ...(file ? { 'mlflow.source.name': file } : {}) },
  });
  const runId = run.info.runId;
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fw-transform-'));
  try {
    const params = { ...(options.params ?? {}), sql_file: file ?? where, target: into };
    await deps.tracking.logBatch(runId, { params: Object.entries(params).map(([key, value]) => ({ key, value: String(value) })) });
    await deps.tracking.putRunArtifact(runId, TRANSFORM_ARTIFACT, new TextEncoder().encode(sql));

    // Resolve each distinct ref once.
    const inputs: TransformInput[] = [];
    const paths = new Map<string, string>();
    for (const p of placeholders) {
      if (paths.has(p.ref)) continue;
      let version: DatasetVersion;
      try {
        version = await deps.data.resolve(p.ref);
      } catch (err) {
        if (isFlywheelError(err)) throw new FlywheelError(err.code, `${where}:${p.line}:${p.column}: ref('${p.ref}'): ${err.message}`, err.details);
        throw err;
      }
      inputs.push({ ref: p.ref, version });
      paths.set(p.ref, await deps.data.parquetPath(version));
    }
    await deps.tracking.logBatch(runId, { params: [{ key: 'inputs', value: inputs.map((i) => `${i.version.dataset}@${i.version.version}`).join(',') }] });
    await recordEdges(
      deps.store.db,
      inputs.map((i) => ({ from: { type: 'run' as const, id: runId }, relation: 'consumes' as const, to: { type: 'dataset_version' as const, id: i.version.id } })),
    );

    const out = path.join(workDir, 'result.parquet');
    try {
      await deps.engine.run(`COPY (${queryText(sql, placeholders, paths)}\n) TO ${sqlLiteral(out)} ${PARQUET_COPY_OPTIONS}`);
    } catch (err) {
      throw sqlFailure(where, err);
    }
    const version = await deps.data.commitParquet({
      dataset: into,
      parquetFile: out,
      runId,
      message: options.message ?? `transform ${file ? path.basename(file) : where}`,
      ...(options.author ? { author: options.author } : {}),
      tags: { [TRANSFORM_TAGS.sqlHash]: sqlSha256 },
    });
    await deps.tracking.logBatch(runId, { tags: [{ key: TRANSFORM_TAGS.output, value: `${version.dataset}@${version.version}` }] });
    await deps.tracking.endRun(runId, 'FINISHED');
    return { version, runId, inputs, sqlSha256 };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Recording the failure must not hide it.
    await deps.tracking.logBatch(runId, { tags: [{ key: TRANSFORM_TAGS.error, value: message.slice(0, MAX_ERROR_TAG) }] }).catch(() => undefined);
    await deps.tracking.endRun(runId, 'FAILED').catch(() => undefined);
    throw err;
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}
