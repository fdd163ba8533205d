/**
 * The pipelines REST API through a real listening server (startServer) on a
 * temp store, with a flywheel.yaml of shell steps: start a run and poll it to
 * the end, cancel a sleeping run, resume a failed one, and the errors for
 * unknown or finished runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/core/config.js';
import { startServer, type RunningServer } from '../src/server/start.js';

const YAML = `
pipelines:
  hello:
    schedule: { cron: "0 3 * * *", missed: catch_up_one }
    triggers: [{ on: alert, monitor: drift }]
    steps:
      greet: { cmd: 'echo hello', cache: false }
  slow:
    steps:
      nap: { cmd: 'sleep 60', cache: false }
  flaky:
    steps:
      first:  { cmd: 'echo one', cache: false }
      second: { cmd: 'test -f ok.txt', cache: false }
`;

let home: string;
let server: RunningServer;

async function api(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}/api/v1${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function waitEnded(id: string): Promise<any> {
  for (;;) {
    const { json } = await api('GET', `/pipelines/runs/${id}`);
    if (json.run.status !== 'RUNNING') return json;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitStepRunning(id: string, step: string): Promise<void> {
  for (;;) {
    const { json } = await api('GET', `/pipelines/runs/${id}`);
    if (json.steps.some((s: any) => s.step === step && s.status === 'RUNNING' && s.trackingRunId)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-pipelines-rest-'));
  fs.writeFileSync(path.join(home, 'flywheel.yaml'), YAML);
  server = await startServer({ host: '127.0.0.1', port: 0, config: resolveConfig({ home: path.join(home, '.flywheel') }, {}), pipelinesFile: path.join(home, 'flywheel.yaml') });
}, 60_000);

afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('pipelines REST API', () => {
  it('lists the pipelines of flywheel.yaml with schedule and triggers', async () => {
    const { status, json } = await api('GET', '/pipelines');
    expect(status).toBe(200);
    expect(json.file).toBe(path.join(home, 'flywheel.yaml'));
    expect(json.pipelines.map((p: any) => p.name)).toEqual(['hello', 'slow', 'flaky']);
    const hello = json.pipelines[0];
    expect(hello).toMatchObject({ steps: ['greet'], schedule: { cron: '0 3 * * *', timezone: 'UTC', missed: 'catch_up_one' }, triggers: [{ on: 'alert', monitor: 'drift' }], lastRun: null });
    expect(new Date(hello.schedule.nextFireTime).toISOString()).toMatch(/T03:00:00\.000Z$/);
  });

  it('starts a run (202 with its id), which finishes in the background; shows it with its steps', async () => {
    const started = await api('POST', '/pipelines/hello/runs', {});
    expect(started.status).toBe(202);
    const shown = await waitEnded(started.json.id);
    expect(shown.run).toMatchObject({ id: started.json.id, pipeline: 'hello', status: 'SUCCEEDED', error: null });
    expect(shown.steps.map((s: any) => [s.step, s.status, s.attempts])).toEqual([['greet', 'SUCCEEDED', 1]]);
    expect(shown.active).toBe(false);
    const list = await api('GET', '/pipelines/runs?pipeline=hello');
    expect(list.json.runs.map((r: any) => r.id)).toEqual([started.json.id]);
    expect((await api('GET', '/pipelines')).json.pipelines[0].lastRun.id).toBe(started.json.id);
  });

  it('refuses an unknown pipeline (404) and an unknown param (400) without starting anything', async () => {
    const unknown = await api('POST', '/pipelines/nope/runs', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('FW_NOT_FOUND');
    const badParam = await api('POST', '/pipelines/hello/runs', { params: { nope: 1 } });
    expect(badParam.status).toBe(400);
    expect(badParam.json.error.code).toBe('FW_INVALID_ARGUMENT');
    expect((await api('GET', '/pipelines/runs?pipeline=hello')).json.runs).toHaveLength(1);
  });

  it('cancels a run whose shell step sleeps; it ends CANCELLED; cancelling again is FW_INVALID_STATE', async () => {
    const { json } = await api('POST', '/pipelines/slow/runs');
    await waitStepRunning(json.id, 'nap');
    const cancelled = await api('POST', `/pipelines/runs/${json.id}/cancel`);
    expect(cancelled.status).toBe(202);
    const shown = await waitEnded(json.id);
    expect(shown.run.status).toBe('CANCELLED');
    expect(shown.steps.map((s: any) => [s.step, s.status])).toEqual([['nap', 'CANCELLED']]);
    const again = await api('POST', `/pipelines/runs/${json.id}/cancel`);
    expect(again.status).toBe(400);
    expect(again.json.error).toEqual({ code: 'FW_INVALID_STATE', message: `pipeline run ${json.id} already ended (CANCELLED)` });
    const unknown = await api('POST', '/pipelines/runs/no-such-run/cancel');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('FW_NOT_FOUND');
  });

  it('resumes a failed run from its failed step', async () => {
    const { json } = await api('POST', '/pipelines/flaky/runs');
    const failed = await waitEnded(json.id);
    expect(failed.run.status).toBe('FAILED');
    expect(Object.fromEntries(failed.steps.map((s: any) => [s.step, s.status]))).toEqual({ first: 'SUCCEEDED', second: 'FAILED' });
    fs.writeFileSync(path.join(home, 'ok.txt'), 'ok');
    const resumed = await api('POST', `/pipelines/runs/${json.id}/resume`);
    expect(resumed.status).toBe(202);
    expect(resumed.json.id).not.toBe(json.id);
    const done = await waitEnded(resumed.json.id);
    expect(done.run).toMatchObject({ status: 'SUCCEEDED', resumedFrom: json.id });
    const steps = Object.fromEntries(done.steps.map((s: any) => [s.step, s]));
    expect(steps.second.status).toBe('SUCCEEDED');
    expect(steps.first.attempts).toBe(0);
    expect(steps.first.status).toBe('SUCCEEDED');
    const again = await api('POST', `/pipelines/runs/${resumed.json.id}/resume`);
    expect(again.status).toBe(400);
  });
});
