/**
 * The quality REST routes on a Fastify app with the server's error handler:
 * validating with a suite in the body, listing stored results, and errors as
 * {error: {code, message}} with their statuses.
 */
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/index.js';
import { openStore, type Store } from '../store/index.js';
import { errorHandler } from '../server/errors.js';
import type { AppContext } from '../server/context.js';
import { FakeReader, csvSelect, tempDir, writeParquet } from '../../test/fixtures/quality/support.js';
import { qualityRoutes } from './routes.js';

let engine: Engine;
let store: Store;
let app: FastifyInstance;
let reader: FakeReader;

beforeAll(async () => {
  const dir = tempDir();
  engine = await Engine.open({ threads: 1, memoryLimit: '256MB' });
  store = await openStore(`sqlite:${path.join(dir, 'fw.db')}`);
  reader = new FakeReader();
  reader.add('orders', await writeParquet(engine, dir, 'orders', csvSelect('orders.csv')));
  app = Fastify();
  app.setErrorHandler(errorHandler);
  const ctx = { store, engine, data: reader } as unknown as AppContext;
  await app.register(qualityRoutes, { ctx, prefix: '/api/v1' });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  engine?.close();
  await store?.close();
});

const suite = {
  name: 'orders_api',
  dataset: 'orders',
  checks: [
    { type: 'not_null', column: 'id' },
    { type: 'in_set', column: 'region', values: ['eu', 'us'], severity: 'warn' },
    { type: 'freshness', column: 'created_at', max_age: '24h' },
  ],
};

describe('POST /api/v1/datasets/:ref/validate', () => {
  it('runs the suite and returns the stored result', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/datasets/orders@1/validate', payload: { suite, now: '2024-03-06T12:00:00Z' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ suite: 'orders_api', dataset: 'orders', success: true, statistics: { checks: 3, passed: 2, failed: 1, errors: 0, warnings: 1 } });
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(body.checks[1]).toMatchObject({ success: false, evaluatedCount: 9, unexpectedCount: 1, sampleFailingRows: [expect.objectContaining({ id: '9', region: 'apac' })] });
    expect(body.checks[2]).toMatchObject({ success: true, observed: '2024-03-05T18:30:00.000Z', details: { ageMs: 63_000_000 } });

    const list = await app.inject({ method: 'GET', url: `/api/v1/datasets/${encodeURIComponent('orders@1')}/validations` });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([body]);
  });

  it('does not store with save: false', async () => {
    const before = (await app.inject({ method: 'GET', url: '/api/v1/datasets/orders/validations' })).json().items.length;
    const res = await app.inject({ method: 'POST', url: '/api/v1/datasets/orders/validate', payload: { suite, save: false } });
    expect(res.json()).toMatchObject({ id: '', success: false });
    expect((await app.inject({ method: 'GET', url: '/api/v1/datasets/orders/validations' })).json().items.length).toBe(before);
  });

  it('answers 400 naming the check for a bad suite', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/datasets/orders/validate', payload: { suite: { ...suite, checks: [{ type: 'between', column: 'amount' }] } } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'FW_INVALID_ARGUMENT', message: 'suite: checks[0] (between): give "min", "max" or both' } });
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/datasets/orders/validate', payload: { suite: { ...suite, checks: [{ type: 'not_null', column: 'nope' }] } } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toMatch(/^suite "orders_api": checks\[0\] \(not_null\): column "nope" is not in dataset orders/);
    const missing = await app.inject({ method: 'POST', url: '/api/v1/datasets/orders/validate', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('FW_INVALID_ARGUMENT');
  });

  it('answers 404 for an unknown version', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/datasets/orders@5/validate', payload: { suite } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('FW_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/api/v1/datasets/shipments/validations' })).statusCode).toBe(404);
  });
});
