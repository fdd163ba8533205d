/**
 * Flywheel's registry API (/api/v1/models…) through the real app: register
 * from a run, read a model with its versions and aliases, move aliases,
 * transition stages, resolve model URIs, Flywheel's error body, and the
 * routes' presence in the OpenAPI document.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { buildApp } from '../server/app.js';
import { openContext } from '../server/context.js';

let home: string;
let ctx: Awaited<ReturnType<typeof openContext>>;
let app: FastifyInstance;
let runId: string;

async function req(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: object) {
  const res = await app.inject({ method, url: `/api/v1${url}`, ...(body ? { payload: body } : {}) });
  return { status: res.statusCode, json: res.body ? res.json() : undefined };
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-v1-models-'));
  ctx = await openContext(resolveConfig({ home }, {}));
  app = await buildApp(ctx);
  runId = (await ctx.tracking.createRun({ experimentId: '0' })).info.runId;
  await ctx.tracking.putRunArtifact(runId, 'model/flywheel-model.json', Buffer.from(JSON.stringify({ format: 1, flavor: 'js', signature: { inputs: [{ name: 'x', type: 'double' }] }, task: null })));
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('/api/v1/models', () => {
  it('registers versions from a run (creating the model), then shows it with versions and aliases', async () => {
    const first = await req('POST', '/models/churn/versions', { runId, description: 'baseline' });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ name: 'churn', version: 1, source: `runs:/${runId}/model`, runId, flavor: 'js', task: null, signature: { inputs: [{ name: 'x', type: 'double' }] }, currentStage: 'None', status: 'READY' });
    const second = await req('POST', '/models/churn/versions', { source: `runs:/${runId}/model`, tags: { note: 'retrained' } });
    expect(second.json.version).toBe(2);

    const set = await req('PUT', '/models/churn/aliases/champion', { version: 1 });
    expect(set).toEqual({ status: 200, json: { name: 'churn', alias: 'champion', version: 1, previousVersion: null } });
    const moved = await req('PUT', '/models/churn/aliases/champion', { version: 2 });
    expect(moved.json.previousVersion).toBe(1);

    const model = await req('GET', '/models/churn');
    expect(model.status).toBe(200);
    expect(model.json).toMatchObject({ name: 'churn', aliases: { champion: 2 } });
    expect(model.json.versions.map((v: { version: number; aliases: string[] }) => [v.version, v.aliases])).toEqual([
      [2, ['champion']],
      [1, []],
    ]);
    expect((await req('GET', '/models/churn/aliases/champion')).json.version).toBe(2);
    expect((await req('GET', '/models/churn/versions/1')).json.description).toBe('baseline');
  });

  it('lists and searches models, and versions across models', async () => {
    await req('POST', '/models', { name: 'fraud', description: 'cards', tags: { team: 'risk' } });
    expect((await req('GET', '/models')).json.items.map((m: { name: string }) => m.name)).toEqual(['churn', 'fraud']);
    const risk = await req('GET', `/models?filter=${encodeURIComponent("tags.team = 'risk'")}`);
    expect(risk.json).toEqual({ items: [expect.objectContaining({ name: 'fraud', description: 'cards' })], nextPageToken: null });
    const byRun = await req('GET', `/model-versions?filter=${encodeURIComponent(`run_id = '${runId}'`)}&orderBy=${encodeURIComponent('version_number ASC')}`);
    expect(byRun.json.items.map((v: { version: number }) => v.version)).toEqual([1, 2]);
  });

  it('transitions stages and resolves model URIs', async () => {
    const t = await req('POST', '/models/churn/versions/1/stage', { stage: 'production' });
    expect(t.json.currentStage).toBe('Production');
    for (const [uri, version] of [
      ['models:/churn@champion', 2],
      ['models:/churn/1', 1],
      ['models:/churn/Production', 1],
      ['churn@champion', 2],
    ] as const) {
      const r = await req('GET', `/model-uris/resolve?uri=${encodeURIComponent(uri)}`);
      expect(r.status, uri).toBe(200);
      expect(r.json, uri).toMatchObject({ name: 'churn', version, runId, artifactPath: 'model', packageUri: `runs:/${runId}/model` });
    }
  });

  it('answers with Flywheel error bodies: unknown alias or version, bad names, bad input', async () => {
    expect(await req('GET', '/models/churn/aliases/challenger')).toEqual({
      status: 404,
      json: { error: { code: 'FW_NOT_FOUND', message: 'Registered model alias challenger not found for registered model churn.' } },
    });
    expect((await req('PUT', '/models/churn/aliases/champion', { version: 9 })).json.error.code).toBe('FW_NOT_FOUND');
    expect((await req('PUT', '/models/churn/aliases/latest', { version: 1 })).json.error.code).toBe('FW_INVALID_ARGUMENT');
    expect((await req('DELETE', '/models/churn/aliases/challenger')).json.error.code).toBe('FW_NOT_FOUND');
    expect((await req('POST', '/models/churn/versions', {})).json.error.code).toBe('FW_INVALID_ARGUMENT');
    expect((await req('POST', '/models/churn/versions', { runId: 'f'.repeat(32) })).json.error.code).toBe('FW_NOT_FOUND');
    expect((await req('GET', `/model-uris/resolve?uri=${encodeURIComponent('models:/churn')}`)).json.error.code).toBe('FW_INVALID_ARGUMENT');
    expect((await req('POST', '/models', { name: 'churn' })).json.error.code).toBe('FW_ALREADY_EXISTS');
    expect((await req('GET', '/models/churn')).json.versions).toHaveLength(2);
  });

  it('renames, removes an alias, deletes a version and a model', async () => {
    const removed = await req('DELETE', '/models/churn/aliases/champion');
    expect(removed.json).toEqual({ name: 'churn', alias: 'champion', version: 2, previousVersion: 2 });
    expect((await req('PATCH', '/models/churn', { newName: 'churn2', description: 'renamed' })).json).toMatchObject({ name: 'churn2', description: 'renamed' });
    expect((await req('DELETE', '/models/churn2/versions/2')).status).toBe(204);
    expect((await req('GET', '/models/churn2')).json.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    expect((await req('DELETE', '/models/churn2')).status).toBe(204);
    expect((await req('GET', '/models/churn2')).status).toBe(404);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    for (const p of ['/api/v1/models', '/api/v1/models/{name}', '/api/v1/models/{name}/versions', '/api/v1/models/{name}/aliases/{alias}', '/api/v1/model-uris/resolve']) {
      expect(Object.keys(doc.paths), p).toContain(p);
    }
    expect(doc.paths['/api/v1/models/{name}/aliases/{alias}'].put.operationId).toBe('setModelAlias');
    expect(Object.keys(doc.paths).some((p) => p.includes('registered-models'))).toBe(false);
  });
});
