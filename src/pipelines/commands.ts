/**
 * `flywheel run PIPELINE [--file flywheel.yaml|pipelines.ts] [--param k=v]...
 * [--force] [--json]` and `flywheel pipelines ls|runs|show|resume|cancel|logs`,
 * on the local store and engine (--home/--db). The pipeline file is YAML or a
 * TS/JS module exporting `definePipeline(…)` results (load.ts).
 *
 * `run` and `resume` show live progress when stdout is a terminal (a line per
 * step redrawn in place, progress.ts), else a plain line per finished step,
 * then a summary; they exit 1 when the pipeline did not succeed and 2 for bad
 * input (through FlywheelError). The project root — where commands run and
 * sources are read — is the pipeline file's directory. With the PostgreSQL
 * store they queue the steps for `flywheel worker` processes (dispatcher.ts;
 * `--local` runs them here), with SQLite they run here (`--distributed`
 * refuses). Ctrl-C cancels the run (it ends CANCELLED); a second one exits.
 *
 * `cancel` asks the process running a run (another terminal's `flywheel run`,
 * a server) to stop it, through the run's record; `logs` prints or follows
 * step logs (logs.ts). Both open only the store and the artifact store.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CommandExit } from '../cli/errors.js';
import { formatDuration, formatTime, print, renderTable, toJson } from '../cli/output.js';
import os from 'node:os';
import { configFrom } from '../cli/session.js';
import { isPostgresUrl, runsDistributed } from '../core/config.js';
import { invalidArgument } from '../core/errors.js';
import type { AppContext } from '../server/context.js';
import type { GlobalOptions } from '../cli/session.js';
import type { EventListener, ExecutionEvent } from './events.js';
import { requestRunCancel } from './host.js';
import { findPipeline, isPipelineModule, loadPipelineFile } from './load.js';
import { followLogs, printLogs, type LogDeps, type LogOutput } from './logs.js';
import { LiveProgress } from './progress.js';
import { PipelineRunner, type PipelineRunReport, type RunOptions } from './runner.js';
import { getPipelineRun } from './store.js';
import type { PipelineDefinition } from './types.js';

function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected k=v, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** One line per finished step. */
export function eventLine(e: ExecutionEvent): string | undefined {
  switch (e.type) {
    case 'step.succeeded':
      return `${e.cached ? 'CACHED   ' : 'SUCCEEDED'}  ${e.step}  ${formatDuration(e.durationMs)}`;
    case 'step.failed':
      return `FAILED     ${e.step}  ${formatDuration(e.durationMs)}  ${e.error.split('\n')[0]}`;
    case 'step.retrying':
      return `RETRYING   ${e.step}  attempt ${e.attempt} failed: ${e.error.split('\n')[0]}`;
    case 'step.skipped':
      return `${e.status.padEnd(9)}  ${e.step}  (${e.reason})`;
    case 'step.cancelled':
      return `CANCELLED  ${e.step}`;
    default:
      return undefined;
  }
}

function summary(report: PipelineRunReport): string {
  const r = report.run;
  const dur = r.endedTime !== null ? formatDuration(r.endedTime - r.startedTime) : '';
  return `pipeline ${r.pipeline} ${r.status} in ${dur} (run ${r.id})${r.error ? `\n${r.error}` : ''}\n`;
}

/** Opens the local store, artifacts and engine (--home/--db) for one command and always closes them. */
async function withRunner<T>(globals: GlobalOptions, root: string, fn: (runner: PipelineRunner, ctx: AppContext) => Promise<T>): Promise<T> {
  const { openContext } = await import('../server/context.js');
  const ctx = await openContext(configFrom(globals), process.env.USER ?? os.userInfo().username ?? 'cli');
  try {
    return await fn(new PipelineRunner({ store: ctx.store, tracking: ctx.tracking, data: ctx.data, engine: ctx.engine, artifacts: ctx.artifacts, projectRoot: root }), ctx);
  } finally {
    await ctx.close();
  }
}

/** Opens only the store and the artifact store (no engine): enough for `cancel` and `logs`. */
async function withStore<T>(globals: GlobalOptions, fn: (deps: LogDeps) => Promise<T>): Promise<T> {
  const [{ openStore }, { openArtifactStore }, { TrackingService }] = await Promise.all([
    import('../store/index.js'),
    import('../artifacts/index.js'),
    import('../tracking/service.js'),
  ]);
  const config = configFrom(globals);
  const store = await openStore(config.db);
  try {
    return await fn({ db: store.db, tracking: new TrackingService(store, { actor: 'cli', artifacts: openArtifactStore(config.artifacts) }) });
  } finally {
    await store.close();
  }
}

/** How a run shows its steps while it goes: nothing (--json), live frames (a terminal) or a line per finished step. */
interface RunProgress {
  onEvent?: EventListener;
  stop(): void;
}

