/**
 * Model cards of a version trained in the test (`flywheel train --register`
 * on a dataset added from a CSV written here): intended use from the
 * descriptions, the package manifest, the training data version with its
 * profile (row count and nulls are known by construction), the training
 * run's params and metrics, feature importance from the training run,
 * lineage back to the ingested dataset version, "not evaluated yet" before
 * any evaluation and the evaluation's metrics, slices and fairness once one
 * is found; the Markdown rendering; `flywheel models card`; and the API route
 * in JSON and Markdown, and in the OpenAPI document.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { buildProgram } from '../cli/main.js';
import { resolveConfig } from '../core/config.js';
import { buildApp } from '../server/app.js';
import { openContext } from '../server/context.js';
import { buildModelCard, renderModelCard, summarizePreprocessing, type CardEvaluation, type ModelCard } from './card.js';

let home: string;
let dir: string;
let runId: string;
const cli = (...args: string[]): Promise<CliResult> => runCli(buildProgram(), ['--home', home, ...args]);

const ROWS = 300;
const SPEND_NULLS = ROWS / 10; // every 10th row has no spend

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-card-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-card-data-'));
  const lines = ['tenure_gap,plan,spend,churned'];
  for (let i = 0; i < ROWS; i++) {
    const gap = ((i * 37) % 100) / 50 - 1;
    const plan = ['basic', 'pro', 'team'][i % 3];
    const spend = i % 10 === 0 ? '' : String(((i * 13) % 50) + 0.5);
    lines.push(`${gap},${plan},${spend},${2 * gap + (plan === 'basic' ? 1 : -1) > 0 ? 1 : 0}`);
  }
  fs.writeFileSync(path.join(dir, 'customers.csv'), lines.join('\n') + '\n');
  expect((await cli('data', 'add', 'customers', path.join(dir, 'customers.csv'))).code).toBe(0);
  const r = await cli('train', '--data', 'customers@1', '--target', 'churned', '--algo', 'logistic_regression', '--register', 'churn', '--alias', 'champion', '--json');
  expect(r.stderr).toBe('');
  runId = (JSON.parse(r.stdout) as { runId: string }).runId;
  const ctx = await openContext(resolveConfig({ home }), 'test');
  try {
    await ctx.registry.updateRegisteredModel('churn', { description: 'Predicts which customers cancel next month, for retention offers.' });
    await ctx.registry.updateModelVersion('churn', 1, { description: 'Baseline logistic regression.' });
  } finally {
    await ctx.close();
  }
}, 120_000);

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

const evaluation: CardEvaluation = {
  report: {
    task: 'classification',
    metrics: { accuracy: 0.95, roc_auc: 0.987, f1: 0.93 },
    slices: { plan: [{ value: 'basic', count: 100, metrics: { accuracy: 0.97, roc_auc: 0.99 } }] },
    fairness: { attribute: 'plan', demographic_parity_difference: 0.42, demographic_parity_ratio: 0.1, equalized_odds_difference: 0.05, groups: [{ value: 'basic', count: 100, selection_rate: 0.6, tpr: 1, fpr: 0.1 }] },
  },
  dataset: 'customers@1',
  rowCount: ROWS,
  latency: { p50_ms: 0.05, p99_ms: 0.2 },
  runId: 'eval-run',
  createdTime: 1764000000000,
};

async function card(lookup: CardEvaluation | null, ref = '1'): Promise<ModelCard> {
  const ctx = await openContext(resolveConfig({ home }), 'test');
  try {
    return await buildModelCard({ registry: ctx.registry, tracking: ctx.tracking, data: ctx.data, db: ctx.store.db, evaluation: async () => lookup, now: () => 1764000000000 }, 'churn', ref);
  } finally {
    await ctx.close();
  }
}

describe('buildModelCard', () => {
  it('collects intended use, package, training data profile, run, importance and lineage of a trained version', async () => {
    const c = await card(null, '@champion');
    expect(c).toMatchObject({ name: 'churn', version: 1, aliases: ['champion'], runId, source: `runs:/${runId}/model` });
    expect(c.intendedUse).toEqual({ model: 'Predicts which customers cancel next month, for retention offers.', version: 'Baseline logistic regression.' });
    expect(c.package).toMatchObject({ flavor: 'onnx', task: 'classification', classes: ['0', '1'] });
    expect((c.package!.signature as { inputs: { name: string }[] }).inputs.map((i) => i.name)).toEqual(['tenure_gap', 'plan', 'spend']);
    // One line per feature; plan has three categories, spend is imputed (it has nulls).
    expect(c.package!.preprocessing!.summary).toEqual([
      expect.stringMatching(/^tenure_gap: numeric \(double\): impute missing with \w+ .*standardized$/),
      expect.stringMatching(/^plan: categorical \(string\): one-hot over 3 categories/),
      expect.stringMatching(/^spend: numeric \(double\): impute missing with/),
    ]);
    expect(c.trainingData).toMatchObject({ dataset: 'customers@1', target: 'churned', rows: ROWS });
    expect(c.trainingData!.columns.map((col) => [col.name, col.nulls])).toEqual([
      ['tenure_gap', 0],
      ['plan', 0],
      ['spend', SPEND_NULLS],
      ['churned', 0],
    ]);
    expect(c.training).toMatchObject({ runId, status: 'FINISHED', params: { algo: 'logistic_regression', target: 'churned', dataset: 'customers@1' } });
    expect(c.training!.metrics.auc).toBeGreaterThan(0.9);
    expect(c.evaluation).toEqual({ status: 'not evaluated yet' });
    // Training importances are shares of the total: they sum to 1, one per source feature.
    expect(c.featureImportance!.source).toBe('training');
    expect(c.featureImportance!.features.map((f) => f.feature).sort()).toEqual(['plan', 'spend', 'tenure_gap']);
    expect(c.featureImportance!.features.reduce((s, f) => s + f.importance, 0)).toBeCloseTo(1, 9);
    // Lineage: churn/1 ← produced by the training run ← which consumed customers@1, data that came in from outside.
    const runLabel = c.lineage.nodes.find((n) => n.type === 'run')!.label;
    expect(c.lineage.edges).toEqual([
      { from: runLabel, relation: 'produces', to: 'churn/1' },
      { from: runLabel, relation: 'consumes', to: 'customers@1' },
    ]);
    expect(c.lineage.sources).toEqual(['customers@1']);
  }, 60_000);

  it('shows the latest evaluation, and takes feature importance from it only when training recorded none', async () => {
    const c = await card({ ...evaluation, featureImportance: { metric: 'roc_auc', features: [{ feature: 'plan', importance_mean: 0.3, importance_std: 0 }] } });
    expect(c.evaluation).toEqual({
      status: 'evaluated',
      dataset: 'customers@1',
      rows: ROWS,
      runId: 'eval-run',
      createdTime: 1764000000000,
      metrics: evaluation.report.metrics,
      slices: evaluation.report.slices,
      fairness: evaluation.report.fairness,
      latency: { p50_ms: 0.05, p99_ms: 0.2 },
    });
    expect(c.featureImportance!.source).toBe('training');

    // A version registered from a run with no package manifest and no training importances (an MLflow client's model).
    const ctx = await openContext(resolveConfig({ home }), 'test');
    try {
      const run = await ctx.tracking.createRun({ experimentId: '0', runName: 'external' });
      await ctx.registry.createModelVersion({ name: 'churn', source: `runs:/${run.info.runId}/model` });
    } finally {
      await ctx.close();
    }
    const bare = await card({ ...evaluation, featureImportance: { metric: 'roc_auc', features: [{ feature: 'plan', importance_mean: 0.3, importance_std: 0 }] } }, '2');
    expect(bare).toMatchObject({ version: 2, package: null, trainingData: null, training: { runName: 'external' } });
    expect(bare.featureImportance).toEqual({ source: 'evaluation', features: [{ feature: 'plan', importance: 0.3 }] });
    expect(renderModelCard(bare)).toContain('_No Flywheel package manifest._');
  }, 60_000);

  it('a version or alias that does not exist is FW_NOT_FOUND', async () => {
    await expect(card(null, '17')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    await expect(card(null, '@nobody')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
  }, 60_000);
});

describe('summarizePreprocessing', () => {
  it('describes each feature of built-in training, and lists the keys of anything else', () => {
    const lines = summarizePreprocessing({
      features: [
        { name: 'age', kind: 'numeric', type: 'double', impute: { strategy: 'mean', value: 41.5 }, scale: { offset: 1, scale: 2 }, columns: ['age'] },
        { name: 'plan', kind: 'categorical', type: 'string', categories: ['a', 'b', null], unseen: 'zeros', droppedCategories: 2, columns: [] },
      ],
    });
    expect(lines).toEqual(['age: numeric (double): impute missing with mean (41.5), standardized', 'plan: categorical (string): one-hot over 3 categories incl. missing, 2 rare dropped, unseen → zeros']);
    expect(summarizePreprocessing({ tokenizer: 'bpe' })).toEqual(['tokenizer: "bpe"']);
  });
});

describe('renderModelCard', () => {
  it('has a heading per part and the key values', async () => {
    const md = renderModelCard(await card(evaluation));
    for (const heading of ['# Model card: churn version 1', '## Intended use', '## Model', '### Signature', '### Preprocessing', '## Training data', '## Training', '### Parameters', '## Evaluation', '### Slices', '### Fairness', '## Feature importance', '## Lineage']) {
      expect(md.split('\n')).toContain(heading);
    }
    expect(md).toContain('Predicts which customers cancel next month, for retention offers.');
    expect(md).toContain(`Dataset version **customers@1** (${ROWS} rows, 4 columns, target \`churned\`).`);
    expect(md).toContain(`| spend | DOUBLE | ${SPEND_NULLS} |`);
    expect(md).toContain('| algo | logistic_regression |');
    expect(md).toContain('| roc_auc | 0.987 |');
    expect(md).toContain('| demographic_parity_difference | 0.42 |');
    expect(md).toContain('| basic | 100 | 0.97 | 0.99 |');
    expect(md).toContain('Raw data: customers@1');
    expect(renderModelCard(await card(null))).toContain('_Not evaluated yet._');
  }, 60_000);
});

describe('flywheel models card and GET …/card', () => {
  it('prints Markdown by default and the JSON card with --json', async () => {
    const md = await cli('models', 'card', 'churn', '@champion');
    expect(md.stderr).toBe('');
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Model card: churn version 1\n/);
    expect(md.stdout).toContain('_Not evaluated yet._');
    const json = await cli('models', 'card', 'churn', '1', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'churn', version: 1, trainingData: { dataset: 'customers@1' }, evaluation: { status: 'not evaluated yet' } });
    const missing = await cli('models', 'card', 'churn', '5');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/version=5\) not found/);
  }, 60_000);

  it('serves the card as JSON, as Markdown with ?format=markdown, and documents it in OpenAPI', async () => {
    const ctx = await openContext(resolveConfig({ home }, {}));
    let app: FastifyInstance | undefined;
    try {
      app = await buildApp(ctx);
      const json = await app.inject({ method: 'GET', url: '/api/v1/models/churn/versions/1/card' });
      expect(json.statusCode).toBe(200);
      const body = json.json() as ModelCard;
      expect(body).toMatchObject({ name: 'churn', version: 1, intendedUse: { version: 'Baseline logistic regression.' }, lineage: { sources: ['customers@1'] } });
      // Open parts survive serialization.
      expect((body.package!.signature as { inputs: unknown[] }).inputs.length).toBe(3);
      expect(body.trainingData!.columns.find((col) => col.name === 'spend')!.nulls).toBe(SPEND_NULLS);
      const md = await app.inject({ method: 'GET', url: '/api/v1/models/churn/versions/%40champion/card?format=markdown' });
      expect(md.statusCode).toBe(200);
      expect(md.headers['content-type']).toMatch(/^text\/markdown/);
      expect(md.body).toMatch(/^# Model card: churn version 1\n/);
      expect((await app.inject({ method: 'GET', url: '/api/v1/models/churn/versions/9/card' })).statusCode).toBe(404);
      const openapi = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as { paths: Record<string, { get?: { operationId?: string } }> };
      const entry = Object.entries(openapi.paths).find(([p]) => p.endsWith('/card'));
      expect(entry?.[1].get?.operationId).toBe('getModelCard');
    } finally {
      await app?.close();
      await ctx.close();
    }
  }, 60_000);
});
