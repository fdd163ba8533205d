/**
 * Gated promotion through `flywheel models promote` (in-process, temporary
 * --home) with a fake evaluator whose metrics are fixed per version, so the
 * observed values and verdicts are known exactly: the pass path moves the
 * alias and records one event with every rule; the fail path exits 1, prints
 * the table and leaves the alias; bad input exits 2 with no event and no
 * alias moved; the first promotion (no champion) skips champion rules.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { resolveConfig } from '../core/config.js';
import { listEvents } from '../events/service.js';
import { openContext } from '../server/context.js';
import { registerPromoteCommand } from './commands.js';
import type { EvaluateRequest, Evaluator, ModelEvaluation } from './evaluator.js';

let home: string;
let dir: string;
const requests: EvaluateRequest[] = [];

/** Version → what its evaluation reports. */
const byVersion: Record<number, { auc: number; dp: number; p99: number }> = {
  1: { auc: 0.9, dp: 0.04, p99: 3 },
  2: { auc: 0.897, dp: 0.08, p99: 12 }, // within 0.005 of v1, fair enough, fast enough: passes against v1
  3: { auc: 0.89, dp: 0.02, p99: 5 }, // 0.89 < 0.9 - 0.005: fails against v1 or v2
};

const fake: Evaluator = {
  async evaluate(r): Promise<ModelEvaluation> {
    requests.push(r);
    const m = byVersion[r.version];
    return {
      report: { metrics: { roc_auc: m.auc, accuracy: 0.8 }, fairness: { attribute: 'region', demographic_parity_difference: m.dp, groups: [] }, slices: {} },
      dataset: r.dataset,
      rowCount: 100,
      latency: { p50_ms: 1, p99_ms: m.p99 },
      runId: `eval-${r.version}`,
    };
  },
};

function program(): Command {
  const p = new Command('flywheel').option('--home <dir>').option('--db <url>').exitOverride().configureOutput({ outputError: () => {} });
  registerPromoteCommand(p.command('models'), { evaluator: () => fake });
  return p;
}
const cli = (...args: string[]) => runCli(program(), ['--home', home, 'models', 'promote', ...args]);