function startProgress(json: boolean, pipeline: string, steps: readonly string[]): RunProgress {
  if (json) return { stop: () => undefined };
  if (process.stdout.isTTY && process.env.TERM !== 'dumb') {
    const out = process.stdout;
    // Drawn from the first event on: input the runner refuses before any step starts leaves no frame behind.
    let live: LiveProgress | undefined;
    return {
      onEvent: (e) => {
        if (live) return live.onEvent(e);
        live = new LiveProgress({ write: (t) => out.write(t), pipeline, steps, size: () => ({ columns: out.columns, rows: out.rows }) });
        live.onEvent(e);
        live.start();
      },
      stop: () => live?.stop(),
    };
  }
  return {
    onEvent: (e) => {
      const line = eventLine(e);
      if (line) print(line + '\n');
    },
    stop: () => undefined,
  };
}

/** Where `run` and `resume` execute steps: here, or on `flywheel worker` processes through the PostgreSQL queue. */
export type ExecutorChoice = 'auto' | 'local' | 'distributed';

/** What `execute` hands the command besides the runner: progress, the run options for the chosen executor and Ctrl-C. */
interface Execution {
  progress: (pipeline: string, steps: readonly string[]) => EventListener | undefined;
  options: Pick<RunOptions, 'dispatcher' | 'signal'>;
}

async function execute(
  globals: GlobalOptions,
  json: boolean,
  root: string,
  executor: ExecutorChoice,
  fn: (runner: PipelineRunner, execution: Execution) => Promise<PipelineRunReport>,
): Promise<void> {
  let shown: RunProgress | undefined;
  let report: PipelineRunReport;
  // Ctrl-C cancels the run (its steps are stopped and it ends CANCELLED); a second one exits at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('flywheel: cancelling the run (Ctrl-C again to exit at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    report = await withRunner(globals, root, async (r, ctx) => {
      const config = configFrom(globals);
      const distributed = runsDistributed(config, executor === 'auto' ? config.pipelineExecutor : executor);
      if (distributed && !isPostgresUrl(config.db)) {
        throw invalidArgument('distributed runs (--distributed, FLYWHEEL_PIPELINE_EXECUTOR=distributed) need the PostgreSQL store (FLYWHEEL_DB=postgres://…), where `flywheel worker` processes take the steps');
      }
      const { QueueDispatcher } = await import('./dispatcher.js');
      const dispatcher = distributed ? await QueueDispatcher.open({ store: ctx.store, tracking: ctx.tracking, url: config.db }) : undefined;
      try {
        return await fn(r, { progress: (pipeline, steps) => (shown = startProgress(json, pipeline, steps)).onEvent, options: { dispatcher, signal: interrupt.signal } });
      } finally {
        await dispatcher?.close();
      }
    });
  } finally {
    process.off('SIGINT', onSigint);
    shown?.stop();
  }
  if (json) print(toJson({ run: report.run, steps: report.steps }));
  else print(summary(report));
  if (report.run.status !== 'SUCCEEDED') throw new CommandExit(1);
}

function executorChoice(o: { local?: boolean; distributed?: boolean }): ExecutorChoice {
  if (o.local && o.distributed) throw invalidArgument('give --local or --distributed, not both');
  return o.local ? 'local' : o.distributed ? 'distributed' : 'auto';
}

/** Step names of a stored definition snapshot (for the progress view). */
function snapshotSteps(definition: string): string[] {
  try {
    return ((JSON.parse(definition) as { steps?: { name: string }[] }).steps ?? []).map((s) => s.name);
  } catch {
    return [];
  }
}

const cliLogOutput: LogOutput = {
  // Log bytes go out as they are (print would add newlines).
  write: (chunk) => void process.stdout.write(chunk),
  notice: (message) => void process.stderr.write(`flywheel: ${message}\n`),
};

