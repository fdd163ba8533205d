/**
 * The pipelines CLI against a temp --home: `flywheel run` exit codes (0
 * succeeded, 1 failed, 2 bad input), its plain line per step off a terminal
 * and its live frames on one, `pipelines ls`/`run` on a TS module, `pipelines
 * cancel` (a run of another "process" — a PipelineRunner on the same store —
 * an ended run, an unknown run) and `pipelines logs` (one step, every step,
 * --follow on an ended run, unknown run or step).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { buildProgram } from '../cli/main.js';
import { resolveConfig } from '../core/config.js';
import { openContext } from '../server/context.js';
import { requestRunCancel } from './host.js';
import { PipelineRunner } from './runner.js';
import { cancelRequestedTime, listStepRuns } from './store.js';
import { parsePipelinesYaml } from './yaml.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-run-cli-'));
const home = path.join(dir, '.flywheel');
const file = path.join(dir, 'flywheel.yaml');
fs.writeFileSync(path.join(dir, 'raw.csv'), 'id\n1\n2\n');
fs.writeFileSync(
  file,
  `pipelines:
  ok:
    steps:
      ingest: { uses: ingest, with: { source: raw.csv }, outputs: [raw] }
      copy: { cmd: 'echo copying; cp "$FW_INPUT_RAW" "$FW_OUTPUT_COPY"', inputs: { raw: ingest.raw }, outputs: [copy] }
  broken:
    steps:
      fail: { cmd: 'echo about to fail; echo no such file >&2; exit 3', cache: false }
  slow:
    steps:
      nap: { cmd: 'sleep 30', cache: false }
  gated:
    steps:
      first: { cmd: 'echo one', cache: false }
      second: { cmd: 'test -f ok.txt', cache: false }
`,
);
const DEFINE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'define.ts');
const moduleFile = path.join(dir, 'pipelines.ts');
fs.writeFileSync(
  moduleFile,
  `import { definePipeline } from ${JSON.stringify(DEFINE)};
export const hello = definePipeline('hello_ts', ({ step }) => {
  step('greet', { cmd: 'echo hello from a module', cache: false });
});
export const other = definePipeline('other_ts', ({ step }) => {
  step('a', { cmd: 'true' });
  step('b', { cmd: 'true' });
});
`,
);

const cli = (...args: string[]): Promise<CliResult> => runCli(buildProgram(), ['--home', home, ...args]);

/** Runs a pipeline with --json and returns its run id. */
async function runJson(name: string): Promise<{ code: number; id: string }> {
  const r = await cli('run', name, '--file', file, '--json');
  return { code: r.code, id: (JSON.parse(r.stdout) as { run: { id: string } }).run.id };
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('flywheel run', () => {
  it('exits 0 when the pipeline succeeded, printing a line per step and a summary off a terminal', async () => {
    const r = await cli('run', 'ok', '--file', file);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['SUCCEEDED ingest', 'SUCCEEDED copy', 'pipeline ok']);
    expect(lines[2]).toMatch(/^pipeline ok SUCCEEDED in \S+ \(run \S+\)$/);
    expect(r.stdout).not.toContain('\x1b[');
  }, 60_000);
  it('exits 1 when a step failed', async () => {
    expect((await cli('run', 'broken', '--file', file)).code).toBe(1);
  }, 60_000);
  it('exits 2 for an unknown pipeline or an unknown param', async () => {
    expect((await cli('run', 'nope', '--file', file)).code).toBe(2);
    expect((await cli('run', 'ok', '--file', file, '--param', 'k=1')).code).toBe(2);
  }, 60_000);
  it('draws no progress frame on a terminal for input refused before any step ran', async () => {
    const desc = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      expect(await cli('run', 'ok', '--file', file, '--param', 'k=1')).toMatchObject({ code: 2, stdout: '' });
    } finally {
      if (desc) Object.defineProperty(process.stdout, 'isTTY', desc);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  }, 60_000);

  it('redraws a frame per step in place on a terminal, leaving the final frame', async () => {
    const desc = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    let r: CliResult;
    try {
      r = await cli('run', 'ok', '--file', file, '--force');
    } finally {
      if (desc) Object.defineProperty(process.stdout, 'isTTY', desc);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    expect(r.code).toBe(0);
    // The first frame (at the first event) lists both steps; later frames move the cursor up over the last one.
    expect(r.stdout).toMatch(/^\r\x1b\[2Kpipeline ok  RUNNING  0\/2 steps ended  \S+\n\x1b\[2K {2}RUNNING {4}ingest +\S+\n\x1b\[2K {2}PENDING {4}copy\n\x1b\[J/);
    expect(r.stdout).toContain('\r\x1b[3A');
    const finalFrame = r.stdout.slice(r.stdout.lastIndexOf('\r\x1b[3A'));
    expect(finalFrame).toMatch(/pipeline ok  SUCCEEDED  2\/2 steps ended/);
    expect(finalFrame).toMatch(/ {2}SUCCEEDED {2}ingest/);
    expect(finalFrame).toMatch(/ {2}SUCCEEDED {2}copy/);
    expect(finalFrame).toMatch(/pipeline ok SUCCEEDED in \S+ \(run \S+\)\n$/);
  }, 60_000);
});

describe('flywheel pipelines resume', () => {
  it('reruns the failed step of a run, a line per step, exit 0 once it succeeds', async () => {
    const failed = await runJson('gated');
    expect(failed.code).toBe(1);
    fs.writeFileSync(path.join(dir, 'ok.txt'), 'ok');
    const r = await cli('pipelines', 'resume', failed.id, '--root', dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['SUCCEEDED  first  (resumed)', expect.stringMatching(/^SUCCEEDED {2}second {2}\S+$/)]);
    expect(lines[2]).toMatch(/^pipeline gated SUCCEEDED in /);
  }, 60_000);
});

describe('a TS/JS pipeline module', () => {
  it('is listed by pipelines ls and run by flywheel run', async () => {
    const ls = await cli('pipelines', 'ls', '--file', moduleFile);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toBe('PIPELINE  STEPS\nhello_ts      1\nother_ts      2\n');
    const run = await cli('run', 'hello_ts', '--file', moduleFile, '--json');
    expect(run.code).toBe(0);
    const id = (JSON.parse(run.stdout) as { run: { id: string; status: string } }).run.id;
    const logs = await cli('pipelines', 'logs', id, 'greet');
    expect(logs).toEqual({ code: 0, stdout: 'hello from a module\n', stderr: '' });
    expect((await cli('run', 'nope', '--file', moduleFile)).stderr).toContain('has no pipeline "nope" (pipelines: hello_ts, other_ts)');
  }, 60_000);

  it('runs locally on SQLite; --distributed needs PostgreSQL and says so', async () => {
    const run = await cli('run', 'hello_ts', '--file', moduleFile, '--json');
    expect((JSON.parse(run.stdout) as { run: { mode: string } }).run.mode).toBe('local');
    const distributed = await cli('run', 'hello_ts', '--file', moduleFile, '--distributed');
    expect(distributed).toMatchObject({ code: 2, stderr: expect.stringContaining('need the PostgreSQL store (FLYWHEEL_DB=postgres://…)') });
    expect(await cli('run', 'hello_ts', '--file', moduleFile, '--distributed', '--local')).toMatchObject({ code: 2, stderr: expect.stringContaining('give --local or --distributed, not both') });
  }, 60_000);
});

describe('flywheel pipelines cancel', () => {
  it('asks the process running a run to stop it, through the run record', async () => {
    const ctx = await openContext(resolveConfig({ home }, {}), 'tester');
    try {
      const [slow] = parsePipelinesYaml(fs.readFileSync(file, 'utf8'), file).filter((d) => d.name === 'slow');
      const runner = new PipelineRunner({ store: ctx.store, tracking: ctx.tracking, data: ctx.data, engine: ctx.engine, projectRoot: dir });
      let id = '';
      const running = runner.run(slow, { onStarted: (runId) => (id = runId) });
      while (!(id && (await listStepRuns(ctx.store.db, id)).some((s) => s.status === 'RUNNING'))) await new Promise((r) => setTimeout(r, 20));
      expect(await cancelRequestedTime(ctx.store.db, id)).toBeNull();

      const r = await cli('pipelines', 'cancel', id);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`cancellation of pipeline run ${id} (slow) requested: the process running it stops its steps and ends it CANCELLED within seconds\n`);
      expect(await cancelRequestedTime(ctx.store.db, id)).toEqual(expect.any(Number));
      // The running process sees the request and stops the run.
      const report = await running;
      expect(report.run.status).toBe('CANCELLED');

      const again = await cli('pipelines', 'cancel', id);
      expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining(`pipeline run ${id} already ended (CANCELLED)`) });
      await expect(requestRunCancel(ctx.store.db, id)).rejects.toMatchObject({ code: 'FW_INVALID_STATE' });
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('refuses an unknown run with FW_NOT_FOUND and a finished one with its status', async () => {
    const unknown = await cli('pipelines', 'cancel', 'no-such-run');
    expect(unknown).toMatchObject({ code: 2, stderr: 'flywheel: No pipeline run with id no-such-run' });
    const { id } = await runJson('broken');
    const ended = await cli('pipelines', 'cancel', id);
    expect(ended.code).toBe(2);
    expect(ended.stderr).toContain(`pipeline run ${id} already ended (FAILED)`);
  }, 60_000);
});

describe('flywheel pipelines logs', () => {
  it("prints one step's log, or every step's under a header", async () => {
    const { code, id } = await runJson('broken');
    expect(code).toBe(1);
    const one = await cli('pipelines', 'logs', id, 'fail');
    expect(one).toEqual({ code: 0, stdout: 'about to fail\nno such file\n', stderr: '' });
    const all = await cli('pipelines', 'logs', id);
    expect(all.stdout).toBe('==> fail (FAILED) <==\nabout to fail\nno such file\n');
  }, 60_000);

  it('with --follow on an ended run prints the logs and exits 0', async () => {
    const ok = await runJson('ok');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const r = await cli('pipelines', 'logs', ok.id, '--follow');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^==> ingest <==\ningested raw\.csv into raw@\d+ \(2 rows\)\n\n==> copy <==\ncopying\n$/);
    } finally {
      stderr.mockRestore();
    }
  }, 60_000);

  it('refuses an unknown run or step (exit 2)', async () => {
    expect((await cli('pipelines', 'logs', 'no-such-run')).code).toBe(2);
    const { id } = await runJson('broken');
    const r = await cli('pipelines', 'logs', id, 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no step "nope" (steps: fail)');
  }, 60_000);
});
