/**
 * The compiled search queries against real databases: one shared case function
 * seeds a handful of runs, params, tags, latest metrics and experiments, then
 * checks which ids each filter / order_by / page returns. It runs on SQLite
 * always and on PostgreSQL when reachable (see test/support/backends.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { BACKENDS, type Backend } from '../../../test/support/backends.js';
import type { Store } from '../../store/index.js';
import type { Database } from '../../store/schema.js';
import { buildExperimentSearchQuery, buildRunSearchQuery, type ExperimentSearchQuery, type RunSearchQuery } from './compile.js';
import { parseExperimentFilter, parseRunFilter } from './filter.js';
import { parseExperimentOrderBy, parseOrderBy } from './order-by.js';

const RUNS = [
  { run_id: 'r1', experiment_id: 0, name: 'alpha', user_id: 'ann', status: 'FINISHED', start_time: 1000, end_time: 2000 },
  { run_id: 'r2', experiment_id: 0, name: 'beta', user_id: 'bob', status: 'FINISHED', start_time: 2000, end_time: 3000 },
  { run_id: 'r3', experiment_id: 0, name: 'gamma', user_id: 'bob', status: 'RUNNING', start_time: 3000, end_time: null },
  { run_id: 'r4', experiment_id: 0, name: 'delta', user_id: 'bob', status: 'FAILED', start_time: 4000, end_time: 5000 },
  { run_id: 'r5', experiment_id: 0, name: 'eps', user_id: 'bob', status: 'FINISHED', start_time: 5000, end_time: 5500, lifecycle_stage: 'deleted' },
  { run_id: 'r6', experiment_id: 1, name: 'zeta', user_id: 'bob', status: 'FINISHED', start_time: 6000, end_time: 7000 },
  { run_id: 'r7', experiment_id: 1, name: 'eta', user_id: 'bob', status: 'FINISHED', start_time: 6000, end_time: 7000 },
];

const PARAMS: [string, string, string][] = [
  ['r1', 'lr', '0.01'],
  ['r1', 'model', 'CNN'],
  ['r2', 'lr', '0.1'],
  ['r2', 'model', 'cnn'],
  ['r3', 'lr', '0.01'],
  ['r3', 'model', 'axb'],
  ['r4', 'model', 'a_b'],
  ['r5', 'lr', '0.01'],
];

const TAGS: [string, string, string][] = [
  ['r1', 'team', 'alpha-team'],
  ['r1', 'mlflow.source.name', 'train.py'],
  ['r2', 'team', 'gamma-team'],
  ['r3', 'team', 'beta_team'],
  ['r3', 'x y', 'spaced'],
  ['r5', 'team', 'alpha-team'],
];

/** [run, key, value]; null is a NaN point (stored as 0 with is_nan = 1). */
const LATEST_METRICS: [string, string, number | null][] = [
  ['r1', 'acc', 0.95],
  ['r1', 'loss', 0.1],
  ['r2', 'acc', 0.8],
  ['r3', 'acc', null],
  ['r4', 'loss', 0.5],
  ['r5', 'acc', 0.99],
  ['r6', 'acc', 0.97],
];

async function seed(db: Kysely<Database>): Promise<void> {
  const experiment = (id: number, name: string, created: number, updated: number, stage = 'active') => ({
    experiment_id: id,
    name,
    artifact_location: `mlflow-artifacts:/${id}`,
    lifecycle_stage: stage,
    creation_time: created,
    last_update_time: updated,
  });
  await db
    .insertInto('experiments')
    .values([experiment(1, 'other', 100, 500), experiment(2, 'Another', 100, 900), experiment(3, 'deleted-exp', 300, 50, 'deleted')])
    .execute();
  await db.insertInto('experiment_tags').values([
    { experiment_id: 2, key: 'team', value: 'x' },
    { experiment_id: 2, key: 'note', value: 'n1' },
  ]).execute();
  await db
    .insertInto('runs')
    .values(
      RUNS.map((r) => ({
        lifecycle_stage: 'active',
        artifact_uri: `mlflow-artifacts:/${r.experiment_id}/${r.run_id}/artifacts`,
        parent_run_id: null,
        deleted_time: null,
        heartbeat_time: null,
        ...r,
      })),
    )
    .execute();
  await db.insertInto('params').values(PARAMS.map(([run_id, key, value]) => ({ run_id, key, value }))).execute();
  await db.insertInto('tags').values(TAGS.map(([run_id, key, value]) => ({ run_id, key, value }))).execute();
  await db
    .insertInto('latest_metrics')
    .values(LATEST_METRICS.map(([run_id, key, value]) => ({ run_id, key, value: value ?? 0, is_nan: value === null ? 1 : 0, timestamp: 1, step: 0 })))
    .execute();
}

