/**
 * `flywheel models card NAME VERSION_OR_@ALIAS [--json]`: the model card of a
 * version (card.ts) — Markdown by default, the JSON card with --json. Opens
 * the full local context: the card reads the data service (profiles), the
 * tracking runs and the lineage graph as well as the registry.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { print, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import type { AppContext } from '../server/context.js';
import { buildModelCard, renderModelCard, type CardEvaluationLookup } from './card.js';

export interface CardCommandOptions {
  /** The latest evaluation of a version (tests inject one; default: src/evaluation's latestEvaluation). */
  evaluation?: (ctx: AppContext) => CardEvaluationLookup;
}

/** The card's dependencies from an opened context. */
export async function cardDeps(ctx: AppContext, evaluation?: (ctx: AppContext) => CardEvaluationLookup) {
  const lookup = evaluation ? evaluation(ctx) : (await import('../automation/evaluators.js')).defaultEvaluationLookup(ctx);
  return { registry: ctx.registry, tracking: ctx.tracking, data: ctx.data, db: ctx.store.db, evaluation: lookup };
}

export function registerCardCommand(models: Command, options: CardCommandOptions = {}): void {
  models
    .command('card')
    .description('the model card of a version: intended use, package, training data and run, evaluation, feature importance, lineage')
    .argument('<name>', 'registered model name')
    .argument('<version>', 'a version number or @alias')
    .option('--json', 'print the card as JSON (default: Markdown)')
    .action(async (name: string, version: string, o: { json?: boolean }, cmd: Command) => {
      const { openContext } = await import('../server/context.js');
      const ctx = await openContext(configFrom(cmd.optsWithGlobals<GlobalOptions>()), process.env.USER ?? os.userInfo().username ?? 'cli');
      try {
        const card = await buildModelCard(await cardDeps(ctx, options.evaluation), name, version);
        print(o.json ? toJson(card) : renderModelCard(card));
      } finally {
        await ctx.close();
      }
    });
}
