/**
 * Traffic through the app as clients see it: canary and sticky A/B splits
 * measured over many requests, shadow copies logged but never answered, a
 * revision that cannot load leaving the previous one serving, one failing
 * request not failing its batch, and the HTTP edges (413, 503 + Retry-After,
 * malformed JSON, unknown deployments, V2 metadata, readiness and pinned
 * versions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../server/app.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../test/support/serving.js';
import { until } from '../../test/support/until.js';
import { resolveServingConfig, type ServingConfig } from './config.js';
import { createServing, type ServingServices } from './server.js';

let h: ServingHarness;
let app: FastifyInstance;

/** A module that never loads: a syntax error. */
const SYNTAX_ERROR_MODULE = 'export async function predict(rows) { return rows.map(( => 1); }\n';
/** A module that loads but throws on every call. */
const ALWAYS_THROWS = 'export async function predict() { throw new Error("the shadow model is broken"); }\n';

const deploy = async (payload: Record<string, unknown>) => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/deployments', payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

const predict = (name: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `/api/v1/deployments/${name}/predict`, payload: payload as Record<string, unknown>, headers });

interface PlainBody {
  predictions: { prediction_id: string; prediction: string; model: string; arm: string }[];
}

/** Runs `n` requests, `concurrency` at a time. */
async function inBatches<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += concurrency) out.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, (_, j) => fn(i + j)))));
  return out;
}

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('v1')); // 1
  await h.register('churn', taggedModule('v2')); // 2
  await h.register('churn', ALWAYS_THROWS); // 3
  await h.register('slow', taggedModule('slow', 50)); // 1
  await h.register('fragile', taggedModule('v1')); // 1
  await h.register('fragile', SYNTAX_ERROR_MODULE); // 2
  await h.ctx.registry.setAlias('fragile', 'champion', 1);
  app = await buildApp(h.ctx);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.dispose();
});

describe('canary', () => {
  it('sends about 10% of 10,000 unkeyed requests to the canary', async () => {
    await deploy({ name: 'canary', model: 'churn/1', canary: 'churn/2:10%' });
    const answers = await inBatches(10_000, 50, async () => {
      const res = await predict('canary', { rows: [{ x: 1, plan: 'a' }] });
      expect(res.statusCode).toBe(200);
      const p = (res.json() as PlainBody).predictions[0];
      // The arm and the model that answered agree.
      expect([p.arm, p.model, p.prediction]).toEqual(p.arm === 'canary' ? ['canary', 'churn/2', 'v2'] : ['primary', 'churn/1', 'v1']);
      return p.arm;
    });
    const canaries = answers.filter((a) => a === 'canary').length;
    // Each request goes to the canary with p = 0.1, independently: binomial n = 10000,
    // mean 1000, sd = sqrt(10000 * 0.1 * 0.9) = 30. Accept mean ± 4 sd = 880..1120
    // (a correct split fails this about once in 16,000 runs).
    expect(canaries).toBeGreaterThanOrEqual(880);
    expect(canaries).toBeLessThanOrEqual(1120);
  }, 120_000);
});

