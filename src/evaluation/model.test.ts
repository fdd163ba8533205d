/**
 * Evaluating a model on a dataset version, end to end in a temporary --home:
 * a logistic regression trained by `flywheel train` on a fixed synthetic
 * dataset is evaluated by `evaluateModel`, and the report must equal
 * `evaluatePredictions` over scores computed independently (row objects
 * through `model.predict`, written to a CSV by this test). Then: what the
 * evaluation records (run, metrics, evaluation.json, version tag, lineage,
 * `latestEvaluation`), `flywheel evaluate MODEL --data …` and its exit
 * codes, and the pipeline step `uses: evaluate`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { buildProgram } from '../cli/main.js';
import { resolveConfig } from '../core/config.js';
import { loadModel } from '../models/load.js';
import { openContext } from '../server/context.js';
import { evaluatePredictions, type ClassificationReport, type RegressionReport } from './evaluate.js';
import { EVALUATION_ARTIFACT, evaluateModel, latestEvaluation, type ModelEvaluation } from './model.js';

let home: string;
let dir: string;
const cli = (...args: string[]): Promise<CliResult> => runCli(buildProgram(), ['--home', home, ...args]);

interface Row {
  tenure_gap: number;
  plan: string;
  spend: number | null;
  region: string;
  sex: string;
  churned: number;
  value: number;
}
const rows: Row[] = [];

async function withContext<T>(fn: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<T>): Promise<T> {
  const ctx = await openContext(resolveConfig({ home }), 'test');
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

async function readText(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-eval-model-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-eval-model-data-'));
  // churned = 1 mostly when 2·tenure_gap + (plan = 'basic' ? 1 : −1) > 0, with every 7th row flipped
  // so the metrics are not all 1; spend (with a few nulls) carries no signal.
  for (let i = 0; i < 400; i++) {
    const gap = ((i * 37) % 100) / 50 - 1;
    const plan = ['basic', 'pro', 'team'][i % 3];
    const base = 2 * gap + (plan === 'basic' ? 1 : -1) > 0 ? 1 : 0;
    rows.push({ tenure_gap: gap, plan, spend: i % 11 === 0 ? null : ((i * 13) % 50) + 0.5, region: ['east', 'west'][Math.floor(i / 5) % 2], sex: ['f', 'm'][i % 2], churned: i % 7 === 0 ? 1 - base : base, value: 3 * gap + (plan === 'basic' ? 1 : 0) + ((i % 5) - 2) / 10 });
  }
  const csv = ['tenure_gap,plan,spend,region,sex,churned,value', ...rows.map((r) => `${r.tenure_gap},${r.plan},${r.spend ?? ''},${r.region},${r.sex},${r.churned},${r.value}`)];
  fs.writeFileSync(path.join(dir, 'customers.csv'), csv.join('\n') + '\n');
  expect((await cli('data', 'add', 'customers', path.join(dir, 'customers.csv'))).code).toBe(0);
  const trained = await cli('train', '--data', 'customers@1', '--target', 'churned', '--algo', 'logistic_regression', '--features', 'tenure_gap,plan,spend', '--register', 'churn', '--alias', 'challenger');
  expect(trained.stderr).toBe('');
  expect(trained.code).toBe(0);
}, 90_000);

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The first evaluation (churn@challenger on customers@1), which later tests compare against. */
let evaluation: ModelEvaluation;

