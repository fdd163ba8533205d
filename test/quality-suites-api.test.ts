/**
 * The suite registry and validated uploads over HTTP, against a real server:
 * `PUT/GET/DELETE /api/v1/suites/:name`, `GET /api/v1/suites`, validating a
 * version with a registered suite, and `POST
 * /api/v1/datasets/:name/versions/validated` on its pass path (201, the
 * result stored with the version), its fail path (422 FW_SUITE_FAILED naming
 * the failing check, no version and no blob left) and its quarantine path.
 * Expected counts are hand counts on test/fixtures/quality/orders.csv (see
 * the comments in the suite files).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSuiteFile } from '../src/quality/suite.js';
import { FIXTURES } from './fixtures/quality/support.js';
import { startTestServer, type TestServer } from './support/listening-server.js';

const ORDERS = path.join(FIXTURES, 'orders.csv');
const SUITES = path.join(FIXTURES, 'suites');
let server: TestServer;

beforeAll(async () => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  server = await startTestServer();
});
afterAll(async () => server?.close());

async function call(method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`${server.url}/api/v1${p}`, init);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function upload(name: string, query: string, file = ORDERS): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}/api/v1/datasets/${name}/versions/validated?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: fs.readFileSync(file),
  });
  return { status: res.status, json: await res.json() };
}

function blobs(): string[] {
  const dir = path.join(server.home, 'artifacts', 'datasets', 'blobs');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** A suite file as the JSON body of PUT /suites/:name: the same snake_case keys, without the name. */
function body(file: string): Record<string, unknown> {
  const { name: _name, ...rest } = loadSuiteFile(path.join(SUITES, file));
  return rest;
}

describe('the suite registry over HTTP', () => {
  it('puts, gets, lists and deletes suites', async () => {
    const created = await call('PUT', '/suites/orders_basic', body('orders.yaml'));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'orders_basic', dataset: 'orders', change: 'created' });
    expect(created.json.definition.checks.map((c: { name: string }) => c.name)).toEqual(['not_null(id)', 'unique(id)', 'in_set(status)', 'between(amount)', 'regex(email)']);

    const again = await call('PUT', '/suites/orders_basic', { ...body('orders.yaml'), name: 'orders_basic' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ change: 'unchanged', hash: created.json.hash });

    const other = await call('PUT', '/suites/scratch', { dataset: 'orders', checks: [{ type: 'row_count', min: 1 }] });
    expect(other.status).toBe(201);
    expect((await call('GET', '/suites')).json.items.map((s: { name: string }) => s.name)).toEqual(['orders_basic', 'scratch']);
    expect((await call('GET', '/suites?dataset=customers')).json).toEqual({ items: [] });

    const got = await call('GET', '/suites/orders_basic');
    expect(got.status).toBe(200);
    const { change: _change, ...stored } = created.json;
    expect(got.json).toEqual(stored);

    expect((await call('DELETE', '/suites/scratch')).status).toBe(204);
    expect(await call('GET', '/suites/scratch')).toEqual({ status: 404, json: { error: { code: 'FW_NOT_FOUND', message: 'No suite named "scratch" is registered' } } });
    expect((await call('DELETE', '/suites/scratch')).status).toBe(404);
  });

  it('answers 400 naming the check and field of a bad suite, or a name that differs from the URL', async () => {
    const bad = await call('PUT', '/suites/orders_bad', { dataset: 'orders', checks: [{ type: 'not_null', column: 'id' }, { type: 'between', column: 'amount' }] });
    expect(bad).toEqual({ status: 400, json: { error: { code: 'FW_INVALID_ARGUMENT', message: 'suite "orders_bad": checks[1] (between): give "min", "max" or both' } } });
    const typo = await call('PUT', '/suites/orders_bad', { dataset: 'orders', checks: [{ type: 'not_null', colum: 'id' }] });
    expect(typo.json.error.message).toBe('suite "orders_bad": checks[0] (not_null): missing field "column"');
    const renamed = await call('PUT', '/suites/orders_bad', { name: 'other', dataset: 'orders', checks: [{ type: 'row_count', min: 1 }] });
    expect(renamed).toEqual({ status: 400, json: { error: { code: 'FW_INVALID_ARGUMENT', message: 'The suite in the body is named "other", the URL names "orders_bad"' } } });
    expect((await call('PUT', '/suites/bad%20name', { dataset: 'orders', checks: [{ type: 'row_count', min: 1 }] })).status).toBe(400);
    expect((await call('GET', '/suites/orders_bad')).status).toBe(404);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await call('GET', '/openapi.json')).json;
    expect(Object.keys(doc.paths['/api/v1/suites/{name}'])).toEqual(['put', 'get', 'delete']);
    expect(Object.keys(doc.paths['/api/v1/datasets/{name}/versions/validated'])).toEqual(['post']);
  });
});

