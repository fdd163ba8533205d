/**
 * GET /api/v1/lineage on a Fastify app with the server's error handler and
 * TypeBox validation, over the raw → features → scores chain: by ref, by
 * type and id, both directions, and errors as {error: {code, message}}.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../server/errors.js';
import type { AppContext } from '../server/context.js';
import type { TransformResult } from '../data/transform.js';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { lineageRoutes } from './routes.js';

let h: TransformHarness;
let app: FastifyInstance;
let features: TransformResult;
let scores: TransformResult;

beforeAll(async () => {
  h = await openTransformHarness();
  ({ features, scores } = await h.chain());
  app = Fastify({ ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } } });
  app.setErrorHandler(errorHandler);
  const ctx = { store: h.store, data: h.data, tracking: h.tracking } as unknown as AppContext;
  await app.register(lineageRoutes, { ctx, prefix: '/api/v1' });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await h?.dispose();
});

const get = (query: string) => app.inject({ method: 'GET', url: `/api/v1/lineage?${query}` });

describe('GET /api/v1/lineage', () => {
  it('walks upstream from a dataset ref', async () => {
    const res = await get('ref=scores@1&direction=upstream');
    expect(res.statusCode).toBe(200);
    const g = res.json();
    const raw = await h.data.resolve('raw@1');
    expect(g.root).toEqual({ type: 'dataset_version', id: scores.version.id, label: 'scores@1', dataset: 'scores', version: 1 });
    expect(g.direction).toBe('upstream');
    expect(g.nodes).toContainEqual({ type: 'dataset_version', id: raw.id, label: 'raw@1', dataset: 'raw', version: 1 });
    expect(g.nodes).toContainEqual({
      type: 'run',
      id: features.runId,
      label: `run transform features (${features.runId.slice(0, 8)})`,
      runName: 'transform features',
      status: 'FINISHED',
    });
    expect(g.nodes).toHaveLength(5);
    expect(g.edges).toContainEqual({ from: { type: 'run', id: features.runId }, relation: 'consumes', to: { type: 'dataset_version', id: raw.id } });
  });

  it('walks downstream from a node given by type and id (upstream is the default direction)', async () => {
    const raw = await h.data.resolve('raw@1');
    const down = (await get(`type=dataset_version&id=${raw.id}&direction=downstream`)).json();
    expect(down.nodes.map((n: { label: string }) => n.label)).toContain('scores@1');
    const up = (await get(`type=run&id=${scores.runId}`)).json();
    expect(up.direction).toBe('upstream');
    expect(up.nodes.map((n: { label: string }) => n.label).sort()).toEqual(
      ['features@1', 'raw@1', `run transform features (${features.runId.slice(0, 8)})`, `run transform scores (${scores.runId.slice(0, 8)})`].sort(),
    );
    const shallow = (await get(`type=run&id=${scores.runId}&maxDepth=1`)).json();
    expect(shallow.nodes).toHaveLength(3);
  });

  it('answers errors with codes and statuses', async () => {
    const none = await get('direction=upstream');
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: 'Give the start node: ref=NAME@N, or type and id' });
    const unknown = await get('ref=nope@1');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'FW_NOT_FOUND', message: 'Dataset "nope" does not exist' });
    const badDirection = await get('ref=raw&direction=sideways');
    expect(badDirection.statusCode).toBe(400);
    expect(badDirection.json().error.code).toBe('FW_INVALID_ARGUMENT');
    const badType = await get('type=table&id=x');
    expect(badType.statusCode).toBe(400);
    const missing = await get('type=dataset_version&id=0123456789abcdef0123456789abcdef');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toBe('No dataset version with id 0123456789abcdef0123456789abcdef');
  });
});
