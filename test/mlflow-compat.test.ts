/**
 * The MLflow-compatible REST API, through the real server on an ephemeral port.
 * Request bodies are written the way MLflow's Python client writes them
 * (RestStore + message_to_json: proto field order, `run_uuid` beside `run_id`,
 * int64 as numbers, GET arguments in the query string); expected shapes are
 * literals from mlflow/protos/service.proto and mlflow/server/handlers.py.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/core/config.js';
import { buildApp } from '../src/server/app.js';
import { openContext } from '../src/server/context.js';

let home: string;
let ctx: Awaited<ReturnType<typeof openContext>>;
let app: FastifyInstance;
let base: string;
let port: number;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-mlflow-'));
  ctx = await openContext(resolveConfig({ home }));
  app = await buildApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
  headers: Headers;
}

async function call(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(`${base}${url}`, {
    method,
    body,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** POST /api/2.0/mlflow/<endpoint> with a body given as text (exactly as sent) or an object. */
function post(endpoint: string, body: string | object): Promise<Res> {
  return call('POST', `/api/2.0/mlflow/${endpoint}`, typeof body === 'string' ? body : JSON.stringify(body));
}

/** GET /api/2.0/mlflow/<endpoint>?…, repeated keys for lists (as `requests` encodes a dict of lists). */
function get(endpoint: string, query: Record<string, string | number | string[]>): Promise<Res> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  return call('GET', `/api/2.0/mlflow/${endpoint}?${qs}`);
}

/** A raw HTTP request whose path is sent byte for byte (fetch would normalize "..")." */
function rawRequest(method: string, rawPath: string, body = ''): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sortByKey = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

async function newExperiment(name: string): Promise<string> {
  const r = await post('experiments/create', { name });
  expect(r.status).toBe(200);
  return r.json.experiment_id;
}

async function newRun(experimentId: string, extra: object = {}): Promise<string> {
  const r = await post('runs/create', { experiment_id: experimentId, start_time: 1_700_000_000_000, ...extra });
  expect(r.status).toBe(200);
  return r.json.run.info.run_id;
}

