/**
 * `flywheel models promote NAME --from ALIAS|VERSION --to ALIAS --gate FILE [--data NAME@V] [--json]`:
 * gated promotion on the local store (promote.ts). Exit 0 when the alias
 * moved, 1 when a rule failed (the table of rules is printed, the alias is
 * unchanged), 2 for bad input (unknown model, alias or version, a bad rule,
 * an unknown metric, missing data) with nothing changed.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { CommandExit } from '../cli/errors.js';
import { print, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import type { AppContext } from '../server/context.js';
import type { Evaluator } from './evaluator.js';
import { loadGatePolicy } from './policy.js';
import { promote, renderPromotion } from './promote.js';

export interface PromoteCommandOptions {
  /** The evaluator for a command's context (tests inject a fake one). */
  evaluator?: (ctx: AppContext) => Evaluator;
}

export function registerPromoteCommand(models: Command, options: PromoteCommandOptions = {}): void {
  models
    .command('promote')
    .description('move an alias to a challenger only if every rule of a gate policy passes (evaluated against the current holder on the same data)')
    .argument('<name>', 'registered model name')
    .requiredOption('--from <alias|version>', 'the challenger: an alias or a version number')
    .requiredOption('--to <alias>', 'the alias to move, e.g. champion')
    .requiredOption('--gate <file>', 'the gate policy (.yaml or .ts)')
    .option('--data <ref>', 'evaluation data NAME@VERSION (overrides the policy\'s data)')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, o: { from: string; to: string; gate: string; data?: string; json?: boolean }, cmd: Command) => {
      // Parse the policy (every rule) before opening anything.
      const policy = await loadGatePolicy(o.gate);
      const { openContext } = await import('../server/context.js');
      const actor = process.env.USER ?? os.userInfo().username ?? 'cli';
      const ctx = await openContext(configFrom(cmd.optsWithGlobals<GlobalOptions>()), actor);
      let result;
      try {
        // Loaded only when used: evaluation pulls in the model runtimes.
        const evaluator = options.evaluator ? options.evaluator(ctx) : (await import('./evaluators.js')).defaultEvaluator(ctx);
        result = await promote({ registry: ctx.registry, data: ctx.data, evaluator, db: ctx.store.db, actor }, { name, from: o.from, to: o.to, policy, data: o.data });
      } finally {
        await ctx.close();
      }
      print(o.json ? toJson(result) : renderPromotion(result));
      if (result.outcome !== 'promoted') throw new CommandExit(1);
    });
}
