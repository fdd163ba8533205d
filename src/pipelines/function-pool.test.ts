/**
 * The function pool against real child processes running the steps of
 * test/fixtures/pipelines/functions.ts (pipeline `fn_pool`): results and
 * `ctx.run` calls crossing the process boundary, the step log, reuse of one
 * child, errors (thrown in the child, from the parent's side of a run call,
 * an unknown step), a child exiting mid-step, abort (cooperative, and ignored
 * until the grace period kills the child), waiting for a free child, and
 * `close()` leaving no process behind.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { invalidArgument } from '../core/errors.js';
import { FunctionPool, type FunctionCall, type StepCallContext } from './function-pool.js';
import type { StepRun } from './types.js';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/pipelines/functions.ts');

let tmp: string;
const pools: FunctionPool[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-fnpool-test-'));
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function newPool(size: number, abortGraceMs?: number): FunctionPool {
  const pool = new FunctionPool({ size, ...(abortGraceMs !== undefined ? { abortGraceMs } : {}) });
  pools.push(pool);
  return pool;
}

let seq = 0;
function call(step: string, context: Partial<StepCallContext> = {}, pipeline = 'fn_pool'): FunctionCall {
  const workDir = path.join(tmp, `step-${++seq}`);
  return { module: MODULE, pipeline, step, context: { runId: `run-${seq}`, params: {}, inputs: {}, workDir, logFile: path.join(workDir, 'step.log'), ...context } };
}

/** A StepRun that records calls; `started` resolves on the first setTag (the fixture steps tag their pid first). */
function recorder(fail?: Error) {
  const calls: unknown[][] = [];
  let onStart!: (pid: number) => void;
  const started = new Promise<number>((resolve) => (onStart = resolve));
  const record = async (...args: unknown[]) => {
    if (fail) throw fail;
    calls.push(args);
  };
  const run: StepRun = {
    id: 'run',
    logMetric: (key, value, step) => record('logMetric', key, value, step),
    logParam: (key, value) => record('logParam', key, value),
    setTag: async (key, value) => {
      await record('setTag', key, value);
      if (key === 'pid') onStart(Number(value));
    },
    logArtifact: async (file, artifactPath) => {
      await record('logArtifact', file, artifactPath);
      return path.basename(file);
    },
  };
  return { run, calls, started };
}

const signal = () => new AbortController().signal;

/** Runs the fixture step `pid` and returns the pid of the process that ran it. */
async function pidOf(pool: FunctionPool): Promise<number> {
  const r = recorder();
  await pool.run(call('pid'), { signal: signal(), run: r.run });
  return r.started;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Node processes whose parent is this process (ps lists itself too: left out). */
function childProcesses(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && comm !== 'ps')
    .map(([pid]) => Number(pid));
}