describe('a session of the official MLflow Python client, replayed', () => {
  it('creates an experiment and a run, logs, searches, uploads an artifact and finishes the run', async () => {
    // mlflow.set_experiment("replay-exp"): get-by-name first; a new name is RESOURCE_DOES_NOT_EXIST.
    const miss = await get('experiments/get-by-name', { experiment_name: 'replay-exp' });
    expect(miss.status).toBe(404);
    expect(miss.json).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Could not find experiment with name 'replay-exp'" });

    const created = await post('experiments/create', '{\n  "name": "replay-exp"\n}');
    expect(created.status).toBe(200);
    expect(Object.keys(created.json)).toEqual(['experiment_id']);
    expect(created.json.experiment_id).toMatch(/^\d+$/); // a string, per CreateExperiment.Response
    const expId: string = created.json.experiment_id;

    const exp = await get('experiments/get', { experiment_id: expId });
    expect(exp.status).toBe(200);
    expect(Object.keys(exp.json)).toEqual(['experiment']);
    const e = exp.json.experiment;
    expect(Object.keys(e).sort()).toEqual(['artifact_location', 'creation_time', 'experiment_id', 'last_update_time', 'lifecycle_stage', 'name']);
    expect(e.experiment_id).toBe(expId);
    expect(e.name).toBe('replay-exp');
    expect(e.artifact_location).toBe(`mlflow-artifacts:/${expId}`);
    expect(e.lifecycle_stage).toBe('active');
    expect(typeof e.creation_time).toBe('number');
    expect(typeof e.last_update_time).toBe('number');

    const byName = await get('experiments/get-by-name', { experiment_name: 'replay-exp' });
    expect(byName.json.experiment.experiment_id).toBe(expId);

    // mlflow.start_run(run_name="replay-run"): CreateRun fields in proto order, system tags resolved by the client.
    const createRunBody = `{
  "experiment_id": "${expId}",
  "user_id": "alice",
  "run_name": "replay-run",
  "start_time": 1700000000000,
  "tags": [
    {
      "key": "mlflow.user",
      "value": "alice"
    },
    {
      "key": "mlflow.source.name",
      "value": "train.py"
    },
    {
      "key": "mlflow.source.type",
      "value": "LOCAL"
    },
    {
      "key": "mlflow.runName",
      "value": "replay-run"
    }
  ]
}`;
    const runRes = await post('runs/create', createRunBody);
    expect(runRes.status).toBe(200);
    expect(Object.keys(runRes.json)).toEqual(['run']);
    expect(Object.keys(runRes.json.run)).toEqual(['info', 'data', 'inputs']);
    const info = runRes.json.run.info;
    const runId: string = info.run_id;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(info).toEqual({
      run_uuid: runId,
      experiment_id: expId,
      run_name: 'replay-run',
      user_id: 'alice',
      status: 'RUNNING',
      start_time: 1700000000000,
      artifact_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
      lifecycle_stage: 'active',
      run_id: runId,
    });
    expect('end_time' in info).toBe(false);
    expect(runRes.json.run.inputs).toEqual({});
    expect(Object.keys(runRes.json.run.data)).toEqual(['tags']); // no metrics or params yet: empty repeated fields are left out
    expect(sortByKey(runRes.json.run.data.tags)).toEqual([
      { key: 'mlflow.runName', value: 'replay-run' },
      { key: 'mlflow.source.name', value: 'train.py' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
      { key: 'mlflow.user', value: 'alice' },
    ]);

    // mlflow.log_param / mlflow.log_metric: LogParam and LogMetric carry run_uuid and run_id.
    const logParam = await post('runs/log-parameter', `{\n  "run_uuid": "${runId}",\n  "key": "alpha",\n  "value": "0.5",\n  "run_id": "${runId}"\n}`);
    expect(logParam.status).toBe(200);
    expect(logParam.json).toEqual({});
    const logMetric = await post(
      'runs/log-metric',
      `{\n  "run_uuid": "${runId}",\n  "key": "loss",\n  "value": 0.9,\n  "timestamp": 1700000001000,\n  "step": 0,\n  "run_id": "${runId}"\n}`,
    );
    expect(logMetric.status).toBe(200);
    expect(logMetric.json).toEqual({});

    // A log-batch as Python's json.dumps writes float("nan"): a bare NaN token.
    const batch = await post(
      'runs/log-batch',
      `{"run_id": "${runId}", "metrics": [{"key": "loss", "value": 0.7, "timestamp": 1700000002000, "step": 1}, ` +
        `{"key": "loss", "value": 0.5, "timestamp": 1700000003000, "step": 2}, {"key": "acc", "value": NaN, "timestamp": 1700000003000, "step": 2}], ` +
        `"params": [{"key": "epochs", "value": "3"}], "tags": [{"key": "stage", "value": "dev"}]}`,
    );
    expect(batch.status).toBe(200);
    expect(batch.json).toEqual({});

    const got = await get('runs/get', { run_uuid: runId, run_id: runId });
    expect(got.status).toBe(200);
    const data = got.json.run.data;
    expect(Object.keys(data).sort()).toEqual(['metrics', 'params', 'tags']);
    // The latest point of each metric: greatest step.
    expect(sortByKey(data.metrics)).toEqual([
      { key: 'acc', value: 'NaN', timestamp: 1700000003000, step: 2 },
      { key: 'loss', value: 0.5, timestamp: 1700000003000, step: 2 },
    ]);
    expect(sortByKey(data.params)).toEqual([
      { key: 'alpha', value: '0.5' },
      { key: 'epochs', value: '3' },
    ]);
    expect(data.tags).toContainEqual({ key: 'stage', value: 'dev' });
    expect(data.tags).toContainEqual({ key: 'mlflow.user', value: 'alice' });

    // A second run without alpha must not match the filter.
    await newRun(expId);
    const search = await post(
      'runs/search',
      `{\n  "experiment_ids": [\n    "${expId}"\n  ],\n  "run_view_type": "ACTIVE_ONLY",\n  "filter": "params.alpha = '0.5' and metrics.loss < 0.6",\n  "max_results": 1000\n}`,
    );
    expect(search.status).toBe(200);
    expect(Object.keys(search.json)).toEqual(['runs']); // no next_page_token on the last page
    expect(search.json.runs.map((r: any) => r.info.run_id)).toEqual([runId]);

    const history = await get('metrics/get-history', { run_uuid: runId, run_id: runId, metric_key: 'loss' });
    expect(history.status).toBe(200);
    expect(history.json).toEqual({
      metrics: [
        { key: 'loss', value: 0.9, timestamp: 1700000001000, step: 0 },
        { key: 'loss', value: 0.7, timestamp: 1700000002000, step: 1 },
        { key: 'loss', value: 0.5, timestamp: 1700000003000, step: 2 },
      ],
    });

    // mlflow.log_artifact: the client PUTs to the proxy under the run's mlflow-artifacts:/ URI.
    const artifactPath = `/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts/model/weights.json`;
    const put = await call('PUT', artifactPath, '{"w": [1, 2]}', { 'content-type': 'application/json' });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({});
    const download = await call('GET', artifactPath);
    expect(download.status).toBe(200);
    expect(download.text).toBe('{"w": [1, 2]}');
    expect(download.headers.get('content-type')).toMatch(/^application\/json/);
    const proxyRoot = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${expId}/${runId}/artifacts`);
    expect(proxyRoot.json).toEqual({ files: [{ path: 'model', is_dir: true }] });
    const proxyDir = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${expId}/${runId}/artifacts/model`);
    expect(proxyDir.json).toEqual({ files: [{ path: 'weights.json', is_dir: false, file_size: 13 }] });
    const listed = await get('artifacts/list', { run_id: runId, path: 'model' });
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual({
      root_uri: `mlflow-artifacts:/${expId}/${runId}/artifacts`,
      files: [{ path: 'model/weights.json', is_dir: false, file_size: 13 }],
    });

    // mlflow.end_run(): UpdateRun with status FINISHED and end_time.
    const update = await post('runs/update', `{\n  "run_uuid": "${runId}",\n  "status": "FINISHED",\n  "end_time": 1700000009000,\n  "run_id": "${runId}"\n}`);
    expect(update.status).toBe(200);
    expect(Object.keys(update.json)).toEqual(['run_info']);
    expect(update.json.run_info).toMatchObject({ run_id: runId, run_uuid: runId, status: 'FINISHED', end_time: 1700000009000 });

    const finished = await get('runs/get', { run_id: runId });
    expect(finished.json.run.info.status).toBe('FINISHED');
    expect(finished.json.run.info.end_time).toBe(1700000009000);
  });

  it('serves the same API under /ajax-api/2.0/mlflow for the MLflow UI', async () => {
    const expId = await newExperiment('ajax-exp');
    const r = await call('GET', `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${expId}`);
    expect(r.status).toBe(200);
    expect(r.json.experiment.name).toBe('ajax-exp');
    const s = await call('POST', '/ajax-api/2.0/mlflow/runs/search', JSON.stringify({ experiment_ids: [expId] }));
    expect(s.status).toBe(200);
    expect(s.json).toEqual({}); // no runs: the repeated field is left out, as protobuf JSON does
  });
});

