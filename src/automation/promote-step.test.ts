/**
 * The pipeline step `uses: promote` end to end with the real evaluator
 * (src/evaluation/model.ts): a pipeline trains and registers @challenger, a
 * second pipeline gates it to @champion. The first promotion passes (no
 * champion: champion rules skipped); a policy whose rule cannot pass fails
 * the step and the pipeline, leaves the alias, and records the rejection.
 * The gate's evaluations are recorded, so the model card then shows one.
 * The data is a separable function of its columns (as in
 * src/models/train-commands.test.ts), so a held-out ROC AUC ≥ 0.9 is not luck.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { buildProgram } from '../cli/main.js';
import { resolveConfig } from '../core/config.js';
import { listEvents } from '../events/service.js';
import { openContext } from '../server/context.js';

let home: string;
let dir: string;
const cli = (...args: string[]): Promise<CliResult> => runCli(buildProgram(), ['--home', home, ...args]);

beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-promote-step-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-promote-step-data-'));
  const lines = ['tenure_gap,plan,spend,churned'];
  for (let i = 0; i < 400; i++) {
    const gap = ((i * 37) % 100) / 50 - 1;
    const plan = ['basic', 'pro', 'team'][i % 3];
    lines.push(`${gap},${plan},${((i * 13) % 50) + 0.5},${2 * gap + (plan === 'basic' ? 1 : -1) > 0 ? 1 : 0}`);
  }
  fs.writeFileSync(path.join(dir, 'customers.csv'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'churn.yaml'), 'rules:\n  - "auc >= champion.auc - 0.005"\n  - "roc_auc >= 0.9"\n  - "p99_latency_ms <= 1000"\n');
  fs.writeFileSync(path.join(dir, 'impossible.yaml'), 'rules: ["roc_auc > 1"]\n');
  const step = (gate: string, to: string) => ['        uses: promote', '        cache: false', `        with: { model: churn, from: challenger, to: ${to}, gate: ${gate}, data: customers@latest }`];
  fs.writeFileSync(
    path.join(dir, 'flywheel.yaml'),
    [
      'pipelines:',
      '  retrain:',
      '    steps:',
      '      ingest: { uses: ingest, with: { source: customers.csv }, outputs: [customers] }',
      '      fit:',
      '        uses: train',
      '        inputs: { data: ingest.customers }',
      '        with: { target: churned, algo: logistic_regression, register: churn, alias: challenger }',
      '  ship:',
      '    steps:',
      '      gate:',
      ...step('churn.yaml', 'champion'),
      '  strict:',
      '    steps:',
      '      gate:',
      ...step('impossible.yaml', 'champion'),
      '',
    ].join('\n'),
  );
});

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

async function state() {
  const ctx = await openContext(resolveConfig({ home }), 'test');
  try {
    const aliases = (await ctx.registry.getRegisteredModel('churn')).aliases;
    const events = (await listEvents(ctx.store.db, { entityType: 'registered_model', entityId: 'churn' })).filter((e) => e.kind === 'model_promotion');
    return { aliases, events: events.map((e) => e.payload as { outcome: string; version: number; rules: { rule: string; verdict: string; observed: Record<string, number> }[] }) };
  } finally {
    await ctx.close();
  }
}

describe('the pipeline step uses: promote', () => {
  it('promotes the first challenger when the challenger-only rules pass, and fails the step when a rule fails', async () => {
    const file = path.join(dir, 'flywheel.yaml');
    const trained = await cli('run', 'retrain', '--file', file);
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);

    const ship = await cli('run', 'ship', '--file', file, '--json');
    expect(ship.stderr).toBe('');
    expect(ship.code).toBe(0);
    let s = await state();
    expect(s.aliases).toEqual({ challenger: 1, champion: 1 });
    expect(s.events.length).toBe(1);
    expect(s.events[0].outcome).toBe('promoted');
    expect(s.events[0].rules.map((r) => r.verdict)).toEqual(['skipped', 'pass', 'pass']);
    expect(s.events[0].rules[1].observed.roc_auc).toBeGreaterThanOrEqual(0.9);
    // The gate's evaluations are recorded runs: the version's model card now shows the latest one.
    const card = JSON.parse((await cli('models', 'card', 'churn', '@champion', '--json')).stdout) as { evaluation: { status: string; dataset: string; metrics: Record<string, number> } };
    expect(card.evaluation).toMatchObject({ status: 'evaluated', dataset: 'customers@1', metrics: { roc_auc: s.events[0].rules[1].observed.roc_auc } });

    const strict = await cli('run', 'strict', '--file', file);
    expect(strict.code).not.toBe(0);
    s = await state();
    expect(s.aliases).toEqual({ challenger: 1, champion: 1 });
    expect(s.events.length).toBe(2);
    expect(s.events[1]).toMatchObject({ outcome: 'rejected', version: 1, rules: [{ rule: 'roc_auc > 1', verdict: 'fail' }] });
  }, 120_000);
});