describe('sticky A/B', () => {
  it('keeps every key on one arm, by header or body key, and splits keys about 50/50', async () => {
    await deploy({ name: 'ab', model: 'churn/1', ab: 'churn/2:50%' });
    const armOfKey = new Map<string, string>();
    await inBatches(200, 20, async (i) => {
      const key = `user-${i}`;
      const arms = new Set<string>();
      for (let r = 0; r < 3; r++) {
        const byHeader = await predict('ab', { rows: [{ x: r, plan: 'a' }] }, { 'x-flywheel-key': key });
        const byBody = await predict('ab', { rows: [{ x: r, plan: 'a' }], key });
        for (const res of [byHeader, byBody]) {
          expect(res.statusCode).toBe(200);
          arms.add((res.json() as PlainBody).predictions[0].arm);
        }
      }
      expect([...arms], `key ${key}`).toHaveLength(1);
      armOfKey.set(key, [...arms][0]);
    });
    expect(new Set(armOfKey.values())).toEqual(new Set(['a', 'b']));
    const bs = [...armOfKey.values()].filter((a) => a === 'b').length;
    // Keys hash uniformly: binomial n = 200, p = 0.5, sd = sqrt(50) ≈ 7.07; ±4 sd = 72..128.
    expect(bs).toBeGreaterThanOrEqual(72);
    expect(bs).toBeLessThanOrEqual(128);
  }, 120_000);

  it('the header wins over the body key, and the V2 parameters.key keys the split too', async () => {
    // Find two keys on different arms, then send one as header and the other in the body.
    const arm = async (key: string) => (await predict('ab', { rows: [{ x: 1, plan: 'a' }], key })).json().predictions[0].arm as string;
    const first = await arm('user-0');
    let other = 'user-1';
    for (let i = 1; (await arm(other)) === first; i++) other = `user-${i}`;
    const res = await predict('ab', { rows: [{ x: 1, plan: 'a' }], key: other }, { 'x-flywheel-key': 'user-0' });
    expect(res.json().predictions[0].arm).toBe(first);

    const v2 = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/v2/models/ab/infer',
        payload: { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }, { name: 'plan', shape: [1], datatype: 'BYTES', data: ['a'] }], parameters: { key } },
      });
    const versionOfArm = { a: '1', b: '2' } as Record<string, string>;
    for (const key of ['user-0', other]) {
      for (let r = 0; r < 3; r++) expect((await v2(key)).json().model_version).toBe(versionOfArm[await arm(key)]);
    }
  });

  it('a policy key field keys the split by a row field when the request names no key', async () => {
    await deploy({ name: 'ab-field', model: 'churn/1', ab: 'churn/2:50%', key: 'plan' });
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 40; i++) {
      const plan = `plan-${i % 10}`;
      const res = await predict('ab-field', { rows: [{ x: i % 10, plan }] });
      expect(res.statusCode).toBe(200);
      seen.set(plan, (seen.get(plan) ?? new Set()).add(res.json().predictions[0].arm));
    }
    for (const [plan, arms] of seen) expect([...arms], plan).toHaveLength(1);
  });
});

describe('shadow', () => {
  it('answers from the primary only and logs a copy of each row under <id>~shadow', async () => {
    await deploy({ name: 'shadowed', model: 'churn/1', shadow: 'churn/2' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await predict('shadowed', { rows: [{ x: i, plan: 'a' }, { x: i + 0.5, plan: null }] });
      expect(res.statusCode).toBe(200);
      const body = res.json() as PlainBody;
      expect(body.predictions.map((p) => [p.prediction, p.arm, p.model])).toEqual([
        ['v1', 'primary', 'churn/1'],
        ['v1', 'primary', 'churn/1'],
      ]);
      ids.push(...body.predictions.map((p) => p.prediction_id));
    }
    const rows = await until(
      'the shadow rows in the prediction log',
      async () => {
        const log = (await app.inject({ method: 'GET', url: '/api/v1/deployments/shadowed/predictions?limit=1000' })).json().predictions as { predictionId: string; shadow: boolean; arm: string; prediction: unknown; features: unknown }[];
        return log.length >= ids.length * 2 ? log : undefined;
      },
      10_000,
    );
    expect(rows).toHaveLength(ids.length * 2);
    const byId = new Map(rows.map((r) => [r.predictionId, r]));
    for (const id of ids) {
      expect(byId.get(id)).toMatchObject({ shadow: false, arm: 'primary', prediction: 'v1' });
      expect(byId.get(`${id}~shadow`)).toMatchObject({ shadow: true, arm: 'shadow', prediction: 'v2', features: byId.get(id)!.features });
    }
  });

  it('a failing shadow does not touch the response; its failure is logged', async () => {
    await deploy({ name: 'bad-shadow', model: 'churn/1', shadow: 'churn/3' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await predict('bad-shadow', { rows: [{ x: i, plan: 'a' }] });
      expect(res.statusCode).toBe(200);
      expect(res.json().predictions[0]).toMatchObject({ prediction: 'v1', arm: 'primary' });
      ids.push(res.json().predictions[0].prediction_id);
    }
    const rows = await until(
      'the failed shadow rows',
      async () => {
        const log = (await app.inject({ method: 'GET', url: '/api/v1/deployments/bad-shadow/predictions?arm=shadow' })).json().predictions as { predictionId: string; error: string | null }[];
        return log.length >= ids.length ? log : undefined;
      },
      10_000,
    );
    expect(rows.map((r) => r.predictionId).sort()).toEqual(ids.map((id) => `${id}~shadow`).sort());
    for (const r of rows) expect(r.error).toMatch(/the shadow model is broken/);
  });
});

describe('a revision that cannot be loaded', () => {
  it('is marked failed with the reason while the previous revision keeps serving', async () => {
    await deploy({ name: 'fragile', model: 'fragile@champion' });
    const before = await predict('fragile', { rows: [{ x: 1, plan: 'a' }] });
    expect(before.statusCode).toBe(200);
    expect(before.json().predictions[0]).toMatchObject({ prediction: 'v1', model: 'fragile/1' });

    await deploy({ name: 'fragile', model: 'fragile/2' });
    const failed = await until(
      'revision 2 marked failed',
      async () => {
        const d = (await app.inject({ method: 'GET', url: '/api/v1/deployments/fragile' })).json();
        return d.revision.revision === 2 && d.revision.status === 'failed' ? d : undefined;
      },
      20_000,
    );
    // Node says SyntaxError; under vitest the import goes through Vite, which says "invalid JS syntax".
    expect(failed.revision.statusMessage).toMatch(/syntax/i);
    expect(failed.servingRevision).toBe(1);
    expect(failed.revisions.find((r: { revision: number }) => r.revision === 1).status).toBe('ready');

    for (let i = 0; i < 5; i++) {
      const res = await predict('fragile', { rows: [{ x: i, plan: 'a' }] });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ revision: 1, predictions: [{ prediction: 'v1', model: 'fragile/1' }] });
    }
  }, 60_000);
});

