/**
 * The evaluation and training parts of the models benchmark (issue 5),
 * called from bench/models.ts:
 *
 * - Evaluation of a 1,000,000-row prediction set (a Parquet file of label,
 *   score, three slice columns and a sensitive attribute generated in DuckDB):
 *   all classification metrics + 3 slices + fairness through
 *   evaluatePredictions. Target: under 2 s. Baseline for scale: one bare
 *   DuckDB scan computing the confusion matrix of the same file.
 * - Training time of each built-in learner on 100,000 rows × 20 features (15
 *   numeric, 5 categorical) with a binary target, and on the same rows with a
 *   numeric target for the regressors.
 */
import path from 'node:path';
import { Engine, sqlLiteral } from '../src/engine/index.js';
import { evaluatePredictions } from '../src/evaluation/index.js';
import { trainTabular } from '../src/models/train/index.js';

export interface EvalTrainFigures {
  evalRows: number;
  evalMs: number;
  bareConfusionScanMs: number;
  trainRows: number;
  trainFeatures: number;
  trainSeconds: Record<string, number>;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

export async function benchEvalTrain(root: string, evalRows = 1_000_000, trainRows = 100_000): Promise<EvalTrainFigures> {
  const engine = await Engine.open();
  try {
    // Predictions: a score correlated with the label, three slice columns and a group.
    const preds = path.join(root, 'predictions.parquet');
    await engine.run(`COPY (
      SELECT (hash(i) % 1000) / 1000.0 < 0.3 AS y0, i,
             ['web','ios','android'][1 + i % 3] AS channel, 'plan_' || (i % 7) AS plan, ['eu','us','apac','latam'][1 + (i * 31) % 4] AS region,
             ['a','b'][1 + (i * 17) % 2] AS sex
      FROM range(${evalRows}) t(i)
    ) TO ${sqlLiteral(path.join(root, 'base.parquet'))} (FORMAT parquet)`);
    await engine.run(`COPY (
      SELECT CAST(y0 AS INTEGER) AS label,
             least(1.0, greatest(0.0, 0.3 * CAST(y0 AS DOUBLE) + 0.7 * ((hash(i * 7) % 10000) / 10000.0))) AS score,
             channel, plan, region, sex
      FROM read_parquet(${sqlLiteral(path.join(root, 'base.parquet'))})
    ) TO ${sqlLiteral(preds)} (FORMAT parquet)`);
    const [, bareConfusionScanMs] = await timed(() =>
      engine.query(`SELECT label, score >= 0.5 AS p, count(*) FROM read_parquet(${sqlLiteral(preds)}) GROUP BY ALL`),
    );
    // Warm-up, then the measured evaluation.
    await evaluatePredictions(engine, { source: { path: preds }, label: 'label', score: 'score', slices: ['channel'], group: 'sex' });
    const [report, evalMs] = await timed(() =>
      evaluatePredictions(engine, { source: { path: preds }, label: 'label', score: 'score', slices: ['channel', 'plan', 'region'], group: 'sex' }),
    );
    console.log(
      `evaluation: ${evalRows.toLocaleString('en')} predictions, all metrics + 3 slices + fairness in ${evalMs.toFixed(0)} ms ` +
        `(roc_auc ${Number((report.metrics as unknown as Record<string, unknown>).roc_auc).toFixed(4)}); bare DuckDB confusion-matrix scan ${bareConfusionScanMs.toFixed(0)} ms`,
    );

    // Training data: 15 numeric + 5 categorical features, a logistic ground truth and a linear numeric target.
    const train = path.join(root, 'train.parquet');
    const nums = Array.from({ length: 15 }, (_, k) => `((hash(i * ${k + 3}) % 20000) / 10000.0 - 1.0) AS x${k}`);
    const cats = Array.from({ length: 5 }, (_, k) => `'c' || (hash(i * ${k + 101}) % ${4 + k}) AS k${k}`);
    await engine.run(`COPY (SELECT ${[...nums, ...cats].join(', ')} FROM range(${trainRows}) t(i)) TO ${sqlLiteral(path.join(root, 'feats.parquet'))} (FORMAT parquet)`);
    await engine.run(`COPY (
      SELECT *, CAST(2 * x0 - x1 + 0.5 * x2 + (k0 = 'c1')::INT + ((hash(x3 * 1000) % 1000) / 1000.0 - 0.5) > 0 AS INTEGER) AS churned,
             3 * x0 + 2 * x4 - x5 + (k1 = 'c2')::INT * 1.5 + ((hash(x6 * 1000) % 1000) / 1000.0 - 0.5) AS spend
      FROM read_parquet(${sqlLiteral(path.join(root, 'feats.parquet'))})
    ) TO ${sqlLiteral(train)} (FORMAT parquet)`);
    const features = [...Array.from({ length: 15 }, (_, k) => `x${k}`), ...Array.from({ length: 5 }, (_, k) => `k${k}`)];
    const trainSeconds: Record<string, number> = {};
    const runs: [string, string, string][] = [
      ['logistic_regression', 'churned', 'classification'],
      ['gradient_boosting', 'churned', 'classification'],
      ['random_forest', 'churned', 'classification'],
      ['linear_regression', 'spend', 'regression'],
      ['gradient_boosting', 'spend', 'regression'],
      ['random_forest', 'spend', 'regression'],
    ];
    for (const [algo, target, task] of runs) {
      const [result, ms] = await timed(() => trainTabular({ engine, parquetPath: train, target, algo, task: task as 'classification' | 'regression', features }));
      trainSeconds[`${algo}.${task}`] = Number((ms / 1000).toFixed(2));
      const quality = task === 'classification' ? `auc ${result.metrics.auc?.toFixed(4)}` : `r2 ${result.metrics.r2?.toFixed(4)}`;
      console.log(`training ${algo} (${task}) on ${trainRows.toLocaleString('en')} × 20: ${(ms / 1000).toFixed(2)} s, held-out ${quality}`);
    }
    return { evalRows, evalMs: Math.round(evalMs), bareConfusionScanMs: Math.round(bareConfusionScanMs), trainRows, trainFeatures: 20, trainSeconds };
  } finally {
    engine.close();
  }
}
