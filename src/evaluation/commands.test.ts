/**
 * `flywheel evaluate --predictions …` as a user runs it: one JSON object
 * with metrics (values from scikit-learn 1.2.1, see expected.py), slices and
 * fairness; the human report; and bad input exiting 2 with one line.
 */
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { registerEvaluateCommands } from './commands.js';

const FIXTURES = path.resolve(__dirname, '../../test/fixtures/evaluation');
const PREDICTIONS = path.join(FIXTURES, 'predictions.csv');

function cli(...args: string[]) {
  const program = new Command('flywheel').exitOverride().configureOutput({ outputError: () => {} });
  registerEvaluateCommands(program);
  return runCli(program, ['evaluate', ...args]);
}

describe('flywheel evaluate --predictions', () => {
  it('prints exactly one JSON object with metrics, slices and fairness', async () => {
    const r = await cli('--predictions', PREDICTIONS, '--label', 'label', '--score', 'score', '--slice', 'region', '--group', 'sex', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['metrics', 'slices', 'fairness', 'confusion_matrix', 'calibration']));
    // scikit-learn 1.2.1 on the fixture (expected.py): accuracy_score, roc_auc_score, average_precision_score.
    expect(Object.keys(report.metrics)).toEqual(expect.arrayContaining(['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'pr_auc', 'log_loss', 'brier']));
    expect(report.metrics.accuracy).toBeCloseTo(0.55, 12);
    expect(report.metrics.roc_auc).toBeCloseTo(0.7045714285714285, 12);
    expect(report.metrics.pr_auc).toBeCloseTo(0.6356891712782674, 12);
    expect(report.confusion_matrix.matrix).toEqual([
      [17, 18],
      [9, 16],
    ]);
    expect(report.slices.region.map((s: { value: string | null }) => s.value)).toEqual(['east', 'north', 'south', null]);
    expect(report.slices.region[0].metrics.roc_auc).toBeNull();
    // fairlearn's definitions, computed by hand in expected.py.
    expect(report.fairness.demographic_parity_difference).toBeCloseTo(0.5894736842105264, 12);
    expect(report.fairness.demographic_parity_ratio).toBeCloseTo(0.25333333333333335, 12);
    expect(report.fairness.equalized_odds_difference).toBeCloseTo(0.875, 12);
  });

  it('takes --threshold, repeated --slice, and text labels with --positive', async () => {
    const r = await cli('--predictions', PREDICTIONS, '--label', 'label_text', '--positive', 'churn', '--score', 'score', '--threshold', '0.3', '--slice', 'region', '--slice', 'sex', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.threshold).toBe(0.3);
    expect(report.positive).toBe('churn');
    expect(report.metrics.recall).toBeCloseTo(0.92, 12);
    expect(Object.keys(report.slices)).toEqual(['region', 'sex']);
    expect(report.fairness).toEqual({});
  });

  it('prints a readable report by default', async () => {
    const r = await cli('--predictions', PREDICTIONS, '--label', 'label', '--score', 'score', '--slice', 'region', '--group', 'sex');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Classification of 60 rows: label label \(positive 1\), score score, threshold 0\.5/);
    expect(r.stdout).toMatch(/^roc_auc +0\.704571$/m);
    expect(r.stdout).toMatch(/^label 1 +9 +16$/m);
    expect(r.stdout).toMatch(/^east +13 .* - +- /m);
    expect(r.stdout).toMatch(/^demographic_parity_difference +0\.589474$/m);
    expect(r.stdout).toMatch(/^\(null\) +5 +2 +0\.2 +0\.5 +0$/m);
  });

  it('exits 2 with one line for bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['--label', 'label', '--score', 'nope'], /--score nope: no such column/],
      [['--label', 'label_text', '--score', 'score'], /name the positive one with --positive/],
      [['--label', 'label', '--score', 'score', '--threshold', '2'], /--threshold.*expected a number from 0 to 1/],
      [['--label', 'label', '--score', 'score', '--task', 'ranking'], /Allowed choices are classification, regression/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('--predictions', PREDICTIONS, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n/);
    }
    const missing = await cli('--predictions', path.join(FIXTURES, 'missing.csv'), '--label', 'label', '--score', 'score');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.csv does not exist/);
    const noScore = await cli('--predictions', PREDICTIONS, '--label', 'label');
    expect(noScore.code).toBe(2);
    expect(noScore.stderr).toMatch(/--score/);
  });
});