describe('evaluateModel', () => {
  it('equals evaluatePredictions on scores computed independently through model.predict', async () => {
    await withContext(async (ctx) => {
      evaluation = await evaluateModel({
        engine: ctx.engine,
        tracking: ctx.tracking,
        data: ctx.data,
        registry: ctx.registry,
        store: ctx.store,
        model: 'churn@challenger',
        dataset: 'customers@1',
        slices: ['region'],
        group: 'sex',
        importance: { repeats: 3, sampleRows: 400, seed: 7 },
      });
      // The independent path: row objects, model.predict, probability of class "1", a CSV of our own.
      const model = await loadModel(ctx.tracking, 'models:/churn/1', { resolveModelUri: (u) => ctx.registry.resolveModelUri(u) });
      let expected: ClassificationReport;
      try {
        expect(model.manifest.classes).toEqual(['0', '1']);
        const predictions = await model.predict(rows.map(({ tenure_gap, plan, spend }) => ({ tenure_gap, plan, spend })));
        const file = path.join(dir, 'independent.csv');
        fs.writeFileSync(file, ['churned,p,region,sex', ...rows.map((r, i) => `${r.churned},${predictions[i].probability![1]},${r.region},${r.sex}`)].join('\n') + '\n');
        expected = (await evaluatePredictions(ctx.engine, { source: { path: file }, label: 'churned', score: 'p', slices: ['region'], group: 'sex' })) as ClassificationReport;
      } finally {
        await model.close();
      }
      const got = evaluation.report as ClassificationReport;
      expect(got.task).toBe('classification');
      expect(got.rows).toBe(400);
      expect(evaluation.rowCount).toBe(400);
      expect(got.positive).toBe('1');
      expect(got.confusion_matrix).toEqual(expected.confusion_matrix);
      for (const [k, v] of Object.entries(expected.metrics)) expect(got.metrics[k as keyof typeof got.metrics], k).toBeCloseTo(v as number, 12);
      expect(got.calibration.bins.map((b) => b.count)).toEqual(expected.calibration.bins.map((b) => b.count));
      expect(got.slices.region.map((s) => [s.value, s.count, s.confusion_matrix])).toEqual(expected.slices.region.map((s) => [s.value, s.count, s.confusion_matrix]));
      expect(got.slices.region[0].metrics.roc_auc).toBeCloseTo(expected.slices.region[0].metrics.roc_auc!, 12);
      expect(got.fairness).toEqual({ ...expected.fairness, attribute: 'sex' });
      // A model better than chance on data it was trained on, but not perfect (every 7th label is flipped).
      expect(got.metrics.roc_auc).toBeGreaterThan(0.7);
      expect(got.metrics.accuracy).toBeLessThan(1);

      expect(evaluation).toMatchObject({ modelUri: 'churn@challenger', name: 'churn', version: 1, dataset: 'customers@1' });
      // spend is noise: shuffling the gap or the plan hurts the AUC more.
      const imp = evaluation.featureImportance!;
      expect(imp.metric).toBe('roc_auc');
      expect(imp.features.map((f) => f.feature).sort()).toEqual(['plan', 'spend', 'tenure_gap']);
      const by = Object.fromEntries(imp.features.map((f) => [f.feature, f.importance_mean]));
      expect(by.tenure_gap).toBeGreaterThan(by.spend);
      expect(by.plan).toBeGreaterThan(by.spend);
      expect(imp.baseline).toBeCloseTo(got.metrics.roc_auc!, 1);
      expect(evaluation.latency!.batch1_calls).toBe(200);
      expect(evaluation.latency!.p50_ms).toBeLessThanOrEqual(evaluation.latency!.p99_ms);
    });
  }, 60_000);

  it('records a run with params, metrics, evaluation.json, lineage and the version tag that latestEvaluation follows', async () => {
    await withContext(async (ctx) => {
      const runId = evaluation.runId!;
      const run = await ctx.tracking.getRun(runId);
      expect(run.info.status).toBe('FINISHED');
      const experiment = await ctx.tracking.getExperiment(run.info.experimentId);
      expect(experiment.name).toBe('evaluate/churn');
      expect(run.data.params).toMatchObject({ model_uri: 'churn@challenger', model_version: 'models:/churn/1', dataset: 'customers@1', threshold: '0.5', label: 'churned' });
      const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
      const report = evaluation.report as ClassificationReport;
      expect(metrics.roc_auc).toBe(report.metrics.roc_auc);
      expect(metrics.accuracy).toBe(report.metrics.accuracy);
      expect(metrics['fairness.demographic_parity_difference']).toBe(report.fairness.demographic_parity_difference);
      expect(metrics.latency_p99_ms).toBe(evaluation.latency!.p99_ms);
      const stored = JSON.parse(await readText(await ctx.tracking.getRunArtifact(runId, EVALUATION_ARTIFACT))) as ModelEvaluation;
      expect(stored.report).toEqual(JSON.parse(JSON.stringify(report)));
      expect(stored.runId).toBe(runId);

      const mv = await ctx.registry.getModelVersion('churn', 1);
      expect(mv.tags['flywheel.eval.customers/1']).toBe(runId);
      const dataset = await ctx.data.resolve('customers@1');
      const edges = await ctx.store.db.selectFrom('lineage_edges').selectAll().where('from_id', '=', runId).execute();
      expect(edges.map((e) => [e.relation, e.to_type, e.to_id])).toEqual(expect.arrayContaining([['consumes', 'dataset_version', dataset.id], ['consumes', 'model_version', mv.id]]));

      expect((await latestEvaluation(ctx.tracking, ctx.registry, 'churn', 1))!.runId).toBe(runId);
      expect((await latestEvaluation(ctx.tracking, ctx.registry, 'churn', 1, 'customers@1'))!.runId).toBe(runId);
      expect(await latestEvaluation(ctx.tracking, ctx.registry, 'churn', 1, 'customers@2')).toBeNull();
    });
  }, 60_000);

  it('records nothing with record: false, and takes a runs:/ URI and a threshold', async () => {
    await withContext(async (ctx) => {
      const source = (await ctx.registry.getModelVersion('churn', 1)).source;
      const e = await evaluateModel({ engine: ctx.engine, tracking: ctx.tracking, data: ctx.data, registry: ctx.registry, model: source, dataset: 'customers@1', threshold: 0.7, record: false, latency: false });
      expect(e.runId).toBeNull();
      expect(e.name).toBeNull();
      expect(e.latency).toBeNull();
      expect((e.report as ClassificationReport).threshold).toBe(0.7);
      const experiment = await ctx.tracking.getExperimentByName('evaluate/churn');
      const runs = await ctx.tracking.searchRuns({ experimentIds: [experiment.experimentId], maxResults: 10 });
      expect(runs.items).toHaveLength(1);
    });
  }, 60_000);

  it('refuses unknown columns and classes with FW_INVALID_ARGUMENT, and ends its run FAILED', async () => {
    await withContext(async (ctx) => {
      const base = { engine: ctx.engine, tracking: ctx.tracking, data: ctx.data, registry: ctx.registry, model: 'churn@challenger', dataset: 'customers@1', latency: false };
      await expect(evaluateModel({ ...base, label: 'nope' })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringMatching(/label column nope/) });
      await expect(evaluateModel({ ...base, positive: 'maybe' })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringMatching(/positive maybe/) });
      await expect(evaluateModel({ ...base, model: 'churn@nobody' })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      // The label is checked once the model is loaded and the run opened: that run ends FAILED with the reason.
      const experiment = await ctx.tracking.getExperimentByName('evaluate/churn');
      const failed = await ctx.tracking.searchRuns({ experimentIds: [experiment.experimentId], filter: "attributes.status = 'FAILED'", maxResults: 10 });
      expect(failed.items.map((run) => run.data.tags['flywheel.error'])).toEqual(expect.arrayContaining([expect.stringMatching(/label column nope/)]));
      expect((await ctx.registry.getModelVersion('churn', 1)).tags['flywheel.eval.customers/1']).toBe(evaluation.runId);
    });
  }, 60_000);
});

