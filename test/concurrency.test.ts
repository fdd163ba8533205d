/**
 * Several processes write one embedded SQLite store at the same time, as
 * happens when a training script logs through `flywheel server` while someone
 * uses the CLI or the in-process API on the same `.flywheel/`:
 *
 *   1. a `flywheel server` child process receiving MLflow log-batch requests;
 *   2. a child process writing through TrackingService directly on the same home;
 *   3. `flywheel experiments create` CLI processes.
 *
 * No request or command may fail (no "database is locked" / SQLITE_BUSY), and
 * every point written must be there afterwards, counted exactly per run.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/core/config.js';
import { openContext } from '../src/server/context.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = path.join(ROOT, 'src/cli/entry.ts');

/**
 * Runs per writer, and how each writes 4000 points per run: over HTTP in 40
 * batches of 100, directly in 400 batches of 10 (many short transactions, the
 * most lock traffic). Each logs one param per 100 points: 40 per run.
 */
const RUNS = 4;
const HTTP_BATCHES = 40;
const HTTP_POINTS = 100;
const DIRECT_BATCHES = 400;
const DIRECT_POINTS = 10;

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FLYWHEEL_') || k.startsWith('MLFLOW_')) delete env[k];
  return { ...env, ...extra };
}

function waitExit(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function collect(stream: NodeJS.ReadableStream | null): { text: string } {
  const out = { text: '' };
  stream?.on('data', (c: Buffer) => (out.text += c.toString()));
  return out;
}

/** Resolves when `pattern` appears in the collected output; rejects if the child exits first. */
function waitFor(child: ChildProcess, out: { text: string }, pattern: RegExp, err?: { text: string }): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(out.text);
      if (m) {
        child.stdout?.off('data', check);
        resolve(m);
      }
    };
    child.stdout?.on('data', check);
    check();
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before printing ${pattern}; output: ${out.text}${err ? `; stderr: ${err.text}` : ''}`)));
  });
}

/** The second writer: TrackingService on the same home, in its own process. */
const WRITER_SOURCE = `
import { createInterface } from 'node:readline';
import { resolveConfig } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/core/config.ts')).href)};
import { openContext } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/server/context.ts')).href)};

