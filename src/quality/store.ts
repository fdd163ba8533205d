/**
 * The validation_results table: one row per suite run on a dataset version,
 * written together with its audit event, read back newest first; and the
 * quality_suites table, the suite registry (one row per name, each change an
 * event).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { recordEvent } from '../events/service.js';
import type { PutSuiteResult, RegisteredSuite, Suite, SuiteChange, ValidationResult } from './types.js';

export async function insertResult(db: Kysely<Database>, result: ValidationResult & { versionId: string }, suite: Suite, actor: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('validation_results')
      .values({
        result_id: result.id,
        dataset: result.dataset,
        version_id: result.versionId,
        suite_name: result.suite,
        suite_hash: result.suiteHash,
        suite: JSON.stringify(suite),
        time: result.time,
        success: result.success ? 1 : 0,
        statistics: JSON.stringify(result.statistics),
        checks: JSON.stringify(result.checks),
      })
      .execute();
    await recordEvent(trx, {
      actor,
      kind: 'dataset_version.validated',
      entityType: 'dataset_version',
      entityId: result.versionId,
      time: result.time,
      payload: { resultId: result.id, suite: result.suite, suiteHash: result.suiteHash, success: result.success, statistics: result.statistics },
    });
  });
}

/** Results for a version, newest first. */
export async function listResults(db: Kysely<Database>, versionId: string): Promise<ValidationResult[]> {
  const rows = await db
    .selectFrom('validation_results')
    .selectAll()
    .where('version_id', '=', versionId)
    .orderBy('time', 'desc')
    .orderBy('result_id', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.result_id,
    suite: r.suite_name,
    suiteHash: r.suite_hash,
    dataset: r.dataset,
    versionId: r.version_id,
    time: Number(r.time),
    success: Number(r.success) === 1,
    statistics: JSON.parse(r.statistics),
    checks: JSON.parse(r.checks),
  }));
}

// ------------------------------------------------------------------ the suite registry

interface SuiteRow {
  name: string;
  dataset: string;
  definition: string;
  hash: string;
  created_time: number | string;
  updated_time: number | string;
}

function toRegistered(r: SuiteRow): RegisteredSuite {
  return {
    name: r.name,
    dataset: r.dataset,
    definition: JSON.parse(r.definition) as Suite,
    hash: r.hash,
    createdTime: Number(r.created_time),
    updatedTime: Number(r.updated_time),
  };
}

/**
 * Stores `suite` under its name: inserts it, replaces a different definition,
 * or leaves an equal one (same hash) alone. Each change is recorded as an
 * event with the definition, in the same transaction.
 */
export async function upsertSuite(db: Kysely<Database>, suite: Suite, hash: string, actor: string, time: number): Promise<PutSuiteResult> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('quality_suites').selectAll().where('name', '=', suite.name).executeTakeFirst();
    if (existing && existing.hash === hash) return { ...toRegistered(existing), change: 'unchanged' as const };
    const definition = JSON.stringify(suite);
    let change: SuiteChange = 'updated';
    if (!existing) {
      // A concurrent put of the same new name inserts nothing here and is applied as an update below.
      const inserted = await trx
        .insertInto('quality_suites')
        .values({ name: suite.name, dataset: suite.dataset, definition, hash, created_time: time, updated_time: time })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) change = 'created';
    }
    if (change === 'updated') {
      await trx.updateTable('quality_suites').set({ dataset: suite.dataset, definition, hash, updated_time: time }).where('name', '=', suite.name).execute();
    }
    await recordEvent(trx, {
      actor,
      kind: `quality_suite.${change}`,
      entityType: 'quality_suite',
      entityId: suite.name,
      time,
      payload: { dataset: suite.dataset, hash, definition: suite, ...(existing ? { previousHash: existing.hash } : {}) },
    });
    const row = await trx.selectFrom('quality_suites').selectAll().where('name', '=', suite.name).executeTakeFirstOrThrow();
    return { ...toRegistered(row), change };
  });
}

export async function findSuite(db: Kysely<Database>, name: string): Promise<RegisteredSuite | null> {
  const row = await db.selectFrom('quality_suites').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toRegistered(row) : null;
}

/** Registered suites by name; only those bound to `dataset` when given. */
export async function listSuites(db: Kysely<Database>, dataset?: string): Promise<RegisteredSuite[]> {
  let query = db.selectFrom('quality_suites').selectAll();
  if (dataset !== undefined) query = query.where('dataset', '=', dataset);
  return (await query.orderBy('name', 'asc').execute()).map(toRegistered);
}

/** Removes the suite and records the event; false when no suite has that name. */
export async function removeSuite(db: Kysely<Database>, name: string, actor: string, time: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('quality_suites').select(['dataset', 'hash']).where('name', '=', name).executeTakeFirst();
    if (!existing) return false;
    await trx.deleteFrom('quality_suites').where('name', '=', name).execute();
    await recordEvent(trx, { actor, kind: 'quality_suite.deleted', entityType: 'quality_suite', entityId: name, time, payload: { dataset: existing.dataset, hash: existing.hash } });
    return true;
  });
}
