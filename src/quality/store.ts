/**
 * The validation_results table: one row per suite run on a dataset version,
 * written together with its audit event, read back newest first.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { recordEvent } from '../events/service.js';
import type { Suite, ValidationResult } from './types.js';

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
