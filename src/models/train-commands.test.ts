/**
 * Training end to end through the real CLI program (in-process, temporary
 * --home): `flywheel train` on a dataset version registers an ONNX package
 * that loads and predicts; the run records params, metrics and lineage; bad
 * input exits 2 with the run FAILED; and the pipeline step `uses: train`
 * does the same inside a pipeline run. The data is a fixed, separable
 * function of its columns, so the quality floor below is not luck.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { buildProgram } from '../cli/main.js';
import { resolveConfig } from '../core/config.js';
import { openContext } from '../server/context.js';
import { loadModel } from './load.js';

let home: string;
let dir: string;
const cli = (...args: string[]): Promise<CliResult> => runCli(buildProgram(), ['--home', home, ...args]);

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-train-cli-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-train-data-'));
  // churned = 1 exactly when 2·tenure_gap + (plan = 'basic' ? 1 : −1) > 0: linearly separable.
  const lines = ['tenure_gap,plan,spend,churned'];
  for (let i = 0; i < 400; i++) {
    const gap = ((i * 37) % 100) / 50 - 1; // −1 … 0.98
    const plan = ['basic', 'pro', 'team'][i % 3];
    const spend = ((i * 13) % 50) + 0.5;
    lines.push(`${gap},${plan},${spend},${2 * gap + (plan === 'basic' ? 1 : -1) > 0 ? 1 : 0}`);
  }
  fs.writeFileSync(path.join(dir, 'customers.csv'), lines.join('\n') + '\n');
  expect((await cli('data', 'add', 'customers', path.join(dir, 'customers.csv'))).code).toBe(0);
}, 60_000);

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('flywheel train', () => {
  it('trains, registers with an alias, and the registered model predicts', async () => {
    const r = await cli('train', '--data', 'customers@1', '--target', 'churned', '--algo', 'logistic_regression', '--register', 'churn', '--alias', 'champion', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: string; modelUri: string; task: string; metrics: Record<string, number>; registered: { name: string; version: number } };
    expect(out.task).toBe('classification');
    expect(out.modelUri).toBe(`runs:/${out.runId}/model`);
    expect(out.registered).toEqual({ name: 'churn', version: 1 });
    // Separable data: the held-out AUC of a linear model is near 1.
    expect(out.metrics.auc).toBeGreaterThan(0.95);

    const ctx = await openContext(resolveConfig({ home }), 'test');
    try {
      const run = await ctx.tracking.getRun(out.runId);
      expect(run.info.status).toBe('FINISHED');
      const params = run.data.params;
      expect(params).toMatchObject({ algo: 'logistic_regression', target: 'churned', dataset: 'customers@1', task: 'classification' });
      expect(run.data.metrics.map((m) => m.key)).toContain('auc');
      const model = await loadModel(ctx.tracking, 'models:/churn@champion', { resolveModelUri: (u) => ctx.registry.resolveModelUri(u) });
      try {
        // gap 0.9 on basic: far on the churn side; gap −0.9 on pro: far on the other.
        const [yes, no] = await model.predict([
          { tenure_gap: 0.9, plan: 'basic', spend: 10 },
          { tenure_gap: -0.9, plan: 'pro', spend: 10 },
        ]);
        expect(String(yes.prediction)).toBe('1');
        expect(String(no.prediction)).toBe('0');
        expect(model.manifest.training).toMatchObject({ runId: out.runId, dataset: 'customers@1', target: 'churned' });
      } finally {
        await model.close();
      }
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('refuses an unknown algorithm or a missing target with exit 2, leaving the run FAILED and nothing registered', async () => {
    const algo = await cli('train', '--data', 'customers@1', '--target', 'churned', '--algo', 'deep_magic', '--register', 'churn');
    expect(algo.code).toBe(2);
    expect(algo.stderr).toMatch(/deep_magic/);
    const target = await cli('train', '--data', 'customers@1', '--target', 'nope', '--algo', 'linear_regression', '--register', 'churn');
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/nope/);
    const versions = await cli('models', 'versions', 'churn', '--json');
    expect((JSON.parse(versions.stdout) as unknown[]).length).toBe(1);
    const ctx = await openContext(resolveConfig({ home }), 'test');
    try {
      const experiment = await ctx.tracking.getExperimentByName('train/customers');
      const runs = await ctx.tracking.searchRuns({ experimentIds: [experiment!.experimentId], filter: "attributes.status = 'FAILED'", maxResults: 10 });
      expect(runs.items.map((run) => run.data.tags['flywheel.error'])).toEqual([expect.stringMatching(/nope/), expect.stringMatching(/deep_magic/)]);
    } finally {
      await ctx.close();
    }
  }, 60_000);
});

describe('the pipeline step uses: train', () => {
  it('trains on its input inside a pipeline run and registers the version', async () => {
    const file = path.join(dir, 'flywheel.yaml');
    fs.writeFileSync(
      file,
      [
        'pipelines:',
        '  retrain:',
        '    steps:',
        '      ingest: { uses: ingest, with: { source: customers.csv }, outputs: [customers] }',
        '      fit:',
        '        uses: train',
        '        inputs: { data: ingest.customers }',
        '        params: { max_iter: 200 }',
        '        with: { target: churned, algo: logistic_regression, register: churn, alias: challenger }',
        '',
      ].join('\n'),
    );
    const r = await cli('run', 'retrain', '--file', file, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ctx = await openContext(resolveConfig({ home }), 'test');
    try {
      const challenger = await ctx.registry.resolveModelUri('models:/churn@challenger');
      expect(challenger.version).toBe(2);
      const report = JSON.parse(r.stdout) as { steps: { step: string; trackingRunId: string }[] };
      const fit = report.steps.find((s) => s.step === 'fit')!;
      const run = await ctx.tracking.getRun(fit.trackingRunId);
      const tags = run.data.tags;
      expect(tags['flywheel.model_version']).toBe('models:/churn/2');
      expect(tags['flywheel.model_uri']).toBe(`runs:/${fit.trackingRunId}/model`);
      expect(run.data.params['param.max_iter']).toBe('200');
    } finally {
      await ctx.close();
    }
  }, 90_000);
});
