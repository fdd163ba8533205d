/**
 * `flywheel train --data NAME@V --target COL --algo ALGO [--task …]
 * [--param k=v]… [--features a,b] [--register NAME] [--alias A]
 * [--experiment NAME] [--json]`: trains a built-in learner on a dataset
 * version as a tracking run (experiment `train/<dataset>` by default; see
 * training.ts for what the run records), writes the model package, and with
 * `--register` creates a registered model version (and moves `--alias` to
 * it). Prints the run, the package URI, the held-out metrics and the version.
 * Unknown algorithms or params, a missing target, a one-class target: exit 2,
 * and the run ends FAILED with the reason.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { collectTag, parseKeyList } from '../cli/options.js';
import { print, renderPairs, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import { invalidArgument } from '../core/errors.js';
import { recordEdges } from '../lineage/service.js';
import type { trainOnRun } from './training.js';
import { algorithms } from './train/params.js';

interface TrainOptions {
  data: string;
  target: string;
  algo: string;
  task?: string;
  param: Record<string, string>;
  features?: string[];
  register?: string;
  alias?: string;
  experiment?: string;
  json?: boolean;
}

export function registerTrainCommands(program: Command): void {
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('train')
    .description('train a built-in tabular model on a dataset version (tracked run, ONNX model package)')
    .requiredOption('-d, --data <ref>', 'training data: NAME@VERSION (or NAME@latest)')
    .requiredOption('-t, --target <column>', 'the column to predict')
    .requiredOption('-a, --algo <algo>', `learner: ${algorithms.map((a) => a.name).join(', ')}`)
    .option('--task <task>', 'classification or regression (inferred from the target when absent)')
    .option('-p, --param <k=v>', 'learner param (repeatable)', collectTag, {})
    .option('--features <a,b,…>', 'feature columns (default: every column but the target)', parseKeyList)
    .option('--register <name>', 'register the model as a new version of this registered model')
    .option('--alias <alias>', 'with --register: point this alias at the new version')
    .option('--experiment <name>', 'experiment of the training run (default train/<dataset>)')
    .option('--json', 'print JSON')
    .action(async (o: TrainOptions) => {
      if (o.task !== undefined && o.task !== 'classification' && o.task !== 'regression') throw invalidArgument(`--task must be classification or regression, got "${o.task}"`);
      if (o.alias !== undefined && o.register === undefined) throw invalidArgument('--alias needs --register NAME');
      // Loaded here: the learners and the ONNX writer are not every command's start-up cost.
      const [{ openContext }, { trainOnRun }] = await Promise.all([import('../server/context.js'), import('./training.js')]);
      const ctx = await openContext(configFrom(globals()), process.env.USER ?? os.userInfo().username ?? 'cli');
      try {
        const version = await ctx.data.resolve(o.data);
        const parquetPath = await ctx.data.parquetPath(version);
        const experiment = await ctx.tracking.ensureExperiment(o.experiment ?? `train/${version.dataset}`);
        const run = await ctx.tracking.createRun({ experimentId: experiment.experimentId, runName: `${o.algo} on ${version.dataset}@${version.version}` });
        const runId = run.info.runId;
        let trained: Awaited<ReturnType<typeof trainOnRun>>;
        try {
          await recordEdges(ctx.store.db, [{ from: { type: 'run', id: runId }, relation: 'consumes', to: { type: 'dataset_version', id: version.id } }]);
          trained = await trainOnRun({ tracking: ctx.tracking, engine: ctx.engine, runId, version, parquetPath, target: o.target, algo: o.algo, task: o.task as 'classification' | 'regression' | undefined, params: o.param, features: o.features });
          await ctx.tracking.endRun(runId, 'FINISHED');
        } catch (err) {
          await ctx.tracking.logBatch(runId, { tags: [{ key: 'flywheel.error', value: (err as Error).message.slice(0, 5000) }] }).catch(() => undefined);
          await ctx.tracking.endRun(runId, 'FAILED').catch(() => undefined);
          throw err;
        }
        let registered: { name: string; version: number } | undefined;
        if (o.register !== undefined) {
          const v = await ctx.registry.createModelVersion({ name: o.register, source: trained.uri, runId, createModel: true });
          registered = { name: v.name, version: v.version };
          if (o.alias !== undefined) await ctx.registry.setAlias(v.name, o.alias, v.version);
        }
        const out = { runId, modelUri: trained.uri, algo: trained.result.algo, task: trained.result.task, metrics: trained.manifest.metrics, registered: registered ?? null, alias: o.alias ?? null };
        if (o.json) return print(toJson(out));
        print(
          renderPairs([
            ['run', runId],
            ['model', trained.uri],
            ['algo', `${out.algo} (${out.task})`],
            ...Object.entries(out.metrics).map(([k, v]): [string, string] => [k, Number(v.toFixed(6)).toString()]),
            ...(registered ? [['version', `models:/${registered.name}/${registered.version}${o.alias ? ` (@${o.alias})` : ''}`] as [string, string]] : []),
          ]),
        );
      } finally {
        await ctx.close();
      }
    });
}