describe('experiment and run lifecycle endpoints', () => {
  it('searches (GET and POST), renames, tags, deletes and restores experiments', async () => {
    const expId = await newExperiment('life-exp');
    expect((await post('experiments/set-experiment-tag', { experiment_id: expId, key: 'team', value: 'growth' })).status).toBe(200);
    expect((await get('experiments/get', { experiment_id: expId })).json.experiment.tags).toEqual([{ key: 'team', value: 'growth' }]);
    expect((await post('experiments/update', { experiment_id: expId, new_name: 'life-exp-2' })).json).toEqual({});

    const viaPost = await post('experiments/search', { filter: "name = 'life-exp-2'", max_results: 10 });
    expect(viaPost.json.experiments.map((x: any) => x.experiment_id)).toEqual([expId]);
    const viaGet = await get('experiments/search', { filter: "tags.team = 'growth'", max_results: 10 });
    expect(viaGet.json.experiments.map((x: any) => x.name)).toEqual(['life-exp-2']);

    expect((await post('experiments/delete-experiment-tag', { experiment_id: expId, key: 'team' })).status).toBe(200);
    expect('tags' in (await get('experiments/get', { experiment_id: expId })).json.experiment).toBe(false);

    expect((await post('experiments/delete', { experiment_id: expId })).json).toEqual({});
    expect((await get('experiments/get', { experiment_id: expId })).json.experiment.lifecycle_stage).toBe('deleted');
    const deletedOnly = await post('experiments/search', { view_type: 'DELETED_ONLY', filter: "name = 'life-exp-2'" });
    expect(deletedOnly.json.experiments.map((x: any) => x.experiment_id)).toEqual([expId]);
    expect((await post('experiments/restore', { experiment_id: expId })).json).toEqual({});
    expect((await get('experiments/get', { experiment_id: expId })).json.experiment.lifecycle_stage).toBe('active');
  });

  it('sets and deletes run tags, deletes and restores runs, accepts log-inputs', async () => {
    const expId = await newExperiment('life-runs');
    const runId = await newRun(expId);
    expect((await post('runs/set-tag', { run_uuid: runId, run_id: runId, key: 'note', value: 'hi' })).status).toBe(200);
    expect((await get('runs/get', { run_id: runId })).json.run.data.tags).toContainEqual({ key: 'note', value: 'hi' });
    expect((await post('runs/delete-tag', { run_id: runId, key: 'note' })).status).toBe(200);
    expect((await get('runs/get', { run_id: runId })).json.run.data.tags).not.toContainEqual({ key: 'note', value: 'hi' });

    const inputs = await post('runs/log-inputs', {
      run_id: runId,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'iris', digest: 'abc', source_type: 'local', source: '{}' } }],
    });
    expect(inputs.status).toBe(200);
    expect(inputs.json).toEqual({});

    expect((await post('runs/delete', { run_id: runId })).json).toEqual({});
    expect((await get('runs/get', { run_id: runId })).json.run.info.lifecycle_stage).toBe('deleted');
    const active = await post('runs/search', { experiment_ids: [expId] });
    expect(active.json).toEqual({});
    const all = await post('runs/search', { experiment_ids: [expId], run_view_type: 'ALL' });
    expect(all.json.runs.map((r: any) => r.info.run_id)).toEqual([runId]);
    expect((await post('runs/restore', { run_id: runId })).json).toEqual({});
    expect((await get('runs/get', { run_id: runId })).json.run.info.lifecycle_stage).toBe('active');
  });
});