describe('POST /api/v1/datasets/:name/versions/validated', () => {
  beforeAll(async () => {
    for (const [name, file] of [
      ['orders_basic', 'orders.yaml'],
      ['orders_warn_only', 'orders-warn-only.yaml'],
      ['orders_quarantine', 'orders-quarantine.yaml'],
    ]) {
      expect((await call('PUT', `/suites/${name}`, body(file))).status).toBeLessThan(300);
    }
  });

  it('refuses data failing an error check: 422 naming the check, the result in details, nothing left behind', async () => {
    const r = await upload('orders', 'suite=orders_basic&message=march');
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({
      code: 'FW_SUITE_FAILED',
      message: 'Not added: orders failed suite orders_basic: regex(email) (1 unexpected)',
      details: { dataset: 'orders', suite: 'orders_basic', failedChecks: ['regex(email)'] },
    });
    // amounts: 2 negative of 9 non-null (a warning); emails: 1 bad (d@x) of 9 non-null.
    expect(r.json.error.details.validation).toMatchObject({ versionId: null, success: false, statistics: { checks: 5, passed: 3, failed: 2, errors: 1, warnings: 1 } });
    // Sample rows carry BIGINTs as strings.
    expect(r.json.error.details.validation.checks[4]).toMatchObject({ name: 'regex(email)', unexpectedCount: 1, sampleFailingRows: [expect.objectContaining({ id: '4', email: 'd@x' })] });
    expect((await call('GET', '/datasets')).json).toEqual({ items: [] });
    expect((await call('GET', '/datasets/orders')).status).toBe(404);
    expect(blobs()).toEqual([]);
  });

  it('commits the version when the suite passes and stores the result with it', async () => {
    const r = await upload('orders', 'suite=orders_warn_only&message=march&tag=source%3Dcrm');
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ created: true, version: { dataset: 'orders', version: 1, rowCount: 10, message: 'march', tags: { source: 'crm' } } });
    expect(r.json.setAside).toBeUndefined();
    // between(amount) fails as a warning: ids 3 and 9 of 9 non-null amounts.
    expect(r.json.validation).toMatchObject({ suite: 'orders_warn_only', versionId: r.json.version.id, success: true, statistics: { checks: 2, passed: 1, failed: 1, errors: 0, warnings: 1 } });
    expect(r.json.validation.checks[1]).toMatchObject({ name: 'between(amount)', evaluatedCount: 9, unexpectedCount: 2 });
    const stored = await call('GET', '/datasets/orders@1/validations');
    expect(stored.json.items).toEqual([r.json.validation]);

    const unchanged = await upload('orders', 'suite=orders_warn_only&skipUnchanged=true');
    expect(unchanged.status).toBe(200);
    expect(unchanged.json).toMatchObject({ created: false, version: { version: 1 }, validation: null });
  });

  it('with quarantine=true commits the passing rows and sets the failing ones aside', async () => {
    const r = await upload('orders_q', 'suite=orders_quarantine&quarantine=true');
    // The suite is bound to orders: another dataset is refused before the upload is read.
    expect(r).toEqual({ status: 400, json: { error: { code: 'FW_INVALID_ARGUMENT', message: 'suite "orders_quarantine" is bound to dataset orders, not orders_q' } } });

    const q = await upload('orders', 'suite=orders_quarantine&quarantine=true');
    expect(q.status).toBe(201);
    // Set aside: ids 3, 4, 9, 10; kept: ids 1, 2, 5, 6, 7, 8.
    expect(q.json).toMatchObject({
      created: true,
      version: { dataset: 'orders', version: 2, rowCount: 6 },
      setAside: { rows: 4, reason: 'failing suite orders_quarantine', version: { dataset: 'orders__quarantine', version: 1, rowCount: 4 } },
      validation: { suite: 'orders_quarantine', success: true, statistics: { checks: 7, passed: 6, failed: 1, errors: 0, warnings: 1 } },
    });
    const head = await call('GET', `/datasets/${encodeURIComponent('orders__quarantine@1')}/head?n=10`);
    expect(head.json.rows.map((row: Record<string, unknown>) => [row.id, row.flywheel_failed_checks])).toEqual([
      [3, 'between(amount)'],
      [4, 'regex(email)'],
      [9, 'in_set(region), between(amount)'],
      [10, 'not_null(customer_id)'],
    ]);
  });

  it('answers 404 for an unknown suite and 400 for bad query values', async () => {
    expect(await upload('orders', 'suite=nope')).toEqual({ status: 404, json: { error: { code: 'FW_NOT_FOUND', message: 'No suite named "nope" is registered' } } });
    expect((await upload('orders', 'quarantine=true')).json.error.code).toBe('FW_INVALID_ARGUMENT');
    expect((await upload('orders', 'suite=orders_basic&quarantine=maybe')).status).toBe(400);
    expect((await call('GET', '/datasets/orders/versions')).json.items).toHaveLength(2);
  });
});

describe('POST /api/v1/datasets/:ref/validate with a registered suite', () => {
  it('runs the suite named in the body', async () => {
    const r = await call('POST', `/datasets/${encodeURIComponent('orders@1')}/validate`, { suite: 'orders_basic', save: false });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: '', suite: 'orders_basic', success: false, statistics: { checks: 5, errors: 1, warnings: 1 } });
    expect(await call('POST', '/datasets/orders/validate', { suite: 'nope' })).toEqual({ status: 404, json: { error: { code: 'FW_NOT_FOUND', message: 'No suite named "nope" is registered' } } });
  });
});
