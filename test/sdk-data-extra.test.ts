/**
 * `fw.data.diff / transform / validate / read / parquetPath(ref)` and
 * `fw.lineage` in both SDK modes — embedded against a temp home, remote
 * against a real server — with the same expectations for each:
 * - diff on test/fixtures/diff (v1 → v2 by hand in diff.test.ts; PSI from
 *   test/fixtures/diff/psi.py),
 * - raw → features → scores from test/fixtures/transform, rows computed by hand,
 * - a suite on raw.csv counted by hand (4 rows: one NULL amount, regions eu, us, eu, us),
 * - reads through the head route and, past 10,000 rows, through the Parquet file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HEAD_ROWS } from '../src/data/service.js';
import { HEAD_ROW_LIMIT } from '../src/sdk/data-extra.js';
import { Flywheel } from '../src/sdk/flywheel.js';
import { DATA_FIXTURES } from './support/data.js';
import { startTestServer, type TestServer } from './support/listening-server.js';
import { TRANSFORM_FIXTURES } from './support/transforms.js';

const DIFF = path.resolve(DATA_FIXTURES, '../diff');
let server: TestServer;
let home: string;
let scratch: string;

/**
 * 10,005 rows: id i, big = 2^53 + i (beyond exact doubles, so text),
 * day = 2024-01-01 + (i − 1) mod 31 days. Row 10,005: big 9007199254750997, day 2024-01-23.
 */
function wideCsv(): string {
  const lines = ['id,big,day'];
  for (let i = 1; i <= 10_005; i++) lines.push(`${i},${9007199254740992n + BigInt(i)},2024-01-${String(((i - 1) % 31) + 1).padStart(2, '0')}`);
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  server = await startTestServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sdk-extra-'));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sdk-extra-src-'));
  fs.writeFileSync(path.join(scratch, 'wide.csv'), wideCsv());
  fs.writeFileSync(
    path.join(scratch, 'raw.yaml'),
    ['name: raw_yaml', 'dataset: raw', 'checks:', '  - type: between', '    column: qty', '    min: 1', '    max: 2', '    mostly: 0.5', ''].join('\n'),
  );
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

it('reads through the head route exactly as far as the data service serves rows', () => {
  expect(HEAD_ROW_LIMIT).toBe(MAX_HEAD_ROWS);
});

const modes: [string, () => Promise<Flywheel>][] = [
  ['embedded', () => Flywheel.open({ home }, {})],
  ['remote', () => Flywheel.connect(server.url)],
];

