/**
 * Cancelling a run from another process goes through its record: the
 * running process polls `cancel_requested_time` and stops. And while a step
 * runs, its record names the live log file (`pipelines logs --follow`); a
 * log rotated at the cap is stored with both its parts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.js';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { definePipeline } from './define.js';
import { PipelineRunner } from './runner.js';
import * as q from './store.js';
import { parsePipelinesYaml } from './yaml.js';

let h: TransformHarness;
let root: string;

beforeAll(async () => {
  h = await openTransformHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-pipeline-cancel-'));
}, 60_000);

afterAll(async () => {
  await h?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('cancel through the run record', () => {
  it('stops a running pipeline when another process requests it, and records the live log path meanwhile', async () => {
    const [def] = parsePipelinesYaml(
      `pipelines:\n  slow:\n    steps:\n      wait: { cmd: 'echo started; sleep 30' }\n      after: { cmd: 'true', inputs: {}, outputs: [] }\n`,
      path.join(root, 'flywheel.yaml'),
    );
    const runner = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
    let runId = '';
    // Concurrency 1: "wait" (first in definition order) runs, "after" waits for a slot and never starts.
    const done = runner.run({ ...def, concurrency: 1 }, { onStarted: (id) => (runId = id) });
    const step = await until('the step to run', async () => (runId ? (await q.listStepRuns(h.store.db, runId)).find((s) => s.step === 'wait' && s.status === 'RUNNING') : undefined), 15_000);
    expect(step.logPath).toMatch(/step\.log$/);
    expect(step.worker).toBe(`${os.hostname()}:${process.pid}`);
    await until('the log line', async () => fs.existsSync(step.logPath!) && fs.readFileSync(step.logPath!, 'utf8').includes('started'), 15_000);

    const t0 = Date.now();
    expect(await q.requestCancel(h.store.db, runId)).toBe(true);
    const report = await done;
    // Polled once a second, and the shell step is killed on abort.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(report.run.status).toBe('CANCELLED');
    const steps = Object.fromEntries(report.steps.map((s) => [s.step, s.status]));
    expect(steps).toEqual({ wait: 'CANCELLED', after: 'CANCELLED' });
    expect((await q.getPipelineRun(h.store.db, runId))!.cancelRequestedTime).toBeGreaterThanOrEqual(t0);
    // An ended run cannot be asked again.
    expect(await q.requestCancel(h.store.db, runId)).toBe(false);
  }, 30_000);
});

describe('a step that prints more than the log cap', () => {
  it('stores both parts of its rotated log, oldest first, ending with the last line printed', async () => {
    const [def] = parsePipelinesYaml(
      // 20 MB of "y" lines, then a last line: past the 16 MiB cap, so the log rotates once.
      `pipelines:\n  loud:\n    steps:\n      talk: { cmd: 'yes | head -c 20000000; echo the-last-line' }\n`,
      path.join(root, 'flywheel.yaml'),
    );
    const runner = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
    const report = await runner.run(def);
    expect(report.run.status).toBe('SUCCEEDED');
    const runId = report.steps[0].trackingRunId!;
    const [artifact] = await h.tracking.listRunArtifacts(runId, 'logs');
    // Two files of at most 16 MiB each, together holding the newest output (the first bytes may be gone).
    expect(artifact.size).toBeGreaterThan(16 * 1024 * 1024);
    expect(artifact.size).toBeLessThanOrEqual(2 * 16 * 1024 * 1024);
    const chunks: Buffer[] = [];
    for await (const chunk of await h.tracking.getRunArtifact(runId, 'logs/step.log')) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.trimEnd().endsWith('the-last-line')).toBe(true);
  }, 60_000);
});

describe('a function step that logs more than the log cap', () => {
  it('keeps at most two rotated parts on disk and stores them, ending with the last line logged', async () => {
    const line = 'x'.repeat(1023);
    const def = definePipeline('chatty', ({ step }) => {
      step('talk', { cache: false }, (ctx) => {
        // 20 MiB of lines, then a last one.
        for (let i = 0; i < 20 * 1024; i++) ctx.log(line);
        ctx.log('the-last-line');
      });
    });
    const runner = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
    const report = await runner.run(def);
    expect(report.run.status).toBe('SUCCEEDED');
    const runId = report.steps[0].trackingRunId!;
    const [artifact] = await h.tracking.listRunArtifacts(runId, 'logs');
    expect(artifact.size).toBeGreaterThan(16 * 1024 * 1024);
    expect(artifact.size).toBeLessThanOrEqual(2 * 16 * 1024 * 1024);
    const chunks: Buffer[] = [];
    for await (const chunk of await h.tracking.getRunArtifact(runId, 'logs/step.log')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8').trimEnd().endsWith('the-last-line')).toBe(true);
  }, 60_000);
});
