/**
 * QualityService stores one result per validation with its version and reads
 * them back unchanged (newest first), with an audit event per result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/index.js';
import type { Store } from '../store/index.js';
import { BACKENDS } from '../../test/support/backends.js';
import { listEvents } from '../events/service.js';
import { FakeReader, csvSelect, tempDir, writeParquet } from '../../test/fixtures/quality/support.js';
import { QualityService } from './service.js';
import { defineSuite } from './suite.js';
import { validateParquet } from './runner.js';

let engine: Engine;
let reader: FakeReader;

beforeAll(async () => {
  const dir = tempDir();
  engine = await Engine.open({ threads: 1, memoryLimit: '256MB' });
  reader = new FakeReader();
  reader.add('orders', await writeParquet(engine, dir, 'orders', csvSelect('orders.csv')));
});
afterAll(() => engine?.close());

const suite = defineSuite({
  name: 'orders_basic',
  dataset: 'orders',
  checks: [
    { type: 'not_null', column: 'id' },
    { type: 'not_null', column: 'amount', severity: 'warn' },
    { type: 'in_set', column: 'status', values: ['paid', 'shipped'] },
  ],
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`QualityService on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let quality: QualityService;
    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
      quality = new QualityService({ store, engine, data: reader, actor: 'tester' });
    });
    afterAll(async () => dispose?.());

    it('stores results per version and reads them back unchanged', async () => {
      const version = await reader.resolve('orders@1');
      const first = await quality.validate('orders@1', suite);
      expect(first.id).toMatch(/^[0-9a-f]{32}$/);
      expect(first).toMatchObject({ versionId: version.id, dataset: 'orders', suite: 'orders_basic', success: false });
      expect(first.statistics).toEqual({ checks: 3, passed: 1, failed: 2, errors: 1, warnings: 1 });
      const second = await quality.validate('orders@1', defineSuite({ ...suite, checks: [suite.checks[0]] }));
      expect(second.success).toBe(true);

      const stored = await quality.results(version.id);
      expect(stored.map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
      expect(stored[0].time).toBeGreaterThanOrEqual(stored[1].time);
      const back = stored.find((r) => r.id === first.id)!;
      expect(back).toEqual(first);
      // Sample rows survive the JSON column: rows 3 (refund) and 8 (cancelled).
      expect(back.checks[2].sampleFailingRows.map((r) => r.id)).toEqual(['3', '8']);
      expect(back.checks[1].sampleFailingRows).toEqual([
        { id: '4', customer_id: '10', status: 'paid', amount: null, email: 'd@x', created_at: '2024-03-02 12:00:00', region: 'us' },
      ]);

      const events = await listEvents(store.db, { entityType: 'dataset_version', entityId: version.id });
      expect(events.map((e) => [e.kind, e.actor, e.payload.resultId])).toEqual(
        expect.arrayContaining([
          ['dataset_version.validated', 'tester', first.id],
          ['dataset_version.validated', 'tester', second.id],
        ]),
      );
    });

    it('keeps nothing with save: false and nothing for unknown versions', async () => {
      const id = (await reader.resolve('orders@1')).id;
      const before = (await quality.results(id)).length;
      await quality.validate('orders@1', suite, { save: false });
      expect((await quality.results(id)).length).toBe(before);
      expect(await quality.results('0'.repeat(32))).toEqual([]);
    });

    it('records a result computed on a file before it became a version', async () => {
      const file = await reader.parquetPath(await reader.resolve('orders@1'));
      const pre = await validateParquet(file, suite, { engine, reader, dataset: 'orders' });
      expect(pre.versionId).toBeNull();
      const version = reader.add('orders', file);
      const stored = await quality.record(version, suite, pre);
      expect(await quality.results(version.id)).toEqual([stored]);
      expect(stored).toMatchObject({ versionId: version.id, success: false });
    });

    it('answers FW_NOT_FOUND for an unknown ref', async () => {
      await expect(quality.validate('orders@9', suite)).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    });
  });
}
