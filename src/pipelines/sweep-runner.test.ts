/**
 * Sweep steps through the runner, on a real SQLite store and DuckDB: trial
 * runs under the sweep run with their params, the best trial by a metric
 * that is a known function of the params, a failing trial left out, the
 * downstream step reading the best trial's output, progress events, the
 * step record's details, a cached rerun, a shell sweep whose trials log no
 * metric, and cancellation stopping the trials.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlLiteral } from '../engine/index.js';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { definePipeline } from './define.js';
import type { ExecutionEvent } from './events.js';
import { PIPELINE_TAGS, PipelineRunner, STEP_LOG_ARTIFACT } from './runner.js';
import { SWEEP_TAGS } from './sweep-runner.js';
import type { StepContext } from './types.js';
import { parsePipelinesYaml } from './yaml.js';

let h: TransformHarness;
let root: string;
let runner: PipelineRunner;

beforeAll(async () => {
  h = await openTransformHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sweep-project-'));
  runner = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
}, 60_000);

afterAll(async () => {
  await h?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function rows(versionId: string): Promise<Record<string, unknown>[]> {
  const v = await h.data.getVersion(versionId);
  return h.engine.query(`SELECT * FROM read_parquet(${sqlLiteral(await h.data.parquetPath(v))})`);
}

async function text(runId: string, artifact: string): Promise<string> {
  let out = '';
  for await (const chunk of await h.tracking.getRunArtifact(runId, artifact)) out += chunk.toString();
  return out;
}

const byStep = <T extends { step: string }>(list: T[]) => Object.fromEntries(list.map((s) => [s.step, s]));

/** Score of a trial: lr 0.1 → 1, 0.2 → 2, 0.3 → 3, plus depth (exact, no float arithmetic). */
const LR_SCORE: Record<string, number> = { '0.1': 1, '0.2': 2, '0.3': 3 };

