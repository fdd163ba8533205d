/**
 * Flywheel's own REST API (/api/v1) through a real server on an ephemeral
 * port: resource shapes, the NaN/±Infinity spelling of metric values, paging,
 * streamed artifacts, the event log, errors as {error: {code, message}} with
 * their statuses, and the OpenAPI document describing every route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/listening-server.js';

let server: TestServer;
let api: string;

beforeAll(async () => {
  server = await startTestServer();
  api = `${server.url}/api/v1`;
});

afterAll(async () => {
  await server?.close();
});

interface Res {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

async function call(method: string, path: string, json?: unknown): Promise<Res> {
  const res = await fetch(api + path, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}

function expectError(res: Res, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

async function newExperiment(name: string): Promise<string> {
  const res = await call('POST', '/experiments', { name });
  expect(res.status).toBe(201);
  return res.body.experimentId;
}

async function newRun(experimentId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await call('POST', '/runs', { experimentId, ...extra });
  expect(res.status).toBe(201);
  return res.body.info.runId;
}

describe('experiments', () => {
  it('creates, reads, renames, tags, deletes and restores', async () => {
    const created = await call('POST', '/experiments', { name: 'churn', tags: { team: 'ml' } });
    expect(created.status).toBe(201);
    const id = created.body.experimentId;
    expect(created.body).toEqual({
      experimentId: expect.stringMatching(/^[0-9]+$/),
      name: 'churn',
      artifactLocation: `mlflow-artifacts:/${id}`,
      lifecycleStage: 'active',
      creationTime: expect.any(Number),
      lastUpdateTime: expect.any(Number),
      tags: { team: 'ml' },
    });

    expect((await call('GET', `/experiments/${id}`)).body).toEqual(created.body);
    expect((await call('GET', '/experiments/by-name/churn')).body.experimentId).toBe(id);

    const patched = await call('PATCH', `/experiments/${id}`, { name: 'churn v2', tags: { stage: 'dev' } });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('churn v2');
    expect(patched.body.tags).toEqual({ team: 'ml', stage: 'dev' });
    // Names with spaces travel URL-encoded.
    expect((await call('GET', `/experiments/by-name/${encodeURIComponent('churn v2')}`)).body.experimentId).toBe(id);

    const deleted = await call('DELETE', `/experiments/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await call('GET', `/experiments/${id}`)).body.lifecycleStage).toBe('deleted');

    const restored = await call('POST', `/experiments/${id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.lifecycleStage).toBe('active');
  });

  it('searches with a filter and pages', async () => {
    for (const name of ['search-a', 'search-b', 'search-c']) await newExperiment(name);
    const filtered = await call('GET', `/experiments?filter=${encodeURIComponent("name LIKE 'search-%'")}&maxResults=2`);
    expect(filtered.status).toBe(200);
    expect(filtered.body.items).toHaveLength(2);
    expect(typeof filtered.body.nextPageToken).toBe('string');
    const rest = await call('GET', `/experiments?filter=${encodeURIComponent("name LIKE 'search-%'")}&maxResults=2&pageToken=${encodeURIComponent(filtered.body.nextPageToken)}`);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.nextPageToken).toBeNull();
    const names = [...filtered.body.items, ...rest.body.items].map((e: { name: string }) => e.name).sort();
    expect(names).toEqual(['search-a', 'search-b', 'search-c']);
    // orderBy repeats as a query parameter; one clause is enough to be read as a list.
    const ordered = await call('GET', `/experiments?filter=${encodeURIComponent("name LIKE 'search-%'")}&orderBy=${encodeURIComponent('name DESC')}`);
    expect(ordered.status).toBe(200);
    expect(ordered.body.items.map((e: { name: string }) => e.name)).toEqual(['search-c', 'search-b', 'search-a']);
  });

  it('answers errors with a code and the matching status', async () => {
    expectError(await call('GET', '/experiments/987654'), 404, 'FW_NOT_FOUND');
    expectError(await call('GET', '/experiments/by-name/no-such-experiment'), 404, 'FW_NOT_FOUND');
    await newExperiment('dupe');
    expectError(await call('POST', '/experiments', { name: 'dupe' }), 400, 'FW_ALREADY_EXISTS');
    // Schema validation: a missing field, an unknown field, a wrong type.
    expectError(await call('POST', '/experiments', {}), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('POST', '/experiments', { name: 'x', artifact_location: '/tmp' }), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('POST', '/experiments', { name: 'x', tags: { a: { b: 1 } } }), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('GET', '/experiments?viewType=SOME'), 400, 'FW_INVALID_ARGUMENT');
    // A bad tag in a PATCH leaves the name unchanged too.
    const id = await newExperiment('patch-atomic');
    expectError(await call('PATCH', `/experiments/${id}`, { name: 'patch-renamed', tags: { 'bad key!': 'v' } }), 400, 'FW_INVALID_ARGUMENT');
    expect((await call('GET', `/experiments/${id}`)).body.name).toBe('patch-atomic');
    expectError(await call('GET', '/experiments?filter=' + encodeURIComponent('name ==')), 400, 'FW_FILTER_SYNTAX');
  });
});

describe('runs', () => {
  it('creates a run, logs a batch and reads it back in domain shape', async () => {
    const exp = await newExperiment('runs-shape');
    const created = await call('POST', '/runs', { experimentId: exp, runName: 'baseline', userId: 'ada', startTime: 1_700_000_000_000, tags: { team: 'ml' } });
    expect(created.status).toBe(201);
    const runId = created.body.info.runId;
    expect(created.body).toEqual({
      info: {
        runId: expect.stringMatching(/^[0-9a-f]{32}$/),
        runName: 'baseline',
        experimentId: exp,
        userId: 'ada',
        status: 'RUNNING',
        startTime: 1_700_000_000_000,
        endTime: null,
        artifactUri: `mlflow-artifacts:/${exp}/${runId}/artifacts`,
        lifecycleStage: 'active',
        parentRunId: null,
      },
      data: { metrics: [], params: {}, tags: { team: 'ml', 'mlflow.runName': 'baseline' } },
    });

    const batch = await call('POST', `/runs/${runId}/batch`, {
      metrics: [
        { key: 'loss', value: 0.9, step: 0, timestamp: 1000 },
        { key: 'loss', value: 0.5, step: 1, timestamp: 1001 },
        { key: 'loss', value: 0.25, step: 2, timestamp: 1002 },
        { key: 'train/grad', value: 'NaN', step: 0, timestamp: 1000 },
      ],
      params: [
        { key: 'lr', value: '0.1' },
        { key: 'depth', value: '6' },
      ],
      tags: [{ key: 'stage', value: 'dev' }],
    });
    expect(batch.status).toBe(204);

    const run = await call('GET', `/runs/${runId}`);
    expect(run.body.data.params).toEqual({ lr: '0.1', depth: '6' });
    expect(run.body.data.tags).toEqual({ team: 'ml', stage: 'dev', 'mlflow.runName': 'baseline' });
    // Latest point per key; NaN travels as the string "NaN".
    expect(run.body.data.metrics).toEqual([
      { key: 'loss', value: 0.25, step: 2, timestamp: 1002 },
      { key: 'train/grad', value: 'NaN', step: 0, timestamp: 1000 },
    ]);

    const ended = await call('PATCH', `/runs/${runId}`, { status: 'FINISHED', endTime: 1_700_000_100_000 });
    expect(ended.status).toBe(200);
    expect(ended.body.info.status).toBe('FINISHED');
    expect(ended.body.info.endTime).toBe(1_700_000_100_000);

    const renamed = await call('PATCH', `/runs/${runId}`, { runName: 'baseline-2' });
    expect(renamed.body.info.runName).toBe('baseline-2');
    expect(renamed.body.data.tags['mlflow.runName']).toBe('baseline-2');

    expect((await call('DELETE', `/runs/${runId}/tags/stage`)).status).toBe(204);
    expect((await call('GET', `/runs/${runId}`)).body.data.tags).toEqual({ team: 'ml', 'mlflow.runName': 'baseline-2' });
  });

  it('serves metric history by step, paged, for keys with slashes and non-finite values', async () => {
    const exp = await newExperiment('history');
    const runId = await newRun(exp);
    await call('POST', `/runs/${runId}/batch`, {
      metrics: [
        { key: 'train/loss', value: 0.25, step: 2, timestamp: 30 },
        { key: 'train/loss', value: 0.9, step: 0, timestamp: 10 },
        { key: 'train/loss', value: 0.5, step: 1, timestamp: 20 },
        { key: 'odd', value: 'NaN', step: 0, timestamp: 10 },
        { key: 'odd', value: '-Infinity', step: 1, timestamp: 10 },
      ],
    });
    const all = await call('GET', `/runs/${runId}/metrics/${encodeURIComponent('train/loss')}`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      items: [
        { key: 'train/loss', value: 0.9, step: 0, timestamp: 10 },
        { key: 'train/loss', value: 0.5, step: 1, timestamp: 20 },
        { key: 'train/loss', value: 0.25, step: 2, timestamp: 30 },
      ],
      nextPageToken: null,
    });

    const first = await call('GET', `/runs/${runId}/metrics/train%2Floss?maxResults=2`);
    expect(first.body.items.map((m: { value: number }) => m.value)).toEqual([0.9, 0.5]);
    expect(typeof first.body.nextPageToken).toBe('string');
    const second = await call('GET', `/runs/${runId}/metrics/train%2Floss?maxResults=2&pageToken=${encodeURIComponent(first.body.nextPageToken)}`);
    expect(second.body).toEqual({ items: [{ key: 'train/loss', value: 0.25, step: 2, timestamp: 30 }], nextPageToken: null });

    const odd = await call('GET', `/runs/${runId}/metrics/odd`);
    // Non-finite values keep their proto-JSON spelling on the way out.
    expect(odd.body.items.map((m: { value: unknown }) => m.value)).toEqual(['NaN', '-Infinity']);
  });

  it('searches runs and hides deleted ones until restored', async () => {
    const exp = await newExperiment('run-search');
    const a = await newRun(exp, { runName: 'a' });
    const b = await newRun(exp, { runName: 'b' });
    await call('POST', `/runs/${a}/batch`, { params: [{ key: 'model', value: 'tree' }], metrics: [{ key: 'rmse', value: 0.7 }] });
    await call('POST', `/runs/${b}/batch`, { params: [{ key: 'model', value: 'linear' }], metrics: [{ key: 'rmse', value: 1.3 }] });

    const byParam = await call('POST', '/runs/search', { experimentIds: [exp], filter: "params.model = 'tree'" });
    expect(byParam.status).toBe(200);
    expect(byParam.body.items.map((r: { info: { runId: string } }) => r.info.runId)).toEqual([a]);
    expect(byParam.body.nextPageToken).toBeNull();

    const ordered = await call('POST', '/runs/search', { experimentIds: [exp], orderBy: ['metrics.rmse DESC'] });
    expect(ordered.body.items.map((r: { info: { runName: string } }) => r.info.runName)).toEqual(['b', 'a']);

    expect((await call('DELETE', `/runs/${b}`)).status).toBe(204);
    const active = await call('POST', '/runs/search', { experimentIds: [exp] });
    expect(active.body.items.map((r: { info: { runName: string } }) => r.info.runName)).toEqual(['a']);
    const everything = await call('POST', '/runs/search', { experimentIds: [exp], viewType: 'ALL', orderBy: ['attributes.run_name ASC'] });
    expect(everything.body.items.map((r: { info: { runName: string; lifecycleStage: string } }) => [r.info.runName, r.info.lifecycleStage])).toEqual([
      ['a', 'active'],
      ['b', 'deleted'],
    ]);

    const restored = await call('POST', `/runs/${b}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.info.lifecycleStage).toBe('active');
  });

  it('answers errors with a code and the matching status', async () => {
    const exp = await newExperiment('run-errors');
    const runId = await newRun(exp);
    expectError(await call('GET', '/runs/0123456789abcdef0123456789abcdef'), 404, 'FW_NOT_FOUND');
    expectError(await call('POST', '/runs', { experimentId: '987654' }), 404, 'FW_NOT_FOUND');
    expectError(await call('POST', '/runs', {}), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('PATCH', `/runs/${runId}`, { status: 'DONE' }), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('POST', `/runs/${runId}/batch`, { metrics: [{ key: 'loss', value: 'lots' }] }), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('POST', `/runs/${runId}/batch`, { metrics: [{ key: 'loss', value: 1, step: 0.5 }] }), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('POST', '/runs/search', { experimentIds: [exp], filter: 'metrics.loss <' }), 400, 'FW_FILTER_SYNTAX');

    await call('POST', `/runs/${runId}/batch`, { params: [{ key: 'lr', value: '0.1' }] });
    const conflict = await call('POST', `/runs/${runId}/batch`, { params: [{ key: 'lr', value: '0.2' }] });
    expectError(conflict, 400, 'FW_CONFLICT');

    const tooMany = { metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, step: i })) };
    expectError(await call('POST', `/runs/${runId}/batch`, tooMany), 400, 'FW_LIMIT_EXCEEDED');

    const malformed = await fetch(`${api}/runs/${runId}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"metrics": [' });
    expectError({ status: malformed.status, headers: malformed.headers, text: '', body: await malformed.json() }, 400, 'FW_MALFORMED_REQUEST');

    expectError(await call('GET', '/no-such-route'), 404, 'FW_ROUTE_NOT_FOUND');
  });
});

describe('run artifacts', () => {
  it('streams uploads of any content type and serves the same bytes back', async () => {
    const exp = await newExperiment('artifacts');
    const runId = await newRun(exp);
    const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);

    const put = await fetch(`${api}/runs/${runId}/artifacts/model/weights.bin`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(put.status).toBe(204);
    // A JSON file is a file here: stored verbatim, not parsed.
    const json = '{ "not": [1, 2, "parsed"] }\n';
    const putJson = await fetch(`${api}/runs/${runId}/artifacts/config.json`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: json });
    expect(putJson.status).toBe(204);

    const got = await fetch(`${api}/runs/${runId}/artifacts/model/weights.bin`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
    expect(await (await fetch(`${api}/runs/${runId}/artifacts/config.json`)).text()).toBe(json);

    const root = await call('GET', `/runs/${runId}/artifacts`);
    expect(root.body).toEqual({
      items: [
        { path: 'config.json', isDir: false, size: 28 },
        { path: 'model', isDir: true, size: 0 },
      ],
    });
    const dir = await call('GET', `/runs/${runId}/artifacts?path=model`);
    expect(dir.body).toEqual({ items: [{ path: 'model/weights.bin', isDir: false, size: 7 }] });
  });

  it('accepts an upload larger than the JSON body limit (no limit for artifacts)', async () => {
    const exp = await newExperiment('big-artifact');
    const runId = await newRun(exp);
    // 17 MiB: above the server's 16 MiB limit for JSON bodies.
    const size = 17 * 1024 * 1024;
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) big[i] = (i / 4096) % 251;
    const put = await fetch(`${api}/runs/${runId}/artifacts/big.bin`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: big });
    expect(put.status).toBe(204);
    const back = new Uint8Array(await (await fetch(`${api}/runs/${runId}/artifacts/big.bin`)).arrayBuffer());
    expect(back.length).toBe(size);
    expect(back[4096 * 300]).toBe(300 % 251);
    expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true);
  });

  it('refuses unsafe paths, unknown runs and missing files', async () => {
    const exp = await newExperiment('artifact-errors');
    const runId = await newRun(exp);
    const escape = await fetch(`${api}/runs/${runId}/artifacts/a/..%2F..%2Fescape.txt`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expectError({ status: escape.status, headers: escape.headers, text: '', body: await escape.json() }, 400, 'FW_UNSAFE_PATH');
    const unknown = await fetch(`${api}/runs/0123456789abcdef0123456789abcdef/artifacts/f.txt`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expectError({ status: unknown.status, headers: unknown.headers, text: '', body: await unknown.json() }, 404, 'FW_NOT_FOUND');
    expectError(await call('GET', `/runs/${runId}/artifacts/missing.txt`), 404, 'FW_NOT_FOUND');
  });
});

describe('events', () => {
  it('lists the audit log of one entity, oldest first, and tails it with after', async () => {
    const created = await call('POST', '/experiments', { name: 'audited' });
    const id = created.body.experimentId;
    await call('PATCH', `/experiments/${id}`, { name: 'audited-2' });
    await call('DELETE', `/experiments/${id}`);
    await call('POST', `/experiments/${id}/restore`);

    const events = await call('GET', `/events?entityType=experiment&entityId=${id}`);
    expect(events.status).toBe(200);
    expect(events.body.items.map((e: { kind: string }) => e.kind)).toEqual(['experiment.created', 'experiment.renamed', 'experiment.deleted', 'experiment.restored']);
    expect(events.body.items[0]).toEqual({
      eventId: expect.any(Number),
      time: expect.any(Number),
      actor: 'server',
      kind: 'experiment.created',
      entityType: 'experiment',
      entityId: id,
      payload: { name: 'audited' },
    });
    expect(events.body.items[1].payload).toEqual({ from: 'audited', to: 'audited-2' });

    const after = await call('GET', `/events?entityType=experiment&entityId=${id}&after=${events.body.items[1].eventId}&limit=1`);
    expect(after.body.items.map((e: { kind: string }) => e.kind)).toEqual(['experiment.deleted']);

    expectError(await call('GET', '/events?limit=0'), 400, 'FW_INVALID_ARGUMENT');
    expectError(await call('GET', '/events?after=soon'), 400, 'FW_INVALID_ARGUMENT');
  });
});

describe('OpenAPI document', () => {
  /** Every route of /api/v1, written out by hand: a new route must be added here. */
  const EXPECTED: [string, string][] = [
    ['get', '/api/v1/experiments'],
    ['post', '/api/v1/experiments'],
    ['get', '/api/v1/experiments/by-name/{name}'],
    ['get', '/api/v1/experiments/{id}'],
    ['patch', '/api/v1/experiments/{id}'],
    ['delete', '/api/v1/experiments/{id}'],
    ['post', '/api/v1/experiments/{id}/restore'],
    ['post', '/api/v1/runs'],
    ['post', '/api/v1/runs/search'],
    ['get', '/api/v1/runs/{id}'],
    ['patch', '/api/v1/runs/{id}'],
    ['delete', '/api/v1/runs/{id}'],
    ['post', '/api/v1/runs/{id}/restore'],
    ['post', '/api/v1/runs/{id}/batch'],
    ['delete', '/api/v1/runs/{id}/tags/{key}'],
    ['get', '/api/v1/runs/{id}/metrics/{key}'],
    ['get', '/api/v1/runs/{id}/artifacts'],
    ['get', '/api/v1/runs/{id}/artifacts/{*}'],
    ['put', '/api/v1/runs/{id}/artifacts/{*}'],
    ['get', '/api/v1/events'],
  ];

  let doc: any;
  beforeAll(async () => {
    const res = await fetch(`${api}/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
  });

  it('is OpenAPI 3.1 describing exactly the tracking routes under /api/v1', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Flywheel API');
    expect(typeof doc.info.version).toBe('string');
    const described = Object.entries(doc.paths as Record<string, Record<string, { tags?: string[] }>>)
      // Other slices' routes (datasets, lineage…) are checked by their own tests.
      .flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => op.tags?.includes('tracking')).map(([m]) => `${m} ${p}`))
      .sort();
    expect(described).toEqual(EXPECTED.map(([m, p]) => `${m} ${p}`).sort());
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/v1/'))).toEqual([]);
  });

  it('gives every route a tag, summary, unique operationId, success schema and error schema', () => {
    const ids = new Set<string>();
    for (const [method, p] of EXPECTED) {
      const op = doc.paths[p][method];
      expect(op.tags, `${method} ${p}`).toEqual(['tracking']);
      expect(op.summary, `${method} ${p}`).toMatch(/\S/);
      expect(ids.has(op.operationId), `${method} ${p} operationId ${op.operationId}`).toBe(false);
      ids.add(op.operationId);

      const codes = Object.keys(op.responses);
      const success = codes.filter((c) => /^2\d\d$/.test(c));
      expect(success, `${method} ${p}`).toHaveLength(1);
      const ok = op.responses[success[0]];
      if (success[0] === '204') expect(ok.content, `${method} ${p}`).toBeUndefined();
      else expect(Object.values(ok.content as Record<string, { schema: object }>)[0].schema, `${method} ${p}`).toEqual(expect.objectContaining({ type: expect.any(String) }));

      const err = op.responses['4XX'];
      expect(err, `${method} ${p}`).toBeDefined();
      const errSchema = err.content['application/json'].schema;
      expect(errSchema.required).toEqual(['error']);
      expect(errSchema.properties.error.required).toEqual(['code', 'message']);
      expect(errSchema.properties.error.properties.code.enum).toContain('FW_INVALID_ARGUMENT');
      expect(errSchema.properties.error.properties.code.enum).toContain('FW_NOT_FOUND');
    }
  });

  it('documents request bodies, including the streamed artifact upload', () => {
    const json = (m: string, p: string) => doc.paths[p][m].requestBody.content['application/json'].schema;
    expect(json('post', '/api/v1/experiments').required).toEqual(['name']);
    expect(json('post', '/api/v1/runs').required).toEqual(['experimentId']);
    expect(json('post', '/api/v1/runs/search').required).toEqual(['experimentIds']);
    expect(Object.keys(json('patch', '/api/v1/runs/{id}').properties).sort()).toEqual(['endTime', 'runName', 'status']);
    expect(doc.paths['/api/v1/runs/{id}/artifacts/{*}'].put.requestBody.content['application/octet-stream'].schema).toEqual({ type: 'string', format: 'binary' });
    expect(doc.paths['/api/v1/runs/{id}/artifacts/{*}'].get.responses['200'].content['application/octet-stream'].schema).toEqual({ type: 'string', format: 'binary' });
  });

  it('spells a metric value as a number or "NaN", "Infinity", "-Infinity"', () => {
    const history = doc.paths['/api/v1/runs/{id}/metrics/{key}'].get.responses['200'].content['application/json'].schema;
    const value = history.properties.items.items.properties.value;
    expect(value.anyOf).toEqual([{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }]);
    expect(value.description).toMatch(/NaN/);
    const batchValue = doc.paths['/api/v1/runs/{id}/batch'].post.requestBody.content['application/json'].schema.properties.metrics.items.properties.value;
    expect(batchValue.anyOf).toEqual(value.anyOf);
  });
});
