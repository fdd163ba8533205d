/**
 * `flywheel worker [--concurrency N] [--root DIR]` runs a pipeline worker
 * (worker.ts) on the PostgreSQL store (FLYWHEEL_DB / --db) until SIGINT or
 * SIGTERM, then stops taking steps, lets running ones finish and exits.
 * `flywheel workers [--json]` lists the workers the store knows, with their
 * status and last heartbeat.
 */
import os from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { formatDuration, print, renderTable, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import { isPostgresUrl, redactUrl } from '../core/config.js';
import { invalidArgument } from '../core/errors.js';
import * as q from './store.js';
import type { PipelineWorker } from './worker.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function registerWorkerCommands(program: Command): void {
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('worker')
    .description('take pipeline steps from the queue of a PostgreSQL store and run them (distributed runs)')
    .option('-c, --concurrency <n>', 'steps run at once', positiveInt, 1)
    .option('--root <dir>', 'project root steps run in (default: next to the pipeline file, else the working directory)')
    .option('--heartbeat-ms <ms>', 'heartbeat interval', positiveInt, 1000)
    .option('--lost-after-ms <ms>', 'a worker silent for this long is declared lost and its steps retried elsewhere', positiveInt, 10_000)
    .action(async (o: { concurrency: number; root?: string; heartbeatMs: number; lostAfterMs: number }) => {
      const config = configFrom(globals());
      if (!isPostgresUrl(config.db)) throw invalidArgument('flywheel worker needs the PostgreSQL store: set FLYWHEEL_DB=postgres://… or pass --db (the embedded SQLite store runs steps in-process)');
      // Loaded here: graphile-worker and pg are not every command's start-up cost.
      const [{ openContext }, { PipelineWorker }] = await Promise.all([import('../server/context.js'), import('./worker.js')]);
      const ctx = await openContext(config, `worker@${os.hostname()}`);
      let worker: PipelineWorker | undefined;
      try {
        worker = await PipelineWorker.start({
          store: ctx.store,
          tracking: ctx.tracking,
          data: ctx.data,
          engine: ctx.engine,
          artifacts: ctx.artifacts,
          url: config.db,
          concurrency: o.concurrency,
          root: o.root,
          heartbeatMs: o.heartbeatMs,
          lostAfterMs: o.lostAfterMs,
        });
        print(`worker ${worker.id} ready: ${o.concurrency} slot${o.concurrency === 1 ? '' : 's'} on ${redactUrl(config.db)}\n`);
        const signalled = new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        const why = await Promise.race([signalled, worker.lost.then(() => 'lost')]);
        print(`worker ${worker.id}: ${why === 'lost' ? 'declared lost by another process' : why}; finishing running steps\n`);
        await worker.stop();
      } finally {
        await worker?.stop();
        await ctx.close();
      }
    });

  program
    .command('workers')
    .description('pipeline workers known to the store')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { openContext } = await import('../server/context.js');
      const ctx = await openContext(configFrom(globals()), 'cli');
      try {
        const workers = await q.listWorkers(ctx.store.db);
        if (o.json) return print(toJson(workers));
        const now = Date.now();
        print(
          renderTable(
            [{ header: 'WORKER' }, { header: 'HOST' }, { header: 'PID', align: 'right' }, { header: 'STATUS' }, { header: 'SLOTS', align: 'right' }, { header: 'STEPS', align: 'right' }, { header: 'HEARTBEAT', align: 'right' }],
            workers.map((w) => [w.id, w.hostname, String(w.pid), w.status, String(w.concurrency), String(w.stepsDone), `${formatDuration(now - w.heartbeatTime)} ago`]),
          ),
        );
      } finally {
        await ctx.close();
      }
    });
}