describe('a grid sweep of a function step', () => {
  let running = 0;
  let maxRunning = 0;
  const train = async (ctx: StepContext) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      const { lr, depth } = ctx.params as { lr: number; depth: number };
      // This trial would score 5, the best: it fails, so it must not win.
      if (lr === 0.3 && depth === 2) throw new Error('diverged');
      await ctx.run.logMetric('score', 0); // an earlier point: the latest one counts
      await ctx.run.logMetric('score', LR_SCORE[String(lr)] + depth, 1);
      ctx.log(`lr=${lr} depth=${depth}`);
      const file = ctx.outputPath('model');
      await h.engine.run(`COPY (SELECT ${depth}::INTEGER AS depth, ${lr}::DOUBLE AS lr, ${sqlLiteral(String(ctx.params.note))} AS note) TO ${sqlLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
      return { model: { parquetFile: file } };
    } finally {
      running--;
    }
  };
  const def = definePipeline('sweepy', ({ step }) => {
    const t = step('train', {
      params: { lr: 0.1, depth: 1, note: 'fixed' },
      outputs: ['model'],
      // Trials (depth varies slowest): 0 d1/lr.1 → 2, 1 d1/lr.2 → 3, 2 d1/lr.3 → 4, 3 d2/lr.1 → 3, 4 d2/lr.2 → 4, 5 d2/lr.3 fails.
      // Best by max: 4, trials 2 and 4 tie → trial 2 (depth 1, lr 0.3).
      sweep: { grid: { lr: [0.1, 0.2, 0.3], depth: [1, 2] }, metric: 'score', goal: 'max', parallel: 2 },
      run: train,
    });
    step('use', {
      inputs: { model: t },
      outputs: ['report'],
      run: async (ctx) => {
        const file = ctx.outputPath('report');
        await h.engine.run(`COPY (SELECT * FROM read_parquet(${sqlLiteral(ctx.inputs.model.parquetPath)})) TO ${sqlLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
        return { report: { parquetFile: file } };
      },
    });
  });

  let report: Awaited<ReturnType<PipelineRunner['run']>>;
  const events: ExecutionEvent[] = [];

  beforeAll(async () => {
    report = await runner.run(def, { onEvent: (e) => events.push(e) });
  }, 120_000);

  it('runs one trial run per grid point under the sweep run, with its params and index tag', async () => {
    expect(report.run.status).toBe('SUCCEEDED');
    const steps = byStep(report.steps);
    expect(steps.train.status).toBe('SUCCEEDED');
    const trials = await h.tracking.childRuns(steps.train.trackingRunId!);
    expect(trials).toHaveLength(6);
    const runs = await Promise.all(trials.map((t) => h.tracking.getRun(t.runId)));
    const byIndex = Object.fromEntries(runs.map((r) => [r.data.tags[SWEEP_TAGS.trial], r]));
    expect(Object.keys(byIndex).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    const expected = [
      ['1', '0.1'],
      ['1', '0.2'],
      ['1', '0.3'],
      ['2', '0.1'],
      ['2', '0.2'],
      ['2', '0.3'],
    ];
    expected.forEach(([depth, lr], i) => {
      const r = byIndex[String(i)];
      expect(r.info.runName).toBe(`train[${i}]`);
      expect(r.data.params).toEqual({ depth, lr, note: 'fixed' });
      expect(r.data.tags[PIPELINE_TAGS.step]).toBe('train');
      expect(r.data.tags[PIPELINE_TAGS.pipelineRunId]).toBe(report.run.id);
      expect(r.info.status).toBe(i === 5 ? 'FAILED' : 'FINISHED');
    });
    expect(byIndex['5'].data.tags[PIPELINE_TAGS.error]).toContain('diverged');
    expect(await text(byIndex['2'].info.runId, STEP_LOG_ARTIFACT)).toBe('lr=0.3 depth=1\n');
    expect(maxRunning).toBeLessThanOrEqual(2);
  });

  it('picks the best trial by the latest metric value, ties to the lowest index, and records it on the sweep run', async () => {
    const steps = byStep(report.steps);
    const sweepRun = await h.tracking.getRun(steps.train.trackingRunId!);
    expect(sweepRun.data.params).toMatchObject({ best_trial: '2', 'best.depth': '1', 'best.lr': '0.3', lr: '0.1', depth: '1' });
    expect(sweepRun.data.metrics.find((m) => m.key === 'best_score')?.value).toBe(4);
    const best = (await h.tracking.childRuns(steps.train.trackingRunId!)).find((r) => r.runName === 'train[2]')!;
    expect(sweepRun.data.tags[SWEEP_TAGS.bestRunId]).toBe(best.runId);
  });

  it('hands the best trial output to the downstream step, and makes it the dataset latest', async () => {
    const steps = byStep(report.steps);
    expect(await rows(steps.train.outputs.model)).toEqual([{ depth: 1, lr: 0.3, note: 'fixed' }]);
    expect(await rows(steps.use.outputs.report)).toEqual([{ depth: 1, lr: 0.3, note: 'fixed' }]);
    const latest = await h.data.resolve('model@latest');
    expect(latest.id).toBe(steps.train.outputs.model);
    const use = await h.tracking.getRun(steps.use.trackingRunId!);
    expect(use.data.params['input.model']).toBe(`model@${latest.version}`);
  });

  it('stores the trials and the best in the step record details', () => {
    const d = byStep(report.steps).train.details!;
    expect(d.best).toBe(2);
    expect(d.metric).toBe('score');
    expect(d.goal).toBe('max');
    expect(d.trials.map((t) => [t.index, t.params, t.status, t.metric])).toEqual([
      [0, { depth: 1, lr: 0.1 }, 'SUCCEEDED', 2],
      [1, { depth: 1, lr: 0.2 }, 'SUCCEEDED', 3],
      [2, { depth: 1, lr: 0.3 }, 'SUCCEEDED', 4],
      [3, { depth: 2, lr: 0.1 }, 'SUCCEEDED', 3],
      [4, { depth: 2, lr: 0.2 }, 'SUCCEEDED', 4],
      [5, { depth: 2, lr: 0.3 }, 'FAILED', null],
    ]);
    expect(d.trials[5].error).toContain('diverged');
    expect(d.trials.every((t) => typeof t.runId === 'string')).toBe(true);
  });

  it('emits one step.progress event per finished trial', () => {
    const progress = events.filter((e): e is Extract<ExecutionEvent, { type: 'step.progress' }> => e.type === 'step.progress');
    expect(progress.map((e) => e.step)).toEqual(Array(6).fill('train'));
    expect(progress.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((e) => e.total === 6 && e.pipeline === 'sweepy')).toBe(true);
    expect(progress[5].detail).toBe('best score=4 (trial 2), 1 failed');
  });

  it('reruns entirely from cache: same outputs, no new runs', async () => {
    const again = await runner.run(def);
    expect(again.run.status).toBe('SUCCEEDED');
    const before = byStep(report.steps);
    for (const s of again.steps) {
      expect(s.status).toBe('CACHED');
      expect(s.outputs).toEqual(before[s.step].outputs);
    }
    // The cached sweep still shows the trials that chose its outputs.
    const shown = byStep((await runner.show(again.run.id)).steps).train;
    expect(shown.details).toEqual(before.train.details);
    expect(shown.details?.trials).toHaveLength(6);
    expect(await h.tracking.childRuns(again.run.trackingRunId!)).toEqual([]);
  });

  it('a rerun with another grid is not served from cache', async () => {
    const other = definePipeline('sweepy', ({ step }) => {
      step('train', { params: { lr: 0.1, depth: 1, note: 'fixed' }, outputs: ['model'], sweep: { grid: { lr: [0.1, 0.2] }, metric: 'score' }, run: train });
    });
    const r = await runner.run(other);
    const s = byStep(r.steps).train;
    expect(s.status).toBe('SUCCEEDED');
    expect(s.details?.best).toBe(1);
    expect(await rows(s.outputs.model)).toEqual([{ depth: 1, lr: 0.2, note: 'fixed' }]);
  });
});