for (const [mode, open] of modes) {
  describe(`fw.data extras (${mode})`, () => {
    let fw: Flywheel;
    beforeAll(async () => {
      fw = await open();
      await fw.data.add('shop', path.join(DIFF, 'v1.csv'));
      await fw.data.add('shop', path.join(DIFF, 'v2.csv'), { allowSchemaChange: true });
      await fw.data.add('raw', path.join(TRANSFORM_FIXTURES, 'raw.csv'));
    });
    afterAll(async () => fw?.close());

    it('diffs two versions, with rows by key', async () => {
      const d = await fw.data.diff('shop@1', 'shop@2', { key: ['id'], sample: 1 });
      expect(d.rowCount).toEqual({ a: 20, b: 21, delta: 1 });
      expect(d.schema.retyped).toEqual([{ name: 'qty', from: 'BIGINT', to: 'DOUBLE' }]);
      expect(d.columns.find((c) => c.name === 'amount')!.drift!.psi).toBeCloseTo(0.2541217756474895, 10);
      expect(d.rows).toMatchObject({ added: 3, removed: 2, changed: 4, unchanged: 14 });
      expect(d.rows!.samples).toEqual({
        added: [{ id: 21, segment: 'D', amount: 80, qty: 1, country: 'FR' }],
        removed: [{ id: 3, segment: 'B', amount: 15, qty: 1, city: 'berlin' }],
        changed: [{ key: { id: 5 }, changes: { amount: { a: 20, b: 21 } } }],
      });
      expect((await fw.data.diff('shop@1', 'shop@2')).rows).toBeNull();
      // Two key columns cross the wire too: id 10 changed segment, so it is removed and added.
      expect((await fw.data.diff('shop@1', 'shop@2', { key: ['id', 'segment'], sample: 0 })).rows).toMatchObject({ added: 4, removed: 3, changed: 3 });
      await expect(fw.data.diff('shop@1', 'shop@9')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Dataset "shop" has no version 9 (latest is 2)' });
      await expect(fw.data.diff('shop@1', 'shop@2', { key: ['city'] })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('Key column "city" is not in shop@2') });
    });

    let featuresRun: string;
    let scoresRun: string;

    it('transforms a SQL file and SQL text into new versions, recorded as runs', async () => {
      const file = path.join(TRANSFORM_FIXTURES, 'features.sql');
      const features = await fw.data.transform({ file, into: 'features', params: { step: 'features' } });
      featuresRun = features.runId;
      expect(features.version).toMatchObject({ dataset: 'features', version: 1, rowCount: 3, message: 'transform features.sql', runId: features.runId });
      expect(features.inputs.map((i) => `${i.ref} → ${i.version.dataset}@${i.version.version}`)).toEqual(['raw → raw@1']);
      // raw.csv amounts 10.5, NULL, 4.25, 8 → doubled, the NULL row dropped.
      expect(await fw.data.read('features@1')).toEqual([
        { id: 1, amount2: 21, region: 'eu' },
        { id: 3, amount2: 8.5, region: 'eu' },
        { id: 4, amount2: 16, region: 'us' },
      ]);
      const run = await fw.tracking.getRun(features.runId);
      expect(run.info.status).toBe('FINISHED');
      expect(run.data.params).toMatchObject({ sql_file: file, target: 'features', inputs: 'raw@1', step: 'features' });

      const scores = await fw.data.transform({ sql: fs.readFileSync(path.join(TRANSFORM_FIXTURES, 'scores.sql'), 'utf8'), into: 'scores', message: 'scores' });
      scoresRun = scores.runId;
      expect(scores.version).toMatchObject({ dataset: 'scores', version: 1, message: 'scores' });
      // score = amount2 + qty: 21 + 2, 8.5 + 3, 16 + 1.
      expect(await fw.data.read('scores')).toEqual([
        { id: 1, score: 23 },
        { id: 3, score: 11.5 },
        { id: 4, score: 17 },
      ]);
    });

    it('reports transform failures as errors and makes no version', async () => {
      await expect(fw.data.transform({ sql: 'select nope from {{ ref("raw") }}', into: 'broken', name: 'bad.sql' })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
        message: expect.stringContaining('bad.sql: SQL failed: Binder Error: Referenced column "nope" not found'),
      });
      await expect(fw.data.transform({ file: path.join(scratch, 'absent.sql'), into: 'broken' })).rejects.toMatchObject({
        code: 'FW_NOT_FOUND',
        message: `SQL file ${path.join(scratch, 'absent.sql')} does not exist`,
      });
      await expect(fw.data.resolve('broken')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    });

    it('walks lineage upstream and downstream, from a dataset ref or a run', async () => {
      const up = await fw.lineage('scores@1');
      expect(up.direction).toBe('upstream');
      expect(up.root).toMatchObject({ type: 'dataset_version', label: 'scores@1' });
      expect(up.nodes.map((n) => n.label).sort()).toEqual(
        ['features@1', 'raw@1', 'scores@1', `run transform features (${featuresRun.slice(0, 8)})`, `run transform scores (${scoresRun.slice(0, 8)})`].sort(),
      );
      const down = await fw.lineage('raw@1', 'downstream');
      expect(down.nodes.map((n) => n.label)).toEqual(expect.arrayContaining(['features@1', 'scores@1']));
      // One edge from raw@1: the three runs that read it — features, scores (which joins raw@1) and the failed transform.
      const shallow = await fw.lineage('raw@1', 'downstream', { maxDepth: 1 });
      expect(shallow.nodes.map((n) => n.label).sort()).toEqual([
        'raw@1',
        expect.stringMatching(/^run transform broken \([0-9a-f]{8}\) \[FAILED\]$/),
        `run transform features (${featuresRun.slice(0, 8)})`,
        `run transform scores (${scoresRun.slice(0, 8)})`,
      ]);
      const fromRun = await fw.lineage(`run:${featuresRun}`, 'downstream');
      expect(fromRun.nodes.map((n) => n.label)).toEqual(expect.arrayContaining(['features@1', 'scores@1']));
      await expect(fw.lineage('nope@1')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    });

    it('validates a version with a suite object or a suite file', async () => {
      const result = await fw.data.validate('raw@1', {
        name: 'raw_checks',
        dataset: 'raw',
        checks: [
          // 3 of 4 amounts present: exactly the 0.75 asked for.
          { type: 'not_null', column: 'amount', mostly: 0.75 },
          // regions eu, us, eu, us: 2 of 4 outside {eu}.
          { type: 'in_set', column: 'region', values: ['eu'] },
        ],
      });
      expect(result).toMatchObject({ suite: 'raw_checks', dataset: 'raw', success: false, statistics: { checks: 2, passed: 1, failed: 1, errors: 1, warnings: 0 } });
      expect(result.id).toMatch(/^[0-9a-f]{32}$/);
      expect(result.versionId).toBe((await fw.data.resolve('raw@1')).id);
      expect(result.checks[0]).toMatchObject({ success: true, observed: 0.75, unexpectedCount: 1, evaluatedCount: 4 });
      expect(result.checks[1]).toMatchObject({ success: false, unexpectedCount: 2, unexpectedPercent: 50 });

      // qty 2, 1, 3, 1: one of four above 2, and mostly 0.5 lets it pass.
      const fromFile = await fw.data.validate('raw', path.join(scratch, 'raw.yaml'), { save: false });
      expect(fromFile).toMatchObject({ id: '', suite: 'raw_yaml', success: true });
      expect(fromFile.checks[0]).toMatchObject({ observed: 0.75, unexpectedCount: 1 });

      await expect(fw.data.validate('raw@1', { name: 's', dataset: 'raw', checks: [{ type: 'between', column: 'qty', min: 'x' } as never] })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
      });
      await expect(fw.data.validate('raw@1', { name: 's', dataset: 'raw', checks: [{ type: 'not_null', column: 'missing' }] })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
        message: expect.stringContaining('missing'),
      });
    });

    it('reads rows, with a limit, as the head route gives them', async () => {
      // raw.csv as written; the empty amount is NULL.
      expect(await fw.data.read('raw@1')).toEqual([
        { id: 1, amount: 10.5, qty: 2, region: 'eu' },
        { id: 2, amount: null, qty: 1, region: 'us' },
        { id: 3, amount: 4.25, qty: 3, region: 'eu' },
        { id: 4, amount: 8, qty: 1, region: 'us' },
      ]);
      expect(await fw.data.read('raw', { limit: 1 })).toEqual([{ id: 1, amount: 10.5, qty: 2, region: 'eu' }]);
      expect(await fw.data.read('raw', { limit: 0 })).toEqual([]);
      await expect(fw.data.read('raw', { limit: -1 })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: 'limit must be a whole number ≥ 0, got -1' });
    });

    it('reads past 10,000 rows from the Parquet file with the same values', async () => {
      await fw.data.add('wide', path.join(scratch, 'wide.csv'));
      const all = await fw.data.read('wide');
      expect(all).toHaveLength(10_005);
      expect(all[0]).toEqual({ id: 1, big: '9007199254740993', day: '2024-01-01' });
      expect(all[10_004]).toEqual({ id: 10_005, big: '9007199254750997', day: '2024-01-23' });
      const some = await fw.data.read('wide@1', { limit: 10_001 });
      expect(some).toHaveLength(10_001);
      expect(some[10_000]).toEqual({ id: 10_001, big: '9007199254750993', day: '2024-01-19' });
      // The head route's rows and the Parquet path's rows agree.
      expect((await fw.data.read('wide', { limit: 3 }))).toEqual(all.slice(0, 3));
    });

    it('gives a Parquet path for a ref as well as for a version', async () => {
      const v = await fw.data.resolve('raw@1');
      const byRef = await fw.data.parquetPath('raw@1');
      expect(createHash('sha256').update(fs.readFileSync(byRef)).digest('hex')).toBe(v.contentHash);
      expect(await fw.data.parquetPath(v)).toBe(byRef);
    });
  });
}
