/**
 * GET /api/v1/datasets/diff and POST /api/v1/datasets/transform through a
 * real server on a real port. Diff: the hand-made versions of
 * test/fixtures/diff (what v2 does to v1 is listed in diff.test.ts; the PSI
 * literals come from test/fixtures/diff/psi.py). Transform: raw → features →
 * scores from test/fixtures/transform, rows checked against values computed
 * by hand, the run and lineage it records, and the errors as
 * `{error: {code, message}}` with their statuses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/listening-server.js';
import { DATA_FIXTURES } from '../../test/support/data.js';
import { TRANSFORM_FIXTURES } from '../../test/support/transforms.js';

const DIFF_FIXTURES = path.resolve(DATA_FIXTURES, '../diff');
const sqlOf = (name: string) => fs.readFileSync(path.join(TRANSFORM_FIXTURES, name), 'utf8');

let server: TestServer;
let api: string;

/** A response body as JSON, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

async function upload(name: string, file: string, query = ''): Promise<void> {
  const res = await fetch(`${api}/datasets/${name}/versions?format=csv${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: fs.readFileSync(file),
  });
  expect(res.status).toBe(201);
}

const diff = (query: string) => fetch(`${api}/datasets/diff?${query}`);
const transform = (body: unknown) => fetch(`${api}/datasets/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  server = await startTestServer();
  api = `${server.url}/api/v1`;
  await upload('shop', path.join(DIFF_FIXTURES, 'v1.csv'));
  await upload('shop', path.join(DIFF_FIXTURES, 'v2.csv'), '&allowSchemaChange=true');
  await upload('dups', path.join(DIFF_FIXTURES, 'dup.csv'));
  await upload('raw', path.join(TRANSFORM_FIXTURES, 'raw.csv'));
});
afterAll(async () => server?.close());

describe('GET /api/v1/datasets/diff', () => {
  it('returns schema changes, row counts, statistics and drift without a key', async () => {
    const res = await diff('a=shop@1&b=shop@2');
    expect(res.status).toBe(200);
    const d = await json(res);
    expect(d.a).toMatchObject({ ref: 'shop@1', dataset: 'shop', version: 1, rowCount: 20 });
    expect(d.b).toMatchObject({ ref: 'shop@2', dataset: 'shop', version: 2, rowCount: 21 });
    expect(d.sameContent).toBe(false);
    expect(d.rowCount).toEqual({ a: 20, b: 21, delta: 1 });
    expect(d.schema).toEqual({
      added: [{ name: 'country', type: 'VARCHAR', nullable: false }],
      removed: [{ name: 'city', type: 'VARCHAR', nullable: false }],
      retyped: [{ name: 'qty', from: 'BIGINT', to: 'DOUBLE' }],
    });
    expect(d.rows).toBeNull();
    const amount = d.columns.find((c: { name: string }) => c.name === 'amount');
    // 19 of 20 amounts present in v1, 19 of 21 in v2; max 57.5 → 90.
    expect(amount.stats.nulls).toEqual({ a: 1, b: 2, delta: 1 });
    expect(amount.stats.max).toEqual({ a: 57.5, b: 90, delta: 32.5 });
    // psi.py
    expect(amount.drift.method).toBe('psi_deciles');
    expect(amount.drift.psi).toBeCloseTo(0.2541217756474895, 10);
    const segment = d.columns.find((c: { name: string }) => c.name === 'segment');
    expect(segment.stats.max).toEqual({ a: 'C', b: 'D', delta: null });
    expect(segment.drift).toEqual({ method: 'psi_categories', psi: expect.closeTo(0.6736345341983477, 10) });
  });

  it('counts rows by a key given as key=col, with samples', async () => {
    const d = await json(await diff('a=shop@1&b=shop@latest&key=id&sample=2'));
    expect(d.rows).toEqual({
      key: ['id'],
      compared: ['segment', 'amount', 'qty'],
      added: 3,
      removed: 2,
      changed: 4,
      unchanged: 14,
      changedByColumn: { segment: 1, amount: 2, qty: 1 },
      samples: {
        added: [
          { id: 21, segment: 'D', amount: 80, qty: 1, country: 'FR' },
          { id: 22, segment: 'D', amount: 85, qty: 2, country: 'DE' },
        ],
        removed: [
          { id: 3, segment: 'B', amount: 15, qty: 1, city: 'berlin' },
          { id: 7, segment: 'A', amount: 25, qty: 2, city: 'rome' },
        ],
        changed: [
          { key: { id: 5 }, changes: { amount: { a: 20, b: 21 } } },
          { key: { id: 10 }, changes: { segment: { a: 'C', b: 'A' } } },
        ],
      },
    });
  });

  it('takes a compound key as key=col1,col2 and shows NULLs in changes', async () => {
    // (id, segment): id 10 changed segment, so it is one removed and one added row rather than a change.
    const d = await json(await diff(`a=shop@1&b=shop@2&key=${encodeURIComponent('id, segment')}`));
    expect(d.rows).toMatchObject({ key: ['id', 'segment'], added: 4, removed: 3, changed: 3, unchanged: 14 });
    expect(d.rows.samples.changed).toContainEqual({ key: { id: 12, segment: 'B' }, changes: { amount: { a: 37.5, b: null } } });
  });

  it('finds nothing between a version and itself', async () => {
    const d = await json(await diff('a=shop@2&b=shop&key=id'));
    expect(d.sameContent).toBe(true);
    expect(d.columns.map((c: { drift: { psi: number } }) => c.drift.psi)).toEqual([0, 0, 0, 0, 0]);
    expect(d.rows).toMatchObject({ added: 0, removed: 0, changed: 0, unchanged: 21 });
  });

  it('answers 400 for missing refs, bad samples, bad and duplicate keys, 404 for unknown versions', async () => {
    const missing = await diff('a=shop@1');
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.code).toBe('FW_INVALID_ARGUMENT');
    expect((await diff('a=shop@1&b=shop@2&sample=1001')).status).toBe(400);
    expect((await diff('a=shop@1&b=shop@2&color=red')).status).toBe(400);

    const noKey = await diff('a=shop@1&b=shop@2&key=%2C');
    expect(noKey.status).toBe(400);
    expect((await json(noKey)).error.message).toBe('Give at least one key column');

    const badKey = await diff('a=shop@1&b=shop@2&key=city');
    expect(badKey.status).toBe(400);
    expect((await json(badKey)).error.message).toContain('Key column "city" is not in shop@2');

    const dup = await diff('a=dups@1&b=shop@1&key=id');
    expect(dup.status).toBe(400);
    expect((await json(dup)).error.message).toContain('Key (id) is not unique in dups@1: id=3 appears 3 times');

    const unknown = await diff('a=shop@1&b=shop@7');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toEqual({ code: 'FW_NOT_FOUND', message: 'Dataset "shop" has no version 7 (latest is 2)' });
  });
});

describe('POST /api/v1/datasets/transform', () => {
  let featuresRun: string;

  it('stores the result as a new version and answers 201 with it and the run id', async () => {
    const res = await transform({ sql: sqlOf('features.sql'), into: 'features', message: 'doubled', name: 'features.sql', params: { owner: 'ana' } });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.version).toMatchObject({ dataset: 'features', version: 1, rowCount: 3, message: 'doubled', runId: body.runId });
    expect(body.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.inputs.map((i: { ref: string; version: { dataset: string; version: number } }) => [i.ref, i.version.dataset, i.version.version])).toEqual([['raw', 'raw', 1]]);
    expect(body.sqlSha256).toMatch(/^[0-9a-f]{64}$/);
    featuresRun = body.runId;
    // raw.csv: ids 1..4 with amounts 10.5, NULL, 4.25, 8 → doubled, the NULL row dropped.
    const head = await json(await fetch(`${api}/datasets/features@1/head`));
    expect(head.rows).toEqual([
      { id: 1, amount2: 21, region: 'eu' },
      { id: 3, amount2: 8.5, region: 'eu' },
      { id: 4, amount2: 16, region: 'us' },
    ]);
  });

  it('records the transform as a finished run with its params', async () => {
    const run = await json(await fetch(`${api}/runs/${featuresRun}`));
    expect(run.info).toMatchObject({ status: 'FINISHED', runName: 'transform features' });
    expect(run.data.params).toMatchObject({ sql_file: 'features.sql', target: 'features', inputs: 'raw@1', owner: 'ana' });
  });

  it('chains transforms, and lineage walks both', async () => {
    const res = await transform({ sql: sqlOf('scores.sql'), into: 'scores' });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.version).toMatchObject({ dataset: 'scores', version: 1, message: 'transform SQL' });
    // score = amount2 + qty: 21 + 2, 8.5 + 3, 16 + 1.
    expect((await json(await fetch(`${api}/datasets/scores/head`))).rows).toEqual([
      { id: 1, score: 23 },
      { id: 3, score: 11.5 },
      { id: 4, score: 17 },
    ]);
    const g = await json(await fetch(`${api}/lineage?ref=scores@1&direction=upstream`));
    expect(g.nodes.map((n: { label: string }) => n.label).sort()).toEqual(
      ['features@1', 'raw@1', 'scores@1', `run transform features (${featuresRun.slice(0, 8)})`, `run transform scores (${body.runId.slice(0, 8)})`].sort(),
    );
  });

  it('answers 400 for a SQL error, naming the SQL and line, and makes no version', async () => {
    const res = await transform({ sql: 'select id,\n  nope\nfrom {{ ref("raw") }}', into: 'broken', name: 'bad.sql' });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe('FW_INVALID_ARGUMENT');
    expect(error.message).toContain('bad.sql: SQL failed: Binder Error: Referenced column "nope" not found');
    expect(error.message).toContain('(line 2)');
    expect((await fetch(`${api}/datasets/broken`)).status).toBe(404);
  });

  it('answers 404 for an unknown ref and 400 for bad names, empty SQL and unknown fields', async () => {
    const unknown = await transform({ sql: "select * from {{ ref('nope@2') }}", into: 'x' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: 'FW_NOT_FOUND', message: expect.stringContaining(`SQL:1:15: ref('nope@2'): Dataset "nope" does not exist`) });
    const badName = await transform({ sql: 'select 1', into: '../x' });
    expect(badName.status).toBe(400);
    expect((await json(badName)).error.message).toContain('Invalid dataset name "../x"');
    const empty = await transform({ sql: '  ', into: 'x' });
    expect(empty.status).toBe(400);
    expect((await json(empty)).error.message).toBe('SQL: the SQL is empty');
    expect((await transform({ sql: 'select 1', into: 'x', file: 'a.sql' })).status).toBe(400);
    expect((await transform({ into: 'x' })).status).toBe(400);
    expect((await fetch(`${api}/datasets/x`)).status).toBe(404);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await json(await fetch(`${api}/openapi.json`));
    expect(doc.paths['/api/v1/datasets/diff'].get).toMatchObject({ operationId: 'diffDatasetVersions', tags: ['data'] });
    expect(doc.paths['/api/v1/datasets/transform'].post).toMatchObject({ operationId: 'transformDataset', tags: ['data'] });
    expect(doc.paths['/api/v1/datasets/transform'].post.requestBody.content['application/json'].schema.required).toEqual(['sql', 'into']);
  });
});