describe('sweeps that find no best trial', () => {
  it('a shell sweep whose trials log no metric fails with a clear message; its trials ran with their params', async () => {
    const [def] = parsePipelinesYaml(
      [
        'pipelines:',
        '  shelly:',
        '    steps:',
        '      train:',
        '        cmd: echo "lr=$FW_PARAM_LR"',
        '        params: { lr: 1 }',
        '        sweep: { grid: { lr: [1, 2] }, metric: auc }',
        '',
      ].join('\n'),
      path.join(root, 'flywheel.yaml'),
    );
    const r = await runner.run(def);
    expect(r.run.status).toBe('FAILED');
    const s = byStep(r.steps).train;
    expect(s.status).toBe('FAILED');
    expect(s.error).toBe(
      'sweep of step "train": no successful trial logged metric "auc" on its run (2 of 2 trials succeeded); log it there, e.g. ctx.run.logMetric(\'auc\', value)',
    );
    const trials = await h.tracking.childRuns(s.trackingRunId!);
    const logs = await Promise.all(trials.map(async (t) => [(await h.tracking.getRun(t.runId)).data.params.lr, await text(t.runId, STEP_LOG_ARTIFACT)]));
    expect(logs.sort()).toEqual([
      ['1', 'lr=1\n'],
      ['2', 'lr=2\n'],
    ]);
    expect(s.details?.trials.map((t) => [t.status, t.metric])).toEqual([
      ['SUCCEEDED', null],
      ['SUCCEEDED', null],
    ]);
    expect(s.details?.best).toBeNull();
  });

  it('fails when every trial failed, naming the first error', async () => {
    const def = definePipeline('allfail', ({ step }) => {
      step('train', {
        params: { k: 1 },
        sweep: { grid: { k: [1, 2, 3] }, metric: 'm' },
        run: (ctx) => {
          throw new Error(`bad k ${String(ctx.params.k)}`);
        },
      });
    });
    const r = await runner.run(def);
    const s = byStep(r.steps).train;
    expect(s.status).toBe('FAILED');
    expect(s.error).toBe('sweep of step "train": none of its 3 trials succeeded (trial 0: bad k 1)');
  });
});

describe('cancelling a sweep', () => {
  it('aborts the running trials (runs KILLED) and starts no more', async () => {
    const controller = new AbortController();
    let started = 0;
    const def = definePipeline('cancelled', ({ step }) => {
      step('train', {
        params: { k: 0 },
        sweep: { grid: { k: [1, 2, 3, 4] }, metric: 'm', parallel: 2 },
        run: (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
            if (++started === 2) controller.abort();
          }),
      });
    });
    const r = await runner.run(def, { signal: controller.signal });
    expect(r.run.status).toBe('CANCELLED');
    const s = byStep(r.steps).train;
    expect(s.status).toBe('CANCELLED');
    const trials = await h.tracking.childRuns(s.trackingRunId!);
    expect(trials.map((t) => t.status)).toEqual(['KILLED', 'KILLED']);
    expect(started).toBe(2);
    expect(s.details?.trials.map((t) => t.status)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect(s.details?.trials.filter((t) => t.runId !== null)).toHaveLength(2);
  });
});

it('trial runs carry the same tag keys as step runs', () => {
  expect(SWEEP_TAGS.pipeline).toBe(PIPELINE_TAGS.pipeline);
  expect(SWEEP_TAGS.step).toBe(PIPELINE_TAGS.step);
  expect(SWEEP_TAGS.pipelineRunId).toBe(PIPELINE_TAGS.pipelineRunId);
  expect(SWEEP_TAGS.error).toBe(PIPELINE_TAGS.error);
});
