/**
 * MLflow's model-registry REST API through the real server on an ephemeral
 * port. Requests are written the way MLflow's Python client writes them
 * (RestStore: GET arguments in the query string, repeated keys for lists,
 * other methods with a JSON body, DELETE included); expected shapes are
 * literals from mlflow/protos/model_registry.proto and MLflow's entities'
 * to_proto (version numbers as strings, int64 timestamps as numbers, status
 * as the enum name, empty repeated fields left out).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { listEvents } from '../events/service.js';
import { buildApp } from '../server/app.js';
import { openContext } from '../server/context.js';

let home: string;
let ctx: Awaited<ReturnType<typeof openContext>>;
let app: FastifyInstance;
let base: string;
let runId: string;
let artifactUri: string;

interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

async function call(method: string, url: string, body?: object): Promise<Res> {
  const res = await fetch(`${base}${url}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const api = (endpoint: string) => `/api/2.0/mlflow/${endpoint}`;
const post = (endpoint: string, body: object) => call('POST', api(endpoint), body);
const patch = (endpoint: string, body: object) => call('PATCH', api(endpoint), body);
const del = (endpoint: string, body: object) => call('DELETE', api(endpoint), body);
function get(endpoint: string, query: Record<string, string | number | string[]>): Promise<Res> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  return call('GET', `${api(endpoint)}?${qs}`);
}

const MV_KEYS = ['name', 'version', 'creation_timestamp', 'last_updated_timestamp', 'current_stage', 'description', 'source', 'run_id', 'status', 'run_link'];

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-mlflow-registry-'));
  ctx = await openContext(resolveConfig({ home }, {}));
  app = await buildApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  // A run holding a Flywheel model package, as src/models writes one.
  const run = await ctx.tracking.createRun({ experimentId: '0' });
  runId = run.info.runId;
  artifactUri = run.info.artifactUri;
  await ctx.tracking.putRunArtifact(runId, 'model/flywheel-model.json', Buffer.from(JSON.stringify({ format: 1, flavor: 'onnx', signature: { inputs: [], outputs: [] }, task: 'regression' })));
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe("a session of MLflow's Python client, replayed", () => {
  it('mlflow.register_model, then aliases, then loading models:/NAME@ALIAS', async () => {
    // register_model: create the registered model (RESOURCE_ALREADY_EXISTS is fine for the client) …
    const created = await post('registered-models/create', { name: 'churn' });
    expect(created.status).toBe(200);
    expect(Object.keys(created.json)).toEqual(['registered_model']);
    const rm = created.json.registered_model;
    expect(Object.keys(rm)).toEqual(['name', 'creation_timestamp', 'last_updated_timestamp']);
    expect(rm.name).toBe('churn');
    expect(typeof rm.creation_timestamp).toBe('number');
    expect(rm.last_updated_timestamp).toBe(rm.creation_timestamp);
    const again = await post('registered-models/create', { name: 'churn' });
    expect(again).toEqual({ status: 400, json: { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'Registered Model (name=churn) already exists.' } });

    // … then the version, with the run's underlying artifact URI as source and run_id beside it.
    const mv = await post('model-versions/create', { name: 'churn', source: `${artifactUri}/model`, run_id: runId });
    expect(mv.status).toBe(200);
    expect(Object.keys(mv.json)).toEqual(['model_version']);
    const v = mv.json.model_version;
    expect(Object.keys(v)).toEqual(MV_KEYS);
    expect(v).toMatchObject({ name: 'churn', version: '1', current_stage: 'None', description: '', source: `${artifactUri}/model`, run_id: runId, status: 'READY', run_link: '' });
    expect(typeof v.creation_timestamp).toBe('number');
    expect(typeof v.last_updated_timestamp).toBe('number');

    // The client polls until READY.
    const polled = await get('model-versions/get', { name: 'churn', version: '1' });
    expect(polled.json.model_version.status).toBe('READY');

    // MlflowClient.set_registered_model_alias / get_model_version_by_alias.
    expect(await post('registered-models/alias', { name: 'churn', alias: 'champion', version: '1' })).toEqual({ status: 200, json: {} });
    const byAlias = await get('registered-models/alias', { name: 'churn', alias: 'champion' });
    expect(byAlias.status).toBe(200);
    expect(Object.keys(byAlias.json.model_version)).toEqual([...MV_KEYS, 'aliases']);
    expect(byAlias.json.model_version).toMatchObject({ version: '1', aliases: ['champion'] });

    // mlflow.pyfunc.load_model("models:/churn@champion") then asks where the files are.
    const uri = await get('model-versions/get-download-uri', { name: 'churn', version: '1' });
    expect(uri).toEqual({ status: 200, json: { artifact_uri: `${artifactUri}/model` } });

    const got = await get('registered-models/get', { name: 'churn' });
    expect(Object.keys(got.json.registered_model)).toEqual(['name', 'creation_timestamp', 'last_updated_timestamp', 'latest_versions', 'aliases']);
    expect(got.json.registered_model.aliases).toEqual([{ alias: 'champion', version: '1' }]);
    expect(got.json.registered_model.latest_versions.map((x: { version: string }) => x.version)).toEqual(['1']);
  });
});

describe('registered-models endpoints', () => {
  it('create with tags and description; get; rename; update; set-tag and delete-tag', async () => {
    const c = await post('registered-models/create', { name: 'rm-a', tags: [{ key: 'team', value: 'growth' }], description: 'first' });
    expect(Object.keys(c.json.registered_model)).toEqual(['name', 'creation_timestamp', 'last_updated_timestamp', 'description', 'tags']);
    expect(c.json.registered_model).toMatchObject({ description: 'first', tags: [{ key: 'team', value: 'growth' }] });

    const renamed = await post('registered-models/rename', { name: 'rm-a', new_name: 'rm-b' });
    expect(renamed.status).toBe(200);
    expect(renamed.json.registered_model.name).toBe('rm-b');
    expect((await get('registered-models/get', { name: 'rm-a' })).status).toBe(404);

    const updated = await patch('registered-models/update', { name: 'rm-b', description: 'second' });
    expect(updated.json.registered_model.description).toBe('second');

    expect(await post('registered-models/set-tag', { name: 'rm-b', key: 'owner', value: 'ana' })).toEqual({ status: 200, json: {} });
    expect(await del('registered-models/delete-tag', { name: 'rm-b', key: 'team' })).toEqual({ status: 200, json: {} });
    expect((await get('registered-models/get', { name: 'rm-b' })).json.registered_model.tags).toEqual([{ key: 'owner', value: 'ana' }]);
  });

  it('search filters by name and tags, pages with a token, and ignores models marked as prompts', async () => {
    for (const name of ['s-1', 's-2', 's-3']) await post('registered-models/create', { name, tags: [{ key: 'kind', value: name === 's-2' ? 'b' : 'a' }] });
    const first = await get('registered-models/search', { filter: "name LIKE 's-%'", max_results: 2 });
    expect(first.status).toBe(200);
    expect(Object.keys(first.json)).toEqual(['registered_models', 'next_page_token']);
    expect(first.json.registered_models.map((m: { name: string }) => m.name)).toEqual(['s-1', 's-2']);
    const second = await get('registered-models/search', { filter: "name LIKE 's-%'", max_results: 2, page_token: first.json.next_page_token });
    expect(second.json).toEqual({ registered_models: [expect.objectContaining({ name: 's-3' })] });
    const tagged = await get('registered-models/search', { filter: "tags.kind = 'a' AND tags.`mlflow.prompt.is_prompt` != 'true'", order_by: ['name DESC'] });
    expect(tagged.json.registered_models.map((m: { name: string }) => m.name)).toEqual(['s-3', 's-1']);
    expect(await get('registered-models/search', { filter: "name = 'nothing'" })).toEqual({ status: 200, json: {} });
    const bad = await get('registered-models/search', { filter: "name LIKE 's-%' OR name = 'x'" });
    expect(bad.status).toBe(400);
    expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(bad.json.message).toMatch(/at position 16/);
    expect((await get('registered-models/search', { max_results: 1001 })).json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('get-latest-versions answers POST and GET, for the stages asked', async () => {
    await post('registered-models/create', { name: 'latest' });
    for (let i = 0; i < 3; i++) await post('model-versions/create', { name: 'latest', source: `runs:/${runId}/model` });
    await post('model-versions/transition-stage', { name: 'latest', version: '2', stage: 'Production', archive_existing_versions: false });
    const all = await post('registered-models/get-latest-versions', { name: 'latest' });
    expect(all.json.model_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage])).toEqual([
      ['3', 'None'],
      ['2', 'Production'],
    ]);
    const prod = await get('registered-models/get-latest-versions', { name: 'latest', stages: ['production'] });
    expect(prod.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    expect(await post('registered-models/get-latest-versions', { name: 'latest', stages: ['Staging'] })).toEqual({ status: 200, json: {} });
    const bad = await post('registered-models/get-latest-versions', { name: 'latest', stages: ['Prod'] });
    expect(bad).toEqual({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.' } });
  });

  it('alias: POST sets, GET reads, DELETE removes (a no-op when absent); moving one is an event', async () => {
    await post('registered-models/create', { name: 'aliased' });
    for (let i = 0; i < 2; i++) await post('model-versions/create', { name: 'aliased', source: `runs:/${runId}/model` });
    await post('registered-models/alias', { name: 'aliased', alias: 'champion', version: '1' });
    await post('registered-models/alias', { name: 'aliased', alias: 'champion', version: '2' });
    const moved = (await listEvents(ctx.store.db, { entityType: 'registered_model', entityId: 'aliased' })).filter((e) => e.kind === 'model_alias.moved');
    expect(moved.map((e) => e.payload)).toEqual([{ alias: 'champion', version: 2, previousVersion: 1 }]);
    expect((await get('registered-models/alias', { name: 'aliased', alias: 'champion' })).json.model_version.version).toBe('2');

    expect(await del('registered-models/alias', { name: 'aliased', alias: 'champion' })).toEqual({ status: 200, json: {} });
    expect(await del('registered-models/alias', { name: 'aliased', alias: 'champion' })).toEqual({ status: 200, json: {} });
    const gone = await get('registered-models/alias', { name: 'aliased', alias: 'champion' });
    expect(gone.status).toBe(404);
    expect(gone.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const reserved = await post('registered-models/alias', { name: 'aliased', alias: 'latest', version: '1' });
    expect(reserved).toEqual({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE', message: "'latest' alias name (case insensitive) is reserved." } });
    const versionLike = await post('registered-models/alias', { name: 'aliased', alias: 'v2', version: '1' });
    expect(versionLike.json.message).toBe("Version alias name 'v2' is reserved.");
    const missing = await post('registered-models/alias', { name: 'aliased', alias: 'challenger', version: '7' });
    expect(missing).toEqual({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Model Version (name=aliased, version=7) not found' } });
  });

  it('delete removes the model; reading it again is RESOURCE_DOES_NOT_EXIST', async () => {
    await post('registered-models/create', { name: 'doomed' });
    expect(await del('registered-models/delete', { name: 'doomed' })).toEqual({ status: 200, json: {} });
    expect(await get('registered-models/get', { name: 'doomed' })).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=doomed not found' },
    });
    expect((await del('registered-models/delete', { name: 'doomed' })).status).toBe(404);
  });

  it('required fields missing are INVALID_PARAMETER_VALUE with MLflow’s message', async () => {
    expect(await post('registered-models/create', {})).toEqual({
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE', message: "Missing value for required parameter 'name'. See the API docs for more information about request parameters." },
    });
    expect((await post('model-versions/create', { name: 'churn' })).json.message).toMatch(/^Missing value for required parameter 'source'/);
    expect((await get('model-versions/get', { name: 'churn', version: 'one' })).json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Parameter 'version' must be an integer, got 'one'.",
    });
  });
});

describe('model-versions endpoints', () => {
  it("create reads the package manifest, and needs an existing registered model", async () => {
    await post('registered-models/create', { name: 'mv' });
    const c = await post('model-versions/create', { name: 'mv', source: `runs:/${runId}/model`, tags: [{ key: 'k', value: 'v' }], description: 'd', run_link: 'http://x' });
    expect(Object.keys(c.json.model_version)).toEqual(['name', 'version', 'creation_timestamp', 'last_updated_timestamp', 'current_stage', 'description', 'source', 'run_id', 'status', 'tags', 'run_link']);
    expect(c.json.model_version).toMatchObject({ version: '1', run_id: runId, description: 'd', tags: [{ key: 'k', value: 'v' }], run_link: 'http://x' });
    expect((await ctx.registry.getModelVersion('mv', 1)).flavor).toBe('onnx');
    const noModel = await post('model-versions/create', { name: 'not-registered', source: `runs:/${runId}/model` });
    expect(noModel).toEqual({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=not-registered not found' } });
  });

  it('update (PATCH), set-tag and delete-tag (DELETE with a JSON body), transition-stage, get-download-uri', async () => {
    const u = await patch('model-versions/update', { name: 'mv', version: '1', description: 'better' });
    expect(u.json.model_version.description).toBe('better');
    expect(await post('model-versions/set-tag', { name: 'mv', version: '1', key: 'reviewed', value: 'yes' })).toEqual({ status: 200, json: {} });
    expect(await del('model-versions/delete-tag', { name: 'mv', version: '1', key: 'k' })).toEqual({ status: 200, json: {} });
    expect((await get('model-versions/get', { name: 'mv', version: '1' })).json.model_version.tags).toEqual([{ key: 'reviewed', value: 'yes' }]);

    await post('model-versions/create', { name: 'mv', source: `runs:/${runId}/model` });
    await post('model-versions/transition-stage', { name: 'mv', version: '1', stage: 'Staging', archive_existing_versions: false });
    const t = await post('model-versions/transition-stage', { name: 'mv', version: '2', stage: 'staging', archive_existing_versions: true });
    expect(t.json.model_version).toMatchObject({ version: '2', current_stage: 'Staging' });
    expect((await get('model-versions/get', { name: 'mv', version: '1' })).json.model_version.current_stage).toBe('Archived');
    const bad = await post('model-versions/transition-stage', { name: 'mv', version: '1', stage: 'None', archive_existing_versions: true });
    expect(bad.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Model version transition cannot archive existing model versions because 'None' is not an Active stage. Valid stages are ['Staging', 'Production']",
    });

    // A runs:/ source downloads from the run's artifact URI, which the artifact proxy serves.
    expect((await get('model-versions/get-download-uri', { name: 'mv', version: '2' })).json).toEqual({ artifact_uri: `${artifactUri}/model` });
  });

  it('search filters with MLflow strings; default order is last update first', async () => {
    const all = await get('model-versions/search', { filter: "name = 'mv'" });
    expect(all.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '1']);
    const byRun = await get('model-versions/search', { filter: `run_id = '${runId}' AND name = 'mv'`, order_by: ['version_number ASC'] });
    expect(byRun.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['1', '2']);
    const tagged = await get('model-versions/search', { filter: "tags.reviewed = 'yes'" });
    expect(tagged.json.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`)).toEqual(['mv/1']);
    const bad = await get('model-versions/search', { filter: "stage = 'x'" });
    expect(bad.status).toBe(400);
    expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('delete hides the version for good; its number is not handed out again', async () => {
    expect(await del('model-versions/delete', { name: 'mv', version: '2' })).toEqual({ status: 200, json: {} });
    expect(await get('model-versions/get', { name: 'mv', version: '2' })).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Model Version (name=mv, version=2) not found' },
    });
    expect((await post('model-versions/create', { name: 'mv', source: `runs:/${runId}/model` })).json.model_version.version).toBe('3');
  });

  it('DELETE arguments in the query string work too, and so does the /ajax-api prefix', async () => {
    const r = await call('DELETE', `${api('model-versions/delete')}?name=mv&version=3`);
    expect(r).toEqual({ status: 200, json: {} });
    const ajax = await call('GET', '/ajax-api/2.0/mlflow/registered-models/get?name=mv');
    expect(ajax.status).toBe(200);
    expect(ajax.json.registered_model.name).toBe('mv');
  });
});
