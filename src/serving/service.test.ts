/**
 * Deployment rules, run against every metadata-store backend: revisions and
 * their events, references checked against the registry before anything is
 * written, traffic changes and rollbacks, what serving processes record about
 * a revision, lineage, the prediction log and ground-truth feedback joined to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/support/backends.js';
import { LocalArtifactStore } from '../artifacts/local.js';
import { FlywheelError, type ErrorCode } from '../core/errors.js';
import { listEvents } from '../events/service.js';
import { walkLineage } from '../lineage/service.js';
import { RegistryService } from '../registry/service.js';
import type { ModelVersion } from '../registry/types.js';
import type { Store } from '../store/index.js';
import { TrackingService } from '../tracking/service.js';
import { DeploymentService, MAX_FEEDBACK_ITEMS, validateDeploymentName } from './service.js';
import type { PredictionLogInsert } from './store.js';

const MANIFEST = {
  format: 1,
  flavor: 'js',
  signature: { inputs: [{ name: 'x', type: 'double' }], outputs: [{ name: 'prediction', type: 'string' }] },
  task: 'classification',
  classes: ['no', 'yes'],
  files: { module: 'predict.mjs' },
  preprocessing: null,
  training: { runId: null, dataset: null, datasetVersionId: null, target: null },
  metrics: {},
  libraries: {},
  createdTime: 1764000000000,
};

async function rejects(p: Promise<unknown>, code: ErrorCode): Promise<FlywheelError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe(code);
    return err as FlywheelError;
  }
  throw new Error(`expected ${code}, the call succeeded`);
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`DeploymentService on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let artifactDir: string;
    let registry: RegistryService;
    let svc: DeploymentService;
    let clock = 1_700_000_000_000;
    const versions: ModelVersion[] = [];

    /** Every row serving writes, to show a refused request changed nothing. */
    async function snapshot() {
      const db = store.db;
      const count = async (t: 'events' | 'lineage_edges') => Number((await db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      return {
        deployments: await db.selectFrom('deployments').selectAll().orderBy('name').execute(),
        revisions: await db.selectFrom('deployment_revisions').selectAll().orderBy('deployment_id').orderBy('revision').execute(),
        events: await count('events'),
        edges: await count('lineage_edges'),
      };
    }

    const kinds = async (name: string) => (await listEvents(store.db, { entityType: 'deployment', entityId: name })).map((e) => e.kind);

    const record = (id: string, deploymentId: string, o: Partial<PredictionLogInsert> = {}): PredictionLogInsert => ({
      predictionId: id,
      deploymentId,
      revision: 1,
      arm: 'primary',
      modelName: 'churn',
      modelVersion: '1',
      shadow: false,
      time: 1_000,
      latencyMs: 2.5,
      requestKey: null,
      features: { x: 1 },
      prediction: 'yes',
      probability: [0.25, 0.75],
      error: null,
      ...o,
    });

    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
      artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-deploy-art-'));
      const tracking = new TrackingService(store, { actor: 'tester', artifacts: new LocalArtifactStore(artifactDir) });
      registry = new RegistryService({ store, tracking, actor: 'tester' });
      svc = new DeploymentService({ store, resolveModelUri: (uri) => registry.resolveModelUri(uri), actor: 'tester', now: () => (clock += 1000) });
      const expId = (await tracking.createExperiment({ name: 'training' })).experimentId;
      for (let i = 0; i < 3; i++) {
        const runId = (await tracking.createRun({ experimentId: expId })).info.runId;
        await tracking.putRunArtifact(runId, 'model/flywheel-model.json', Buffer.from(JSON.stringify(MANIFEST)));
        await tracking.putRunArtifact(runId, 'model/predict.mjs', Buffer.from('export const predict = (rows) => rows.map(() => ({ prediction: "no" }));'));
        versions.push(await registry.createModelVersion({ name: 'churn', source: `runs:/${runId}/model`, runId, createModel: true }));
      }
      await registry.setAlias('churn', 'champion', 1);
      await registry.setAlias('churn', 'challenger', 2);
    });
    afterAll(async () => {
      await dispose?.();
      if (artifactDir) fs.rmSync(artifactDir, { recursive: true, force: true });
    });

    describe('revisions', () => {
      it('deploy creates revision 1, pending, with a deployment.created event', async () => {
        const d = await svc.deploy('churn', { model: 'churn@champion' }, { description: 'churn scoring' });
        expect(d).toMatchObject({ name: 'churn', description: 'churn scoring', currentRevision: 1, servingRevision: null });
        expect(d.revision).toMatchObject({
          deployment: 'churn',
          revision: 1,
          status: 'pending',
          statusMessage: null,
          resolved: null,
          actor: 'tester',
          policy: { kind: 'single', arms: [{ name: 'primary', model: 'models:/churn@champion', weight: 100, shadow: false }], key: null },
        });
        expect(d.revisions.map((r) => r.revision)).toEqual([1]);
        const events = await listEvents(store.db, { entityType: 'deployment', entityId: 'churn' });
        expect(events.map((e) => e.kind)).toEqual(['deployment.created']);
        expect(events[0]).toMatchObject({ actor: 'tester', payload: { revision: 1, policy: d.revision.policy } });
      });

      it('deploying again makes revision 2 with a deployment.revised event and keeps revision 1', async () => {
        const d = await svc.deploy('churn', { model: 'churn@champion', canary: 'churn@challenger:10%' });
        expect(d.currentRevision).toBe(2);
        expect(d.description).toBe('churn scoring');
        expect(d.revision.policy.kind).toBe('canary');
        expect(d.revisions.map((r) => r.revision)).toEqual([2, 1]);
        expect(d.revisions[1].policy.kind).toBe('single');
        expect(await kinds('churn')).toEqual(['deployment.created', 'deployment.revised']);
        expect((await svc.list()).map((x) => [x.name, x.revision.revision])).toEqual([['churn', 2]]);
      });

      it('refuses unknown models, aliases and versions with FW_NOT_FOUND and writes nothing', async () => {
        const before = await snapshot();
        await rejects(svc.deploy('fresh', { model: 'nosuch@champion' }), 'FW_NOT_FOUND');
        await rejects(svc.deploy('fresh', { model: 'churn@nosuch' }), 'FW_NOT_FOUND');
        await rejects(svc.deploy('fresh', { model: 'churn/99' }), 'FW_NOT_FOUND');
        await rejects(svc.deploy('churn', { model: 'churn@champion', canary: 'churn@nosuch:10%' }), 'FW_NOT_FOUND');
        await rejects(svc.deploy('churn', { model: 'churn@champion', shadow: 'churn/42' }), 'FW_NOT_FOUND');
        await rejects(svc.deploy('churn', { policy: { kind: 'single', arms: [{ name: 'primary', model: 'other/1', weight: 100 }], key: null } }), 'FW_NOT_FOUND');
        expect(await snapshot()).toEqual(before);
      });

      it('refuses invalid deployment names, naming the field, and writes nothing', async () => {
        const before = await snapshot();
        for (const name of ['', 'Churn', '-churn', 'churn-', 'churn_v2', 'churn/v2', 'a'.repeat(64), 'ch urn']) {
          const err = await rejects(svc.deploy(name, { model: 'churn/1' }), 'FW_INVALID_ARGUMENT');
          expect(err.details).toMatchObject({ field: 'name' });
        }
        expect(await snapshot()).toEqual(before);
        // The bounds of the rule are accepted.
        expect(validateDeploymentName('a')).toBe('a');
        expect(validateDeploymentName('a'.repeat(63))).toBe('a'.repeat(63));
        expect(validateDeploymentName('churn-2')).toBe('churn-2');
      });

      it('refuses an invalid policy and writes nothing', async () => {
        const before = await snapshot();
        await rejects(svc.deploy('churn', { model: 'churn/1', canary: 'churn/2:10%', ab: 'churn/3:50%' }), 'FW_INVALID_ARGUMENT');
        await rejects(svc.deploy('churn', { policy: { kind: 'ab', arms: [{ name: 'a', model: 'churn/1', weight: 60 }, { name: 'b', model: 'churn/2', weight: 60 }], key: null } }), 'FW_INVALID_ARGUMENT');
        expect(await snapshot()).toEqual(before);
      });

      it('setTraffic keeps the primary and the key unless told otherwise', async () => {
        await svc.deploy('traffic', { model: 'churn@champion', key: 'user' });
        const canary = await svc.setTraffic('traffic', { canary: 'churn@challenger:25%' });
        expect(canary.revision.revision).toBe(2);
        expect(canary.revision.policy).toEqual({
          kind: 'canary',
          arms: [
            { name: 'primary', model: 'models:/churn@champion', weight: 75, shadow: false },
            { name: 'canary', model: 'models:/churn@challenger', weight: 25, shadow: false },
          ],
          key: 'user',
        });
        // From an A/B split, arm a is the primary that is kept.
        await svc.setTraffic('traffic', { model: 'churn/3', ab: 'churn/2:50%' });
        const single = await svc.setTraffic('traffic', {});
        expect(single.revision.policy).toEqual({ kind: 'single', arms: [{ name: 'primary', model: 'models:/churn/3', weight: 100, shadow: false }], key: 'user' });
        await rejects(svc.setTraffic('nosuch', {}), 'FW_NOT_FOUND');
      });

      it('setTraffic on a whole policy with its own arm names keeps its first answering arm as the primary', async () => {
        await svc.deploy('custom', {
          policy: {
            kind: 'ab',
            arms: [
              { name: 'mirror', model: 'churn/3', weight: 0, shadow: true },
              { name: 'control', model: 'churn/1', weight: 70 },
              { name: 'treatment', model: 'churn/2', weight: 30 },
            ],
            key: null,
          },
        });
        const d = await svc.setTraffic('custom', { canary: 'churn/2:5%' });
        expect(d.revision.policy.arms.map((a) => [a.name, a.model, a.weight])).toEqual([
          ['primary', 'models:/churn/1', 95],
          ['canary', 'models:/churn/2', 5],
        ]);
      });

      it('rollback makes a new revision with an earlier policy (default: the one before the current)', async () => {
        // traffic: 1 single champion, 2 canary, 3 ab, 4 single churn/3.
        const back = await svc.rollback('traffic');
        expect(back.currentRevision).toBe(5);
        expect(back.revision.policy).toEqual(back.revisions.find((r) => r.revision === 3)!.policy);
        const toFirst = await svc.rollback('traffic', 1);
        expect(toFirst.currentRevision).toBe(6);
        expect(toFirst.revision.policy).toEqual(toFirst.revisions.find((r) => r.revision === 1)!.policy);
        expect((await kinds('traffic')).filter((k) => k === 'deployment.revised')).toHaveLength(5);
        const before = await snapshot();
        await rejects(svc.rollback('traffic', 99), 'FW_NOT_FOUND');
        expect(await snapshot()).toEqual(before);
      });

      it('numbers concurrent changes one after another, creating a deployment once', async () => {
        // Replicas and users change deployments at the same time; each change must become its own revision.
        const created = await Promise.all(Array.from({ length: 4 }, () => svc.deploy('race', { model: 'churn/1' })));
        const revised = await Promise.all(Array.from({ length: 5 }, (_, i) => svc.deploy('race', { model: `churn/${(i % 3) + 1}` })));
        const numbers = [...created, ...revised].map((d) => d.revision.revision);
        const d = await svc.get('race');
        expect(d.currentRevision).toBe(9);
        expect(d.revisions.map((r) => r.revision)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
        expect(new Set(d.revisions.map((r) => r.revision)).size).toBe(9);
        expect(numbers.length).toBe(9);
        const events = await kinds('race');
        expect(events.filter((k) => k === 'deployment.created')).toHaveLength(1);
        expect(events.filter((k) => k === 'deployment.revised')).toHaveLength(8);
      });

      it('records deployment —serves→ model_version for every arm', async () => {
        const d = await svc.deploy('lineage', { model: 'churn/1', canary: 'churn@challenger:10%', shadow: 'churn/3' });
        const edges = await store.db.selectFrom('lineage_edges').selectAll().where('from_type', '=', 'deployment').where('from_id', '=', d.deploymentId).execute();
        expect(edges.map((e) => [e.relation, e.to_type, e.to_id]).sort()).toEqual(
          [versions[0], versions[1], versions[2]].map((v) => ['serves', 'model_version', v.id]).sort(),
        );
        // The graph walk finds the deployment's models upstream of it.
        const up = await walkLineage(store.db, { type: 'deployment', id: d.deploymentId }, 'upstream');
        expect(up.nodes.filter((n) => n.type === 'model_version').map((n) => n.id).sort()).toEqual(versions.map((v) => v.id).sort());
      });
    });

    describe('markRevision', () => {
      const resolvedOf = (version: string) => [{ arm: 'primary', model: 'models:/churn@champion', modelName: 'churn', modelVersion: version }];

      it('ready: the revision serves, older ready ones become superseded; an unchanged status writes no event', async () => {
        await svc.deploy('mark', { model: 'churn@champion' });
        expect(await svc.markRevision('mark', 1, 'ready', { resolved: resolvedOf('1') })).toBe(true);
        let d = await svc.get('mark');
        expect(d.servingRevision).toBe(1);
        expect(d.revision).toMatchObject({ status: 'ready', statusMessage: null, resolved: resolvedOf('1') });
        expect(await kinds('mark')).toEqual(['deployment.created', 'deployment.revision_ready']);

        // A second replica reporting the same thing changes nothing.
        expect(await svc.markRevision('mark', 1, 'ready', { resolved: resolvedOf('1') })).toBe(false);
        expect(await kinds('mark')).toEqual(['deployment.created', 'deployment.revision_ready']);

        await svc.deploy('mark', { model: 'churn/2' });
        expect(await svc.markRevision('mark', 2, 'ready', { resolved: resolvedOf('2') })).toBe(true);
        d = await svc.get('mark');
        expect(d.servingRevision).toBe(2);
        expect(d.revisions.map((r) => [r.revision, r.status])).toEqual([
          [2, 'ready'],
          [1, 'superseded'],
        ]);
      });

      it('failed: the reason is kept and the previous revision goes on serving', async () => {
        await svc.deploy('mark', { model: 'churn/3' });
        expect(await svc.markRevision('mark', 3, 'failed', { message: 'SyntaxError: Unexpected token' })).toBe(true);
        const d = await svc.get('mark');
        expect(d.currentRevision).toBe(3);
        expect(d.servingRevision).toBe(2);
        expect(d.revisions.map((r) => [r.revision, r.status])).toEqual([
          [3, 'failed'],
          [2, 'ready'],
          [1, 'superseded'],
        ]);
        expect(d.revision.statusMessage).toBe('SyntaxError: Unexpected token');
        const events = await listEvents(store.db, { entityType: 'deployment', entityId: 'mark' });
        expect(events.at(-1)).toMatchObject({ kind: 'deployment.revision_failed', payload: { revision: 3, message: 'SyntaxError: Unexpected token' } });
        const n = events.length;
        expect(await svc.markRevision('mark', 3, 'failed', { message: 'SyntaxError: Unexpected token' })).toBe(false);
        expect(await kinds('mark')).toHaveLength(n);
      });

      it('ready again with other resolved versions (an alias moved) is deployment.rolled', async () => {
        const rolled = [{ arm: 'primary', model: 'models:/churn/2', modelName: 'churn', modelVersion: '9' }];
        expect(await svc.markRevision('mark', 2, 'ready', { resolved: rolled })).toBe(true);
        const events = await listEvents(store.db, { entityType: 'deployment', entityId: 'mark' });
        expect(events.at(-1)).toMatchObject({ kind: 'deployment.rolled', payload: { revision: 2, resolved: rolled } });
        expect((await svc.getRevision('mark', 2)).resolved).toEqual(rolled);
      });

      it('replicas reporting the same thing at once record it once', async () => {
        await svc.deploy('replicas', { model: 'churn/1' });
        const resolved = [{ arm: 'primary', model: 'models:/churn/1', modelName: 'churn', modelVersion: '1' }];
        const changed = await Promise.all(Array.from({ length: 6 }, () => svc.markRevision('replicas', 1, 'ready', { resolved })));
        expect(changed.filter(Boolean)).toHaveLength(1);
        expect(await kinds('replicas')).toEqual(['deployment.created', 'deployment.revision_ready']);
      });

      it('an unknown deployment or revision is not an error, just nothing marked', async () => {
        const before = await snapshot();
        expect(await svc.markRevision('nosuch', 1, 'ready')).toBe(false);
        expect(await svc.markRevision('mark', 42, 'ready')).toBe(false);
        expect(await snapshot()).toEqual(before);
      });
    });

    describe('prediction log and feedback', () => {
      let depId: string;
      let otherId: string;

      beforeAll(async () => {
        depId = (await svc.deploy('scoring', { model: 'churn/1', shadow: 'churn/2' })).deploymentId;
        otherId = (await svc.deploy('other', { model: 'churn/1' })).deploymentId;
        await svc.writePredictions([
          record('p1', depId, { time: 1000, prediction: 'yes' }),
          record('p2', depId, { time: 2000, prediction: 'no', requestKey: 'user-2' }),
          record('p3', depId, { time: 3000, arm: 'canary', modelVersion: '2' }),
          record('p1~shadow', depId, { time: 1000, arm: 'shadow', modelVersion: '2', shadow: true, prediction: 'no' }),
          record('p4', depId, { time: 4000, prediction: null, probability: null, error: 'the model refuses 666', features: { x: 666 } }),
          record('o1', otherId, { time: 1500 }),
        ]);
      });

      it('writing a batch again (a retried flush) keeps the rows as first written', async () => {
        await svc.writePredictions([record('p1', depId, { time: 1000, prediction: 'changed' }), record('p2', depId, { time: 2000, prediction: 'changed' })]);
        const all = await svc.predictions('scoring', { limit: 100 });
        expect(all).toHaveLength(5);
        expect(all.find((p) => p.predictionId === 'p1')!.prediction).toBe('yes');
        expect(all.find((p) => p.predictionId === 'p2')!.prediction).toBe('no');
        await svc.writePredictions([]);
      });

      it('reads logged rows back as written', async () => {
        const p2 = await svc.prediction('scoring', 'p2');
        expect(p2).toEqual({
          predictionId: 'p2',
          deployment: 'scoring',
          revision: 1,
          arm: 'primary',
          modelName: 'churn',
          modelVersion: '1',
          shadow: false,
          time: 2000,
          latencyMs: 2.5,
          requestKey: 'user-2',
          features: { x: 1 },
          prediction: 'no',
          probability: [0.25, 0.75],
          error: null,
        });
        expect(await svc.prediction('scoring', 'p4')).toMatchObject({ prediction: null, probability: null, error: 'the model refuses 666', features: { x: 666 } });
        await rejects(svc.prediction('scoring', 'o1'), 'FW_NOT_FOUND');
      });

      it('feedback: matched ids, unmatched ones kept, later feedback replaces earlier', async () => {
        expect(await svc.recordFeedback('scoring', [{ predictionId: 'p1', label: 'no' }, { predictionId: 'p2', label: 1 }, { predictionId: 'later', label: true }])).toEqual({
          accepted: 3,
          matched: 2,
          unmatched: ['later'],
        });
        // Another deployment's prediction is not this one's.
        expect(await svc.recordFeedback('scoring', [{ predictionId: 'o1', label: 'x' }])).toEqual({ accepted: 1, matched: 0, unmatched: ['o1'] });
        expect(await svc.recordFeedback('scoring', [{ predictionId: 'p1', label: 'yes' }])).toEqual({ accepted: 1, matched: 1, unmatched: [] });
        // The same id twice in one request: the last one counts.
        expect(await svc.recordFeedback('scoring', [{ predictionId: 'p2', label: 0 }, { predictionId: 'p2', label: null }])).toEqual({ accepted: 1, matched: 1, unmatched: [] });
        expect((await svc.prediction('scoring', 'p1')).label).toBe('yes');
        expect((await svc.prediction('scoring', 'p2')).label).toBeNull();
      });

      it('feedback arriving before its prediction is flushed joins once it is', async () => {
        await svc.writePredictions([record('later', depId, { time: 5000 })]);
        expect((await svc.prediction('scoring', 'later')).label).toBe(true);
      });

      it('refuses bad feedback, naming the item, and writes none of the request', async () => {
        const feedbackRows = async () => store.db.selectFrom('prediction_feedback').selectAll().orderBy('prediction_id').execute();
        const before = await feedbackRows();
        const cases: [unknown[], string][] = [
          [[{ predictionId: 'p3', label: 'ok' }, { predictionId: 'p4' }], 'feedback[1].label'],
          [[{ predictionId: 'p3', label: 'ok' }, { predictionId: 'p4', label: Number.NaN }], 'feedback[1].label'],
          [[{ predictionId: 'p3', label: Number.POSITIVE_INFINITY }], 'feedback[0].label'],
          [[{ predictionId: 'p3', label: { nested: 1 } }], 'feedback[0].label'],
          [[{ predictionId: 'p3', label: [1] }], 'feedback[0].label'],
          [[{ predictionId: 'p3', label: 'ok' }, { predictionId: 7, label: 'x' }], 'feedback[1].prediction_id'],
          [[{ predictionId: '', label: 'x' }], 'feedback[0].prediction_id'],
          [[{ predictionId: 'x'.repeat(201), label: 'x' }], 'feedback[0].prediction_id'],
          [[null], 'feedback[0].prediction_id'],
        ];
        for (const [items, field] of cases) {
          const err = await rejects(svc.recordFeedback('scoring', items as never), 'FW_INVALID_ARGUMENT');
          expect(err.details).toMatchObject({ field });
          expect(err.message).toContain(field);
        }
        await rejects(svc.recordFeedback('scoring', []), 'FW_INVALID_ARGUMENT');
        const tooMany = Array.from({ length: MAX_FEEDBACK_ITEMS + 1 }, (_, i) => ({ predictionId: `id-${i}`, label: 1 }));
        await rejects(svc.recordFeedback('scoring', tooMany), 'FW_LIMIT_EXCEEDED');
        await rejects(svc.recordFeedback('nosuch', [{ predictionId: 'p1', label: 1 }]), 'FW_NOT_FOUND');
        expect(await feedbackRows()).toEqual(before);
      });

      it('takes the largest allowed batch of feedback', async () => {
        const items = Array.from({ length: MAX_FEEDBACK_ITEMS }, (_, i) => ({ predictionId: `bulk-${i}`, label: (i % 2) as unknown }));
        items[0] = { predictionId: 'p3', label: 'canary-truth' };
        const r = await svc.recordFeedback('scoring', items);
        expect(r.accepted).toBe(MAX_FEEDBACK_ITEMS);
        expect(r.matched).toBe(1);
        expect(r.unmatched).toHaveLength(MAX_FEEDBACK_ITEMS - 1);
      });

      it('joins feedback to predictions; a shadow row takes its primary\'s label', async () => {
        const all = await svc.predictions('scoring', { limit: 100 });
        // Newest first, ties by id descending: later(5000), p4(4000), p3(3000), p2(2000), p1~shadow and p1 (1000).
        expect(all.map((p) => p.predictionId)).toEqual(['later', 'p4', 'p3', 'p2', 'p1~shadow', 'p1']);
        const byId = new Map(all.map((p) => [p.predictionId, p]));
        expect(byId.get('p1')!.label).toBe('yes');
        expect(byId.get('p1~shadow')).toMatchObject({ shadow: true, arm: 'shadow', label: 'yes' });
        expect(byId.get('p1~shadow')!.labelTime).toBe(byId.get('p1')!.labelTime);
        expect(byId.get('p3')!.label).toBe('canary-truth');
        expect(byId.get('p4')!.label).toBeUndefined();
        expect('label' in byId.get('p4')!).toBe(false);
        expect(byId.get('p2')!.label).toBeNull();
      });

      it('labelled finds labelled predictions however many newer ones have no feedback', async () => {
        const sparseId = (await svc.deploy('sparse', { model: 'churn/1', shadow: 'churn/2' })).deploymentId;
        const newer = Array.from({ length: 50 }, (_, i) => record(`new-${String(i).padStart(2, '0')}`, sparseId, { time: 10_000 + i }));
        await svc.writePredictions([record('old', sparseId, { time: 1 }), record('old~shadow', sparseId, { time: 1, shadow: true, arm: 'shadow' }), ...newer]);
        await svc.recordFeedback('sparse', [{ predictionId: 'old', label: 'yes' }]);
        expect((await svc.predictions('sparse', { labelled: true, limit: 2 })).map((p) => [p.predictionId, p.label])).toEqual([
          ['old~shadow', 'yes'],
          ['old', 'yes'],
        ]);
        expect((await svc.predictions('sparse', { labelled: true, limit: 1, order: 'asc' })).map((p) => p.predictionId)).toEqual(['old']);
        expect(await svc.predictions('sparse', { labelled: true, arm: 'primary', since: 10_000 })).toEqual([]);
      });

      it('filters by time (since inclusive, until exclusive), arm, labelled, and orders either way', async () => {
        const ids = async (q: Parameters<DeploymentService['predictions']>[1]) => (await svc.predictions('scoring', q)).map((p) => p.predictionId);
        expect(await ids({ since: 2000, until: 4000, order: 'asc' })).toEqual(['p2', 'p3']);
        expect(await ids({ since: 4000 })).toEqual(['later', 'p4']);
        expect(await ids({ until: 1001, order: 'asc' })).toEqual(['p1', 'p1~shadow']);
        expect(await ids({ arm: 'canary' })).toEqual(['p3']);
        expect(await ids({ arm: 'shadow' })).toEqual(['p1~shadow']);
        expect(await ids({ arm: 'nosuch' })).toEqual([]);
        // p2's label is null: still feedback (ground truth "none" was given).
        expect(await ids({ labelled: true, order: 'asc' })).toEqual(['p1', 'p1~shadow', 'p2', 'p3', 'later']);
        expect(await ids({ labelled: true, limit: 2 })).toEqual(['later', 'p3']);
        expect(await ids({ limit: 2, order: 'asc' })).toEqual(['p1', 'p1~shadow']);
        expect(await ids({ since: 9999 })).toEqual([]);
        for (const limit of [0, -1, 1.5, 1_000_001]) await rejects(svc.predictions('scoring', { limit }), 'FW_INVALID_ARGUMENT');
        await rejects(svc.predictions('nosuch'), 'FW_NOT_FOUND');
        expect(await ids({})).not.toContain('o1');
      });
    });
  });
}