describe('changing what a deployment serves', () => {
  const served = async (name: string) => {
    const res = await predict(name, { rows: [{ x: 1, plan: 'a' }] });
    return res.statusCode === 200 ? ((res.json() as PlainBody).predictions[0].model as string) : `${res.statusCode}`;
  };

  it('a new revision, a rollback and a deletion reach the serving process', async () => {
    await deploy({ name: 'moving', model: 'churn/1' });
    expect(await served('moving')).toBe('churn/1');
    await deploy({ name: 'moving', model: 'churn/2' });
    await until('revision 2 served', async () => (await served('moving')) === 'churn/2', 20_000);

    const back = await app.inject({ method: 'POST', url: '/api/v1/deployments/moving/rollback', payload: {} });
    expect(back.statusCode).toBe(201);
    expect(back.json().revision).toMatchObject({ revision: 3, policy: { arms: [{ model: 'models:/churn/1' }] } });
    await until('the rollback served', async () => (await served('moving')) === 'churn/1', 20_000);
    const d = await until(
      'revision 3 ready',
      async () => {
        const x = (await app.inject({ method: 'GET', url: '/api/v1/deployments/moving' })).json();
        return x.servingRevision === 3 ? x : undefined;
      },
      20_000,
    );
    expect(d.revisions.map((r: { revision: number; status: string }) => [r.revision, r.status])).toEqual([
      [3, 'ready'],
      [2, 'superseded'],
      [1, 'superseded'],
    ]);

    expect((await app.inject({ method: 'DELETE', url: '/api/v1/deployments/moving' })).statusCode).toBe(204);
    await until('the deleted deployment gone', async () => (await served('moving')) === '404', 20_000);
    // The name can be used again, from revision 1.
    expect((await deploy({ name: 'moving', model: 'churn/2' })).revision.revision).toBe(1);
    await until('the new deployment served', async () => (await served('moving')) === 'churn/2', 20_000);
  }, 90_000);

  it('a deployment whose only revision cannot load answers 503 naming the failure', async () => {
    await deploy({ name: 'doomed', model: 'fragile/2' });
    const res = await until(
      'the failure recorded',
      async () => {
        const r = await predict('doomed', { rows: [{ x: 1, plan: 'a' }] });
        return r.statusCode === 503 && /failed to load/.test(r.json().error.message) ? r : undefined;
      },
      20_000,
    );
    expect(res.json().error.code).toBe('FW_NOT_READY');
    expect(res.json().error.message).toMatch(/revision 1/);
    expect(res.headers['retry-after']).toBe('1');
    const v2 = await app.inject({ method: 'GET', url: '/v2/models/doomed/ready' });
    expect([v2.statusCode, v2.json()]).toEqual([503, { name: 'doomed', ready: false }]);
    // Everything else goes on serving.
    expect(await served('canary')).toMatch(/^churn\/[12]$/);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/deployments/doomed' })).statusCode).toBe(204);
  }, 60_000);
});

