/** Walking lineage across two transforms, upstream and downstream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/support/backends.js';
import type { Store } from '../store/index.js';
import { recordEdges, walkLineage } from './service.js';

const v = (id: string) => ({ type: 'dataset_version' as const, id });
const r = (id: string) => ({ type: 'run' as const, id });

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`lineage on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
      // raw@1 + customers@1 → t1 → features@1 → t2 → scores@1; unrelated: other@1 → t3 → x@1
      await recordEdges(store.db, [
        { from: r('t1'), relation: 'consumes', to: v('raw@1') },
        { from: r('t1'), relation: 'consumes', to: v('customers@1') },
        { from: r('t1'), relation: 'produces', to: v('features@1') },
        { from: r('t2'), relation: 'consumes', to: v('features@1') },
        { from: r('t2'), relation: 'produces', to: v('scores@1') },
        { from: r('t3'), relation: 'consumes', to: v('other@1') },
        { from: r('t3'), relation: 'produces', to: v('x@1') },
      ]);
      // Recording the same edge again changes nothing.
      await recordEdges(store.db, [{ from: r('t1'), relation: 'produces', to: v('features@1') }]);
    });
    afterAll(async () => dispose?.());

    it('walks upstream from the last output back to raw data', async () => {
      const { nodes, edges } = await walkLineage(store.db, v('scores@1'), 'upstream');
      expect(nodes.map((n) => n.id).sort()).toEqual(['customers@1', 'features@1', 'raw@1', 'scores@1', 't1', 't2']);
      expect(edges).toHaveLength(5);
    });

    it('walks downstream from raw data to everything derived from it', async () => {
      const { nodes } = await walkLineage(store.db, v('raw@1'), 'downstream');
      expect(nodes.map((n) => n.id).sort()).toEqual(['features@1', 'raw@1', 'scores@1', 't1', 't2']);
    });

    it('does not wander into sibling inputs when walking downstream', async () => {
      const { nodes } = await walkLineage(store.db, v('customers@1'), 'downstream');
      expect(nodes.map((n) => n.id)).not.toContain('raw@1');
    });
  });
}
