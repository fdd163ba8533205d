/**
 * The serving host over a real listening server: an alias moved under
 * concurrent load rolls the deployment with no failed request and no answer
 * going back to the old version; a request in flight on the old plan finishes
 * on it; a fresh process whose current revision cannot load serves the last
 * revision that did; and closing the app writes every acknowledged prediction
 * to the log.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { listEvents } from '../events/service.js';
import { buildApp } from '../server/app.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../test/support/serving.js';
import { until } from '../../test/support/until.js';
import { resolveServingConfig, SERVING_ENV_VARS, type ServingConfig } from './config.js';
import { createServing, deploymentService, type ServingServices } from './server.js';

const ROW = { rows: [{ x: 1, plan: 'a' }] };
/** A refresh interval that never fires during a test: the test calls refresh() itself. */
const HOUR = 3_600_000;

/** The plain protocol's response. */
interface PlainBody {
  revision: number;
  predictions: { prediction_id: string; prediction: string; model: string; arm: string }[];
}
const body = async (res: Response) => (await res.json()) as PlainBody;

let h: ServingHarness;

beforeAll(async () => {
  h = await openServingHarness();
}, 60_000);

afterAll(async () => {
  await h?.dispose();
});

/** An app with its own serving host (started), listening on an ephemeral port. */
async function listening(config: Partial<ServingConfig>): Promise<{ app: FastifyInstance; serving: ServingServices; url: string; close(): Promise<void> }> {
  const serving = createServing({ store: h.ctx.store, tracking: h.ctx.tracking, registry: h.ctx.registry, home: h.home }, resolveServingConfig(config, {}));
  const app = await buildApp(h.ctx, { serving });
  await serving.host.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    serving,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await serving.host.close();
    },
  };
}