const [home, runs, batches, points] = process.argv.slice(2);
const ctx = await openContext(resolveConfig({ home }, {}), 'direct-writer');
const exp = await ctx.tracking.createExperiment({ name: 'direct-writer' });
const runIds = [];
for (let r = 0; r < Number(runs); r++) runIds.push((await ctx.tracking.createRun({ experimentId: exp.experimentId, runName: 'direct-' + r })).info.runId);
console.log('READY ' + JSON.stringify(runIds));
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;
lines.close();
process.stdin.destroy();
for (let b = 0; b < Number(batches); b++) {
  for (const runId of runIds) {
    const metrics = [];
    for (let j = 0; j < Number(points); j++) metrics.push({ key: 'loss', value: 1 / (1 + b * Number(points) + j), timestamp: Date.now(), step: b * Number(points) + j });
    const params = (b * Number(points)) % 100 === 0 ? [{ key: 'p' + (b * Number(points)) / 100, value: String((b * Number(points)) / 100) }] : [];
    await ctx.tracking.logBatch(runId, { metrics, params });
  }
  // A read-then-write transaction, the case that needs BEGIN IMMEDIATE.
  if (b % 100 === 0) await ctx.tracking.createExperiment({ name: 'direct-extra-' + b });
}
await ctx.close();
console.log('DONE');
`;

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* keep the text for the failure message */
  }
  return { status: res.status, json };
}

function cli(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ENTRY, '--home', home, ...args], { cwd: ROOT, env: cleanEnv() }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('two processes writing one embedded store', () => {
  let home: string;
  let server: ChildProcess;
  let serverOut: { text: string };
  let serverErr: { text: string };
  let baseUrl: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-concurrency-'));
    server = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--home', home, 'server', '--port', '0'], {
      cwd: ROOT,
      env: cleanEnv({ FLYWHEEL_LOG_LEVEL: 'warn' }),
    });
    serverOut = collect(server.stdout);
    serverErr = collect(server.stderr);
    baseUrl = (await waitFor(server, serverOut, /Flywheel listening on (http:\/\/\S+)/, serverErr))[1];
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await waitExit(server);
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('loses no write and fails no request', { timeout: 180_000 }, async () => {
    // HTTP side: an experiment and its runs, created through the server.
    const exp = await post(`${baseUrl}/api/2.0/mlflow/experiments/create`, { name: 'http-writer' });
    expect(exp.status).toBe(200);
    const experimentId = (exp.json as { experiment_id: string }).experiment_id;
    const httpRuns: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      const run = await post(`${baseUrl}/api/2.0/mlflow/runs/create`, { experiment_id: experimentId, run_name: `http-${r}` });
      expect(run.status).toBe(200);
      httpRuns.push((run.json as { run: { info: { run_id: string } } }).run.info.run_id);
    }

    // Direct side: its own process on the same home, started but held at the gate.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-writer-'));
    const script = path.join(dir, 'writer.mts');
    fs.writeFileSync(script, WRITER_SOURCE);
    const writer = spawn(process.execPath, ['--import', 'tsx', script, home, String(RUNS), String(DIRECT_BATCHES), String(DIRECT_POINTS)], { cwd: ROOT, env: cleanEnv() });
    const writerOut = collect(writer.stdout);
    const writerErr = collect(writer.stderr);
    const directRuns = JSON.parse((await waitFor(writer, writerOut, /^READY (.*)$/m, writerErr))[1]) as string[];

    // Go: the writer process, one HTTP loop per run, and CLI processes, all at once.
    writer.stdin!.end('go\n');
    const failures: string[] = [];
    const httpLoops = httpRuns.map(async (runId) => {
      for (let b = 0; b < HTTP_BATCHES; b++) {
        const metrics = Array.from({ length: HTTP_POINTS }, (_, j) => ({ key: 'loss', value: 1 / (1 + b * HTTP_POINTS + j), timestamp: Date.now(), step: b * HTTP_POINTS + j }));
        const res = await post(`${baseUrl}/api/2.0/mlflow/runs/log-batch`, { run_id: runId, metrics, params: [{ key: `p${b}`, value: String(b) }] });
        if (res.status !== 200) failures.push(`log-batch ${runId} #${b}: ${res.status} ${JSON.stringify(res.json)}`);
      }
    });
    const cliLoop = (async () => {
      for (let i = 0; i < 3; i++) {
        const r = await cli(home, ['experiments', 'create', `cli-${i}`]);
        if (r.code !== 0) failures.push(`cli experiments create cli-${i}: exit ${r.code} ${r.stderr}`);
      }
    })();
    const [writerCode] = await Promise.all([waitExit(writer), cliLoop, ...httpLoops]);
    fs.rmSync(dir, { recursive: true, force: true });

    expect(failures).toEqual([]);
    expect(writerErr.text).toBe('');
    expect(writerCode).toBe(0);
    expect(writerOut.text).toMatch(/^DONE$/m);
    expect(serverErr.text).not.toMatch(/SQLITE_BUSY|database is locked/i);

    // Every point and param is there: 4000 points per run (40 × 100 or 400 × 10), steps 0…3999, 40 params.
    const expectedSteps = Array.from({ length: 4000 }, (_, i) => i);
    const ctx = await openContext(resolveConfig({ home }, {}), 'test');
    try {
      for (const runId of [...httpRuns, ...directRuns]) {
        const history = await ctx.tracking.getMetricHistory(runId, 'loss');
        expect(history.items).toHaveLength(4000);
        expect(history.items.map((m) => m.step)).toEqual(expectedSteps);
        const run = await ctx.tracking.getRun(runId);
        expect(Object.keys(run.data.params)).toHaveLength(40);
        expect(run.data.params.p39).toBe('39');
        expect(run.data.metrics).toEqual([{ key: 'loss', value: 1 / 4000, timestamp: expect.any(Number), step: 3999 }]);
      }
      const names = (await ctx.tracking.searchExperiments({})).items.map((e) => e.name).sort();
      expect(names).toEqual(['Default', 'cli-0', 'cli-1', 'cli-2', 'direct-extra-0', 'direct-extra-100', 'direct-extra-200', 'direct-extra-300', 'direct-writer', 'http-writer']);
    } finally {
      await ctx.close();
    }

    server.kill('SIGTERM');
    expect(await waitExit(server)).toBe(0);
  });
});
