/**
 * `flywheel evaluate --predictions FILE --label col --score col [--pred col]
 * [--group col] [--slice col …] [--threshold t] [--task …] [--positive v]
 * [--bins n] [--json]`: metrics, slices and fairness of a table of labels and
 * scores, without a model. Needs no store: it opens a DuckDB engine for the
 * command (loaded only when the command runs) and closes it. With --json it
 * prints exactly one object (the report of `evaluatePredictions`).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collect, parsePositiveInt } from '../cli/options.js';
import { print, toJson } from '../cli/output.js';
import type { EvaluateOptions } from './evaluate.js';
import type { Task } from './load.js';
import { DEFAULT_CALIBRATION_BINS } from './metrics.js';
import { renderEvaluation } from './render.js';

interface EvaluateCliOptions {
  predictions: string;
  label: string;
  score: string;
  pred?: string;
  group?: string;
  slice?: string[];
  threshold?: number;
  task?: Task;
  positive?: string;
  bins?: number;
  json?: boolean;
}

function parseThreshold(value: string): number {
  const t = Number(value);
  if (value.trim() === '' || !Number.isFinite(t) || t < 0 || t > 1) throw new InvalidArgumentError('expected a number from 0 to 1.');
  return t;
}

export function registerEvaluateCommands(program: Command): void {
  program
    .command('evaluate')
    .description('metrics, per-slice metrics and fairness of a predictions table (labels and scores)')
    .requiredOption('--predictions <file>', 'Parquet, CSV or TSV file with one row per prediction')
    .requiredOption('--label <col>', 'true label column (0/1, booleans, two text values, or numbers for regression)')
    .requiredOption('--score <col>', 'positive-class probability (classification) or predicted value (regression)')
    .option('--pred <col>', 'predicted label column; threshold metrics use it instead of score >= threshold')
    .option('--group <col>', 'sensitive attribute: fairness across its values')
    .option('--slice <col>', 'categorical column to report metrics per value of (repeatable)', collect)
    .option('--threshold <t>', 'score at or above which a row is predicted positive (default 0.5)', parseThreshold)
    .addOption(new Option('--task <task>', 'default: classification for booleans, text and 0/1 labels, else regression').choices(['classification', 'regression']))
    .option('--positive <value>', 'the positive label (needed for text labels and numbers other than 0/1)')
    .option('--bins <n>', `calibration curve bins (default ${DEFAULT_CALIBRATION_BINS})`, parsePositiveInt)
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: EvaluateCliOptions) => {
      const options: EvaluateOptions = {
        source: { path: opts.predictions },
        label: opts.label,
        score: opts.score,
        pred: opts.pred,
        group: opts.group,
        slices: opts.slice,
        threshold: opts.threshold,
        task: opts.task,
        positive: opts.positive,
        calibrationBins: opts.bins,
      };
      // Loaded on use, so other commands never load DuckDB.
      const [{ Engine }, { evaluatePredictions }] = await Promise.all([import('../engine/index.js'), import('./evaluate.js')]);
      const engine = await Engine.open();
      let report;
      try {
        report = await evaluatePredictions(engine, options);
      } finally {
        engine.close();
      }
      print(opts.json ? toJson(report) : renderEvaluation(report));
    });
}