describe('bad input', () => {
  const SEE_DOCS = ' See the API docs for more information about request parameters.';

  it('malformed JSON is a 400 MALFORMED_REQUEST, and nothing is created', async () => {
    // MLflow's handlers read the body with get_json(silent=True), so there a malformed body reads as {}
    // and fails later as a missing field; Flywheel says what is wrong instead (still a 400).
    for (const body of ['{"name": ', '{"name": oops}', '{"name": "half-made"}}']) {
      const r = await post('experiments/create', body);
      expect(r.status, body).toBe(400);
      expect(r.json.error_code, body).toBe('MALFORMED_REQUEST');
      expect(r.json.message, body).toMatch(/^Malformed JSON in request body/);
    }
    expect((await get('experiments/get-by-name', { experiment_name: 'half-made' })).status).toBe(404);
  });

  it('missing required fields are 400 INVALID_PARAMETER_VALUE in MLflow\'s words', async () => {
    expect((await post('experiments/create', {})).json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Missing value for required parameter 'name'.${SEE_DOCS}`,
    });
    const r = await get('runs/get', {});
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: `Missing value for required parameter 'run_id'.${SEE_DOCS}` });
    const expId = await newExperiment('missing-fields');
    const runId = await newRun(expId);
    const noTimestamp = await post('runs/log-metric', { run_id: runId, key: 'm', value: 1 });
    expect(noTimestamp.status).toBe(400);
    expect(noTimestamp.json.message).toBe(`Missing value for required parameter 'timestamp'.${SEE_DOCS}`);
    const batchNoKey = await post('runs/log-batch', { run_id: runId, metrics: [{ value: 1, timestamp: 1 }] });
    expect(batchNoKey.status).toBe(400);
    expect(batchNoKey.json.message).toBe(`Missing value for required parameter 'metrics[0].key'.${SEE_DOCS}`);
    const noHistoryKey = await get('metrics/get-history', { run_id: runId });
    expect(noHistoryKey.json.message).toBe(`Missing value for required parameter 'metric_key'.${SEE_DOCS}`);
  });

  it('values of the wrong type are 400 INVALID_PARAMETER_VALUE', async () => {
    const r = await post('experiments/create', { name: 123 });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Invalid value 123 for parameter 'name' supplied: Hint: Value was of type 'int'.${SEE_DOCS}`,
    });
    const expId = await newExperiment('wrong-types');
    const runId = await newRun(expId);
    for (const [endpoint, body] of [
      ['runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 'soon' }],
      ['runs/log-metric', { run_id: runId, key: 'm', value: 'abc', timestamp: 1 }],
      ['runs/search', { experiment_ids: [expId], max_results: 'many' }],
      ['runs/search', { experiment_ids: expId }],
      ['runs/update', { run_id: runId, status: 'DONE' }],
      ['runs/create', { experiment_id: expId, tags: { a: 'b' } }],
    ] as const) {
      const res = await post(endpoint, body);
      expect(res.status, `${endpoint} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await get('runs/get', { run_id: runId })).json.run.data).not.toHaveProperty('metrics');
  });

  it('a log-batch over the limits (1001 metrics, 101 params) is refused whole', async () => {
    const expId = await newExperiment('limits');
    const runId = await newRun(expId);
    const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: 'bulk', value: i, timestamp: 1000 + i, step: i }));
    const tooMany = await post('runs/log-batch', { run_id: runId, metrics });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await get('metrics/get-history', { run_id: runId, metric_key: 'bulk' })).json).toEqual({});

    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const tooManyParams = await post('runs/log-batch', { run_id: runId, params });
    expect(tooManyParams.status).toBe(400);
    expect(tooManyParams.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await get('runs/get', { run_id: runId })).json.run.data).not.toHaveProperty('params');
  });

  it('a log-batch whose 500th metric is invalid writes nothing', async () => {
    const expId = await newExperiment('atomic');
    const runId = await newRun(expId);
    const metrics: object[] = Array.from({ length: 600 }, (_, i) => ({ key: 'ok', value: i, timestamp: 1000 + i, step: i }));
    metrics[499] = { key: 'ok', value: 'not-a-number', timestamp: 2000, step: 499 };
    const r = await post('runs/log-batch', { run_id: runId, metrics, params: [{ key: 'p', value: '1' }], tags: [{ key: 't', value: '1' }] });
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await get('metrics/get-history', { run_id: runId, metric_key: 'ok' })).json).toEqual({});
    const data = (await get('runs/get', { run_id: runId })).json.run.data;
    expect(data).not.toHaveProperty('params');
    expect(data).not.toHaveProperty('metrics');
    expect(data.tags).not.toContainEqual({ key: 't', value: '1' });
  });

  it('a log-batch body over 1 MB is 413 and writes nothing', async () => {
    const expId = await newExperiment('too-large');
    const runId = await newRun(expId);
    const body = JSON.stringify({ run_id: runId, metrics: [{ key: 'big', value: 1, timestamp: 1, step: 0 }], tags: [{ key: 'pad', value: 'x'.repeat(1_000_001) }] });
    const r = await post('runs/log-batch', body);
    expect(r.status).toBe(413);
    expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await get('metrics/get-history', { run_id: runId, metric_key: 'big' })).json).toEqual({});
  });

  it('a param logged again: the same value is accepted, another value is 400 and the first is kept', async () => {
    const expId = await newExperiment('params');
    const runId = await newRun(expId);
    expect((await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200);
    expect((await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200);
    const changed = await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.2' });
    expect(changed.status).toBe(400);
    expect(changed.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await get('runs/get', { run_id: runId })).json.run.data.params).toEqual([{ key: 'lr', value: '0.1' }]);
  });

  it('unknown run and experiment ids are 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const unknownRun = '0123456789abcdef0123456789abcdef';
    for (const res of [
      await get('runs/get', { run_id: unknownRun }),
      await post('runs/log-metric', { run_id: unknownRun, key: 'm', value: 1, timestamp: 1 }),
      await post('runs/update', { run_id: unknownRun, status: 'FINISHED' }),
      await get('metrics/get-history', { run_id: unknownRun, metric_key: 'm' }),
      await get('experiments/get', { experiment_id: '999999' }),
      await post('runs/create', { experiment_id: '999999' }),
      await post('experiments/delete', { experiment_id: '999999' }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
  });

  it('creating an experiment whose name exists is 400 RESOURCE_ALREADY_EXISTS', async () => {
    await newExperiment('taken');
    const r = await post('experiments/create', { name: 'taken' });
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('a filter that does not parse is 400 and the message says where', async () => {
    const expId = await newExperiment('bad-filter');
    const r = await post('runs/search', { experiment_ids: [expId], filter: "metrics.loss < 'x" });
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(r.json.message).toMatch(/at position \d+/);
  });

  it('an unknown route is 404 ENDPOINT_NOT_FOUND', async () => {
    const r = await post('runs/no-such-thing', {});
    expect(r.status).toBe(404);
    expect(r.json.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('artifact paths that escape the root are 400 and write nothing', async () => {
    const prefix = '/api/2.0/mlflow-artifacts/artifacts';
    for (const p of [`${prefix}/../x`, `${prefix}/a/../../x`, `${prefix}/%2e%2e/x`, `${prefix}/a/%2E%2E/%2e%2e/x`, `${prefix}/%252e%252e/x`, `${prefix}//etc/passwd`, `${prefix}/%2Fetc%2Fpasswd`, `${prefix}/a%00b`]) {
      const put = await rawRequest('PUT', p, 'evil');
      expect(put.status, p).toBe(400);
      expect(put.json.error_code, p).toBe('INVALID_PARAMETER_VALUE');
      const getRes = await rawRequest('GET', p);
      expect(getRes.status, p).toBe(400);
    }
    for (const dir of ['../x', '%2e%2e', '/etc']) {
      const list = await rawRequest('GET', `${prefix}?path=${dir}`);
      expect(list.status, dir).toBe(400);
      expect(list.json.error_code, dir).toBe('INVALID_PARAMETER_VALUE');
    }
    const listedOutside = await rawRequest('GET', `/api/2.0/mlflow/artifacts/list?run_id=0123456789abcdef0123456789abcdef&path=../x`);
    expect(listedOutside.status).toBeGreaterThanOrEqual(400);
    // Nothing named x was written anywhere under the Flywheel home.
    const written = fs.readdirSync(home, { recursive: true }).map(String);
    expect(written.filter((f) => path.basename(f) === 'x' || path.basename(f) === 'passwd')).toEqual([]);
  });

  it('the artifact proxy streams, lists, deletes, and 404s what is missing', async () => {
    const prefix = '/api/2.0/mlflow-artifacts/artifacts';
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const put = await fetch(`${base}${prefix}/9/run/artifacts/blob.bin`, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    const back = await fetch(`${base}${prefix}/9/run/artifacts/blob.bin`);
    expect(back.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await back.arrayBuffer())).toEqual(bytes);
    const missing = await call('GET', `${prefix}/9/run/artifacts/nope.txt`);
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await call('DELETE', `${prefix}/9/run/artifacts/blob.bin`)).json).toEqual({});
    expect((await call('GET', `${prefix}/9/run/artifacts/blob.bin`)).status).toBe(404);
    expect((await call('GET', `${prefix}?path=9/run/artifacts`)).json).toEqual({});
  });
});

