/**
 * The suite registry on SQLite and PostgreSQL: put (created, unchanged for
 * the same definition however it is spelled, updated for another), get,
 * list (all, by dataset), delete, the events each change records, and the
 * errors for bad names, bad suites and unknown names. The clock is pinned,
 * so every time below is a literal.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../events/service.js';
import type { Store } from '../store/index.js';
import { BACKENDS } from '../../test/support/backends.js';
import { FIXTURES } from '../../test/fixtures/quality/support.js';
import { SuiteRegistry, suiteFromFileOrRegistry } from './registry.js';
import { loadSuiteFile } from './suite.js';

const ORDERS_YAML = path.join(FIXTURES, 'suites', 'orders.yaml');

/** orders.yaml as a TS object, written with other key orders and without the defaults the parser fills in. */
const ordersObject = {
  checks: [
    { column: 'id', type: 'not_null' },
    { type: 'unique', column: 'id' },
    { type: 'in_set', column: 'status', values: ['paid', 'refund', 'shipped', 'cancelled'] },
    { type: 'between', column: 'amount', min: 0, severity: 'warn' },
    { type: 'regex', column: 'email', pattern: '^[^@]+@[^@]+\\.[a-z]+$' },
  ],
  dataset: 'orders',
  name: 'orders_basic',
};

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`suite registry on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let clock = 0;
    let registry: SuiteRegistry;
    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
      registry = new SuiteRegistry({ store, actor: 'ada', now: () => clock });
    });
    afterAll(async () => dispose?.());

    it('creates, leaves an equal definition alone, replaces another, lists and deletes', async () => {
      clock = 1_000;
      const created = await registry.putSuite(loadSuiteFile(ORDERS_YAML));
      expect(created).toMatchObject({ name: 'orders_basic', dataset: 'orders', change: 'created', createdTime: 1_000, updatedTime: 1_000 });
      expect(created.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(created.definition.checks.map((c) => c.name)).toEqual(['not_null(id)', 'unique(id)', 'in_set(status)', 'between(amount)', 'regex(email)']);
      expect(created.definition.checks[3]).toMatchObject({ severity: 'warn', mostly: 1, min: 0, min_inclusive: true, max_inclusive: true });

      // The same suite spelled differently is the same definition.
      clock = 2_000;
      const same = await registry.putSuite(ordersObject as never);
      expect(same).toMatchObject({ change: 'unchanged', hash: created.hash, createdTime: 1_000, updatedTime: 1_000 });

      clock = 3_000;
      const changed = { ...ordersObject, checks: ordersObject.checks.slice(0, 2) };
      const updated = await registry.putSuite(changed as never);
      expect(updated).toMatchObject({ change: 'updated', createdTime: 1_000, updatedTime: 3_000 });
      expect(updated.hash).not.toBe(created.hash);
      expect(updated.definition.checks).toHaveLength(2);

      clock = 4_000;
      await registry.putSuite({ name: 'customers.keys', dataset: 'customers', checks: [{ type: 'unique', column: 'customer_id' }] });

      const { change: _change, ...stored } = updated;
      expect(await registry.getSuite('orders_basic')).toEqual(stored);
      expect((await registry.listSuites()).map((s) => [s.name, s.dataset, s.updatedTime])).toEqual([
        ['customers.keys', 'customers', 4_000],
        ['orders_basic', 'orders', 3_000],
      ]);
      expect((await registry.listSuites('orders')).map((s) => s.name)).toEqual(['orders_basic']);
      expect(await registry.listSuites('shipments')).toEqual([]);

      clock = 5_000;
      await registry.deleteSuite('orders_basic');
      expect((await registry.listSuites()).map((s) => s.name)).toEqual(['customers.keys']);
      await expect(registry.getSuite('orders_basic')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'No suite named "orders_basic" is registered' });
      await expect(registry.deleteSuite('orders_basic')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });

      // Each change is an event (the unchanged put is none), naming who made it.
      const events = await listEvents(store.db, { entityType: 'quality_suite', entityId: 'orders_basic' });
      expect(events.map((e) => [e.kind, e.actor, e.time])).toEqual([
        ['quality_suite.created', 'ada', 1_000],
        ['quality_suite.updated', 'ada', 3_000],
        ['quality_suite.deleted', 'ada', 5_000],
      ]);
      expect(events[1].payload).toMatchObject({ dataset: 'orders', hash: updated.hash, previousHash: created.hash, definition: updated.definition });
      expect(events[2].payload).toEqual({ dataset: 'orders', hash: updated.hash });
    });

    it('refuses bad names and bad suites, storing nothing', async () => {
      const before = await registry.listSuites();
      await expect(registry.putSuite({ name: 'orders/basic', dataset: 'orders', checks: [{ type: 'not_null', column: 'id' }] })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
        message: 'Invalid suite name "orders/basic": use 1-128 letters, digits, "_", "." or "-", starting with a letter or digit',
      });
      await expect(registry.putSuite({ name: 'orders_x', dataset: 'orders', checks: [{ type: 'between', column: 'amount' } as never] })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
        message: 'suite "orders_x": checks[0] (between): give "min", "max" or both',
      });
      expect(await registry.listSuites()).toEqual(before);
    });

    it('resolves --suite as a file first, then a registered name', async () => {
      await registry.putSuite({ name: 'orders_reg', dataset: 'orders', checks: [{ type: 'row_count', min: 1 }] });
      expect((await suiteFromFileOrRegistry(ORDERS_YAML, registry)).name).toBe('orders_basic');
      expect((await suiteFromFileOrRegistry('orders_reg', registry)).checks).toEqual([{ type: 'row_count', min: 1, severity: 'error', name: 'row_count' }]);
      await expect(suiteFromFileOrRegistry('orders_none', registry)).rejects.toMatchObject({
        code: 'FW_NOT_FOUND',
        message: 'No suite file orders_none and no suite named "orders_none" is registered',
      });
      await expect(suiteFromFileOrRegistry('suites/none.yaml', registry)).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: 'suite file suites/none.yaml does not exist' });
    });
  });
}
