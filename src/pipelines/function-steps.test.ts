/**
 * Function steps of a pipeline module run by the PipelineRunner in worker
 * processes (test/fixtures/pipelines/functions.ts loaded with
 * loadPipelineFile): a TS step and a shell step exchanging a dataset, the TS
 * step's metric, log and process; the same definition without its module
 * running in-process; and faults — a thrown error, a step exiting its
 * process (the next step gets a new one), a step ignoring its timeout
 * (killed after the grace period). No worker process outlives its run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlLiteral } from '../engine/index.js';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { loadPipelineFile } from './load.js';
import { PipelineRunner, STEP_LOG_ARTIFACT } from './runner.js';
import type { PipelineDefinition } from './types.js';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/pipelines/functions.ts');

let h: TransformHarness;
let root: string;
let defs: Record<string, PipelineDefinition>;
let runner: PipelineRunner;

const byStep = <T extends { step: string }>(list: T[]) => Object.fromEntries(list.map((s) => [s.step, s]));

async function rows(versionId: string): Promise<Record<string, unknown>[]> {
  const v = await h.data.getVersion(versionId);
  return h.engine.query(`SELECT * FROM read_parquet(${sqlLiteral(await h.data.parquetPath(v))}) ORDER BY id`);
}

async function artifactText(runId: string, artifactPath: string): Promise<string> {
  let text = '';
  for await (const chunk of await h.tracking.getRunArtifact(runId, artifactPath)) text += chunk.toString();
  return text;
}

/** Processes whose parent is this one (ps lists itself too: left out). */
function childProcesses(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && comm !== 'ps')
    .map(([pid]) => Number(pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  h = await openTransformHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-fnsteps-project-'));
  fs.writeFileSync(path.join(root, 'orders.csv'), 'id,amount\n1,10\n2,20\n3,30\n');
  defs = Object.fromEntries((await loadPipelineFile(MODULE)).map((d) => [d.name, d]));
  runner = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
}, 60_000);

afterAll(async () => {
  await h?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('function steps of a pipeline module', () => {
  it('a TS step in a worker process and a shell step exchange a dataset', async () => {
    expect(defs.fn_exchange.module).toBe(MODULE);
    const report = await runner.run(defs.fn_exchange);
    expect(report.run.status).toBe('SUCCEEDED');
    const s = byStep(report.steps);
    expect([s.ingest.status, s.enrich.status, s.publish.status]).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);

    // enrich doubled amount (param factor: 2); publish copied enrich's version.
    const doubled = [
      { id: 1n, amount: 20n },
      { id: 2n, amount: 40n },
      { id: 3n, amount: 60n },
    ];
    const enriched = await h.data.getVersion(s.enrich.outputs.fx_enriched);
    expect([enriched.dataset, enriched.version, enriched.rowCount]).toEqual(['fx_enriched', 1, 3]);
    expect(await rows(enriched.id)).toEqual(doubled);
    expect(await rows(s.publish.outputs.fx_published)).toEqual(doubled);
    expect((await h.tracking.getRun(s.publish.trackingRunId!)).data.params['input.enriched']).toBe('fx_enriched@1');

    const run = await h.tracking.getRun(s.enrich.trackingRunId!);
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.metrics.map((m) => [m.key, m.value, m.step])).toEqual([['rows', 3, 0]]);
    expect(run.data.params).toMatchObject({ factor: '2', 'input.orders': 'fx_orders@1' });
    const pid = Number(run.data.tags.pid);
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(await artifactText(run.info.runId, STEP_LOG_ARTIFACT)).toBe('enriched fx_orders@1: 3 rows\n');
    expect(fs.existsSync(path.join(os.tmpdir(), `fw-pstep-${run.info.runId}`))).toBe(false);

    expect(alive(pid)).toBe(false);
    expect(childProcesses()).toEqual([]);
  });

  it('the same definition without its module runs the step in this process, with the same run handle', async () => {
    const inProcess: PipelineDefinition = { ...defs.fn_exchange, module: undefined };
    const report = await runner.run(inProcess, { force: true });
    expect(report.run.status).toBe('SUCCEEDED');
    const s = byStep(report.steps);
    const run = await h.tracking.getRun(s.enrich.trackingRunId!);
    expect(run.data.tags.pid).toBe(String(process.pid));
    expect(run.data.metrics.map((m) => [m.key, m.value])).toEqual([['rows', 3]]);
    expect(await rows(s.publish.outputs.fx_published)).toEqual([
      { id: 1n, amount: 20n },
      { id: 2n, amount: 40n },
      { id: 3n, amount: 60n },
    ]);
  });

  it('a throw, a process exit and an ignored timeout each fail their step clearly; the next step gets a new process', async () => {
    const report = await runner.run(defs.fn_faults);
    expect(report.run.status).toBe('FAILED');
    const s = byStep(report.steps);
    const pidOf = async (step: string) => Number((await h.tracking.getRun(s[step].trackingRunId!)).data.tags.pid);

    expect(s.throws.status).toBe('FAILED');
    expect(s.throws.error).toBe('the step failed on purpose');

    const exited = await pidOf('exits');
    expect(s.exits.status).toBe('FAILED');
    expect(s.exits.error).toBe(`step "exits": its worker process (pid ${exited}) exited with code 3 while the step ran`);
    expect((await h.tracking.getRun(s.exits.trackingRunId!)).info.status).toBe('FAILED');

    // Concurrency 1: one worker at a time; a throw keeps it, the exit replaces it for "after".
    expect(await pidOf('throws')).toBe(exited);
    expect(s.after.status).toBe('SUCCEEDED');
    expect(await pidOf('after')).not.toBe(exited);

    const hung = await pidOf('hangs');
    expect(hung).toBe(await pidOf('after'));
    expect(s.hangs.status).toBe('FAILED');
    expect(s.hangs.error).toBe('step "hangs" timed out after 0.3s');
    expect(alive(hung)).toBe(false);
    expect(childProcesses()).toEqual([]);
  });
});