async function withCtx<T>(fn: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<T>): Promise<T> {
  const ctx = await openContext(resolveConfig({ home }), 'test');
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

const promotions = () => withCtx(async (ctx) => (await listEvents(ctx.store.db, { entityType: 'registered_model', entityId: 'churn' })).filter((e) => e.kind === 'model_promotion'));
const aliases = () => withCtx(async (ctx) => (await ctx.registry.getRegisteredModel('churn')).aliases);

let gate: string;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-promote-'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-promote-data-'));
  fs.writeFileSync(path.join(dir, 'orders.csv'), 'x,churned\n1,0\n2,1\n');
  gate = path.join(dir, 'churn.yaml');
  fs.writeFileSync(gate, ['rules:', '  - "auc >= champion.auc - 0.005"', '  - "fairness.demographic_parity_difference <= 0.1"', '  - "p99_latency_ms <= 20"', 'data: orders@latest', 'label: churned', ''].join('\n'));
  await withCtx(async (ctx) => {
    await ctx.data.add('orders', path.join(dir, 'orders.csv'));
    const exp = await ctx.tracking.ensureExperiment('train');
    for (let i = 0; i < 3; i++) {
      const run = await ctx.tracking.createRun({ experimentId: exp.experimentId });
      await ctx.registry.createModelVersion({ name: 'churn', source: `runs:/${run.info.runId}/model`, createModel: true });
    }
  });
}, 60_000);

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('flywheel models promote', () => {
  it('first promotion: champion rules are skipped, the challenger-only rules decide', async () => {
    const r = await cli('churn', '--from', '1', '--to', 'champion', '--gate', gate, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outcome: string; champion: unknown; rules: { verdict: string }[] };
    expect(out.outcome).toBe('promoted');
    expect(out.champion).toBeNull();
    expect(out.rules.map((x) => x.verdict)).toEqual(['skipped', 'pass', 'pass']);
    expect(await aliases()).toEqual({ champion: 1 });
  }, 60_000);

  it('passes every rule: moves the alias and records one event with each rule, its observed values and verdict', async () => {
    await withCtx((ctx) => ctx.registry.setAlias('churn', 'challenger', 2));
    requests.length = 0;
    const before = (await promotions()).length;
    const r = await cli('churn', '--from', 'challenger', '--to', 'champion', '--gate', gate);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Promoted: churn@champion → version 2/);
    expect(await aliases()).toEqual({ champion: 2, challenger: 2 });
    // Both versions evaluated on the same pinned data version.
    expect(requests.map((q) => [q.model, q.dataset, q.label])).toEqual([
      ['models:/churn/2', 'orders@1', 'churned'],
      ['models:/churn/1', 'orders@1', 'churned'],
    ]);
    const events = await promotions();
    expect(events.length).toBe(before + 1);
    const p = events[events.length - 1].payload as Record<string, unknown>;
    expect(p).toMatchObject({ outcome: 'promoted', alias: 'champion', from: 'challenger', version: 2, previousVersion: 1, championVersion: 1, dataset: 'orders@1' });
    expect(p.rules).toEqual([
      { rule: 'auc >= champion.auc - 0.005', verdict: 'pass', observed: { auc: 0.897, 'champion.auc': 0.9 }, left: 0.897, right: 0.9 - 0.005 },
      { rule: 'fairness.demographic_parity_difference <= 0.1', verdict: 'pass', observed: { 'fairness.demographic_parity_difference': 0.08 }, left: 0.08, right: 0.1 },
      { rule: 'p99_latency_ms <= 20', verdict: 'pass', observed: { p99_latency_ms: 12 }, left: 12, right: 20 },
    ]);
  }, 60_000);

  it('fails a rule: exit 1, the table of rules, the alias unchanged, the rejection recorded', async () => {
    const before = (await promotions()).length;
    const r = await cli('churn', '--from', '3', '--to', 'champion', '--gate', gate);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/VERDICT\s+RULE\s+OBSERVED/);
    expect(r.stdout).toMatch(/FAIL\s+auc >= champion\.auc - 0\.005\s+auc=0\.89, champion\.auc=0\.897/);
    expect(r.stdout).toMatch(/Not promoted: 1 rule\(s\) failed; churn@champion unchanged/);
    expect(await aliases()).toEqual({ champion: 2, challenger: 2 });
    const events = await promotions();
    expect(events.length).toBe(before + 1);
    const p = events[events.length - 1].payload as { outcome: string; previousVersion: number; rules: { verdict: string }[] };
    expect(p.outcome).toBe('rejected');
    expect(p.previousVersion).toBe(2);
    expect(p.rules.map((x) => x.verdict)).toEqual(['fail', 'pass', 'pass']);
  }, 60_000);

  it('bad input exits 2 with the registry unchanged and no event', async () => {
    const before = (await promotions()).length;
    const unknownMetric = path.join(dir, 'typo.yaml');
    fs.writeFileSync(unknownMetric, 'rules: ["auc >= champion.auc", "acuracy > 0.5"]\ndata: orders@1\n');
    const badRule = path.join(dir, 'bad.yaml');
    fs.writeFileSync(badRule, 'rules: ["auc >= >= 1"]\ndata: orders@1\n');
    const noData = path.join(dir, 'nodata.yaml');
    fs.writeFileSync(noData, 'rules: ["auc > 0.5"]\n');
    const cases: [string[], RegExp][] = [
      [['churn', '--from', 'nope', '--to', 'champion', '--gate', gate], /alias nope not found/],
      [['churn', '--from', '9', '--to', 'champion', '--gate', gate], /version=9\) not found/],
      [['ghost', '--from', '1', '--to', 'champion', '--gate', gate], /ghost not found/],
      [['churn', '--from', '3', '--to', 'champion', '--gate', unknownMetric], /gate rule "acuracy > 0.5" references unknown metric acuracy; available metrics: .*accuracy/],
      [['churn', '--from', '3', '--to', 'champion', '--gate', badRule], /gate rule "auc >= >= 1": expected a number, a metric or "\(" but found ">=" at column 8/],
      [['churn', '--from', '3', '--to', 'champion', '--gate', noData], /needs evaluation data/],
      [['churn', '--from', '3', '--to', 'champion', '--gate', gate, '--data', 'missing@1'], /missing/],
      [['churn', '--from', '3', '--to', 'latest', '--gate', gate], /reserved/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await aliases()).toEqual({ champion: 2, challenger: 2 });
    expect((await promotions()).length).toBe(before);
  }, 60_000);

  it('loads a TypeScript policy written with defineGate', async () => {
    const file = path.join(dir, 'gate.ts');
    const policyModule = path.resolve('src/automation/policy.ts');
    fs.writeFileSync(file, `import { defineGate } from ${JSON.stringify(policyModule)};\nexport default defineGate({ rules: ['p99_latency_ms <= 4'], data: 'orders@1' });\n`);
    const r = await cli('churn', '--from', '3', '--to', 'fast', '--gate', file, '--json');
    expect(r.code).toBe(1);
    expect(await aliases()).toEqual({ champion: 2, challenger: 2 });
    expect((JSON.parse(r.stdout) as { rules: unknown[] }).rules).toEqual([{ rule: 'p99_latency_ms <= 4', verdict: 'fail', observed: { p99_latency_ms: 5 }, left: 5, right: 4 }]);
  }, 60_000);
});