describe('FunctionPool', () => {
  it('runs a step in another process: its result, its run calls and its log come back', async () => {
    const pool = newPool(1);
    const r = recorder();
    const c = call('logs', { params: { value: 2.5 }, inputs: { data: { ref: 'd@1', versionId: 'v1', parquetPath: '/data/d.parquet' } } });
    const result = await pool.run(c, { signal: signal(), run: r.run });
    expect(result).toEqual({ out: { parquetFile: '/data/d.parquet.copy' } });
    expect(r.calls).toEqual([
      ['logMetric', 'm', 2.5, 7],
      ['logParam', 'p', 'v'],
      ['setTag', 't', 'u'],
    ]);
    expect(fs.readFileSync(c.context.logFile, 'utf8')).toBe('hello from logs\nsecond line\n');
    expect(pool.pids()).toHaveLength(1);
    expect(pool.pids()[0]).not.toBe(process.pid);
  });

  it('reuses one child for steps that run one after another', async () => {
    const pool = newPool(2);
    const pids = [await pidOf(pool), await pidOf(pool), await pidOf(pool)];
    expect(new Set(pids).size).toBe(1);
    expect(pids[0]).not.toBe(process.pid);
    expect(pool.pids()).toEqual([pids[0]]);
  });

  it('fails a step with the message it threw; the child stays for the next step', async () => {
    const pool = newPool(1);
    const before = await pidOf(pool);
    await expect(pool.run(call('throws'), { signal: signal(), run: recorder().run })).rejects.toThrow('thrown in the child');
    expect(await pidOf(pool)).toBe(before);
  });

  it('names an unknown pipeline or step with FW_INVALID_ARGUMENT', async () => {
    const pool = newPool(1);
    await expect(pool.run(call('nope'), { signal: signal(), run: recorder().run })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('no function step "nope"') });
    await expect(pool.run(call('noop', {}, 'no_such_pipeline'), { signal: signal(), run: recorder().run })).rejects.toMatchObject({
      code: 'FW_INVALID_ARGUMENT',
      message: expect.stringContaining('exports no pipeline "no_such_pipeline"'),
    });
  });

  it('a run call the parent cannot apply fails the step with that error', async () => {
    const pool = newPool(1);
    await expect(pool.run(call('metric'), { signal: signal(), run: recorder(invalidArgument('metric refused')).run })).rejects.toMatchObject({
      code: 'FW_INVALID_ARGUMENT',
      message: 'metric refused',
    });
  });

  it('a child that exits mid-step fails the step with its exit code, and is replaced', async () => {
    const pool = newPool(1);
    const first = await pidOf(pool);
    await expect(pool.run(call('exits'), { signal: signal(), run: recorder().run })).rejects.toThrow(`step "exits": its worker process (pid ${first}) exited with code 3 while the step ran`);
    const second = await pidOf(pool);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(pool.pids()).toEqual([second]);
  });

  it('a step that ignores its abort is killed after the grace period and fails with the abort reason', async () => {
    const pool = newPool(1, 100);
    const ac = new AbortController();
    const r = recorder();
    const running = pool.run(call('hangs'), { signal: ac.signal, run: r.run });
    const pid = await r.started;
    ac.abort(new Error('step "hangs" timed out after 0.3s'));
    await expect(running).rejects.toThrow('step "hangs" timed out after 0.3s');
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
    const next = await pidOf(pool);
    expect(next).not.toBe(pid);
  });

  it('a step that honours its abort ends with the reason, and its child stays', async () => {
    const pool = newPool(1);
    const ac = new AbortController();
    const r = recorder();
    const running = pool.run(call('cooperates'), { signal: ac.signal, run: r.run });
    const pid = await r.started;
    ac.abort(new Error('stop now'));
    await expect(running).rejects.toThrow('stop now');
    expect(await pidOf(pool)).toBe(pid);
  });

  it('a step waits for a free child; a killed one is replaced for it', async () => {
    const pool = newPool(1, 100);
    const ac = new AbortController();
    const r = recorder();
    const hanging = pool.run(call('hangs'), { signal: ac.signal, run: r.run });
    const pid = await r.started;
    const waiting = recorder();
    const queued = pool.run(call('pid'), { signal: signal(), run: waiting.run });
    ac.abort(new Error('cancelled'));
    await expect(hanging).rejects.toThrow('cancelled');
    await queued;
    expect(await waiting.started).not.toBe(pid);
  });

  it('close() ends every child and refuses new steps', async () => {
    const pool = newPool(2);
    const a = recorder();
    const b = recorder();
    await Promise.all([pool.run(call('pid'), { signal: signal(), run: a.run }), pool.run(call('pid'), { signal: signal(), run: b.run })]);
    const pids = [await a.started, await b.started];
    expect(new Set(pids).size).toBe(2);
    expect(childProcesses().sort()).toEqual([...pids].sort());
    await pool.close();
    expect(pids.filter(alive)).toEqual([]);
    expect(childProcesses()).toEqual([]);
    expect(pool.pids()).toEqual([]);
    await expect(pool.run(call('noop'), { signal: signal(), run: recorder().run })).rejects.toMatchObject({ code: 'FW_INVALID_STATE' });
  });

  it('close() during a step kills its child and fails the step', async () => {
    const pool = newPool(1);
    const r = recorder();
    const running = pool.run(call('hangs'), { signal: signal(), run: r.run });
    const pid = await r.started;
    await pool.close();
    await expect(running).rejects.toThrow('the function pool was closed while step "hangs" ran');
    expect(alive(pid)).toBe(false);
    expect(childProcesses()).toEqual([]);
  });
});
