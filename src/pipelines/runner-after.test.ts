/**
 * An ordering-only dependency (`after`) in a YAML pipeline: with room to run
 * both steps at once, the second still waits for the first, which shares no
 * data with it (here: a file the first writes and the second reads), and a
 * failed first step leaves the second unrun.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { PipelineRunner } from './runner.js';
import { parsePipelinesYaml } from './yaml.js';

let h: TransformHarness;
let root: string;

beforeAll(async () => {
  h = await openTransformHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-pipeline-after-'));
}, 60_000);

afterAll(async () => {
  await h?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const yaml = (first: string) => `
pipelines:
  ordered:
    concurrency: 2
    steps:
      first:  { cmd: '${first}', cache: false }
      second: { cmd: 'cat flag.txt', after: [first], cache: false }
`;

describe('after', () => {
  it('runs the second step only once the first finished', async () => {
    const [def] = parsePipelinesYaml(yaml('sleep 0.3; echo ready > flag.txt'), path.join(root, 'flywheel.yaml'));
    expect(def.steps[1].after).toEqual(['first']);
    const report = await new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root }).run(def);
    expect(report.run.status).toBe('SUCCEEDED');
    const byStep = Object.fromEntries(report.steps.map((s) => [s.step, s]));
    expect(byStep.second.startedTime!).toBeGreaterThanOrEqual(byStep.first.endedTime!);
  });

  it('leaves the second step unrun when the first fails', async () => {
    fs.rmSync(path.join(root, 'flag.txt'), { force: true });
    const [def] = parsePipelinesYaml(yaml('exit 3'), path.join(root, 'flywheel.yaml'));
    const report = await new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root }).run(def);
    expect(report.run.status).toBe('FAILED');
    expect(Object.fromEntries(report.steps.map((s) => [s.step, s.status]))).toEqual({ first: 'FAILED', second: 'SKIPPED' });
  });
});
