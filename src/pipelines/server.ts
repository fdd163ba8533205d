/**
 * Pipelines in `flywheel server`: one PipelineHost for the project's
 * flywheel.yaml (default `<cwd>/flywheel.yaml`; an absent file means no
 * pipelines, no schedules, no triggers), and — unless turned off — the cron
 * scheduler and the dataset-trigger poller on it. `close` stops the timers,
 * then cancels and awaits the runs still going, before the store closes. A
 * flywheel.yaml that does not parse leaves the server up without schedules
 * and is logged (the REST API reports the same error). With the PostgreSQL
 * store (and FLYWHEEL_PIPELINE_EXECUTOR auto or distributed) the runs it
 * starts queue their steps for `flywheel worker` processes.
 */
import path from 'node:path';
import { runsDistributed, type FlywheelConfig } from '../core/config.js';
import type { AppContext } from '../server/context.js';
import { QueueDispatcher } from './dispatcher.js';
import { PipelineHost } from './host.js';
import { PipelineScheduler } from './scheduler.js';
import { DEFAULT_POLL_MS, PipelineTriggers } from './triggers.js';

export interface PipelineServicesOptions {
  /** flywheel.yaml; default `<cwd>/flywheel.yaml`. */
  file?: string;
  /** Run schedules and dataset triggers (default true). */
  scheduler?: boolean;
  schedulerIntervalMs?: number;
  triggerPollMs?: number;
  log?: (message: string) => void;
}

export interface PipelineServices {
  host: PipelineHost;
  scheduler?: PipelineScheduler;
  triggers?: PipelineTriggers;
  close(): Promise<void>;
}

export async function openPipelineServices(ctx: Pick<AppContext, 'store' | 'tracking' | 'data' | 'engine' | 'artifacts'> & { config?: FlywheelConfig }, options: PipelineServicesOptions = {}): Promise<PipelineServices> {
  const log = options.log ?? ((m: string) => process.stderr.write(`flywheel: ${m}\n`));
  // With PostgreSQL (FLYWHEEL_PIPELINE_EXECUTOR=auto), runs started here queue their steps for `flywheel worker`s.
  const dispatcher = ctx.config && runsDistributed(ctx.config) ? await QueueDispatcher.open({ store: ctx.store, tracking: ctx.tracking, url: ctx.config.db, log }) : undefined;
  const host = new PipelineHost(ctx, { file: options.file ?? path.resolve('flywheel.yaml'), log, dispatcher });
  const services: PipelineServices = {
    host,
    close: async () => {
      await services.scheduler?.stop();
      await services.triggers?.stop();
      await host.close();
      await dispatcher?.close();
    },
  };
  if (options.scheduler === false) return services;
  const definitions = () => {
    try {
      return host.definitions();
    } catch (err) {
      log(`pipelines: ${(err as Error).message}`);
      return [];
    }
  };
  services.scheduler = new PipelineScheduler({ db: ctx.store.db, host, definitions, log });
  await services.scheduler.start(options.schedulerIntervalMs);
  services.triggers = new PipelineTriggers({ db: ctx.store.db, data: ctx.data, host, definitions, log });
  services.triggers.start(options.triggerPollMs ?? DEFAULT_POLL_MS);
  return services;
}