describe('pagination', () => {
  it('search-runs with max_results=2 walks 5 runs in pages, each exactly once', async () => {
    const expId = await newExperiment('paging');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add(await newRun(expId, { start_time: 1_700_000_000_000 + i }));
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let token: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const r = await post('runs/search', { experiment_ids: [expId], max_results: 2, ...(token ? { page_token: token } : {}) });
      expect(r.status).toBe(200);
      pageSizes.push(r.json.runs.length);
      seen.push(...r.json.runs.map((x: any) => x.info.run_id));
      token = r.json.next_page_token;
      if (!token) break;
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen.length).toBe(5);
    expect(new Set(seen)).toEqual(ids);
  });

  it('get-history with max_results pages through the points in step order', async () => {
    const expId = await newExperiment('history-paging');
    const runId = await newRun(expId);
    const metrics = [0.5, 0.4, 0.3, 0.2, 0.1].map((value, step) => ({ key: 'lr', value, timestamp: 1000 + step, step }));
    expect((await post('runs/log-batch', { run_id: runId, metrics })).status).toBe(200);
    const values: number[] = [];
    const pageSizes: number[] = [];
    let token: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const r = await get('metrics/get-history', { run_id: runId, metric_key: 'lr', max_results: 2, ...(token ? { page_token: token } : {}) });
      expect(r.status).toBe(200);
      pageSizes.push(r.json.metrics.length);
      values.push(...r.json.metrics.map((m: any) => m.value));
      token = r.json.next_page_token;
      if (!token) break;
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(values).toEqual([0.5, 0.4, 0.3, 0.2, 0.1]);
  });
});

