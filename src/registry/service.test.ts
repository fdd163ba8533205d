/**
 * Registry rules, run against every metadata-store backend: version numbering
 * (never reused), packages read through tracking, aliases and their events,
 * stages, search filters, model URIs, and that a rejected request leaves the
 * registry unchanged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/support/backends.js';
import { LocalArtifactStore } from '../artifacts/local.js';
import { listEvents } from '../events/service.js';
import { walkLineage } from '../lineage/service.js';
import type { Store } from '../store/index.js';
import { TrackingService } from '../tracking/service.js';
import { RegistryService } from './service.js';

/** A manifest as src/models writes it (the issue-5 package contract). */
const MANIFEST = {
  format: 1,
  flavor: 'onnx',
  signature: { inputs: [{ name: 'age', type: 'double', nullable: true }], outputs: [{ name: 'prediction', type: 'string' }] },
  task: 'classification',
  classes: ['no', 'yes'],
  files: { model: 'model.onnx' },
  preprocessing: null,
  training: { runId: null, dataset: null, datasetVersionId: null, target: 'churned' },
  metrics: { auc: 0.91 },
  libraries: { flywheel: '0.1.0' },
  createdTime: 1764000000000,
};

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`RegistryService on ${backend.name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let tracking: TrackingService;
    let registry: RegistryService;
    let artifactDir: string;
    let clock = 1_700_000_000_000;
    let expId: string;

    /** A finished run holding a model package (with a manifest unless told otherwise) under `model/`. */
    async function packageRun(manifest: unknown = MANIFEST): Promise<string> {
      const run = await tracking.createRun({ experimentId: expId });
      const id = run.info.runId;
      if (manifest !== null) await tracking.putRunArtifact(id, 'model/flywheel-model.json', Buffer.from(typeof manifest === 'string' ? manifest : JSON.stringify(manifest)));
      await tracking.putRunArtifact(id, 'model/model.onnx', Buffer.from('not really onnx'));
      return id;
    }

    /** Every row of the registry's tables, to show a failed request changed nothing. */
    async function snapshot() {
      const db = store.db;
      return {
        models: await db.selectFrom('registered_models').selectAll().orderBy('model_id').execute(),
        versions: await db.selectFrom('model_versions').selectAll().orderBy('version_id').execute(),
        aliases: await db.selectFrom('registered_model_aliases').selectAll().orderBy('model_id').orderBy('alias').execute(),
        modelTags: await db.selectFrom('registered_model_tags').selectAll().orderBy('model_id').orderBy('key').execute(),
        versionTags: await db.selectFrom('model_version_tags').selectAll().orderBy('version_id').orderBy('key').execute(),
        events: (await db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
      };
    }

    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
      artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-registry-art-'));
      tracking = new TrackingService(store, { actor: 'tester', artifacts: new LocalArtifactStore(artifactDir) });
      registry = new RegistryService({ store, tracking, actor: 'tester', now: () => (clock += 1000) });
      expId = (await tracking.createExperiment({ name: 'training' })).experimentId;
    });
    afterAll(async () => {
      await dispose?.();
      fs.rmSync(artifactDir, { recursive: true, force: true });
    });

    describe('registered models', () => {
      it('creates, gets, refuses a duplicate name and bad names', async () => {
        const m = await registry.createRegisteredModel({ name: 'iris', description: 'flowers', tags: { team: 'botany' } });
        expect(m).toMatchObject({ name: 'iris', description: 'flowers', tags: { team: 'botany' }, aliases: {}, latestVersions: [] });
        expect(m.lastUpdatedTime).toBe(m.creationTime);
        expect(await registry.getRegisteredModel('iris')).toEqual(m);
        await expect(registry.createRegisteredModel({ name: 'iris' })).rejects.toMatchObject({ code: 'FW_ALREADY_EXISTS', message: 'Registered Model (name=iris) already exists.' });
        for (const name of ['', 'a/b', 'a@b', ' padded', 'x'.repeat(257)]) {
          await expect(registry.createRegisteredModel({ name }), JSON.stringify(name)).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        }
        await expect(registry.getRegisteredModel('nope')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Registered Model with name=nope not found' });
      });

      it('renames a model with its versions and aliases, and refuses a taken name', async () => {
        const runId = await packageRun();
        await registry.createModelVersion({ name: 'old-name', source: `runs:/${runId}/model`, createModel: true });
        await registry.setAlias('old-name', 'champion', 1);
        await registry.createRegisteredModel({ name: 'taken' });
        await expect(registry.renameRegisteredModel('old-name', 'taken')).rejects.toMatchObject({ code: 'FW_ALREADY_EXISTS' });
        const renamed = await registry.renameRegisteredModel('old-name', 'new-name');
        expect(renamed.aliases).toEqual({ champion: 1 });
        expect((await registry.getModelVersion('new-name', 1)).name).toBe('new-name');
        expect((await registry.getByAlias('new-name', 'champion')).version).toBe(1);
        await expect(registry.getRegisteredModel('old-name')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      });

      it('sets and deletes tags and the description', async () => {
        await registry.createRegisteredModel({ name: 'tagged' });
        await registry.setRegisteredModelTag('tagged', 'owner', 'ana');
        await registry.setRegisteredModelTag('tagged', 'owner', 'bo');
        await registry.deleteRegisteredModelTag('tagged', 'missing');
        expect((await registry.getRegisteredModel('tagged')).tags).toEqual({ owner: 'bo' });
        await registry.deleteRegisteredModelTag('tagged', 'owner');
        const updated = await registry.updateRegisteredModel('tagged', { description: 'now described' });
        expect(updated).toMatchObject({ tags: {}, description: 'now described' });
        expect(updated.lastUpdatedTime).toBeGreaterThan(updated.creationTime);
        await expect(registry.setRegisteredModelTag('tagged', 'bad/../key', 'v')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
      });
    });

    describe('versions', () => {
      it('numbers versions 1, 2, 3 and never reuses a deleted number', async () => {
        const runId = await packageRun();
        const source = `runs:/${runId}/model`;
        await registry.createRegisteredModel({ name: 'numbers' });
        for (const n of [1, 2, 3]) expect((await registry.createModelVersion({ name: 'numbers', source })).version).toBe(n);
        await registry.deleteModelVersion('numbers', 3);
        await expect(registry.getModelVersion('numbers', 3)).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Model Version (name=numbers, version=3) not found' });
        expect((await registry.createModelVersion({ name: 'numbers', source })).version).toBe(4);
        expect((await registry.listModelVersions('numbers')).map((v) => v.version)).toEqual([4, 2, 1]);
        await expect(registry.deleteModelVersion('numbers', 3)).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      });

      it('numbers concurrent registrations of one model without gaps or duplicates', async () => {
        const runId = await packageRun();
        await registry.createRegisteredModel({ name: 'busy' });
        const made = await Promise.all(Array.from({ length: 6 }, () => registry.createModelVersion({ name: 'busy', source: `runs:/${runId}/model` })));
        expect(made.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      });

      it('creates a new model once when several registrations race for it', async () => {
        const runId = await packageRun();
        const made = await Promise.all(Array.from({ length: 4 }, () => registry.createModelVersion({ name: 'racing', source: `runs:/${runId}/model`, createModel: true })));
        expect(made.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
        const created = await Promise.allSettled(Array.from({ length: 3 }, () => registry.createRegisteredModel({ name: 'racing-too' })));
        expect(created.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(created.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['FW_ALREADY_EXISTS', 'FW_ALREADY_EXISTS']);
        const events = await listEvents(store.db, { entityType: 'registered_model', entityId: 'racing' });
        expect(events.filter((e) => e.kind === 'registered_model.created')).toHaveLength(1);
      });

      it("copies flavor, signature and task from the package's manifest, and records the run as its producer", async () => {
        const runId = await packageRun();
        const mv = await registry.createModelVersion({ name: 'churn', source: `runs:/${runId}/model`, description: 'first', tags: { data: 'orders@3' }, createModel: true });
        const run = await tracking.getRun(runId);
        expect(mv).toMatchObject({
          name: 'churn',
          version: 1,
          status: 'READY',
          currentStage: 'None',
          description: 'first',
          runId,
          source: `runs:/${runId}/model`,
          storageLocation: `${run.info.artifactUri}/model`,
          tags: { data: 'orders@3' },
          aliases: [],
          flavor: 'onnx',
          signature: MANIFEST.signature,
          task: 'classification',
        });
        expect(mv.id).toMatch(/^[0-9a-f]{32}$/);
        expect(await registry.getModelVersionById(mv.id)).toEqual(mv);
        await expect(registry.getModelVersionById('0'.repeat(32))).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        const { edges } = await walkLineage(store.db, { type: 'model_version', id: mv.id }, 'upstream', 1);
        expect(edges).toEqual([{ from: { type: 'run', id: runId }, relation: 'produces', to: { type: 'model_version', id: mv.id } }]);
      });

      it('registers a package without a manifest (MLflow clients log their own format)', async () => {
        const runId = await packageRun(null);
        const mv = await registry.createModelVersion({ name: 'plain', source: `runs:/${runId}/model`, createModel: true });
        expect(mv).toMatchObject({ version: 1, flavor: null, signature: null, task: null, runId });
      });

      it("reads the manifest of an MLflow client's source: the run's artifact URI plus run_id", async () => {
        const runId = await packageRun();
        const run = await tracking.getRun(runId);
        await registry.createRegisteredModel({ name: 'from-mlflow' });
        const mv = await registry.createModelVersion({ name: 'from-mlflow', source: `${run.info.artifactUri}/model`, runId });
        expect(mv).toMatchObject({ flavor: 'onnx', runId, storageLocation: `${run.info.artifactUri}/model` });
        expect((await registry.resolveModelUri('models:/from-mlflow/1')).packageUri).toBe(`runs:/${runId}/model`);
      });

      it('leaves the registry unchanged for a corrupt manifest, an unknown run, or a missing model', async () => {
        const corrupt = await packageRun('{"flavor": "onnx", ');
        const noFlavor = await packageRun({ signature: {} });
        const before = await snapshot();
        await expect(registry.createModelVersion({ name: 'broken', source: `runs:/${corrupt}/model`, createModel: true })).rejects.toMatchObject({
          code: 'FW_INVALID_ARGUMENT',
          message: expect.stringContaining(`model/flywheel-model.json of run ${corrupt} is not valid JSON`),
        });
        await expect(registry.createModelVersion({ name: 'broken', source: `runs:/${noFlavor}/model`, createModel: true })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(registry.createModelVersion({ name: 'broken', source: `runs:/${'f'.repeat(32)}/model`, createModel: true })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(registry.createModelVersion({ name: 'no-such-model', source: 's3://bucket/model' })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(registry.createModelVersion({ name: 'broken', source: '', createModel: true })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        expect(await snapshot()).toEqual(before);
      });

      it('deleting a registered model removes its versions; the name starts again at 1, as in MLflow', async () => {
        const runId = await packageRun();
        await registry.createModelVersion({ name: 'short-lived', source: `runs:/${runId}/model`, createModel: true });
        await registry.createModelVersion({ name: 'short-lived', source: `runs:/${runId}/model` });
        await registry.setAlias('short-lived', 'champion', 2);
        await registry.deleteRegisteredModel('short-lived');
        await expect(registry.getRegisteredModel('short-lived')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        const again = await registry.createModelVersion({ name: 'short-lived', source: `runs:/${runId}/model`, createModel: true });
        expect(again.version).toBe(1);
        expect((await registry.getRegisteredModel('short-lived')).aliases).toEqual({});
      });
    });

    describe('aliases', () => {
      it('sets, moves and deletes an alias, each change an event; setting it again is no change', async () => {
        const runId = await packageRun();
        for (let i = 0; i < 3; i++) await registry.createModelVersion({ name: 'aliased', source: `runs:/${runId}/model`, createModel: true });
        const after = (await listEvents(store.db, { entityType: 'registered_model', entityId: 'aliased' })).at(-1)!.eventId;

        expect(await registry.setAlias('aliased', 'champion', 1)).toEqual({ name: 'aliased', alias: 'champion', version: 1, previousVersion: null });
        expect(await registry.setAlias('aliased', 'champion', '2')).toEqual({ name: 'aliased', alias: 'champion', version: 2, previousVersion: 1 });
        expect(await registry.setAlias('aliased', 'champion', 2)).toEqual({ name: 'aliased', alias: 'champion', version: 2, previousVersion: 2 });
        await registry.setAlias('aliased', 'challenger', 3);
        expect((await registry.getByAlias('aliased', 'champion')).version).toBe(2);
        expect((await registry.getModelVersion('aliased', 2)).aliases).toEqual(['champion']);
        expect((await registry.getRegisteredModel('aliased')).aliases).toEqual({ challenger: 3, champion: 2 });
        await registry.deleteAlias('aliased', 'challenger');

        const events = await listEvents(store.db, { entityType: 'registered_model', entityId: 'aliased', after });
        expect(events.map((e) => [e.kind, e.payload, e.actor])).toEqual([
          ['model_alias.set', { alias: 'champion', version: 1, previousVersion: null }, 'tester'],
          ['model_alias.moved', { alias: 'champion', version: 2, previousVersion: 1 }, 'tester'],
          ['model_alias.set', { alias: 'challenger', version: 3, previousVersion: null }, 'tester'],
          ['model_alias.deleted', { alias: 'challenger', version: 3 }, 'tester'],
        ]);
      });

      it("refuses MLflow's reserved and malformed alias names, unknown aliases and versions, changing nothing", async () => {
        const runId = await packageRun();
        await registry.createModelVersion({ name: 'strict', source: `runs:/${runId}/model`, createModel: true });
        await registry.setAlias('strict', 'champion', 1);
        const before = await snapshot();
        for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'has space', 'a.b', '']) {
          await expect(registry.setAlias('strict', alias, 1), alias).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        }
        await expect(registry.setAlias('strict', 'champion', 9)).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Model Version (name=strict, version=9) not found' });
        await expect(registry.setAlias('strict', 'champion', 'one')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: "Parameter 'version' must be an integer, got 'one'." });
        await expect(registry.setAlias('nobody', 'champion', 1)).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(registry.getByAlias('strict', 'challenger')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: expect.stringContaining('alias challenger not found') });
        await expect(registry.deleteAlias('strict', 'challenger')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        expect(await registry.deleteAlias('strict', 'challenger', { missingOk: true })).toBeNull();
        expect(await snapshot()).toEqual(before);
        // "v" alone and v-prefixed words are ordinary aliases.
        await registry.setAlias('strict', 'v', 1);
        await registry.setAlias('strict', 'v1beta', 1);
      });

      it('deleting a version removes the aliases on it, each an event', async () => {
        const runId = await packageRun();
        await registry.createModelVersion({ name: 'dropped', source: `runs:/${runId}/model`, createModel: true });
        await registry.createModelVersion({ name: 'dropped', source: `runs:/${runId}/model` });
        await registry.setAlias('dropped', 'champion', 2);
        await registry.setAlias('dropped', 'stable', 1);
        await registry.deleteModelVersion('dropped', 2);
        expect((await registry.getRegisteredModel('dropped')).aliases).toEqual({ stable: 1 });
        await expect(registry.resolveModelUri('models:/dropped@champion')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        const kinds = (await listEvents(store.db, { entityType: 'registered_model', entityId: 'dropped' })).map((e) => e.kind);
        expect(kinds.slice(-2)).toEqual(['model_alias.deleted', 'model_version.deleted']);
      });
    });

    describe('stages', () => {
      it('transitions (any case), archives the others on request, and reports the latest per stage', async () => {
        const runId = await packageRun();
        for (let i = 0; i < 4; i++) await registry.createModelVersion({ name: 'staged', source: `runs:/${runId}/model`, createModel: true });
        expect((await registry.transitionStage('staged', 1, 'production')).currentStage).toBe('Production');
        await registry.transitionStage('staged', 2, 'Production');
        await registry.transitionStage('staged', 3, 'staging');
        expect((await registry.getLatestVersions('staged')).map((v) => [v.currentStage, v.version])).toEqual([
          ['None', 4],
          ['Staging', 3],
          ['Production', 2],
        ]);
        expect((await registry.getLatestVersions('staged', ['PRODUCTION'])).map((v) => v.version)).toEqual([2]);
        expect((await registry.resolveModelUri('models:/staged/Production')).version).toBe(2);

        await registry.transitionStage('staged', 4, 'Production', { archiveExistingVersions: true });
        const stages = Object.fromEntries((await registry.listModelVersions('staged')).map((v) => [v.version, v.currentStage]));
        expect(stages).toEqual({ 1: 'Archived', 2: 'Archived', 3: 'Staging', 4: 'Production' });
        const last = (await listEvents(store.db, { entityType: 'registered_model', entityId: 'staged' })).at(-1)!;
        expect([last.kind, last.payload]).toEqual(['model_version.stage_transitioned', { version: 4, from: 'None', to: 'Production', archived: [1, 2] }]);
        expect((await registry.getRegisteredModel('staged')).latestVersions.map((v) => [v.currentStage, v.version])).toEqual([
          ['Staging', 3],
          ['Production', 4],
          ['Archived', 2],
        ]);
      });

      it('refuses unknown stages and archiving with an inactive stage', async () => {
        const before = await snapshot();
        await expect(registry.transitionStage('staged', 1, 'Prod')).rejects.toMatchObject({
          code: 'FW_INVALID_ARGUMENT',
          message: 'Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.',
        });
        await expect(registry.transitionStage('staged', 1, 'Archived', { archiveExistingVersions: true })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        await expect(registry.getLatestVersions('staged', ['Nope'])).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
        expect(await snapshot()).toEqual(before);
      });
    });

    describe('search', () => {
      beforeAll(async () => {
        const runId = await packageRun();
        for (const [name, team] of [['search-churn-a', 'growth'], ['search-churn-b', 'risk'], ['search-fraud', 'risk'], ['search-prompt', 'ml']] as const) {
          await registry.createRegisteredModel({ name, tags: { team } });
          await registry.createModelVersion({ name, source: `runs:/${runId}/model`, tags: { team } });
        }
        await registry.setRegisteredModelTag('search-prompt', 'mlflow.prompt.is_prompt', 'true');
      });
      const names = (page: { items: { name: string }[] }) => page.items.map((m) => m.name);

      it('filters registered models by name and tags, ordered by name by default', async () => {
        expect(names(await registry.searchRegisteredModels({ filter: "name LIKE 'search-churn%'" }))).toEqual(['search-churn-a', 'search-churn-b']);
        expect(names(await registry.searchRegisteredModels({ filter: "name = 'search-fraud'" }))).toEqual(['search-fraud']);
        expect(names(await registry.searchRegisteredModels({ filter: "name ILIKE 'SEARCH-CHURN%'" }))).toEqual(['search-churn-a', 'search-churn-b']);
        expect(names(await registry.searchRegisteredModels({ filter: "name LIKE 'SEARCH%'" }))).toEqual([]);
        expect(names(await registry.searchRegisteredModels({ filter: "name LIKE 'search%' AND tags.team = 'risk'" }))).toEqual(['search-churn-b', 'search-fraud']);
        expect(names(await registry.searchRegisteredModels({ filter: "name LIKE 'search%' AND tags.team != 'risk'" }))).toEqual(['search-churn-a', 'search-prompt']);
        expect(names(await registry.searchRegisteredModels({ filter: "name LIKE 'search%'", orderBy: ['name DESC'] }))).toEqual([
          'search-prompt',
          'search-fraud',
          'search-churn-b',
          'search-churn-a',
        ]);
      });

      it("treats a model without MLflow's prompt tag as not a prompt, as MLflow 2.21+ clients expect", async () => {
        const f = "name LIKE 'search%' AND tags.`mlflow.prompt.is_prompt` != 'true'";
        expect(names(await registry.searchRegisteredModels({ filter: f }))).toEqual(['search-churn-a', 'search-churn-b', 'search-fraud']);
        expect(names(await registry.searchRegisteredModels({ filter: "name LIKE 'search%' AND tags.`mlflow.prompt.is_prompt` = 'true'" }))).toEqual(['search-prompt']);
      });

      it('pages with opaque tokens', async () => {
        const first = await registry.searchRegisteredModels({ filter: "name LIKE 'search%'", maxResults: 3 });
        expect(names(first)).toEqual(['search-churn-a', 'search-churn-b', 'search-fraud']);
        const second = await registry.searchRegisteredModels({ filter: "name LIKE 'search%'", maxResults: 3, pageToken: first.nextPageToken! });
        expect([names(second), second.nextPageToken]).toEqual([['search-prompt'], null]);
        await expect(registry.searchRegisteredModels({ maxResults: 1001 })).rejects.toMatchObject({ code: 'FW_LIMIT_EXCEEDED' });
        await expect(registry.searchRegisteredModels({ filter: "name = 'x' OR name = 'y'" })).rejects.toMatchObject({ code: 'FW_FILTER_SYNTAX' });
      });

      it('filters model versions by name, run_id, source_path, version_number and tags', async () => {
        const runId = await packageRun();
        await registry.createModelVersion({ name: 'search-fraud', source: `runs:/${runId}/model` });
        const pairs = (page: { items: { name: string; version: number }[] }) => page.items.map((v) => `${v.name}/${v.version}`);
        expect(pairs(await registry.searchModelVersions({ filter: "name = 'search-fraud'" }))).toEqual(['search-fraud/2', 'search-fraud/1']);
        expect(pairs(await registry.searchModelVersions({ filter: `run_id = '${runId}'` }))).toEqual(['search-fraud/2']);
        expect(pairs(await registry.searchModelVersions({ filter: `run_id IN ('${runId}', 'other') AND name LIKE 'search%'` }))).toEqual(['search-fraud/2']);
        expect(pairs(await registry.searchModelVersions({ filter: `source_path = 'runs:/${runId}/model'` }))).toEqual(['search-fraud/2']);
        expect(pairs(await registry.searchModelVersions({ filter: "name = 'search-fraud' AND version_number > 1" }))).toEqual(['search-fraud/2']);
        expect(pairs(await registry.searchModelVersions({ filter: "name LIKE 'search-churn%' AND tags.team = 'growth'" }))).toEqual(['search-churn-a/1']);
        expect(pairs(await registry.searchModelVersions({ filter: "name LIKE 'search-%'", orderBy: ['name ASC', 'version_number ASC'] }))).toEqual([
          'search-churn-a/1',
          'search-churn-b/1',
          'search-fraud/1',
          'search-fraud/2',
          'search-prompt/1',
        ]);
      });
    });

    describe('model URIs', () => {
      it('resolves aliases, numbers, latest, bare references and runs:/ URIs to the package', async () => {
        const runA = await packageRun();
        const runB = await packageRun();
        await registry.createModelVersion({ name: 'uris', source: `runs:/${runA}/model`, createModel: true });
        await registry.createModelVersion({ name: 'uris', source: `runs:/${runB}/model` });
        await registry.setAlias('uris', 'champion', 1);

        const champion = await registry.resolveModelUri('models:/uris@champion');
        expect(champion).toMatchObject({ uri: 'models:/uris@champion', name: 'uris', version: 1, source: `runs:/${runA}/model`, runId: runA, artifactPath: 'model', packageUri: `runs:/${runA}/model` });
        expect(champion.modelVersion?.aliases).toEqual(['champion']);
        expect(await registry.resolveModelUri('models:/uris/2')).toMatchObject({ version: 2, runId: runB, packageUri: `runs:/${runB}/model` });
        expect((await registry.resolveModelUri('models:/uris/latest')).version).toBe(2);
        expect((await registry.resolveModelUri('uris@champion')).version).toBe(1);
        expect(await registry.resolveModelUri(`runs:/${runB}/model`)).toEqual({
          uri: `runs:/${runB}/model`,
          name: null,
          version: null,
          source: `runs:/${runB}/model`,
          runId: runB,
          artifactPath: 'model',
          packageUri: `runs:/${runB}/model`,
          modelVersion: null,
        });
      });

      it('says clearly what is missing', async () => {
        await expect(registry.resolveModelUri('models:/uris@nope')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: expect.stringContaining('alias nope not found') });
        await expect(registry.resolveModelUri('models:/uris/99')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Model Version (name=uris, version=99) not found' });
        await expect(registry.resolveModelUri('models:/uris/Production')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Registered model uris has no version in stage Production' });
        await expect(registry.resolveModelUri('models:/ghost/1')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(registry.resolveModelUri(`runs:/${'e'.repeat(32)}/model`)).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
        await expect(registry.resolveModelUri('models:/uris')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
      });

      it('registers a version from a models:/ source with the files of the version it names', async () => {
        const v = await registry.createModelVersion({ name: 'uris-copy', source: 'models:/uris@champion', createModel: true });
        const original = await registry.getModelVersion('uris', 1);
        expect(v).toMatchObject({ source: 'models:/uris@champion', storageLocation: original.storageLocation, runId: original.runId, flavor: 'onnx' });
      });
    });
  });
}
