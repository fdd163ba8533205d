/**
 * The data API through a real server on a real port: upload a file as a
 * version, list, resolve, profile, head, download (Parquet bytes as stored,
 * CSV rows as uploaded), errors as `{error: {code, message}}`, soft delete,
 * and the routes in the OpenAPI document.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/listening-server.js';
import { DATA_FIXTURES } from '../../test/support/data.js';

let server: TestServer;
let api: string;
const PEOPLE = fs.readFileSync(path.join(DATA_FIXTURES, 'people.csv'));

beforeAll(async () => {
  server = await startTestServer();
  api = `${server.url}/api/v1`;
});
afterAll(async () => server.close());

/** A response body as JSON, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();

async function upload(name: string, body: Buffer | string, query = ''): Promise<Response> {
  return fetch(`${api}/datasets/${name}/versions${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
}

describe('/api/v1/datasets', () => {
  it('uploads a CSV as version 1 and answers 201 with the version', async () => {
    const res = await upload('people', PEOPLE, '?format=csv&message=first&tag=team%3Ddata&tag=pii%3Dyes');
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ created: true, unchanged: null, quarantine: null, version: { dataset: 'people', version: 1, rowCount: 40, message: 'first', tags: { team: 'data', pii: 'yes' } } });
    expect(body.version.schema).toHaveLength(11);
  });

  it('answers 200 and makes no version for unchanged content with skipUnchanged', async () => {
    const res = await upload('people', PEOPLE, '?skipUnchanged=true');
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ created: false, unchanged: 'content', version: { version: 1 } });
  });

  it('lists datasets and versions, and resolves refs', async () => {
    expect(await json(await fetch(`${api}/datasets`))).toMatchObject({ items: [{ name: 'people', latestVersion: 1, lifecycleStage: 'active' }] });
    expect(await json(await fetch(`${api}/datasets/people`))).toMatchObject({ name: 'people', latestVersion: 1 });
    const versions = await json(await fetch(`${api}/datasets/people/versions`));
    expect(versions.items.map((v: { version: number }) => v.version)).toEqual([1]);
    const hash = versions.items[0].contentHash as string;
    const byHash = await json(await fetch(`${api}/datasets/${encodeURIComponent(`people@${hash.slice(0, 8)}`)}/version`));
    expect(byHash).toMatchObject({ version: 1, contentHash: hash });
  });

  it('returns the profile', async () => {
    const p = await json(await fetch(`${api}/datasets/people@1/profile`));
    expect(p.rowCount).toBe(40);
    const age = p.columns.find((c: { name: string }) => c.name === 'age');
    expect(age).toMatchObject({ count: 36, nulls: 4, min: 18, max: 67 });
    expect(age.std).toBeCloseTo(15.025903559446194, 12);
    expect(p.columns.find((c: { name: string }) => c.name === 'email').pii).toEqual(['email']);
  });

  it('returns the first rows', async () => {
    const head = await json(await fetch(`${api}/datasets/people@latest/head?n=1`));
    expect(head.rows).toEqual([
      { id: 1, age: 18, income: 1000, city: 'Paris', email: 'user0@example0.com', card: '4111 1111 1111 1111', bogus_card: 4000000000000000, ip: '10.0.0.0', phone: '+1 555-0100-1000', signup: '2024-01-01', active: false },
    ]);
  });

  it('downloads the stored Parquet bytes and the rows as CSV', async () => {
    const version = await json(await fetch(`${api}/datasets/people/version`));
    const pq = await fetch(`${api}/datasets/people@1/download`);
    expect(pq.status).toBe(200);
    expect(pq.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    expect(pq.headers.get('content-disposition')).toBe('attachment; filename="people-v1.parquet"');
    const bytes = Buffer.from(await pq.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(version.contentHash);
    const csv = await fetch(`${api}/datasets/people@1/download?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(PEOPLE.toString('utf8'));
  });

  it('reports bad uploads with the line, naming the upload rather than a temp file', async () => {
    const res = await upload('broken', 'a,b\n1,2\n3\n');
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('FW_INVALID_ARGUMENT');
    expect(body.error.message).toMatch(/^uploaded file line 3: expected 2 columns, found 1/);
    expect(body.error.details).toEqual({ file: 'uploaded file', line: 3 });
    expect((await fetch(`${api}/datasets/broken`)).status).toBe(404);
  });

  it('quarantines bad rows of an upload when asked', async () => {
    const res = await upload('loose', 'a,b\n1,2\n3\n4,5\n', '?onBadRows=quarantine');
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.version.rowCount).toBe(2);
    expect(body.quarantine).toMatchObject({ rows: 1, version: { dataset: 'loose__quarantine', version: 1 } });
  });

  it('validates names, refs and query parameters', async () => {
    const badName = await upload('a%2Fb', 'x\n1\n');
    expect(badName.status).toBe(400);
    expect((await json(badName)).error.code).toBe('FW_INVALID_ARGUMENT');
    const badPolicy = await upload('ok', 'x\n1\n', '?onBadRows=ignore');
    expect(badPolicy.status).toBe(400);
    const badRef = await fetch(`${api}/datasets/people@zz/profile`);
    expect(badRef.status).toBe(400);
    const missing = await fetch(`${api}/datasets/people@9/head`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toEqual({ code: 'FW_NOT_FOUND', message: 'Dataset "people" has no version 9 (latest is 1)' });
    expect((await fetch(`${api}/datasets/people/head?n=-1`)).status).toBe(400);
  });

  it('deletes softly: gone from the list, versions still served', async () => {
    const del = await fetch(`${api}/datasets/people`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const names = (await json(await fetch(`${api}/datasets`))).items.map((d: { name: string }) => d.name);
    expect(names).not.toContain('people');
    const all = (await json(await fetch(`${api}/datasets?includeDeleted=true`))).items;
    expect(all.find((d: { name: string }) => d.name === 'people')).toMatchObject({ lifecycleStage: 'deleted' });
    expect((await fetch(`${api}/datasets/people@1/head`)).status).toBe(200);
    expect((await fetch(`${api}/datasets/people`, { method: 'DELETE' })).status).toBe(404);
  });

  it('describes every data route in the OpenAPI document', async () => {
    const doc = await json(await fetch(`${api}/openapi.json`));
    const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string; tags?: string[] }>>)
      .filter(([p]) => p.startsWith('/api/v1/datasets'))
      // Quality's validation routes live under /datasets too; their own tests check them.
      .flatMap(([, methods]) => Object.values(methods).filter((m) => m.tags?.includes('data')).map((m) => m.operationId))
      .sort();
    expect(ops).toEqual([
      'addDatasetVersion',
      'deleteDataset',
      'diffDatasetVersions',
      'downloadDataset',
      'getDataset',
      'getDatasetProfile',
      'headDataset',
      'listDatasetVersions',
      'listDatasets',
      'resolveDatasetVersion',
      'transformDataset',
    ]);
  });
});
