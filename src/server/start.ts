/**
 * Starts and stops the HTTP server around one opened context: opens the store
 * and artifact store, builds the app, listens, and on `close()` drains
 * in-flight requests before closing the store. Used by `flywheel server` and
 * by tests that need a real listening server. A port that cannot be bound
 * becomes a FlywheelError with one clear message, and nothing stays open.
 * Pipelines (src/pipelines/server.ts) start with it: the host for
 * `pipelinesFile` and, unless `scheduler: false`, its schedules and triggers;
 * on close they stop and runs still going are cancelled before the store closes.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { FlywheelConfig } from '../core/config.js';
import { FlywheelError } from '../core/errors.js';
import { buildApp } from './app.js';
import { openContext } from './context.js';
import { openPipelineServices, type PipelineServices } from '../pipelines/server.js';

export interface StartServerOptions {
  host: string;
  /** 0 picks a free ephemeral port; the chosen one is in the returned URL. */
  port: number;
  config: FlywheelConfig;
  /** Fastify request logging (on for `flywheel server`). */
  logger?: boolean;
  /** The project's pipeline file (default `<cwd>/flywheel.yaml`; absent → no pipelines). */
  pipelinesFile?: string;
  /** Fire cron schedules and dataset triggers of that file (default true). */
  scheduler?: boolean;
}

export interface RunningServer {
  /** Base URL actually bound, e.g. `http://127.0.0.1:5000`. */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  /** Stops accepting connections, waits for in-flight requests, closes the store. */
  close(): Promise<void>;
}

function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') return new FlywheelError('FW_CONFIG', `port ${port} on ${host} is already in use; stop the other server or pick another with --port`);
  if (code === 'EACCES') return new FlywheelError('FW_CONFIG', `not allowed to listen on ${host}:${port}; pick a port above 1023 with --port`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new FlywheelError('FW_CONFIG', `cannot listen on host ${host}: no such local address`);
  return err;
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const ctx = await openContext(options.config);
  let app: FastifyInstance;
  let pipelines: PipelineServices | undefined;
  try {
    pipelines = await openPipelineServices(ctx, { file: options.pipelinesFile, scheduler: options.scheduler });
    app = await buildApp(ctx, { logger: options.logger ?? false, pipelines });
  } catch (err) {
    await pipelines?.close();
    await ctx.close();
    throw err;
  }
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close().catch(() => {});
    await pipelines.close();
    await ctx.close();
    throw listenError(err, options.host, options.port);
  }
  const address = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: urlOf(address),
    port: address.port,
    app,
    close: () =>
      (closing ??= (async () => {
        try {
          await app.close();
          await pipelines!.close();
        } finally {
          await ctx.close();
        }
      })()),
  };
}
