/**
 * Transforms on a fresh embedded store for tests: the data harness (SQLite,
 * local artifacts, one-thread DuckDB) plus a TrackingService on the same
 * store, and `chain()`, which builds raw → features → scores from the SQL
 * files in test/fixtures/transform.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalArtifactStore } from '../../src/artifacts/local.js';
import { runTransform, type TransformResult } from '../../src/data/transform.js';
import { openStore } from '../../src/store/index.js';
import { TrackingService } from '../../src/tracking/service.js';
import { openDataHarness, type DataHarness } from './data.js';

export const TRANSFORM_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/transform');

export interface TransformHarness extends DataHarness {
  tracking: TrackingService;
  /** raw@1 from raw.csv, then features@1 and scores@1 by transform. */
  chain(): Promise<{ features: TransformResult; scores: TransformResult }>;
}

export async function openTransformHarness(): Promise<TransformHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-transform-test-'));
  const store = await openStore(`sqlite:${path.join(dir, 'flywheel.db')}`);
  const tracking = new TrackingService(store, { actor: 'tester', artifacts: new LocalArtifactStore(path.join(dir, 'run-artifacts')) });
  const h = await openDataHarness({ store, deps: { tracking } });
  return {
    ...h,
    tracking,
    async chain() {
      await h.data.add('raw', path.join(TRANSFORM_FIXTURES, 'raw.csv'));
      const deps = { data: h.data, tracking, engine: h.engine, store };
      const features = await runTransform(deps, { file: path.join(TRANSFORM_FIXTURES, 'features.sql') }, { into: 'features' });
      const scores = await runTransform(deps, { file: path.join(TRANSFORM_FIXTURES, 'scores.sql') }, { into: 'scores' });
      return { features, scores };
    },
    async dispose() {
      await h.dispose();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
