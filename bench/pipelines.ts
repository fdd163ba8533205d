/**
 * Pipelines benchmark (issue 4).
 *
 * DAG: 10,000 no-op TypeScript function steps (cache off) run end to end in
 * embedded mode through PipelineRunner — real SQLite store and artifact
 * directory in a temp dir, one tracking run per step, step records, the step
 * log artifact. Baseline: awaiting the same 10,000 async no-ops directly, one
 * after another. Target: the whole run under 10 s, i.e. under 1 ms of
 * overhead per step. Edges between steps are data edges in this model (an
 * input names another step's output dataset), which a no-op step cannot
 * produce, so the runner DAG's steps are independent; the scheduling cost of
 * a DAG with real edges is measured separately on the executor alone:
 * 100 layers × 100 steps, each depending on 1–3 steps of the previous layer.
 *
 * Shell: per-step overhead of a shell step `true` through the same runner
 * over spawning `/bin/sh -c true` bare, N times awaited one after another.
 * Target: under 30 ms per step.
 *
 * Distributed: 1,000 no-op function steps on 2 `flywheel worker` processes
 * over PostgreSQL, in steps per second, against the same pipeline run
 * locally on the same store (bench/pipelines-distributed.ts). The issue sets
 * no target for it; it is reported, not part of `met`.
 *
 * Options: --steps N (default 10000), --layers N (default 100), --shell N (default 200), --concurrency N (default: CPU count),
 * --distributed N (default 1000; 0 skips it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../src/core/config.js';
import { openContext } from '../src/server/context.js';
import { DEFAULT_RETRY } from '../src/pipelines/define.js';
import { executePipeline } from '../src/pipelines/executor.js';
import { PipelineRunner } from '../src/pipelines/runner.js';
import { benchDistributed } from './pipelines-distributed.js';
import type { PipelineDefinition, StepDefinition } from '../src/pipelines/types.js';

function option(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const STEPS = option('steps', 10_000);
const LAYERS = option('layers', 100);
const SHELL = option('shell', 200);
const CONCURRENCY = option('concurrency', Math.max(1, os.availableParallelism()));
const DISTRIBUTED = option('distributed', 1000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-bench-pipelines-'));

function step(name: string, extra: Partial<StepDefinition>): StepDefinition {
  return { name, kind: 'function', inputs: {}, outputs: [], params: {}, retry: { ...DEFAULT_RETRY }, tags: [], cache: false, deps: [], ...extra };
}

const noop = async (): Promise<void> => {};

/** 10,000 independent no-op function steps. */
function flatPipeline(n: number): PipelineDefinition {
  return { name: 'bench_noop', concurrency: CONCURRENCY, steps: Array.from({ length: n }, (_, i) => step(`s${i}`, { fn: noop })) };
}

/** layers × width steps; each step of layer k > 0 reads 1–3 outputs of layer k − 1 (deterministic pseudo-random). */
function layeredPipeline(layers: number, width: number): PipelineDefinition {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const steps: StepDefinition[] = [];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) {
      const inputs: StepDefinition['inputs'] = {};
      if (l > 0) {
        const k = 1 + Math.floor(rand() * 3);
        for (let j = 0; j < k; j++) {
          const up = Math.floor(rand() * width);
          inputs[`i${j}`] = { step: `l${l - 1}_${up}`, output: `o_${l - 1}_${up}` };
        }
      }
      steps.push(step(`l${l}_${w}`, { inputs, outputs: [`o_${l}_${w}`], fn: noop }));
    }
  }
  return { name: 'bench_layers', concurrency: CONCURRENCY, steps };
}

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

