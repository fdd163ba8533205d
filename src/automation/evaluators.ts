/**
 * The real Evaluator and EvaluationLookup, over src/evaluation/model.ts:
 * `evaluateModel` scores a registered version on a dataset version and
 * records the evaluation as a run (so the card of the version shows it
 * later); `latestEvaluation` reads the newest one back. Kept apart from the
 * gate logic so promote.ts and its tests never load a model runtime.
 */
import { evaluateModel, latestEvaluation, type EvaluateModelOptions } from '../evaluation/model.js';
import type { EvaluationLookup, Evaluator, ModelEvaluation } from './evaluator.js';

type Ctx = Pick<EvaluateModelOptions, 'engine' | 'tracking' | 'data' | 'registry' | 'store'>;

export function defaultEvaluator(ctx: Ctx): Evaluator {
  return {
    async evaluate(r) {
      const e = await evaluateModel({
        engine: ctx.engine,
        tracking: ctx.tracking,
        data: ctx.data,
        registry: ctx.registry,
        store: ctx.store,
        model: r.model,
        dataset: r.dataset,
        label: r.label,
        group: r.group,
        slices: r.slices,
        threshold: r.threshold,
      });
      return e as unknown as ModelEvaluation;
    },
  };
}

export function defaultEvaluationLookup(ctx: { tracking: Parameters<typeof latestEvaluation>[0]; registry: Parameters<typeof latestEvaluation>[1] }): EvaluationLookup {
  return async (name, version) => (await latestEvaluation(ctx.tracking, ctx.registry, name, version)) as unknown as ModelEvaluation | null;
}
