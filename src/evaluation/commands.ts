/**
 * `flywheel evaluate`, in two forms (exactly one of them):
 *
 * - `--predictions FILE --label col --score col [--pred col] [--group col]
 *   [--slice col …] [--threshold t] [--task …] [--positive v] [--bins n]
 *   [--json]`: metrics, slices and fairness of a table of labels and scores,
 *   without a model. Needs no store: it opens a DuckDB engine for the command
 *   (loaded only when the command runs) and closes it. With --json it prints
 *   exactly one object (the report of `evaluatePredictions`).
 * - `MODEL --data NAME@V [--label col] [--slice col …] [--group col]
 *   [--threshold t] [--positive v] [--importance] [--no-record] [--json]`: the
 *   model (churn@challenger, models:/churn/3, runs:/…/model) scored on a
 *   dataset version by `evaluateModel`, recorded as a tracking run; --json
 *   prints the same report plus model, dataset, feature_importance, latency
 *   and run_id.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import os from 'node:os';
import { collect, parsePositiveInt } from '../cli/options.js';
import { print, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import { invalidArgument } from '../core/errors.js';
import type { EvaluateOptions } from './evaluate.js';
import type { Task } from './load.js';
import { DEFAULT_CALIBRATION_BINS } from './metrics.js';
import { renderEvaluation } from './render.js';

interface EvaluateCliOptions {
  predictions?: string;
  data?: string;
  label?: string;
  score?: string;
  importance?: boolean;
  record?: boolean;
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
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('evaluate [model]')
    .description('metrics, per-slice metrics and fairness of a model on a dataset version, or of a predictions table (labels and scores)')
    .option('--predictions <file>', 'Parquet, CSV or TSV file with one row per prediction (instead of MODEL --data)')
    .option('-d, --data <ref>', 'with MODEL: the dataset version to evaluate on, NAME@VERSION')
    .option('--label <col>', 'true label column (0/1, booleans, two text values, or numbers for regression); with MODEL default the training target')
    .option('--score <col>', 'with --predictions: positive-class probability (classification) or predicted value (regression)')
    .option('--pred <col>', 'predicted label column; threshold metrics use it instead of score >= threshold')
    .option('--group <col>', 'sensitive attribute: fairness across its values')
    .option('--slice <col>', 'categorical column to report metrics per value of (repeatable)', collect)
    .option('--threshold <t>', 'score at or above which a row is predicted positive (default 0.5)', parseThreshold)
    .addOption(new Option('--task <task>', 'default: classification for booleans, text and 0/1 labels, else regression').choices(['classification', 'regression']))
    .option('--positive <value>', 'the positive label (needed for text labels and numbers other than 0/1)')
    .option('--bins <n>', `calibration curve bins (default ${DEFAULT_CALIBRATION_BINS})`, parsePositiveInt)
    .option('--importance', 'with MODEL: permutation feature importance (roc_auc or r2) on a sample')
    .option('--no-record', 'with MODEL: do not record the evaluation as a tracking run')
    .option('--json', 'print the report as one JSON object')
    .action(async (model: string | undefined, opts: EvaluateCliOptions) => {
      const withModel = model !== undefined || opts.data !== undefined;
      if (withModel && opts.predictions !== undefined) throw invalidArgument('evaluate either MODEL --data NAME@V or --predictions FILE, not both.');
      if (!withModel && opts.predictions === undefined) throw invalidArgument('evaluate needs MODEL --data NAME@V, or --predictions FILE --label col --score col.');
      if (withModel) return evaluateModelCommand(globals(), model, opts);
      if (opts.label === undefined) throw invalidArgument('--predictions needs --label <col> (the true label column).');
      if (opts.score === undefined) throw invalidArgument('--predictions needs --score <col> (the score or predicted value column).');
      if (opts.importance || opts.record === false) throw invalidArgument('--importance and --no-record go with MODEL --data, not --predictions.');
      const options: EvaluateOptions = {
        source: { path: opts.predictions! },
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

/** `flywheel evaluate MODEL --data NAME@V …`: evaluateModel on the home's store, printed as a report or one JSON object. */
async function evaluateModelCommand(globals: GlobalOptions, model: string | undefined, opts: EvaluateCliOptions): Promise<void> {
  if (model === undefined) throw invalidArgument('--data needs a MODEL to evaluate (churn@challenger, models:/churn/3 or runs:/RUN_ID/model).');
  if (opts.data === undefined) throw invalidArgument(`evaluating ${model} needs --data NAME@VERSION.`);
  for (const [flag, value] of [['--score', opts.score], ['--pred', opts.pred], ['--task', opts.task], ['--bins', opts.bins]] as const) {
    if (value !== undefined) throw invalidArgument(`${flag} is for --predictions; with a model the scores come from the model.`);
  }
  const [{ openContext }, { evaluateModel }] = await Promise.all([import('../server/context.js'), import('./model.js')]);
  const ctx = await openContext(configFrom(globals), process.env.USER ?? os.userInfo().username ?? 'cli');
  try {
    const e = await evaluateModel({
      engine: ctx.engine,
      tracking: ctx.tracking,
      data: ctx.data,
      registry: ctx.registry,
      store: ctx.store,
      model,
      dataset: opts.data,
      label: opts.label,
      slices: opts.slice,
      group: opts.group,
      threshold: opts.threshold,
      positive: opts.positive,
      importance: opts.importance ? {} : false,
      record: opts.record !== false,
    });
    const modelName = e.version !== null ? `models:/${e.name}/${e.version}` : e.packageUri;
    if (opts.json) {
      print(toJson({ ...e.report, model: modelName, model_uri: e.modelUri, dataset: e.dataset, dataset_version_id: e.datasetVersionId, feature_importance: e.featureImportance, latency: e.latency, run_id: e.runId }));
      return;
    }
    const lines = [`Model ${modelName} on ${e.dataset}${e.runId ? ` (run ${e.runId})` : ''}`, '', renderEvaluation(e.report).trimEnd()];
    if (e.featureImportance) {
      lines.push('', `Permutation importance (${e.featureImportance.metric}, ${e.featureImportance.repeats} repeats)`);
      for (const f of e.featureImportance.features) lines.push(`${f.feature.padEnd(24)} ${f.importance_mean.toFixed(6)} ± ${f.importance_std.toFixed(6)}`);
    }
    if (e.latency) lines.push('', `Latency (batch 1, ${e.latency.batch1_calls} calls): p50 ${e.latency.p50_ms.toFixed(3)} ms, p99 ${e.latency.p99_ms.toFixed(3)} ms`);
    print(lines.join('\n') + '\n');
  } finally {
    await ctx.close();
  }
}