function searchCases(backend: Backend): void {
  let store: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ store, dispose } = await backend.open());
    await seed(store.db);
  });
  afterAll(async () => dispose?.());

  const runQuery = (filter: string, orderBy: string[] = [], extra: Partial<RunSearchQuery> = {}) =>
    buildRunSearchQuery(store.db, store.adapter, {
      experimentIds: [0],
      lifecycleStages: ['active'],
      filter: parseRunFilter(filter),
      orderBy: parseOrderBy(orderBy),
      offset: 0,
      limit: 100,
      ...extra,
    });
  const runIds = async (filter: string, orderBy: string[] = [], extra: Partial<RunSearchQuery> = {}) =>
    (await runQuery(filter, orderBy, extra).execute()).map((r) => r.run_id);

  describe('run filters', () => {
    it.each([
      ['', ['r4', 'r3', 'r2', 'r1']],
      ['metrics.acc > 0.9', ['r1']],
      ['metrics.acc >= 8e-1', ['r2', 'r1']],
      ['metrics.acc != 0.5', ['r2', 'r1']],
      ['metrics.acc <= 0', []],
      ['metrics.acc = 0', []],
      ['metrics.loss < 1 and metrics.acc > 0.5', ['r1']],
      ["params.lr = '0.01'", ['r3', 'r1']],
      ["params.lr != '0.01'", ['r2']],
      ['params.lr IS NULL', ['r4']],
      ['params.lr is not null', ['r3', 'r2', 'r1']],
      ["params.model = 'cnn'", ['r2']],
      ["params.model LIKE 'c%'", ['r2']],
      ["params.model LIKE 'C%'", ['r1']],
      ["params.model ILIKE 'c%'", ['r2', 'r1']],
      ["params.model LIKE 'a_b'", ['r4', 'r3']],
      ["params.model LIKE 'a\\_b'", ['r4']],
      ["tags.team LIKE 'alpha%'", ['r1']],
      ["tags.team LIKE 'ALPHA%'", []],
      ["tags.team ILIKE 'GAMMA%' and params.lr = '0.1'", ['r2']],
      ["tags.team IN ('alpha-team', 'beta_team')", ['r3', 'r1']],
      ["tags.team NOT IN ('alpha-team')", ['r3', 'r2']],
      ["tags.`x y` = 'spaced'", ['r3']],
      ["tags.mlflow.source.name = 'train.py'", ['r1']],
      ['tags.`x y` IS NULL and params.lr IS NOT NULL', ['r2', 'r1']],
      ["attributes.status = 'FINISHED'", ['r2', 'r1']],
      ["attributes.status != 'FINISHED'", ['r4', 'r3']],
      ["attributes.run_name = 'beta'", ['r2']],
      ["run_name LIKE '%ta'", ['r4', 'r2']],
      ["attributes.`Run Name` ILIKE 'GAMMA'", ['r3']],
      ["attributes.run_id IN ('r1', 'r4', 'r6')", ['r4', 'r1']],
      ["attributes.run_id NOT IN ('r1', 'r4')", ['r3', 'r2']],
      ["attributes.user_id = 'ann'", ['r1']],
      ["attributes.lifecycle_stage = 'active'", ['r4', 'r3', 'r2', 'r1']],
      ["attributes.artifact_uri LIKE '%/r2/%'", ['r2']],
      ['attributes.start_time >= 2000 and attributes.start_time < 4000', ['r3', 'r2']],
      ['created > 3000', ['r4']],
      ['attributes.end_time > 2500', ['r4', 'r2']],
      ["metrics.acc > 0.5 and params.lr = '0.01' and tags.team LIKE 'alpha%' and attributes.status = 'FINISHED'", ['r1']],
    ])('%s', async (filter, expected) => {
      expect(await runIds(filter)).toEqual(expected);
    });

    it('binds every value and key: SQL in a filter matches nothing and changes nothing', async () => {
      const hostile = ["params.x = '1'' or 1=1 --'", "params.lr = '0.01'' or ''1''=''1'", "params.`lr' or 1=1 --` = '0.01'", "tags.team IN ('x''); drop table runs; --')"];
      for (const filter of hostile) {
        const query = runQuery(filter);
        const { sql, parameters } = query.compile();
        expect(sql).not.toMatch(/1=1|'1'='1|drop table/);
        expect(parameters.some((p) => typeof p === 'string' && /1=1|'1'='1|drop table/.test(p))).toBe(true);
        expect(await query.execute()).toEqual([]);
      }
      const count = await store.db.selectFrom('runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(RUNS.length);
    });

    it('uses ILIKE only when the adapter supports it, with the same results either way', async () => {
      const filter = parseRunFilter("params.model ILIKE 'C%'");
      const base = { experimentIds: [0], lifecycleStages: ['active' as const], filter, orderBy: [], offset: 0, limit: 100 };
      const native = buildRunSearchQuery(store.db, store.adapter, base);
      const lowered = buildRunSearchQuery(store.db, { ...store.adapter, supportsIlike: false }, base);
      expect(native.compile().sql.includes(' ilike ')).toBe(store.adapter.supportsIlike);
      expect(lowered.compile().sql).toContain('lower(');
      expect((await native.execute()).map((r) => r.run_id)).toEqual(['r2', 'r1']);
      expect((await lowered.execute()).map((r) => r.run_id)).toEqual(['r2', 'r1']);
    });

    it('returns full run rows', async () => {
      const [row] = await runQuery("attributes.run_id = 'r3'").execute();
      expect(row).toEqual({
        run_id: 'r3',
        experiment_id: 0,
        name: 'gamma',
        user_id: 'bob',
        status: 'RUNNING',
        start_time: 3000,
        end_time: null,
        lifecycle_stage: 'active',
        artifact_uri: 'mlflow-artifacts:/0/r3/artifacts',
        parent_run_id: null,
        deleted_time: null,
        heartbeat_time: null,
      });
    });
  });

  describe('experiments and lifecycle stages of runs', () => {
    it.each([
      [{ lifecycleStages: ['deleted'] }, '', ['r5']],
      [{ lifecycleStages: ['active', 'deleted'] }, '', ['r5', 'r4', 'r3', 'r2', 'r1']],
      [{ lifecycleStages: [] }, '', []],
      [{ experimentIds: [1] }, '', ['r6', 'r7']],
      [{ experimentIds: [] }, '', []],
      [{ experimentIds: [0, 1] }, "attributes.experiment_id = '1'", ['r6', 'r7']],
      [{ experimentIds: [0, 1] }, "attributes.experiment_id IN ('0') and metrics.acc > 0.9", ['r1']],
      [{ experimentIds: [0, 1] }, 'metrics.acc > 0.9', ['r6', 'r1']],
    ] as [Partial<RunSearchQuery>, string, string[]][])('%j %s', async (extra, filter, expected) => {
      expect(await runIds(filter, [], extra)).toEqual(expected);
    });
  });

  describe('run order_by', () => {
    it.each([
      [[], ['r4', 'r3', 'r2', 'r1']],
      [['metrics.acc DESC'], ['r1', 'r2', 'r3', 'r4']],
      [['metrics.acc'], ['r2', 'r1', 'r3', 'r4']],
      [['metrics.loss DESC'], ['r4', 'r1', 'r3', 'r2']],
      [['params.lr'], ['r3', 'r1', 'r2', 'r4']],
      [['params.lr DESC'], ['r2', 'r3', 'r1', 'r4']],
      [['params.lr', 'metrics.acc DESC'], ['r1', 'r3', 'r2', 'r4']],
      [['tags.team'], ['r1', 'r3', 'r2', 'r4']],
      [['tags.team DESC'], ['r2', 'r3', 'r1', 'r4']],
      [['tags.`x y` DESC'], ['r3', 'r4', 'r2', 'r1']],
      [['start_time'], ['r1', 'r2', 'r3', 'r4']],
      [['attributes.created DESC'], ['r4', 'r3', 'r2', 'r1']],
      [['attributes.end_time'], ['r1', 'r2', 'r4', 'r3']],
      [['end_time DESC'], ['r4', 'r2', 'r1', 'r3']],
      [['status'], ['r4', 'r2', 'r1', 'r3']],
      [['run_name DESC'], ['r3', 'r4', 'r2', 'r1']],
    ])('%j', async (orderBy, expected) => {
      expect(await runIds('', orderBy)).toEqual(expected);
    });

    it('breaks start_time ties by run id', async () => {
      expect(await runIds('', [], { experimentIds: [1] })).toEqual(['r6', 'r7']);
      expect(await runIds('', ['metrics.acc DESC'], { experimentIds: [1] })).toEqual(['r6', 'r7']);
    });

    it('filters and orders by the same key', async () => {
      expect(await runIds('metrics.acc > 0', ['metrics.acc'])).toEqual(['r2', 'r1']);
    });

    it('applies offset and limit after ordering', async () => {
      expect(await runIds('', [], { offset: 1, limit: 2 })).toEqual(['r3', 'r2']);
      expect(await runIds('', ['metrics.acc DESC'], { offset: 3, limit: 10 })).toEqual(['r4']);
      expect(await runIds('', [], { offset: 10, limit: 10 })).toEqual([]);
      expect(await runIds('', [], { limit: 0 })).toEqual([]);
    });
  });

  describe('experiment search', () => {
    const experimentIds = async (filter: string, orderBy: string[] = [], extra: Partial<ExperimentSearchQuery> = {}) => {
      const rows = await buildExperimentSearchQuery(store.db, store.adapter, {
        lifecycleStages: ['active'],
        filter: parseExperimentFilter(filter),
        orderBy: parseExperimentOrderBy(orderBy),
        offset: 0,
        limit: 100,
        ...extra,
      }).execute();
      return rows.map((r) => Number(r.experiment_id));
    };

    it.each([
      // Default order: creation_time DESC, experiment_id ASC (Default was created "now").
      ['', [0, 1, 2]],
      ["name = 'other'", [1]],
      ["attributes.name LIKE 'A%'", [2]],
      ["name LIKE 'a%'", []],
      ["name ILIKE 'a%'", [2]],
      ["name != 'Default'", [1, 2]],
      ['attributes.creation_time < 150', [1, 2]],
      ['last_update_time >= 500 and creation_time <= 200', [1, 2]],
      ["tags.team = 'x'", [2]],
      ["tags.note LIKE 'n%' and tags.team != 'y'", [2]],
      ['tags.team IS NULL', [0, 1]],
      ["name = 'x'' or ''1''=''1'", []],
    ])('filter %s', async (filter, expected) => {
      expect(await experimentIds(filter)).toEqual(expected);
    });

    it.each([
      [['name'], [2, 0, 1]],
      [['name DESC'], [1, 0, 2]],
      [['creation_time'], [2, 1, 0]],
      [['experiment_id DESC'], [2, 1, 0]],
      [['last_update_time'], [1, 2, 0]],
    ])('order_by %j', async (orderBy, expected) => {
      expect(await experimentIds('', orderBy)).toEqual(expected);
    });

    it('honours lifecycle stages and pages', async () => {
      expect(await experimentIds('', [], { lifecycleStages: ['deleted'] })).toEqual([3]);
      expect(await experimentIds('', ['experiment_id'], { lifecycleStages: ['active', 'deleted'] })).toEqual([0, 1, 2, 3]);
      expect(await experimentIds('', [], { offset: 1, limit: 1 })).toEqual([1]);
    });
  });
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`search SQL on ${backend.name}`, () => searchCases(backend));
}
