/**
 * Tracking benchmark (issue 2).
 *
 * Ingest: metric points/s through POST /api/2.0/mlflow/runs/log-batch with 8
 * concurrent keep-alive clients (in a worker thread), 1000 metrics per batch,
 * embedded SQLite. Baseline: the same rows inserted into the same SQLite file
 * with one better-sqlite3 prepared statement in a loop, one transaction per
 * 1000 rows. Targets: ≥ 300,000 points/s and ≥ 0.6 of the baseline rate.
 *
 * Search: POST runs/search over 100,000 runs with 10 params and 10 metrics
 * each, filter on one metric and one param, order by a metric, 100 results.
 * Target: median under 50 ms.
 *
 * Options: --batches N (default 600), --runs N (default 100000), --search-iterations N (default 30).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { resolveConfig } from '../src/core/config.js';
import { openContext } from '../src/server/context.js';
import { buildApp } from '../src/server/app.js';

function option(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const BATCHES = option('batches', 600);
const RUNS = option('runs', 100_000);
const SEARCH_ITERATIONS = option('search-iterations', 30);
const CONCURRENCY = 8;
const POINTS_PER_BATCH = 1000;
const KEYS = 10;

const here = path.dirname(fileURLToPath(import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-bench-tracking-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ingest() {
  const config = resolveConfig({ home: path.join(root, 'ingest') });
  const ctx = await openContext(config);
  const app = await buildApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;

  const runIds: string[] = [];
  for (let i = 0; i < CONCURRENCY; i++) runIds.push((await ctx.tracking.createRun({ experimentId: '0', runName: `ingest-${i}` })).info.runId);

  // Each batch: 10 keys × 100 steps, steps advancing from batch to batch.
  const batchRows: { runId: string; metrics: { key: string; value: number; timestamp: number; step: number }[] }[] = [];
  const t0 = 1_700_000_000_000;
  for (let b = 0; b < BATCHES + 40; b++) {
    const runId = runIds[b % runIds.length];
    const metrics = [];
    for (let j = 0; j < POINTS_PER_BATCH; j++) {
      const step = Math.floor(b / runIds.length) * (POINTS_PER_BATCH / KEYS) + Math.floor(j / KEYS);
      metrics.push({ key: `metric_${j % KEYS}`, value: Math.sin(b + j) + 1, timestamp: t0 + step, step });
    }
    batchRows.push({ runId, metrics });
  }
  const bodies = batchRows.map(({ runId, metrics }) => JSON.stringify({ run_id: runId, metrics, params: [], tags: [] }));

  // Baseline first, on the same file, so it never benefits from running second on a smaller table.
  const raw = new BetterSqlite3(path.join(config.home, 'flywheel.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const insert = raw.prepare('insert into metrics (run_id, key, value, timestamp, step, is_nan) values (?, ?, ?, ?, ?, 0)');
  const insertBatch = raw.transaction((runId: string, metrics: { key: string; value: number; timestamp: number; step: number }[]) => {
    for (const m of metrics) insert.run(runId, m.key, m.value, m.timestamp, m.step);
  });
  const baselineRuns = runIds.map((id) => id.replace(/^./, 'b'));
  let started = performance.now();
  for (let b = 0; b < BATCHES; b++) insertBatch(baselineRuns[b % baselineRuns.length], batchRows[b + 40].metrics);
  const baselineMs = performance.now() - started;
  raw.close();

  const runLoad = (slice: string[], batches: number) =>
    new Promise<{ elapsedMs: number; failures: number; p50: number; p99: number }>((resolve, reject) => {
      const worker = new Worker(path.join(here, 'tracking-client.mjs'), { workerData: { port, bodies: slice, concurrency: CONCURRENCY, batches } });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await runLoad(bodies.slice(0, 40), 40); // warm-up: JIT, connections, page cache
  const load = await runLoad(bodies.slice(40), BATCHES);
  await app.close();
  await ctx.close();

  const points = BATCHES * POINTS_PER_BATCH;
  return {
    pointsPerSecond: Math.round(points / (load.elapsedMs / 1000)),
    baselinePointsPerSecond: Math.round(points / (baselineMs / 1000)),
    batchLatencyP50Ms: Number(load.p50.toFixed(2)),
    batchLatencyP99Ms: Number(load.p99.toFixed(2)),
    failures: load.failures,
  };
}

async function search() {
  const config = resolveConfig({ home: path.join(root, 'search') });
  const ctx = await openContext(config);
  const experimentId = (await ctx.tracking.createExperiment({ name: 'search-bench' })).experimentId;
  await ctx.close();

  // Populate directly: the point is to measure search, not to wait for ingest.
  const raw = new BetterSqlite3(path.join(config.home, 'flywheel.db'));
  raw.pragma('journal_mode = WAL');
  const insRun = raw.prepare(
    "insert into runs (run_id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri, parent_run_id, deleted_time, heartbeat_time) values (?, ?, ?, 'bench', 'FINISHED', ?, ?, 'active', ?, null, null, null)",
  );
  const insParam = raw.prepare('insert into params (run_id, key, value) values (?, ?, ?)');
  const insTag = raw.prepare('insert into tags (run_id, key, value) values (?, ?, ?)');
  const insMetric = raw.prepare('insert into metrics (run_id, key, value, timestamp, step, is_nan) values (?, ?, ?, ?, 0, 0)');
  const insLatest = raw.prepare('insert into latest_metrics (run_id, key, value, timestamp, step, is_nan) values (?, ?, ?, ?, 0, 0)');
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const fill = raw.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const runId = i.toString(16).padStart(32, '0');
      const start = 1_700_000_000_000 + i * 1000;
      insRun.run(runId, Number(experimentId), `run-${i}`, start, start + 500, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
      insTag.run(runId, 'mlflow.runName', `run-${i}`);
      for (let k = 0; k < 10; k++) insParam.run(runId, `p${k}`, `v${Math.floor(rand() * 10)}`);
      for (let k = 0; k < 10; k++) {
        const v = rand();
        insMetric.run(runId, `m${k}`, v, start);
        insLatest.run(runId, `m${k}`, v, start);
      }
    }
  });
  for (let i = 0; i < RUNS; i += 10_000) fill(i, Math.min(RUNS, i + 10_000));
  raw.close();

  const ctx2 = await openContext(config);
  const app = await buildApp(ctx2);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const body = JSON.stringify({ experiment_ids: [experimentId], filter: "metrics.m0 > 0.5 and params.p0 = 'v3'", order_by: ['metrics.m1 DESC'], max_results: 100 });
  const times: number[] = [];
  let returned = 0;
  for (let i = 0; i < SEARCH_ITERATIONS + 3; i++) {
    const t = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { runs?: unknown[] };
    if (res.status !== 200) throw new Error(`search failed: ${res.status} ${JSON.stringify(json)}`);
    returned = json.runs?.length ?? 0;
    if (i >= 3) times.push(performance.now() - t);
  }
  await app.close();
  await ctx2.close();
  return { runs: RUNS, searchMedianMs: Number(median(times).toFixed(2)), searchP90Ms: Number([...times].sort((a, b) => a - b)[Math.floor(times.length * 0.9)].toFixed(2)), returned };
}

try {
  console.log(`tracking bench: ${BATCHES} batches × ${POINTS_PER_BATCH} points, ${CONCURRENCY} clients; search over ${RUNS} runs (node ${process.version}, ${os.cpus().length} cores)`);
  const i = await ingest();
  console.log(`ingest: ${i.pointsPerSecond.toLocaleString('en')} points/s over HTTP (batch p50 ${i.batchLatencyP50Ms} ms, p99 ${i.batchLatencyP99Ms} ms, ${i.failures} failed); baseline prepared-statement loop: ${i.baselinePointsPerSecond.toLocaleString('en')} points/s`);
  const ratio = Number((i.pointsPerSecond / i.baselinePointsPerSecond).toFixed(3));
  console.log(`ingest ratio (HTTP log-batch / direct prepared statement): ${ratio}`);
  const s = await search();
  console.log(`search: median ${s.searchMedianMs} ms, p90 ${s.searchP90Ms} ms over ${s.runs.toLocaleString('en')} runs (${s.returned} results)`);
  const targets = { ingestPointsPerSecond: 300_000, ingestRatioToBaseline: 0.6, searchMedianMs: 50 };
  const met = i.failures === 0 && i.pointsPerSecond >= targets.ingestPointsPerSecond && ratio >= targets.ingestRatioToBaseline && s.searchMedianMs < targets.searchMedianMs && s.returned === 100;
  console.log(
    JSON.stringify({
      bench: 'tracking',
      figures: { ingestPointsPerSecond: i.pointsPerSecond, baselinePointsPerSecond: i.baselinePointsPerSecond, ingestRatioToBaseline: ratio, batchLatencyP50Ms: i.batchLatencyP50Ms, batchLatencyP99Ms: i.batchLatencyP99Ms, searchMedianMs: s.searchMedianMs, searchP90Ms: s.searchP90Ms, searchRuns: s.runs },
      targets,
      met,
    }),
  );
} finally {
  if (!process.env.KEEP) fs.rmSync(root, { recursive: true, force: true }); else console.log(root);
}