try {
  console.log(`pipelines bench: ${STEPS} no-op steps, ${LAYERS}-layer DAG, ${SHELL} shell steps, concurrency ${CONCURRENCY} (node ${process.version}, ${os.cpus().length} cores)`);
  const ctx = await openContext(resolveConfig({ home: path.join(root, 'home') }), 'bench');
  const project = path.join(root, 'project');
  fs.mkdirSync(project);
  const runner = new PipelineRunner({ store: ctx.store, tracking: ctx.tracking, data: ctx.data, engine: ctx.engine, artifacts: ctx.artifacts, projectRoot: project });

  // Baseline: the same no-ops awaited directly.
  let t = performance.now();
  for (let i = 0; i < STEPS; i++) await noop();
  const baselineMs = performance.now() - t;

  // Warm-up (JIT, prepared statements, experiment creation), then the measured run.
  await runner.run(flatPipeline(50));
  t = performance.now();
  const dag = await runner.run(flatPipeline(STEPS));
  const dagMs = performance.now() - t;
  if (dag.run.status !== 'SUCCEEDED') throw new Error(`DAG run ended ${dag.run.status}: ${dag.run.error}`);
  const recorded = dag.steps.filter((s) => s.status === 'SUCCEEDED' && s.trackingRunId !== null).length;
  if (recorded !== STEPS) throw new Error(`expected ${STEPS} recorded step runs, found ${recorded}`);
  const perStepMs = (dagMs - baselineMs) / STEPS;
  console.log(`runner DAG: ${STEPS} steps in ${(dagMs / 1000).toFixed(2)} s (${perStepMs.toFixed(3)} ms overhead/step, ${recorded} tracking runs); baseline direct awaits: ${baselineMs.toFixed(2)} ms; ratio ${(dagMs / baselineMs).toFixed(0)}×`);

  // Scheduling with real edges, executor alone.
  const layered = layeredPipeline(LAYERS, Math.round(STEPS / LAYERS));
  const edges = layered.steps.reduce((n, s) => n + Object.keys(s.inputs).length, 0);
  t = performance.now();
  const ex = await executePipeline(layered, { runStep: async () => ({ outputs: {} }) });
  const layeredMs = performance.now() - t;
  if (ex.status !== 'SUCCEEDED') throw new Error(`layered DAG ended ${ex.status}`);
  console.log(`executor DAG with edges: ${layered.steps.length} steps, ${edges} edges in ${layeredMs.toFixed(0)} ms (${((layeredMs * 1000) / layered.steps.length).toFixed(1)} µs/step)`);

  // Shell steps: runner vs bare spawns.
  await spawnTrue();
  t = performance.now();
  for (let i = 0; i < SHELL; i++) await spawnTrue();
  const bareMs = (performance.now() - t) / SHELL;
  const shellDef: PipelineDefinition = { name: 'bench_shell', concurrency: 1, steps: Array.from({ length: SHELL }, (_, i) => step(`sh${i}`, { kind: 'shell', cmd: 'true' })) };
  await runner.run({ ...shellDef, name: 'bench_shell_warm', steps: shellDef.steps.slice(0, 5) });
  t = performance.now();
  const sh = await runner.run(shellDef);
  const shellMs = (performance.now() - t) / SHELL;
  if (sh.run.status !== 'SUCCEEDED') throw new Error(`shell run ended ${sh.run.status}: ${sh.run.error}`);
  const shellOverheadMs = shellMs - bareMs;
  console.log(`shell step: ${shellMs.toFixed(2)} ms/step through the runner (concurrency 1); bare spawn: ${bareMs.toFixed(2)} ms; overhead ${shellOverheadMs.toFixed(2)} ms/step`);
  await ctx.close();
  const distributed = DISTRIBUTED > 0 ? await benchDistributed(root, DISTRIBUTED) : 'skipped';

  const figures = {
    dagSteps: STEPS,
    dagSeconds: Number((dagMs / 1000).toFixed(3)),
    dagOverheadPerStepMs: Number(perStepMs.toFixed(3)),
    baselineDirectAwaitMs: Number(baselineMs.toFixed(3)),
    dagRatioToBaseline: Math.round(dagMs / baselineMs),
    executorLayeredSteps: layered.steps.length,
    executorLayeredEdges: edges,
    executorLayeredMs: Number(layeredMs.toFixed(1)),
    shellStepMs: Number(shellMs.toFixed(2)),
    bareSpawnMs: Number(bareMs.toFixed(2)),
    shellOverheadPerStepMs: Number(shellOverheadMs.toFixed(2)),
    ...(distributed === 'skipped' ? { distributed: 'skipped' } : distributed),
  };
  const targets = { dagSeconds: 10, dagOverheadPerStepMs: 1, shellOverheadPerStepMs: 30 };
  const met = figures.dagSeconds < targets.dagSeconds && figures.dagOverheadPerStepMs < targets.dagOverheadPerStepMs && figures.shellOverheadPerStepMs < targets.shellOverheadPerStepMs;
  console.log(JSON.stringify({ bench: 'pipelines', figures, targets, met }));
} finally {
  if (!process.env.KEEP) fs.rmSync(root, { recursive: true, force: true });
  else console.log(root);
}
