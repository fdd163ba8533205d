/**
 * `flywheel server`: serves the tracking API (MLflow-compatible and Flywheel's
 * own) and the pipelines of `--pipelines FILE` (default ./flywheel.yaml: its
 * API, schedules and triggers; `--no-scheduler` fires none) on the
 * configured store until SIGINT or SIGTERM, then drains requests, ends the
 * pipeline runs it started and closes the store. Prints one parseable line once listening:
 * `Flywheel listening on http://HOST:PORT (store: …, artifacts: …)`.
 */
import type { Command } from 'commander';
import { redactUrl } from '../../core/config.js';
import { parsePort } from '../options.js';
import { print } from '../output.js';
import { configFrom, type GlobalOptions } from '../session.js';

interface ServerOptions {
  host: string;
  port: number;
  pipelines?: string;
  scheduler: boolean;
}

/** Resolves on the first SIGINT or SIGTERM; a second one falls through to Node's default (exit at once). */
function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('run the tracking server (MLflow REST API, Flywheel API, artifact proxy)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 5000)
    .option('--pipelines <file>', 'pipeline file whose schedules and triggers the server runs (default ./flywheel.yaml)')
    .option('--no-scheduler', 'serve the pipelines API but fire no schedules or dataset triggers')
    .action(async (opts: ServerOptions, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>());
      // Loaded here so the data commands do not pay for Fastify's start-up.
      const { startServer } = await import('../../server/start.js');
      const stopped = shutdownSignal();
      const server = await startServer({ host: opts.host, port: opts.port, config, logger: true, pipelinesFile: opts.pipelines, scheduler: opts.scheduler });
      print(`Flywheel listening on ${server.url} (store: ${redactUrl(config.db)}, artifacts: ${config.artifacts})`);
      const signal = await stopped;
      process.stderr.write(`flywheel: ${signal} received, shutting down\n`);
      await server.close();
    });
}