describe('following an alias', () => {
  it('moves every client from v1 to v2 under load without a failed request or a step back', async () => {
    await h.register('churn', taggedModule('v1'));
    await h.register('churn', taggedModule('v2'));
    await h.ctx.registry.setAlias('churn', 'champion', 1);
    const s = await listening({ refreshIntervalMs: 50 });
    try {
      await s.serving.deployments.deploy('churn', { model: 'churn@champion' });
      await s.serving.host.refresh();

      const CLIENTS = 8;
      const AFTER_SWITCH = 25;
      const answers: string[][] = Array.from({ length: CLIENTS }, () => []);
      const failures: string[] = [];
      let moved = false;
      /** Requests each client made after it first saw v2. */
      const sinceV2 = new Array<number>(CLIENTS).fill(0);
      const done = () => moved && sinceV2.every((n) => n >= AFTER_SWITCH);
      const deadline = Date.now() + 30_000;

      const client = async (c: number) => {
        while (!done() && Date.now() < deadline) {
          const res = await fetch(`${s.url}/api/v1/deployments/churn/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROW) });
          const text = await res.text();
          if (res.status !== 200) {
            failures.push(`${res.status} ${text}`);
            continue;
          }
          const answer = JSON.parse(text).predictions[0].prediction as string;
          answers[c].push(answer);
          if (answer === 'v2') sinceV2[c]++;
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
      // Let every client be answered by v1 a few times, then move the alias while they keep going.
      await until('every client answered by v1', async () => answers.every((a) => a.length >= 10), 20_000, 10);
      await h.ctx.registry.setAlias('churn', 'champion', 2);
      moved = true;
      await Promise.all(clients);

      expect(failures).toEqual([]);
      expect(done()).toBe(true);
      for (const [c, seq] of answers.entries()) {
        // Each client's requests are sequential, so once one was answered by v2 every later one starts on the new plan.
        const firstV2 = seq.indexOf('v2');
        expect(firstV2, `client ${c}`).toBeGreaterThanOrEqual(10);
        expect(seq.slice(0, firstV2).every((a) => a === 'v1'), `client ${c} before the switch`).toBe(true);
        expect(seq.slice(firstV2).every((a) => a === 'v2'), `client ${c} went back to v1`).toBe(true);
      }

      // The revision did not change; what its alias resolved to did, and that was recorded.
      const detail = await s.serving.deployments.get('churn');
      expect(detail.currentRevision).toBe(1);
      expect(detail.servingRevision).toBe(1);
      expect(detail.revision.status).toBe('ready');
      expect(detail.revision.resolved).toHaveLength(1);
      expect(detail.revision.resolved![0]).toMatchObject({ arm: 'primary', model: 'models:/churn@champion', modelName: 'churn', modelVersion: '2' });
      const events = await listEvents(h.ctx.store.db, { entityType: 'deployment', entityId: 'churn' });
      expect(events.map((e) => e.kind)).toEqual(['deployment.created', 'deployment.revision_ready', 'deployment.rolled']);
      expect(events[2].payload).toMatchObject({ revision: 1, resolved: [{ arm: 'primary', modelVersion: '2' }] });

      // Every answer was logged under the version that gave it.
      await s.serving.host.flushLog();
      const logged = await s.serving.deployments.predictions('churn', { limit: 1_000_000 });
      expect(logged.filter((p) => p.modelVersion === '1').length).toBe(answers.flat().filter((a) => a === 'v1').length);
      expect(logged.filter((p) => p.modelVersion === '2').length).toBe(answers.flat().filter((a) => a === 'v2').length);
    } finally {
      await s.close();
    }
  }, 90_000);

  it('lets a request in flight on the old plan finish on it', async () => {
    await h.register('slowpoke', taggedModule('old', 400));
    await h.register('slowpoke', taggedModule('new'));
    await h.ctx.registry.setAlias('slowpoke', 'champion', 1);
    const s = await listening({ refreshIntervalMs: HOUR });
    try {
      await s.serving.deployments.deploy('slowpoke', { model: 'slowpoke@champion' });
      await s.serving.host.refresh();
      const pending = fetch(`${s.url}/api/v1/deployments/slowpoke/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROW) });
      // The request has reached the model (it is queued or running) before the alias moves.
      await until('the slow request in flight', async () => (s.serving.host.livePlan('slowpoke')?.inflight ?? 0) > 0, 10_000, 5);
      await h.ctx.registry.setAlias('slowpoke', 'champion', 2);
      await s.serving.host.refresh();
      expect(s.serving.host.livePlan('slowpoke')!.arms[0].modelVersion).toBe('2');
      const res = await pending;
      expect(res.status).toBe(200);
      expect((await body(res)).predictions[0]).toMatchObject({ prediction: 'old', model: 'slowpoke/1' });
      const after = await fetch(`${s.url}/api/v1/deployments/slowpoke/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROW) });
      expect((await body(after)).predictions[0]).toMatchObject({ prediction: 'new', model: 'slowpoke/2' });
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('an alias moved to a version that cannot load', () => {
  it('keeps serving the old version with the revision marked failed, and ready again once the alias is back', async () => {
    await h.register('wobbly', taggedModule('w1'));
    await h.register('wobbly', 'export async function predict(rows) { return rows.map(( => 1); }\n');
    await h.ctx.registry.setAlias('wobbly', 'champion', 1);
    const s = await listening({ refreshIntervalMs: HOUR });
    const ask = async () => {
      const res = await fetch(`${s.url}/api/v1/deployments/wobbly/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROW) });
      expect(res.status).toBe(200);
      return (await body(res)).predictions[0].model as string;
    };
    try {
      await s.serving.deployments.deploy('wobbly', { model: 'wobbly@champion' });
      await s.serving.host.refresh();
      expect(await ask()).toBe('wobbly/1');

      await h.ctx.registry.setAlias('wobbly', 'champion', 2);
      await s.serving.host.refresh();
      expect(await ask()).toBe('wobbly/1');
      let rev = await s.serving.deployments.getRevision('wobbly', 1);
      expect(rev.status).toBe('failed');
      expect(rev.statusMessage).toMatch(/syntax/i);

      await h.ctx.registry.setAlias('wobbly', 'champion', 1);
      await s.serving.host.refresh();
      expect(await ask()).toBe('wobbly/1');
      rev = await s.serving.deployments.getRevision('wobbly', 1);
      expect(rev).toMatchObject({ status: 'ready', statusMessage: null, resolved: [{ arm: 'primary', modelName: 'wobbly', modelVersion: '1' }] });
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('a fresh process', () => {
  it('whose current revision cannot load serves the last revision any process served', async () => {
    await h.register('phoenix', taggedModule('good'));
    await h.register('phoenix', 'export async function predict(rows) { return rows.map(( => 1); }\n');
    const first = await listening({ refreshIntervalMs: HOUR });
    try {
      await first.serving.deployments.deploy('phoenix', { model: 'phoenix/1' });
      await first.serving.host.refresh();
      expect((await first.serving.deployments.get('phoenix')).servingRevision).toBe(1);
    } finally {
      await first.close();
    }
    // Revision 2 is asked for while no process runs; the next one to start cannot load it.
    await deploymentService({ store: h.ctx.store, registry: h.ctx.registry }).deploy('phoenix', { model: 'phoenix/2' });
    const third = await listening({ refreshIntervalMs: HOUR });
    try {
      const res = await fetch(`${third.url}/api/v1/deployments/phoenix/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROW) });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ revision: 1, predictions: [{ prediction: 'good', model: 'phoenix/1' }] });
      const d = await third.serving.deployments.get('phoenix');
      expect(d.currentRevision).toBe(2);
      expect(d.servingRevision).toBe(1);
      expect(d.revision).toMatchObject({ revision: 2, status: 'failed' });
      expect(d.revision.statusMessage).toMatch(/syntax/i);
    } finally {
      await third.close();
    }
  }, 60_000);
});

describe('closing the app', () => {
  it('writes every acknowledged prediction to the log', async () => {
    await h.register('flush', taggedModule('f'));
    // A slow shadow: its copies are still being predicted when the app closes.
    await h.register('flush', taggedModule('s', 30));
    // The app makes its own serving host from the environment: a log that would not flush on its own for ten minutes.
    const saved = { flush: process.env[SERVING_ENV_VARS.logFlushIntervalMs], batch: process.env[SERVING_ENV_VARS.logBatchSize] };
    process.env[SERVING_ENV_VARS.logFlushIntervalMs] = '600000';
    process.env[SERVING_ENV_VARS.logBatchSize] = '100000';
    let app: FastifyInstance;
    try {
      app = await buildApp(h.ctx);
    } finally {
      for (const [k, v] of [
        [SERVING_ENV_VARS.logFlushIntervalMs, saved.flush],
        [SERVING_ENV_VARS.logBatchSize, saved.batch],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const created = await app.inject({ method: 'POST', url: '/api/v1/deployments', payload: { name: 'flush', model: 'flush/1', shadow: 'flush/2' } });
    expect(created.statusCode).toBe(201);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;

    const acknowledged: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 40; i++) {
          const rows = [{ x: i % 10, plan: `c${c}` }, { x: 1, plan: null }];
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/deployments/flush/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows }) });
          expect(res.status).toBe(200);
          acknowledged.push(...(await body(res)).predictions.map((p) => p.prediction_id));
        }
      }),
    );
    expect(acknowledged).toHaveLength(8 * 40 * 2);
    const deploymentId = (await h.ctx.store.db.selectFrom('deployments').select('deployment_id').where('name', '=', 'flush').executeTakeFirstOrThrow()).deployment_id;
    const countLogged = async () => Number((await h.ctx.store.db.selectFrom('prediction_log').select((eb) => eb.fn.countAll().as('n')).where('deployment_id', '=', deploymentId).executeTakeFirstOrThrow()).n);
    // Nothing has been written yet: what follows is close's doing.
    expect(await countLogged()).toBe(0);

    await app.close();

    const logged = await deploymentService({ store: h.ctx.store, registry: h.ctx.registry }).predictions('flush', { limit: 1_000_000 });
    const primaries = logged.filter((p) => !p.shadow);
    expect(primaries.map((p) => p.predictionId).sort()).toEqual([...acknowledged].sort());
    expect(primaries.every((p) => p.prediction === 'f' && p.error === null)).toBe(true);
    // Shadow copies still running at close were waited for and logged too.
    const shadows = logged.filter((p) => p.shadow);
    expect(shadows.map((p) => p.predictionId).sort()).toEqual(acknowledged.map((id) => `${id}~shadow`).sort());
    expect(shadows.every((p) => p.prediction === 's' && p.error === null)).toBe(true);
  }, 60_000);
});
