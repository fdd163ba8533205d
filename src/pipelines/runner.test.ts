/**
 * The runner against a real SQLite store, artifact directory and DuckDB: a
 * YAML pipeline ingest → shell step → SQL step, its records, tracking runs,
 * lineage, caching, invalidation by a changed source, a failing step and
 * resume.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlLiteral } from '../engine/index.js';
import { walkLineage } from '../lineage/service.js';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { PipelineRunner, STEP_LOG_ARTIFACT } from './runner.js';
import { parsePipelinesYaml } from './yaml.js';
import type { PipelineDefinition } from './types.js';

const YAML = `
pipelines:
  etl:
    steps:
      ingest:  { uses: ingest, with: { source: raw.csv }, outputs: [raw] }
      regions: { uses: ingest, with: { source: regions.csv }, outputs: [regions] }
      clean:   { cmd: 'echo copying; cp "$FW_INPUT_RAW" "$FW_OUTPUT_CLEAN"', inputs: { raw: ingest.raw }, outputs: [clean] }
      summary: { sql: "select count(*) as n, sum(amount)::BIGINT as total from {{ ref('clean') }}", inputs: { clean: clean.clean }, outputs: [summary] }
      region_count: { sql: "select count(*) as n from {{ ref('regions') }}", inputs: { regions: regions.regions }, outputs: [region_count] }
  gated:
    steps:
      g_ingest: { uses: ingest, with: { source: raw.csv }, outputs: [g_raw] }
      g_clean:  { cmd: 'cat needed.txt && cp "$FW_INPUT_RAW" "$FW_OUTPUT_G_CLEAN"', inputs: { raw: g_ingest.g_raw }, outputs: [g_clean] }
      g_sum:    { sql: "select count(*) as n from {{ ref('g_clean') }}", inputs: { c: g_clean.g_clean }, outputs: [g_sum] }
`;

let h: TransformHarness;
let root: string;
let defs: Record<string, PipelineDefinition>;
let runner: PipelineRunner;

async function rows(versionId: string): Promise<Record<string, unknown>[]> {
  const v = await h.data.getVersion(versionId);
  return h.engine.query(`SELECT * FROM read_parquet(${sqlLiteral(await h.data.parquetPath(v))})`);
}

const byStep = <T extends { step: string }>(list: T[]) => Object.fromEntries(list.map((s) => [s.step, s]));

beforeAll(async () => {
  h = await openTransformHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-pipeline-project-'));
  fs.writeFileSync(path.join(root, 'raw.csv'), 'id,amount\n1,10\n2,20\n3,30\n');
  fs.writeFileSync(path.join(root, 'regions.csv'), 'code,name\nN,North\nS,South\n');
  defs = Object.fromEntries(parsePipelinesYaml(YAML, path.join(root, 'flywheel.yaml')).map((d) => [d.name, d]));
  runner = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
}, 60_000);

afterAll(async () => {
  await h?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('PipelineRunner', () => {
  let first: Awaited<ReturnType<PipelineRunner['run']>>;

  it('runs ingest → shell → sql, records the run, its steps and one child tracking run per step', async () => {
    first = await runner.run(defs.etl);
    expect(first.run.status).toBe('SUCCEEDED');
    const steps = byStep(first.steps);
    expect(Object.keys(steps).sort()).toEqual(['clean', 'ingest', 'region_count', 'regions', 'summary']);
    for (const s of first.steps) {
      expect(s.status).toBe('SUCCEEDED');
      expect(s.attempts).toBe(1);
      expect(s.cacheKey).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await rows(steps.summary.outputs.summary)).toEqual([{ n: 3n, total: 60n }]);
    expect(await rows(steps.clean.outputs.clean)).toEqual([
      { id: 1n, amount: 10n },
      { id: 2n, amount: 20n },
      { id: 3n, amount: 30n },
    ]);

    const exp = await h.tracking.getExperimentByName('pipelines/etl');
    const children = await h.tracking.childRuns(first.run.trackingRunId!);
    expect(children.map((c) => c.runName).sort()).toEqual(['clean', 'ingest', 'region_count', 'regions', 'summary']);
    for (const c of children) {
      expect(c.experimentId).toBe(exp.experimentId);
      expect(c.status).toBe('FINISHED');
    }
    const clean = await h.tracking.getRun(steps.clean.trackingRunId!);
    expect(clean.data.tags['flywheel.pipeline']).toBe('etl');
    expect(clean.data.tags['flywheel.step']).toBe('clean');
    expect(clean.data.tags['flywheel.cache_key']).toBe(steps.clean.cacheKey);
    expect(clean.data.params['input.raw']).toBe('raw@1');
    const log = await h.tracking.getRunArtifact(clean.info.runId, STEP_LOG_ARTIFACT);
    let text = '';
    for await (const chunk of log) text += chunk.toString();
    expect(text).toBe('copying\n');
    expect((await h.tracking.getRun(first.run.trackingRunId!)).info.status).toBe('FINISHED');
  });

  it('records lineage from the last output back to the raw data', async () => {
    const steps = byStep(first.steps);
    const up = await walkLineage(h.store.db, { type: 'dataset_version', id: steps.summary.outputs.summary }, 'upstream');
    const ids = up.nodes.map((n) => `${n.type}:${n.id}`);
    expect(ids).toContain(`dataset_version:${steps.clean.outputs.clean}`);
    expect(ids).toContain(`dataset_version:${steps.ingest.outputs.raw}`);
    expect(ids).toContain(`run:${steps.clean.trackingRunId}`);
    expect(ids).toContain(`run:${steps.ingest.trackingRunId}`);
  });

  it('serves a second run entirely from cache, with the same version ids and no new step runs', async () => {
    const second = await runner.run(defs.etl);
    expect(second.run.status).toBe('SUCCEEDED');
    const a = byStep(first.steps);
    for (const s of second.steps) {
      expect(s.status).toBe('CACHED');
      expect(s.outputs).toEqual(a[s.step].outputs);
    }
    expect(await h.tracking.childRuns(second.run.trackingRunId!)).toEqual([]);
  });

  it('reruns only what depends on a changed source file', async () => {
    fs.writeFileSync(path.join(root, 'raw.csv'), 'id,amount\n1,10\n2,20\n3,30\n4,40\n');
    const third = await runner.run(defs.etl);
    const s = byStep(third.steps);
    expect(s.ingest.status).toBe('SUCCEEDED');
    expect(s.clean.status).toBe('SUCCEEDED');
    expect(s.summary.status).toBe('SUCCEEDED');
    expect(s.regions.status).toBe('CACHED');
    expect(s.region_count.status).toBe('CACHED');
    expect(s.regions.outputs).toEqual(byStep(first.steps).regions.outputs);
    expect(await rows(s.summary.outputs.summary)).toEqual([{ n: 4n, total: 100n }]);
    expect((await h.data.getVersion(s.ingest.outputs.raw)).version).toBe(2);
  });

  it('--force reruns every step', async () => {
    const forced = await runner.run(defs.etl, { force: true });
    expect(forced.steps.map((x) => x.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('a failing shell step leaves no output version, fails the pipeline; resume runs only it and its downstream', async () => {
    const failed = await runner.run(defs.gated);
    expect(failed.run.status).toBe('FAILED');
    const s = byStep(failed.steps);
    expect(s.g_ingest.status).toBe('SUCCEEDED');
    expect(s.g_clean.status).toBe('FAILED');
    expect(s.g_clean.error).toContain('needed.txt');
    expect(s.g_sum.status).toBe('SKIPPED');
    await expect(h.data.resolve('g_clean')).rejects.toThrow(/g_clean/);
    const stepRun = await h.tracking.getRun(s.g_clean.trackingRunId!);
    expect(stepRun.info.status).toBe('FAILED');

    fs.writeFileSync(path.join(root, 'needed.txt'), 'ok\n');
    const resumed = await runner.resume(failed.run.id);
    expect(resumed.run.status).toBe('SUCCEEDED');
    expect(resumed.run.resumedFrom).toBe(failed.run.id);
    const r = byStep(resumed.steps);
    expect(r.g_ingest.attempts).toBe(0);
    expect(r.g_ingest.outputs).toEqual(s.g_ingest.outputs);
    expect(r.g_clean.status).toBe('SUCCEEDED');
    expect(r.g_sum.status).toBe('SUCCEEDED');
    const children = await h.tracking.childRuns(resumed.run.trackingRunId!);
    expect(children.map((c) => c.runName).sort()).toEqual(['g_clean', 'g_sum']);
    expect(await rows(r.g_sum.outputs.g_sum)).toEqual([{ n: 4n }]);
  });
});
