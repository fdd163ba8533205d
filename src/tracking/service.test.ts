/** Tracking rules, run against every metadata-store backend. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/support/backends.js';
import { LocalArtifactStore } from '../artifacts/local.js';
import { listEvents } from '../events/service.js';
import type { Store } from '../store/index.js';
import { TrackingService } from './service.js';

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`TrackingService on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let svc: TrackingService;
    let artifactDir: string;
    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
      artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-svc-art-'));
      svc = new TrackingService(store, { actor: 'tester', artifacts: new LocalArtifactStore(artifactDir) });
    });
    afterAll(async () => {
      await dispose?.();
      fs.rmSync(artifactDir, { recursive: true, force: true });
    });

    describe('experiments', () => {
      it('creates, gets by id and name, renames, deletes and restores', async () => {
        const e = await svc.createExperiment({ name: 'churn', tags: { team: 'growth' } });
        expect(e).toMatchObject({ name: 'churn', lifecycleStage: 'active', tags: { team: 'growth' }, artifactLocation: `mlflow-artifacts:/${e.experimentId}` });
        expect(Number(e.experimentId)).toBeGreaterThan(0);
        expect((await svc.getExperimentByName('churn')).experimentId).toBe(e.experimentId);
        expect((await svc.renameExperiment(e.experimentId, 'churn-v2')).name).toBe('churn-v2');
        await expect(svc.getExperimentByName('churn')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await svc.deleteExperiment(e.experimentId);
        expect((await svc.getExperiment(e.experimentId)).lifecycleStage).toBe('deleted');
        await expect(svc.createExperiment({ name: 'churn-v2' })).rejects.toMatchObject({ code: 'FW_ALREADY_EXISTS', message: expect.stringContaining('deleted state') });
        await svc.restoreExperiment(e.experimentId);
        expect((await svc.getExperiment(e.experimentId)).lifecycleStage).toBe('active');
      });

      it('refuses duplicate and empty names, unknown ids', async () => {
        await svc.createExperiment({ name: 'dup' });
        await expect(svc.createExperiment({ name: 'dup' })).rejects.toMatchObject({ code: 'FW_ALREADY_EXISTS' });
        await expect(svc.createExperiment({ name: '' })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(svc.getExperiment('987654')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(svc.getExperiment('abc')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      });

      it('deleting an experiment deletes its runs; restoring brings exactly those back', async () => {
        const e = await svc.createExperiment({ name: 'cascade' });
        const kept = await svc.createRun({ experimentId: e.experimentId });
        const earlier = await svc.createRun({ experimentId: e.experimentId });
        await svc.deleteRun(earlier.info.runId);
        await new Promise((r) => setTimeout(r, 5));
        await svc.deleteExperiment(e.experimentId);
        expect((await svc.getRun(kept.info.runId)).info.lifecycleStage).toBe('deleted');
        await svc.restoreExperiment(e.experimentId);
        expect((await svc.getRun(kept.info.runId)).info.lifecycleStage).toBe('active');
        expect((await svc.getRun(earlier.info.runId)).info.lifecycleStage).toBe('deleted');
        await expect(svc.createRun({ experimentId: '0', parentRunId: 'f'.repeat(32) })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      });
    });

    describe('runs', () => {
      it('creates a run with MLflow-style defaults and ends it', async () => {
        const run = await svc.createRun({ experimentId: '0', userId: 'ada', startTime: 1_700_000_000_000, tags: { team: 'a' } });
        expect(run.info).toMatchObject({ experimentId: '0', userId: 'ada', status: 'RUNNING', startTime: 1_700_000_000_000, endTime: null, lifecycleStage: 'active' });
        expect(run.info.runId).toMatch(/^[0-9a-f]{32}$/);
        expect(run.info.artifactUri).toBe(`mlflow-artifacts:/0/${run.info.runId}/artifacts`);
        expect(run.info.runName).toMatch(/^[a-z]+-[a-z]+-\d+$/);
        expect(run.data.tags).toEqual({ team: 'a', 'mlflow.runName': run.info.runName });
        const ended = await svc.endRun(run.info.runId, 'FINISHED', 1_700_000_005_000);
        expect(ended).toMatchObject({ status: 'FINISHED', endTime: 1_700_000_005_000 });
      });

      it('records nested runs through the parent id and the mlflow.parentRunId tag', async () => {
        const parent = await svc.createRun({ experimentId: '0', runName: 'sweep' });
        const child = await svc.createRun({ experimentId: '0', runName: 'trial-1', parentRunId: parent.info.runId });
        const viaTag = await svc.createRun({ experimentId: '0', tags: { 'mlflow.parentRunId': parent.info.runId } });
        expect(child.info.parentRunId).toBe(parent.info.runId);
        expect(child.data.tags['mlflow.parentRunId']).toBe(parent.info.runId);
        expect(viaTag.info.parentRunId).toBe(parent.info.runId);
        expect((await svc.childRuns(parent.info.runId)).map((r) => r.runName).sort()).toEqual([viaTag.info.runName, 'trial-1'].sort());
      });

      it('refuses unknown statuses and writes to deleted runs; restores', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        await expect(svc.updateRun(run.info.runId, { status: 'DONE' as never })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await svc.deleteRun(run.info.runId);
        await expect(svc.logParam(run.info.runId, 'a', '1')).rejects.toMatchObject({ code: 'FW_INVALID_STATE' });
        await svc.restoreRun(run.info.runId);
        await svc.logParam(run.info.runId, 'a', '1');
        await expect(svc.getRun('0'.repeat(32))).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(svc.getRun('not-a-run')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      });

      it('records run lifecycle events in order', async () => {
        const run = await svc.createRun({ experimentId: '0', userId: 'ada' });
        await svc.endRun(run.info.runId, 'FAILED');
        await svc.deleteRun(run.info.runId);
        const events = await listEvents(store.db, { entityType: 'run', entityId: run.info.runId });
        expect(events.map((e) => e.kind)).toEqual(['run.created', 'run.status_changed', 'run.deleted']);
        expect(events[1].payload).toEqual({ from: 'RUNNING', to: 'FAILED' });
        expect(events[0].actor).toBe('ada');
      });
    });

    describe('params, metrics, tags', () => {
      it('keeps params immutable: same value is fine, another value is refused', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        await svc.logParam(run.info.runId, 'lr', '0.01');
        await svc.logParam(run.info.runId, 'lr', '0.01');
        await expect(svc.logParam(run.info.runId, 'lr', '0.02')).rejects.toMatchObject({
          code: 'FW_CONFLICT',
          message: expect.stringContaining("Param with key='lr' was already logged with value='0.01'"),
        });
        expect((await svc.getRun(run.info.runId)).data.params).toEqual({ lr: '0.01' });
      });

      it('writes nothing of a batch that is rejected', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        await svc.logParam(run.info.runId, 'depth', '3');
        const metrics = Array.from({ length: 10 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 1000 + i, step: i }));
        // A conflicting param discovered in the database rolls back the metrics and tags logged with it.
        await expect(
          svc.logBatch(run.info.runId, { metrics, params: [{ key: 'new', value: 'x' }, { key: 'depth', value: '4' }], tags: [{ key: 't', value: 'v' }] }),
        ).rejects.toMatchObject({ code: 'FW_CONFLICT' });
        // An invalid point anywhere in the batch is caught before anything is written.
        const bad = [...metrics, { key: 'loss', value: 'high' as unknown as number, timestamp: 1, step: 0 }];
        await expect(svc.logBatch(run.info.runId, { metrics: bad })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        const after = await svc.getRun(run.info.runId);
        expect(after.data.params).toEqual({ depth: '3' });
        expect(after.data.metrics).toEqual([]);
        expect(after.data.tags.t).toBeUndefined();
        expect((await svc.getMetricHistory(run.info.runId, 'loss')).items).toEqual([]);
      });

      it('enforces MLflow batch limits and key rules', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        const id = run.info.runId;
        const m = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
        const p = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: 'v' }));
        await expect(svc.logBatch(id, { metrics: m(1001) })).rejects.toMatchObject({ code: 'FW_LIMIT_EXCEEDED' });
        await expect(svc.logBatch(id, { params: p(101) })).rejects.toMatchObject({ code: 'FW_LIMIT_EXCEEDED' });
        await expect(svc.logBatch(id, { tags: p(101) })).rejects.toMatchObject({ code: 'FW_LIMIT_EXCEEDED' });
        await expect(svc.logBatch(id, { metrics: m(950), params: p(51) })).rejects.toMatchObject({ code: 'FW_LIMIT_EXCEEDED' });
        await expect(svc.logParam(id, 'k'.repeat(251), 'v')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(svc.logParam(id, 'bad*name', 'v')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(svc.logParam(id, 'a/../b', 'v')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(svc.logParam(id, 'big', 'x'.repeat(6001))).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(svc.setTag(id, 'big', 'x'.repeat(8001))).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await svc.logBatch(id, { metrics: m(1000) });
        await svc.logParam(id, 'ünïcode name/with-dash_and.dot 1', 'x'.repeat(6000));
        await svc.setTag(id, 'big', 'x'.repeat(8000));
        expect((await svc.getMetricHistory(id, 'm')).items).toHaveLength(1000);
      });

      it('keeps the full history (ordered by step, timestamp, value) and the latest point by the same order', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        const id = run.info.runId;
        await svc.logBatch(id, {
          metrics: [
            { key: 'acc', value: 0.5, timestamp: 100, step: 0 },
            { key: 'acc', value: 0.7, timestamp: 300, step: 2 },
            { key: 'acc', value: 0.6, timestamp: 200, step: 1 },
          ],
        });
        // A later timestamp at a lower step is history, not the latest value.
        await svc.logMetric(id, { key: 'acc', value: 0.1, timestamp: 999, step: 1 });
        await svc.logMetric(id, { key: 'acc', value: 0.65, timestamp: 300, step: 2 });
        const history = (await svc.getMetricHistory(id, 'acc')).items;
        expect(history.map((m) => [m.step, m.timestamp, m.value])).toEqual([
          [0, 100, 0.5],
          [1, 200, 0.6],
          [1, 999, 0.1],
          [2, 300, 0.65],
          [2, 300, 0.7],
        ]);
        expect((await svc.getRun(id)).data.metrics).toEqual([{ key: 'acc', value: 0.7, timestamp: 300, step: 2 }]);
        const page1 = await svc.getMetricHistory(id, 'acc', { maxResults: 2 });
        expect(page1.items.map((m) => m.value)).toEqual([0.5, 0.6]);
        const page2 = await svc.getMetricHistory(id, 'acc', { maxResults: 2, pageToken: page1.nextPageToken! });
        const page3 = await svc.getMetricHistory(id, 'acc', { maxResults: 2, pageToken: page2.nextPageToken! });
        expect([...page2.items, ...page3.items].map((m) => m.value)).toEqual([0.1, 0.65, 0.7]);
        expect(page3.nextPageToken).toBeNull();
      });

      it('stores NaN and infinities as MLflow does', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        await svc.logBatch(run.info.runId, {
          metrics: [
            { key: 'nan', value: Number.NaN, timestamp: 1, step: 0 },
            { key: 'inf', value: 'Infinity' as unknown as number, timestamp: 1, step: 0 },
            { key: 'ninf', value: Number.NEGATIVE_INFINITY, timestamp: 1, step: 0 },
          ],
        });
        const byKey = Object.fromEntries((await svc.getRun(run.info.runId)).data.metrics.map((m) => [m.key, m.value]));
        expect(byKey.nan).toBeNaN();
        // Stored clamped to ±max double as in MLflow's SQL store, read back as what was logged.
        expect(byKey.inf).toBe(Infinity);
        expect(byKey.ninf).toBe(-Infinity);
        const [row] = await store.db.selectFrom('metrics').select('value').where('run_id', '=', run.info.runId).where('key', '=', 'inf').execute();
        expect(row.value).toBe(1.7976931348623157e308);
      });

      it('sets and deletes tags; mlflow.runName renames the run', async () => {
        const run = await svc.createRun({ experimentId: '0', runName: 'before' });
        await svc.setTag(run.info.runId, 'mlflow.runName', 'after');
        expect((await svc.getRun(run.info.runId)).info.runName).toBe('after');
        await svc.setTag(run.info.runId, 'x', '1');
        await svc.setTag(run.info.runId, 'x', '2');
        expect((await svc.getRun(run.info.runId)).data.tags.x).toBe('2');
        await svc.deleteTag(run.info.runId, 'x');
        expect((await svc.getRun(run.info.runId)).data.tags.x).toBeUndefined();
        await expect(svc.deleteTag(run.info.runId, 'x')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      });
    });

    describe('artifacts', () => {
      it('stores run artifacts under the run root and lists them relative to it', async () => {
        const run = await svc.createRun({ experimentId: '0' });
        await svc.putRunArtifact(run.info.runId, 'model/model.json', Buffer.from('{"w":[1,2]}'));
        await svc.putRunArtifact(run.info.runId, 'notes.txt', Buffer.from('hi'));
        expect(await svc.listRunArtifacts(run.info.runId)).toEqual([
          { path: 'model', isDir: true, size: 0 },
          { path: 'notes.txt', isDir: false, size: 2 },
        ]);
        expect(await svc.listRunArtifacts(run.info.runId, 'model')).toEqual([{ path: 'model/model.json', isDir: false, size: 11 }]);
        expect(await text(await svc.getRunArtifact(run.info.runId, 'model/model.json'))).toBe('{"w":[1,2]}');
        expect(fs.existsSync(path.join(artifactDir, 'mlflow-artifacts', '0', run.info.runId, 'artifacts', 'notes.txt'))).toBe(true);
        await expect(svc.putRunArtifact(run.info.runId, '../../escape', Buffer.from('x'))).rejects.toMatchObject({ code: 'FW_UNSAFE_PATH' });
      });
    });
  });
}