describe('one request failing inside a batch', () => {
  it('fails only that request; the good ones batched with it succeed', async () => {
    await deploy({ name: 'slow', model: 'slow/1' });
    expect((await predict('slow', { rows: [{ x: 1, plan: 'a' }] })).statusCode).toBe(200);
    // The model takes 50 ms a call, so requests arriving together queue behind the first and share batches.
    const xs = [1, 2, 666, 3, 4, 5, 6, 7];
    const results = await Promise.all(xs.map((x) => predict('slow', { rows: [{ x, plan: 'a' }] })));
    results.forEach((res, i) => {
      if (xs[i] === 666) {
        expect(res.statusCode).toBe(500);
        expect(res.json().error).toMatchObject({ code: 'FW_PREDICTION_FAILED' });
        expect(res.json().error.message).toMatch(/refuses 666/);
      } else {
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().predictions[0].prediction).toBe('slow');
      }
    });
    // Requests did share batches (some batch held more than one row), so the poisoned one was retried apart from its batch-mates.
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const read = (what: string) => Number(new RegExp(`flywheel_serving_batch_size_${what}\\{deployment="slow",version="slow/1"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(read('sum')).toBeGreaterThan(read('count'));
  });
});

describe('HTTP edges', () => {
  it('malformed JSON is 400 (V2: {"error": "..."})', async () => {
    const plain = await app.inject({ method: 'POST', url: '/api/v1/deployments/canary/predict', headers: { 'content-type': 'application/json' }, payload: '{"rows": [' });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error.code).toBe('FW_MALFORMED_REQUEST');
    const v2 = await app.inject({ method: 'POST', url: '/v2/models/canary/infer', headers: { 'content-type': 'application/json' }, payload: '{"inputs": nope}' });
    expect(v2.statusCode).toBe(400);
    expect(Object.keys(v2.json())).toEqual(['error']);
    expect(typeof v2.json().error).toBe('string');
  });

  it('an unknown deployment is 404 on every protocol', async () => {
    const plain = await predict('nosuch', { rows: [{ x: 1, plan: 'a' }] });
    expect(plain.statusCode).toBe(404);
    expect(plain.json().error.code).toBe('FW_NOT_FOUND');
    const mlflow = await app.inject({ method: 'POST', url: '/api/v1/deployments/nosuch/invocations', payload: { dataframe_records: [{ x: 1, plan: 'a' }] } });
    expect(mlflow.statusCode).toBe(404);
    const infer = await app.inject({ method: 'POST', url: '/v2/models/nosuch/infer', payload: { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] } });
    expect(infer.statusCode).toBe(404);
    expect(typeof infer.json().error).toBe('string');
    expect((await app.inject({ method: 'GET', url: '/v2/models/nosuch' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v2/models/nosuch/ready' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/deployments/nosuch' })).statusCode).toBe(404);
  });

  it('V2 metadata, readiness and a pinned version', async () => {
    await deploy({ name: 'pinned', model: 'churn/1', canary: 'churn/2:10%' });
    const meta = await app.inject({ method: 'GET', url: '/v2/models/pinned' });
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).toEqual({
      name: 'pinned',
      versions: ['1', '2'],
      platform: 'flywheel-js',
      inputs: [
        { name: 'x', datatype: 'FP64', shape: [-1] },
        { name: 'plan', datatype: 'BYTES', shape: [-1] },
      ],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
      ],
    });
    expect((await app.inject({ method: 'GET', url: '/v2/models/pinned/versions/2' })).json().name).toBe('pinned');
    expect((await app.inject({ method: 'GET', url: '/v2/models/pinned/versions/9' })).statusCode).toBe(404);

    const ready = await app.inject({ method: 'GET', url: '/v2/models/pinned/ready' });
    expect([ready.statusCode, ready.json()]).toEqual([200, { name: 'pinned', ready: true }]);
    expect((await app.inject({ method: 'GET', url: '/v2/models/pinned/versions/2/ready' })).statusCode).toBe(200);
    const notServed = await app.inject({ method: 'GET', url: '/v2/models/pinned/versions/9/ready' });
    expect([notServed.statusCode, notServed.json()]).toEqual([503, { name: 'pinned', ready: false }]);
    expect((await app.inject({ method: 'GET', url: '/v2/health/live' })).json()).toEqual({ live: true });
    expect((await app.inject({ method: 'GET', url: '/v2' })).json()).toMatchObject({ name: 'flywheel' });

    const inputs = [
      { name: 'x', shape: [2], datatype: 'FP64', data: [1, 2] },
      { name: 'plan', shape: [2], datatype: 'BYTES', data: ['a', 'b'] },
    ];
    // The canary takes 10%: pinned to version 2, every request is answered by it anyway.
    for (let i = 0; i < 10; i++) {
      const res = await app.inject({ method: 'POST', url: '/v2/models/pinned/versions/2/infer', payload: { id: `r${i}`, inputs } });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ model_name: 'pinned', model_version: '2', id: `r${i}` });
      expect(body.outputs.find((o: { name: string }) => o.name === 'label').data).toEqual(['v2', 'v2']);
      expect(body.parameters.prediction_ids).toHaveLength(2);
    }
    const one = await app.inject({ method: 'POST', url: '/v2/models/pinned/versions/1/infer', payload: { inputs } });
    expect(one.json().model_version).toBe('1');
    const missing = await app.inject({ method: 'POST', url: '/v2/models/pinned/versions/9/infer', payload: { inputs } });
    expect(missing.statusCode).toBe(404);
    expect(typeof missing.json().error).toBe('string');
  });
});

describe('with a serving configuration of its own', () => {
  let own: ServingHarness;
  const apps: { app: FastifyInstance; serving: ServingServices }[] = [];

  async function appWith(config: Partial<ServingConfig>, only?: string[]): Promise<FastifyInstance> {
    const serving = createServing({ store: own.ctx.store, tracking: own.ctx.tracking, registry: own.ctx.registry, home: own.home }, resolveServingConfig(config, {}), undefined, undefined, only);
    const a = await buildApp(own.ctx, { serving });
    await serving.host.start();
    apps.push({ app: a, serving });
    return a;
  }

  beforeAll(async () => {
    own = await openServingHarness();
    await own.register('churn', taggedModule('v1'));
    await own.register('slow', taggedModule('slow', 300));
    const setup = await appWith({});
    for (const payload of [
      { name: 'small', model: 'churn/1' },
      { name: 'slow', model: 'slow/1' },
    ]) {
      const res = await setup.inject({ method: 'POST', url: '/api/v1/deployments', payload });
      expect(res.statusCode).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    for (const { app: a, serving } of apps) {
      await a.close();
      await serving.host.close();
    }
    await own?.dispose();
  });

  it('a replica serving some deployments is ready once those are loaded, and 404s the others', async () => {
    const a = await appWith({}, ['small']);
    const ready = await a.inject({ method: 'GET', url: '/v2/health/ready' });
    expect([ready.statusCode, ready.json()]).toEqual([200, { ready: true }]);
    expect((await a.inject({ method: 'POST', url: '/api/v1/deployments/small/predict', payload: { rows: [{ x: 1, plan: 'a' }] } })).statusCode).toBe(200);
    expect((await a.inject({ method: 'POST', url: '/api/v1/deployments/slow/predict', payload: { rows: [{ x: 1, plan: 'a' }] } })).statusCode).toBe(404);
  });

  it('answers 413 to a body over maxBodyBytes', async () => {
    const a = await appWith({ maxBodyBytes: 1000 });
    const rows = Array.from({ length: 100 }, (_, i) => ({ x: i, plan: 'a plan name' }));
    const body = JSON.stringify({ rows });
    expect(body.length).toBeGreaterThan(1000);
    const big = await a.inject({ method: 'POST', url: '/api/v1/deployments/small/predict', headers: { 'content-type': 'application/json' }, payload: body });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('FW_PAYLOAD_TOO_LARGE');
    const v2Body = JSON.stringify({ inputs: [{ name: 'x', shape: [400], datatype: 'FP64', data: Array.from({ length: 400 }, (_, i) => i) }] });
    expect(v2Body.length).toBeGreaterThan(1000);
    const v2 = await a.inject({ method: 'POST', url: '/v2/models/small/infer', headers: { 'content-type': 'application/json' }, payload: v2Body });
    expect(v2.statusCode).toBe(413);
    expect(typeof v2.json().error).toBe('string');
    // A body under the limit is served.
    const fine = await a.inject({ method: 'POST', url: '/api/v1/deployments/small/predict', payload: { rows: rows.slice(0, 2) } });
    expect(fine.statusCode).toBe(200);
  });

  it('answers 503 with Retry-After to a burst beyond the queue, and serves the rest', async () => {
    const a = await appWith({ batching: true, maxBatchSize: 1, maxQueueRows: 2 });
    // One request is with the model (300 ms), two wait in the queue; the rest of a burst of 30 arriving together find it full.
    const results: LightMyRequestResponse[] = await Promise.all(
      Array.from({ length: 30 }, (_, i) => a.inject({ method: 'POST', url: '/api/v1/deployments/slow/predict', payload: { rows: [{ x: i % 10, plan: 'a' }] } })),
    );
    const overloaded = results.filter((r) => r.statusCode === 503);
    const served = results.filter((r) => r.statusCode === 200);
    expect(overloaded.length + served.length).toBe(30);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(overloaded.length).toBeGreaterThanOrEqual(1);
    for (const r of overloaded) {
      expect(r.headers['retry-after']).toBe('1');
      expect(r.json().error.code).toBe('FW_OVERLOADED');
    }
    for (const r of served) expect(r.json().predictions[0].prediction).toBe('slow');
  }, 60_000);
});
