/**
 * The distributed part of the pipelines benchmark (issue 4): a 1,000-step
 * pipeline of no-op TypeScript function steps, loaded from a module (so
 * workers can load it too), run on 2 `flywheel worker` processes (the real
 * CLI, 2 slots each) over PostgreSQL through the graphile-worker queue.
 * Reported as steps per second.
 *
 * Baseline, same run, same PostgreSQL store: the same pipeline run locally
 * (steps in the coordinating process, function steps in its child pool), so
 * the ratio is what the queue, the claims, the heartbeats and the
 * notifications cost. Steps are independent (a no-op function produces no
 * output for a data edge), like the embedded 10,000-step figure.
 *
 * Skipped (and reported so) when PostgreSQL is not reachable at
 * FLYWHEEL_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { resolveConfig } from '../src/core/config.js';
import { openContext } from '../src/server/context.js';
import { QueueDispatcher } from '../src/pipelines/dispatcher.js';
import { loadPipelineModule } from '../src/pipelines/load.js';
import { PipelineRunner } from '../src/pipelines/runner.js';
import * as q from '../src/pipelines/store.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const POSTGRES = process.env.FLYWHEEL_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface DistributedFigures {
  distributedSteps: number;
  distributedWorkers: number;
  distributedSeconds: number;
  distributedStepsPerSecond: number;
  localPostgresSeconds: number;
  localPostgresStepsPerSecond: number;
  distributedRatioToLocal: number;
}

async function reachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function admin(sqlText: string): Promise<void> {
  const c = new pg.Client({ connectionString: POSTGRES });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}

export async function benchDistributed(root: string, steps: number, workers = 2, slots = 2): Promise<DistributedFigures | 'skipped'> {
  if (!(await reachable())) {
    console.log(`distributed: skipped (PostgreSQL not reachable at ${POSTGRES})`);
    return 'skipped';
  }
  const schema = `fw_bench_${randomBytes(4).toString('hex')}`;
  const url = `${POSTGRES}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const project = path.join(root, 'dist-project');
  fs.mkdirSync(project, { recursive: true });
  const module = path.join(project, 'pipelines.ts');
  const define = pathToFileURL(path.join(REPO, 'src/pipelines/define.ts')).href;
  fs.writeFileSync(
    module,
    `import { definePipeline } from ${JSON.stringify(define)};\n` +
      `export const local = definePipeline('bench_local', ({ step }) => { for (let i = 0; i < ${steps}; i++) step('s' + i, { cache: false }, async () => {}); }, { concurrency: ${workers * slots} });\n` +
      `export const queued = definePipeline('bench_queued', ({ step }) => { for (let i = 0; i < ${steps}; i++) step('s' + i, { cache: false }, async () => {}); }, { concurrency: ${workers * slots} });\n` +
      `export const warm = definePipeline('bench_warm', ({ step }) => { for (let i = 0; i < 20; i++) step('s' + i, { cache: false }, async () => {}); }, { concurrency: ${workers * slots} });\n`,
  );
  await admin(`create schema ${schema}`);
  const children: ChildProcess[] = [];
  const ctx = await openContext(resolveConfig({ home: path.join(root, 'dist-home'), db: url }), 'bench');
  let dispatcher: QueueDispatcher | undefined;
  try {
    const defs = await loadPipelineModule(module);
    const def = (name: string) => defs.find((d) => d.name === name)!;
    const runner = new PipelineRunner({ store: ctx.store, tracking: ctx.tracking, data: ctx.data, engine: ctx.engine, artifacts: ctx.artifacts, projectRoot: project });

    // Baseline: local on the same store (warm-up first).
    await runner.run(def('bench_warm'));
    let t = performance.now();
    const local = await runner.run(def('bench_local'));
    const localMs = performance.now() - t;
    if (local.run.status !== 'SUCCEEDED') throw new Error(`local run ended ${local.run.status}: ${local.run.error}`);

    dispatcher = await QueueDispatcher.open({ store: ctx.store, tracking: ctx.tracking, url, log: (m) => console.log(`  coordinator: ${m}`) });
    for (let i = 0; i < workers; i++) {
      const child = spawn(process.execPath, ['--import', TSX, path.join(REPO, 'src/cli/entry.ts'), '--home', path.join(root, 'dist-home'), '--db', url, 'worker', '--concurrency', String(slots)], {
        cwd: project,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
    }
    for (const end = Date.now() + 60_000; (await q.listWorkers(ctx.store.db, 'RUNNING')).length < workers; ) {
      if (Date.now() > end) throw new Error('workers did not start within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Warm-up: the workers' child pools start and load the module (workers run only the module's own definitions).
    const warm = await runner.run(def('bench_warm'), { dispatcher });
    if (warm.run.status !== 'SUCCEEDED') throw new Error(`distributed warm-up ended ${warm.run.status}: ${warm.run.error}`);
    t = performance.now();
    const queued = await runner.run(def('bench_queued'), { dispatcher });
    const queuedMs = performance.now() - t;
    if (queued.run.status !== 'SUCCEEDED') throw new Error(`distributed run ended ${queued.run.status}: ${queued.run.error}`);
    const byWorker = new Map<string, number>();
    for (const s of queued.steps) byWorker.set(s.worker ?? '?', (byWorker.get(s.worker ?? '?') ?? 0) + 1);
    console.log(
      `distributed: ${steps} steps on ${workers} workers × ${slots} slots in ${(queuedMs / 1000).toFixed(2)} s = ${((steps * 1000) / queuedMs).toFixed(0)} steps/s ` +
        `(per worker: ${[...byWorker.values()].join(' / ')}); same pipeline local on PostgreSQL: ${(localMs / 1000).toFixed(2)} s = ${((steps * 1000) / localMs).toFixed(0)} steps/s`,
    );
    return {
      distributedSteps: steps,
      distributedWorkers: workers,
      distributedSeconds: Number((queuedMs / 1000).toFixed(3)),
      distributedStepsPerSecond: Math.round((steps * 1000) / queuedMs),
      localPostgresSeconds: Number((localMs / 1000).toFixed(3)),
      localPostgresStepsPerSecond: Math.round((steps * 1000) / localMs),
      distributedRatioToLocal: Number((queuedMs / localMs).toFixed(2)),
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await dispatcher?.close();
    await ctx.close();
    await admin(`drop schema if exists ${schema} cascade; drop schema if exists ${schema}_queue cascade`);
  }
}
