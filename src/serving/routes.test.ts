/**
 * Serving end to end through the Fastify app (inject): deploy a registered
 * js model, predict over the plain, MLflow and V2 protocols, read the
 * prediction log back and join feedback to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../server/app.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../test/support/serving.js';

let h: ServingHarness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('v1'));
  await h.ctx.registry.setAlias('churn', 'champion', 1);
  app = await buildApp(h.ctx);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.dispose();
});

describe('serving routes', () => {
  it('deploys, predicts over three protocols and logs every prediction with its feedback', async () => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/deployments', payload: { name: 'churn', model: 'churn@champion' } });
    expect(created.statusCode).toBe(201);
    expect(created.json().revision.policy).toEqual({ kind: 'single', arms: [{ name: 'primary', model: 'models:/churn@champion', weight: 100, shadow: false }], key: null });

    const plain = await app.inject({ method: 'POST', url: '/api/v1/deployments/churn/predict', payload: { rows: [{ x: 2, plan: 'pro' }, { x: 5, plan: null }] } });
    expect(plain.statusCode).toBe(200);
    const body = plain.json();
    expect(body.predictions.map((p: { prediction: string; probability: number[]; model: string; arm: string }) => [p.prediction, p.probability, p.model, p.arm])).toEqual([
      ['v1', [0.8, 0.2], 'churn/1', 'primary'],
      ['v1', [0.5, 0.5], 'churn/1', 'primary'],
    ]);

    const mlflow = await app.inject({ method: 'POST', url: '/invocations', payload: { dataframe_split: { columns: ['x', 'plan'], data: [[1, 'a']] } } });
    expect(mlflow.statusCode).toBe(200);
    expect(mlflow.json().predictions).toEqual(['v1']);

    const v2 = await app.inject({
      method: 'POST',
      url: '/v2/models/churn/infer',
      payload: { id: 'req-7', inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [3] }, { name: 'plan', shape: [1], datatype: 'BYTES', data: ['basic'] }] },
    });
    expect(v2.statusCode).toBe(200);
    expect(v2.json()).toMatchObject({ model_name: 'churn', model_version: '1', id: 'req-7' });

    const missing = await app.inject({ method: 'POST', url: '/api/v1/deployments/churn/predict', payload: { rows: [{ plan: 'x' }] } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toMatch(/"x"/);

    const v2bad = await app.inject({ method: 'POST', url: '/v2/models/churn/infer', payload: { inputs: [{ name: 'x', shape: [2], datatype: 'FP64', data: [3] }, { name: 'plan', shape: [1], datatype: 'BYTES', data: ['a'] }] } });
    expect(v2bad.statusCode).toBe(400);
    expect(typeof v2bad.json().error).toBe('string');

    const failing = await app.inject({ method: 'POST', url: '/api/v1/deployments/churn/predict', payload: { rows: [{ x: 666, plan: 'a' }] } });
    expect(failing.statusCode).toBe(500);
    expect(failing.json().error).toMatchObject({ code: 'FW_PREDICTION_FAILED' });
    expect(failing.json().error.message).toMatch(/refuses 666/);

    const id = body.predictions[0].prediction_id as string;
    const fb = await app.inject({ method: 'POST', url: '/api/v1/deployments/churn/feedback', payload: { feedback: [{ prediction_id: id, label: 'yes' }, { prediction_id: 'nope', label: 'no' }] } });
    expect(fb.statusCode).toBe(200);
    expect(fb.json()).toEqual({ accepted: 2, matched: 1, unmatched: ['nope'] });

    const log = await app.inject({ method: 'GET', url: '/api/v1/deployments/churn/predictions?order=asc' });
    const logged = log.json().predictions as { predictionId: string; features: unknown; prediction: unknown; label?: unknown; error: string | null }[];
    expect(logged).toHaveLength(5);
    expect(logged.find((p) => p.predictionId === id)).toMatchObject({ features: { x: 2, plan: 'pro' }, prediction: 'v1', label: 'yes' });
    expect(logged.filter((p) => p.error !== null)).toHaveLength(1);

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    // Requests that reached the model: the good one and the one it refused (the 400 stopped at validation).
    expect(metrics.body).toMatch(/flywheel_serving_requests_total\{deployment="churn",version="churn\/1",arm="primary",protocol="plain"\} 2\n/);
    expect(metrics.body).toMatch(/flywheel_serving_errors_total\{deployment="churn",version="churn\/1",arm="primary",code="FW_PREDICTION_FAILED"\} 1\n/);
  }, 60_000);
});