describe('non-finite metric values', () => {
  it('NaN and ±Infinity come back as the protobuf JSON strings', async () => {
    const expId = await newExperiment('non-finite');
    const runId = await newRun(expId);
    // As MLflow's client writes a NaN double (message_to_json): the quoted string.
    expect((await post('runs/log-metric', `{"run_uuid": "${runId}", "key": "m", "value": "NaN", "timestamp": 1000, "step": 0, "run_id": "${runId}"}`)).status).toBe(200);
    // As json.dumps writes float("inf") and float("-inf"): bare tokens.
    const batch = await post(
      'runs/log-batch',
      `{"run_id": "${runId}", "metrics": [{"key": "m", "value": Infinity, "timestamp": 1001, "step": 1}, {"key": "m", "value": -Infinity, "timestamp": 1002, "step": 2}]}`,
    );
    expect(batch.status).toBe(200);
    const history = await get('metrics/get-history', { run_id: runId, metric_key: 'm' });
    expect(history.json).toEqual({
      metrics: [
        { key: 'm', value: 'NaN', timestamp: 1000, step: 0 },
        { key: 'm', value: 'Infinity', timestamp: 1001, step: 1 },
        { key: 'm', value: '-Infinity', timestamp: 1002, step: 2 },
      ],
    });
    expect(history.text).toContain('"value":"Infinity"');
  });
});
