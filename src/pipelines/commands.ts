/**
 * `flywheel run PIPELINE [--file flywheel.yaml] [--param k=v]... [--force]
 * [--json]` and `flywheel pipelines ls|runs|show|resume`, on the local store
 * and engine (--home/--db). `run` prints a line per step as it finishes
 * (status and duration), then a summary; it exits 1 when the pipeline did not
 * succeed and 2 for bad input (through FlywheelError). The project root —
 * where commands run and sources are read — is the YAML file's directory.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CommandExit } from '../cli/errors.js';
import { formatDuration, print, renderTable, toJson } from '../cli/output.js';
import os from 'node:os';
import { configFrom } from '../cli/session.js';
import { invalidArgument } from '../core/errors.js';
import type { GlobalOptions } from '../cli/session.js';
import type { ExecutionEvent } from './events.js';
import { PipelineRunner, type PipelineRunReport } from './runner.js';
import { loadPipelinesYaml } from './yaml.js';
import type { PipelineDefinition } from './types.js';

function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected k=v, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function findPipeline(file: string, name: string): PipelineDefinition {
  const defs = loadPipelinesYaml(file);
  const def = defs.find((d) => d.name === name);
  if (!def) throw invalidArgument(`${file} has no pipeline "${name}" (pipelines: ${defs.map((d) => d.name).join(', ') || 'none'})`);
  return def;
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
async function withRunner<T>(globals: GlobalOptions, root: string, fn: (runner: PipelineRunner) => Promise<T>): Promise<T> {
  const { openContext } = await import('../server/context.js');
  const ctx = await openContext(configFrom(globals), process.env.USER ?? os.userInfo().username ?? 'cli');
  try {
    return await fn(new PipelineRunner({ store: ctx.store, tracking: ctx.tracking, data: ctx.data, engine: ctx.engine, artifacts: ctx.artifacts, projectRoot: root }));
  } finally {
    await ctx.close();
  }
}

async function execute(globals: GlobalOptions, json: boolean, fn: (runner: PipelineRunner) => Promise<PipelineRunReport>, root: string): Promise<void> {
  const report = await withRunner(globals, root, fn);
  if (json) print(toJson({ run: report.run, steps: report.steps }));
  else print(summary(report));
  if (report.run.status !== 'SUCCEEDED') throw new CommandExit(1);
}

export function registerPipelineCommands(program: Command): Command {
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('run')
    .description('run a pipeline from flywheel.yaml')
    .argument('<pipeline>')
    .option('-f, --file <file>', 'pipeline file', 'flywheel.yaml')
    .option('-p, --param <k=v>', 'param override (repeatable; NAME or STEP.NAME)', collectParam, {})
    .option('--force', 'ignore the cache')
    .option('--json', 'print the run as JSON')
    .action(async (name: string, o: { file: string; param: Record<string, string>; force?: boolean; json?: boolean }) => {
      const def = findPipeline(o.file, name);
      const onEvent = o.json ? undefined : (e: ExecutionEvent) => {
        const line = eventLine(e);
        if (line) print(line + '\n');
      };
      await execute(globals(), o.json === true, (r) => r.run(def, { params: o.param, force: o.force === true, onEvent }), path.dirname(path.resolve(o.file)));
    });

  const group = program.command('pipelines').description('pipelines and their runs');
  group
    .command('ls')
    .description('pipelines in flywheel.yaml')
    .option('-f, --file <file>', 'pipeline file', 'flywheel.yaml')
    .action((o: { file: string }) => {
      const defs = loadPipelinesYaml(o.file);
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
      print(`${shown.run.pipeline} ${shown.run.status} (run ${shown.run.id}${shown.run.resumedFrom ? `, resumed from ${shown.run.resumedFrom}` : ''})\n`);
      print(renderTable(
        [{ header: 'STEP' }, { header: 'STATUS' }, { header: 'ATTEMPTS', align: 'right' }, { header: 'DURATION', align: 'right' }, { header: 'ERROR', maxWidth: 60 }],
        shown.steps.map((s) => [s.step, s.status, String(s.attempts), s.startedTime !== null && s.endedTime !== null ? formatDuration(s.endedTime - s.startedTime) : '', s.error ?? '']),
      ));
    });
  group
    .command('resume')
    .description('rerun a failed pipeline run from its failed step (YAML pipelines; commands run in --root)')
    .argument('<run>')
    .option('--root <dir>', 'project root the steps run in', '.')
    .option('--json', 'print the run as JSON')
    .action(async (id: string, o: { root: string; json?: boolean }) => {
      await execute(globals(), o.json === true, (r) => r.resume(id, { onEvent: o.json ? undefined : (e) => { const l = eventLine(e); if (l) print(l + '\n'); } }), path.resolve(o.root));
    });
  return group;
}