describe('evaluateModel on other tasks', () => {
  it('scores a regression model by its predicted value, equal to evaluatePredictions on model.predict', async () => {
    const trained = await cli('train', '--data', 'customers@1', '--target', 'value', '--algo', 'linear_regression', '--features', 'tenure_gap,plan', '--register', 'amount');
    expect(trained.code).toBe(0);
    await withContext(async (ctx) => {
      const e = await evaluateModel({ engine: ctx.engine, tracking: ctx.tracking, data: ctx.data, registry: ctx.registry, model: 'models:/amount/1', dataset: 'customers@1', slices: ['plan'], importance: { repeats: 2 }, latency: false });
      const model = await loadModel(ctx.tracking, 'models:/amount/1', { resolveModelUri: (u) => ctx.registry.resolveModelUri(u) });
      let expected: RegressionReport;
      try {
        const predictions = await model.predict(rows.map(({ tenure_gap, plan }) => ({ tenure_gap, plan })));
        const file = path.join(dir, 'regression.csv');
        fs.writeFileSync(file, ['value,y_hat,plan', ...rows.map((r, i) => `${r.value},${predictions[i].prediction},${r.plan}`)].join('\n') + '\n');
        expected = (await evaluatePredictions(ctx.engine, { source: { path: file }, label: 'value', score: 'y_hat', slices: ['plan'], task: 'regression' })) as RegressionReport;
      } finally {
        await model.close();
      }
      const got = e.report as RegressionReport;
      expect(got.task).toBe('regression');
      expect(got.label).toBe('value');
      for (const [k, v] of Object.entries(expected.metrics)) expect(got.metrics[k as keyof typeof got.metrics], k).toBeCloseTo(v as number, 9);
      expect(got.slices.plan.map((s) => [s.value, s.count])).toEqual([['basic', 134], ['pro', 133], ['team', 133]]);
      // value is linear in the features up to ±0.2 noise: nearly all variance explained.
      expect(got.metrics.r2).toBeGreaterThan(0.95);
      expect(e.featureImportance!.metric).toBe('r2');
      expect(e.featureImportance!.features[0].feature).toBe('tenure_gap');
      await expect(evaluateModel({ engine: ctx.engine, tracking: ctx.tracking, data: ctx.data, registry: ctx.registry, model: 'amount/1', dataset: 'customers@1', threshold: 0.3 })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    });
  }, 90_000);

  it('refuses a multi-class model with FW_INVALID_ARGUMENT', async () => {
    const trained = await cli('train', '--data', 'customers@1', '--target', 'plan', '--algo', 'logistic_regression', '--features', 'tenure_gap,value', '--register', 'plans');
    expect(trained.code).toBe(0);
    await withContext(async (ctx) => {
      await expect(evaluateModel({ engine: ctx.engine, tracking: ctx.tracking, data: ctx.data, registry: ctx.registry, model: 'plans/1', dataset: 'customers@1' })).rejects.toMatchObject({
        code: 'FW_INVALID_ARGUMENT',
        message: expect.stringMatching(/3 classes .*binary classification only/),
      });
    });
  }, 90_000);
});

describe('flywheel evaluate MODEL --data', () => {
  it('prints one JSON object with the report, model, dataset, importance, latency and run id', async () => {
    const r = await cli('evaluate', 'churn@challenger', '--data', 'customers@1', '--slice', 'region', '--group', 'sex', '--importance', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['metrics', 'slices', 'fairness', 'model', 'dataset', 'feature_importance', 'latency', 'run_id']));
    expect(out.model).toBe('models:/churn/1');
    expect(out.dataset).toBe('customers@1');
    expect(out.metrics.roc_auc).toBeCloseTo((evaluation.report as ClassificationReport).metrics.roc_auc!, 12);
    expect(out.feature_importance.features).toHaveLength(3);
    expect(out.latency.batch1_calls).toBe(200);
    expect(out.run_id).toMatch(/^[0-9a-f]{32}$/);
    const human = await cli('evaluate', 'churn@challenger', '--data', 'customers@1', '--no-record');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Model models:\/churn\/1 on customers@1$/m);
    expect(human.stdout).toMatch(/^roc_auc +0\.\d+$/m);
  }, 60_000);

  it('exits 2 for both forms, neither, a model without --data, and a bad label', async () => {
    const cases: [string[], RegExp][] = [
      [['churn@challenger', '--data', 'customers@1', '--predictions', 'x.csv'], /not both/],
      [['--label', 'churned'], /needs MODEL --data/],
      [['churn@challenger'], /needs --data/],
      [['churn@challenger', '--data', 'customers@1', '--label', 'nope'], /label column nope/],
      [['churn@challenger', '--data', 'customers@1', '--score', 'p'], /--score is for --predictions/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('evaluate', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  }, 60_000);
});

describe('the pipeline step uses: evaluate', () => {
  it('evaluates the model on its input and logs the metrics on the step run', async () => {
    const file = path.join(dir, 'flywheel.yaml');
    fs.writeFileSync(
      file,
      [
        'pipelines:',
        '  check:',
        '    steps:',
        '      ingest: { uses: ingest, with: { source: customers.csv }, outputs: [customers] }',
        '      score:',
        '        uses: evaluate',
        '        inputs: { data: ingest.customers }',
        '        with: { model: churn@challenger, slices: [region], group: sex }',
        '',
      ].join('\n'),
    );
    const r = await cli('run', 'check', '--file', file, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { steps: { step: string; trackingRunId: string }[] };
    const step = report.steps.find((s) => s.step === 'score')!;
    await withContext(async (ctx) => {
      const run = await ctx.tracking.getRun(step.trackingRunId);
      const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
      // The same model on the same content (ingest of the same file): the same AUC as evaluateModel found.
      expect(metrics.roc_auc).toBeCloseTo((evaluation.report as ClassificationReport).metrics.roc_auc!, 12);
      expect(metrics).toHaveProperty('fairness.equalized_odds_difference');
      expect(run.data.params.model_version).toBe('models:/churn/1');
      const mv = await ctx.registry.getModelVersion('churn', 1);
      expect(mv.tags[`flywheel.eval.${run.data.params.dataset.replace('@', '/')}`]).toBe(step.trackingRunId);
    });
  }, 90_000);
});
