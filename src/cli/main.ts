/**
 * The `flywheel` command line: declares the global options, registers each
 * command group, runs the one asked for, and turns the outcome into an exit
 * code. The only place in Flywheel that calls `process.exit`.
 */
import { Command } from 'commander';
import { FLYWHEEL_VERSION } from '../core/version.js';
import { describeFailure, EXIT_OK } from './errors.js';
import { registerExperimentCommands } from './commands/experiments.js';
import { registerRunCommands } from './commands/runs.js';
import { registerServerCommands } from './commands/server.js';
import { registerDataCommands } from '../data/commands.js';
import { registerDiffTransformCommands } from '../data/diff-transform-commands.js';
import { addWithSuiteCommand, registerQualityCommands, registerSuiteCommands } from '../quality/commands.js';
import { registerLineageCommands } from '../lineage/commands.js';
import { registerPipelineCommands } from '../pipelines/commands.js';
import { registerWorkerCommands } from '../pipelines/worker-commands.js';
import { registerEvaluateCommands } from '../evaluation/commands.js';
import { registerModelCommands } from '../registry/commands.js';
import { registerModelImportCommand } from '../models/commands.js';
import { registerTrainCommands } from '../models/train-commands.js';
import { registerServingCommands } from '../serving/commands.js';
import { registerMonitoringCommands } from '../monitoring/commands.js';
import { registerMonitorCommands } from '../monitoring/monitors/commands.js';

export function buildProgram(): Command {
  const program = new Command('flywheel')
    .description('Flywheel: experiment tracking with an MLflow-compatible server, versioned and validated datasets, pipelines, lineage')
    .version(FLYWHEEL_VERSION, '-V, --version', 'print the version')
    .option('--home <dir>', 'project state folder (env FLYWHEEL_HOME, default ./.flywheel)')
    .option('--db <url>', 'metadata store: sqlite:<file> or postgres://… (env FLYWHEEL_DB)')
    .option('--tracking-uri <url>', 'use a remote tracking server instead of the local store (env FLYWHEEL_TRACKING_URI)')
    .showHelpAfterError(false)
    // Failures are reported once, by main, as one line.
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  registerServerCommands(program);
  registerExperimentCommands(program);
  registerRunCommands(program);
  const data = registerDataCommands(program, { addWithSuite: addWithSuiteCommand });
  registerDiffTransformCommands(data);
  registerQualityCommands(program);
  registerSuiteCommands(program);
  registerLineageCommands(program);
  registerPipelineCommands(program);
  registerWorkerCommands(program);
  registerEvaluateCommands(program);
  registerModelImportCommand(registerModelCommands(program));
  registerTrainCommands(program);
  registerServingCommands(program);
  registerMonitoringCommands(program);
  registerMonitorCommands(program);
  return program;
}

/** Waits until everything written to stdout/stderr has been handed to the OS. */
function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export async function main(argv: string[]): Promise<void> {
  let exitCode = EXIT_OK;
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const failure = describeFailure(err, process.env.FLYWHEEL_DEBUG === '1');
    if (failure.message) process.stderr.write(failure.message + '\n');
    exitCode = failure.exitCode;
  }
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(exitCode);
}