export function registerPipelineCommands(program: Command): Command {
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('run')
    .description('run a pipeline from flywheel.yaml or a TS/JS pipeline module')
    .argument('<pipeline>')
    .option('-f, --file <file>', 'pipeline file: YAML, or a .ts/.js module exporting definePipeline results', 'flywheel.yaml')
    .option('-p, --param <k=v>', 'param override (repeatable; NAME or STEP.NAME)', collectParam, {})
    .option('--force', 'ignore the cache')
    .option('--json', 'print the run as JSON')
    .option('--local', 'run the steps in this process (the default with the SQLite store)')
    .option('--distributed', 'queue the steps for `flywheel worker` processes (the default with the PostgreSQL store)')
    .action(async (name: string, o: { file: string; param: Record<string, string>; force?: boolean; json?: boolean; local?: boolean; distributed?: boolean }) => {
      const def = await findPipeline(o.file, name);
      await execute(globals(), o.json === true, path.dirname(path.resolve(o.file)), executorChoice(o), (r, x) =>
        r.run(def, { params: o.param, force: o.force === true, onEvent: x.progress(def.name, def.steps.map((s) => s.name)), ...x.options }),
      );
    });

  const group = program.command('pipelines').description('pipelines and their runs');
  group
    .command('ls')
    .description('pipelines in flywheel.yaml or a TS/JS pipeline module')
    .option('-f, --file <file>', 'pipeline file', 'flywheel.yaml')
    .action(async (o: { file: string }) => {
      const defs = await loadPipelineFile(o.file);
      print(renderTable([{ header: 'PIPELINE' }, { header: 'STEPS', align: 'right' }], defs.map((d) => [d.name, String(d.steps.length)])));
    });
  group
    .command('runs')
    .description('recent pipeline runs')
    .argument('[pipeline]')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const runs = await withRunner(globals(), process.cwd(), (r) => r.runs(name));
      if (o.json) return print(toJson(runs));
      print(renderTable(
        [{ header: 'RUN' }, { header: 'PIPELINE' }, { header: 'STATUS' }, { header: 'DURATION', align: 'right' }],
        runs.map((r) => [r.id, r.pipeline, r.status, r.endedTime !== null ? formatDuration(r.endedTime - r.startedTime) : '']),
      ));
    });
  group
    .command('show')
    .description('a pipeline run and its steps')
    .argument('<run>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const shown = await withRunner(globals(), process.cwd(), (r) => r.show(id));
      if (o.json) return print(toJson(shown));
      const cancel = shown.run.status === 'RUNNING' && shown.run.cancelRequestedTime ? `, cancel requested at ${formatTime(shown.run.cancelRequestedTime)}` : '';
      print(`${shown.run.pipeline} ${shown.run.status} (run ${shown.run.id}${shown.run.resumedFrom ? `, resumed from ${shown.run.resumedFrom}` : ''}${cancel})\n`);
      print(renderTable(
        [{ header: 'STEP' }, { header: 'STATUS' }, { header: 'ATTEMPTS', align: 'right' }, { header: 'DURATION', align: 'right' }, { header: 'ERROR', maxWidth: 60 }],
        shown.steps.map((s) => [s.step, s.status, String(s.attempts), s.startedTime !== null && s.endedTime !== null ? formatDuration(s.endedTime - s.startedTime) : '', s.error ?? '']),
      ));
    });
  group
    .command('resume')
    .description('rerun a failed or cancelled pipeline run from its failed steps')
    .argument('<run>')
    .option('-f, --file <file>', 'the pipeline file the run came from (needed for TS/JS pipelines with function steps)')
    .option('--root <dir>', "project root the steps run in (default: the file's directory, else .)")
    .option('--json', 'print the run as JSON')
    .option('--local', 'run the steps in this process (the default with the SQLite store)')
    .option('--distributed', 'queue the steps for `flywheel worker` processes (the default with the PostgreSQL store)')
    .action(async (id: string, o: { file?: string; root?: string; json?: boolean; local?: boolean; distributed?: boolean }) => {
      const root = path.resolve(o.root ?? (o.file ? path.dirname(path.resolve(o.file)) : '.'));
      await execute(globals(), o.json === true, root, executorChoice(o), async (r, x) => {
        const { run } = await r.show(id);
        let definition: PipelineDefinition | undefined;
        // A module's functions cannot be stored: they come from the file again (the runner checks the snapshot hash).
        if (o.file && isPipelineModule(o.file)) definition = await findPipeline(o.file, run.pipeline);
        return r.resume(id, { definition, onEvent: x.progress(run.pipeline, snapshotSteps(run.definition)), ...x.options });
      });
    });
  group
    .command('cancel')
    .description('cancel a pipeline run in progress, in whichever process runs it')
    .argument('<run>')
    .action(async (id: string) => {
      await withStore(globals(), async ({ db }) => {
        await requestRunCancel(db, id);
        const run = await getPipelineRun(db, id);
        print(`cancellation of pipeline run ${id} (${run?.pipeline ?? '?'}) requested: the process running it stops its steps and ends it CANCELLED within seconds\n`);
      });
    });
  group
    .command('logs')
    .description("a step's log (every step's, each under a header, without STEP)")
    .argument('<run>')
    .argument('[step]')
    .option('--follow', 'keep printing new output until the step (or, without STEP, the run) ends')
    .action(async (id: string, step: string | undefined, o: { follow?: boolean }) => {
      await withStore(globals(), (deps) => (o.follow ? followLogs(deps, id, step, cliLogOutput) : printLogs(deps, id, step, cliLogOutput)));
    });
  return group;
}
