/**
 * The serving-only app (`flywheel serve`'s): it answers predictions and
 * health without the tracking or data API, and cuts off a slow client that
 * never finishes its request instead of holding the connection forever.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServingApp } from './app.js';
import { resolveServingConfig } from './config.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../test/support/serving.js';

let h: ServingHarness;
let built: Awaited<ReturnType<typeof buildServingApp>>;
let port: number;

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('v1'));
  await h.ctx.deployments.deploy('churn', { model: 'churn/1' });
  built = await buildServingApp(
    { store: h.ctx.store, tracking: h.ctx.tracking, registry: h.ctx.registry, home: h.home },
    resolveServingConfig({ requestTimeoutMs: 1000, refreshIntervalMs: 1 }, {}),
  );
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  port = (built.app.server.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await built?.app.close();
  await h?.dispose();
});

describe('the serving-only app', () => {
  it('serves predictions and health, and has no tracking API', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/deployments/churn/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"rows": [{"x": 1, "plan": null}]}' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: { prediction: string }[] }).predictions[0].prediction).toBe('v1');
    expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/experiments`)).status).toBe(404);
  });

  /** Sends `text` and waits for the server to close the connection (or 20 s); returns what came back. */
  async function stall(text: string): Promise<{ outcome: string; received: string }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    socket.on('data', (c) => (received += String(c)));
    const closed = new Promise<string>((resolve) => socket.once('close', () => resolve('closed')));
    socket.write(text);
    const outcome = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 20_000))]);
    socket.destroy();
    return { outcome, received };
  }

  it('answers 408 to a client whose headers never finish', async () => {
    const r = await stall('POST /api/v1/deployments/churn/predict HTTP/1.1\r\nHost: x\r\n');
    expect(r.outcome).toBe('closed');
    expect(r.received).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);

  it('closes the connection of a client whose body stalls half-way', async () => {
    // Headers promise a body of 100 bytes; 10 come.
    const r = await stall('POST /api/v1/deployments/churn/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"rows": [');
    expect(r.outcome).toBe('closed');
  }, 30_000);
});
