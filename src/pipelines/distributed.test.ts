/**
 * Distributed execution on this machine: two `flywheel worker` processes
 * (the real CLI) against the local PostgreSQL run a 50-step DAG queued by a
 * coordinator; the worker running the slow step is killed with SIGKILL
 * mid-step. The run must still complete, the lost worker be declared LOST,
 * its step be retried on the other worker, and every step's output be
 * recorded exactly once (one dataset version per output, one SUCCEEDED
 * record per step, the killed attempt's tracking run FAILED).
 *
 * Needs PostgreSQL (skipped with a warning from test/support/backends.ts when
 * it is not reachable).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.js';
import { POSTGRES_URL, postgresAvailable } from '../../test/support/backends.js';
import { resolveConfig } from '../core/config.js';
import { openContext } from '../server/context.js';
import { QueueDispatcher } from './dispatcher.js';
import { PipelineRunner } from './runner.js';
import * as q from './store.js';
import { parsePipelinesYaml } from './yaml.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** tsx by absolute URL: the workers run in the project directory, which has no node_modules. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SLOW = 's7';
const STEPS = 49; // plus the ingest step: 50

/** raw → s1…s49, each copying its parent's output (a binary tree: s_i reads s_⌊i/2⌋, s1 reads raw). */
function dagYaml(): string {
  const lines = ['pipelines:', '  wide:', '    concurrency: 4', '    steps:', '      raw: { uses: ingest, with: { source: raw.csv }, outputs: [raw] }'];
  for (let i = 1; i <= STEPS; i++) {
    const input = i === 1 ? 'raw.raw' : `s${Math.floor(i / 2)}.o${Math.floor(i / 2)}`;
    const pause = `s${i}` === SLOW ? 6 : 0.05;
    lines.push(`      s${i}: { cmd: 'sleep ${pause}; cp "$FW_INPUT_IN" "$FW_OUTPUT_O${i}"', inputs: { in: ${input} }, outputs: [o${i}] }`);
  }
  return lines.join('\n') + '\n';
}

describe.skipIf(!postgresAvailable)('distributed pipeline run on two flywheel workers (PostgreSQL)', () => {
  const schema = `fw_dist_${randomBytes(5).toString('hex')}`;
  const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  let root: string;
  let home: string;
  let ctx: Awaited<ReturnType<typeof openContext>>;
  const workers: ChildProcess[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-dist-project-'));
    home = path.join(root, '.flywheel');
    fs.writeFileSync(path.join(root, 'raw.csv'), 'id,amount\n1,10\n2,20\n3,30\n');
    fs.writeFileSync(path.join(root, 'flywheel.yaml'), dagYaml());
    ctx = await openContext(resolveConfig({ home, db: url }), 'coordinator');
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await ctx?.close();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.query(`drop schema if exists ${schema}_queue cascade`);
    await admin.end();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  function startWorker(): ChildProcess {
    const child = spawn(
      process.execPath,
      ['--import', TSX, path.join(REPO, 'src/cli/entry.ts'), '--home', home, '--db', url, 'worker', '--heartbeat-ms', '300', '--lost-after-ms', '2500'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (b: Buffer) => output.push(`[${child.pid}] ${b}`));
    child.stderr!.on('data', (b: Buffer) => output.push(`[${child.pid} err] ${b}`));
    workers.push(child);
    return child;
  }

  it('completes the DAG after the worker running a step is SIGKILLed, recording each output once', async () => {
    const [def] = parsePipelinesYaml(fs.readFileSync(path.join(root, 'flywheel.yaml'), 'utf8'), path.join(root, 'flywheel.yaml'));
    // The coordinator creates the queue schema before the workers start.
    const dispatcher = await QueueDispatcher.open({ store: ctx.store, tracking: ctx.tracking, url, lostAfterMs: 2500, noWorkerTimeoutMs: 60_000, log: (m) => output.push(`[coordinator] ${m}\n`) });
    try {
      startWorker();
      startWorker();
      await until('two workers to register', async () => (await q.listWorkers(ctx.store.db, 'RUNNING')).length === 2, 60_000, 100).catch((err: Error) => {
        throw new Error(`${err.message}\n${output.join('')}`);
      });
      const runner = new PipelineRunner({ store: ctx.store, tracking: ctx.tracking, data: ctx.data, engine: ctx.engine, artifacts: ctx.artifacts, projectRoot: root });
      let runId = '';
      const done = runner.run(def, { dispatcher, onStarted: (id) => (runId = id) });

      // Kill the worker running the slow step, mid-step.
      const slow = await until('the slow step to run on a worker', async () => {
        if (!runId) return undefined;
        const s = await q.getStepRun(ctx.store.db, runId, SLOW);
        return s?.status === 'RUNNING' && s.worker ? s : undefined;
      }, 60_000, 100);
      const victim = (await q.listWorkers(ctx.store.db)).find((w) => w.id === slow.worker)!;
      const child = workers.find((w) => w.pid === victim.pid)!;
      expect(child).toBeDefined();
      child.kill('SIGKILL');

      const report = await done;
      if (report.run.status !== 'SUCCEEDED') throw new Error(`run ${report.run.status}: ${report.run.error}\n${output.join('')}`);
      expect(report.run.mode).toBe('distributed');
      expect(report.steps).toHaveLength(STEPS + 1);
      expect(report.steps.every((s) => s.status === 'SUCCEEDED')).toBe(true);

      // The killed worker is LOST; the slow step finished on the other one.
      const all = await q.listWorkers(ctx.store.db);
      expect(all.find((w) => w.id === victim.id)!.status).toBe('LOST');
      const slowAfter = report.steps.find((s) => s.step === SLOW)!;
      const survivor = all.find((w) => w.id !== victim.id)!;
      expect(slowAfter.worker).toBe(survivor.id);

      // Exactly once: one version per output dataset, made by the step's recorded run.
      for (const s of report.steps) {
        const dataset = s.step === 'raw' ? 'raw' : `o${s.step.slice(1)}`;
        const versions = await ctx.data.log(dataset);
        expect(versions, `versions of ${dataset}`).toHaveLength(1);
        expect(s.outputs[dataset]).toBe(versions[0].id);
      }
      // The slow step's tracking runs: the killed attempt FAILED (worker lost), the retry FINISHED.
      const runs = await ctx.tracking.searchRuns({ experimentIds: [(await ctx.tracking.getRun(report.run.trackingRunId!)).info.experimentId], filter: `tags.\`flywheel.step\` = '${SLOW}'`, maxResults: 10 });
      expect(runs.items.map((r) => r.info.status).sort()).toEqual(['FAILED', 'FINISHED']);
      expect(runs.items.find((r) => r.info.status === 'FINISHED')!.info.runId).toBe(slowAfter.trackingRunId);
    } finally {
      await dispatcher.close();
    }
  }, 180_000);
});
