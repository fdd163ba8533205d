/**
 * The monitor routes through the whole app (inject): create, get with alert
 * states, run at a given window end, list, delete, and FlywheelError codes
 * on bad input.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../../test/support/serving.js';

let h: ServingHarness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('yes'));
  await h.ctx.deployments.deploy('churn', { model: 'churn/1' });
  const csv = path.join(h.home, 'reference.csv');
  fs.writeFileSync(csv, 'x,plan\n' + Array.from({ length: 50 }, (_, i) => `${i / 5},${i % 2 ? 'pro' : 'basic'}`).join('\n') + '\n');
  await h.ctx.data.add('reference', csv);
  app = await buildApp(h.ctx, { serving: false });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.dispose();
});

describe('monitor routes', () => {
  it('creates, runs, reads and deletes a monitor', async () => {
    const body = { name: 'churn-watch', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1', window: { kind: 'time', minutes: 5 }, alerts: ['quiet: rows < 1'] };
    const created = await app.inject({ method: 'POST', url: '/api/v1/monitors', payload: body });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'churn-watch', columns: null, executions: 0 });

    // Nothing was predicted: the window has no data, and a rule on `rows` (reported even then) fires.
    const run = await app.inject({ method: 'POST', url: '/api/v1/monitors/churn-watch/run', payload: { now: 1_700_000_000_000 } });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ monitor: 'churn-watch', execution: 1, noData: true, metrics: { rows: 0, no_data: 1 }, alerts: [{ rule: 'quiet', value: 0, transition: 'firing' }] });

    const got = await app.inject({ method: 'GET', url: '/api/v1/monitors/churn-watch' });
    expect(got.json()).toMatchObject({ executions: 1, lastRunTime: 1_700_000_000_000, alertStates: { quiet: { status: 'firing' } } });
    expect((await app.inject({ method: 'GET', url: '/api/v1/monitors' })).json().items.map((m: { name: string }) => m.name)).toEqual(['churn-watch']);

    expect((await app.inject({ method: 'DELETE', url: '/api/v1/monitors/churn-watch' })).statusCode).toBe(204);
    const gone = await app.inject({ method: 'GET', url: '/api/v1/monitors/churn-watch' });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('FW_NOT_FOUND');
  });

  it('answers 400 with the field for a bad definition', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/monitors', payload: { name: 'bad', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1', columns: ['nope'] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('"nope"') });
  });
});
