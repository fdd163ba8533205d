/**
 * The `flywheel serve` process: the serving-only app on the shared store and
 * artifact store, in one process or as a cluster of `workers` processes that
 * share the port (Node's cluster module), so both cores parse HTTP and run
 * models. In a cluster, /metrics on any worker answers for all of them (the
 * primary gathers every worker's registry through prom-client's
 * AggregatorRegistry).
 *
 * Shutdown: the first SIGTERM or SIGINT stops accepting connections, lets
 * requests in flight finish, closes the models and flushes the prediction log
 * to the store before the process exits, so a graceful stop loses no
 * acknowledged prediction. A crash loses what was still buffered: at most the
 * log's capacity, normally the last flush interval's worth (200 ms).
 */
import cluster from 'node:cluster';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { redactUrl, type FlywheelConfig } from '../core/config.js';
import { FlywheelError } from '../core/errors.js';
import type { ServingConfig } from './config.js';

export interface ServeOptions {
  host: string;
  port: number;
  config: FlywheelConfig;
  serving: ServingConfig;
  /** Serve only these deployments (default all). */
  only?: string[];
  /** Processes sharing the port; 1 = this process alone. */
  workers: number;
  logger?: boolean;
  /** Where the "listening" line goes (stdout). */
  announce?: (line: string) => void;
}

const METRICS_REQUEST = 'flywheel:metrics-request';
const METRICS_RESPONSE = 'flywheel:metrics-response';

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

function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') return new FlywheelError('FW_CONFIG', `port ${port} on ${host} is already in use; stop the other server or pick another with --port`);
  if (code === 'EACCES') return new FlywheelError('FW_CONFIG', `not allowed to listen on ${host}:${port}; pick a port above 1023 with --port`);
  return err;
}

/** Runs until a signal (or, in the primary of a cluster, until every worker has exited). */
export async function serve(options: ServeOptions): Promise<void> {
  const announce = options.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (options.workers > 1 && cluster.isPrimary) return runPrimary(options, announce);
  return runWorker(options, announce);
}

async function runPrimary(options: ServeOptions, announce: (line: string) => void): Promise<void> {
  const aggregator = new AggregatorRegistry();
  const workers = new Set<ReturnType<typeof cluster.fork>>();
  let stopping = false;
  let announced = false;
  const exited = new Promise<void>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker);
      if (!stopping) {
        process.stderr.write(`flywheel serve: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
        fork();
      }
      if (workers.size === 0 && stopping) resolve();
    });
  });
  const fork = () => {
    const worker = cluster.fork({ FLYWHEEL_SERVE_WORKER: '1' });
    workers.add(worker);
    worker.on('message', (msg: { type?: string; id?: number; line?: string }) => {
      if (msg?.type === METRICS_REQUEST) {
        aggregator.clusterMetrics().then(
          (text) => worker.send({ type: METRICS_RESPONSE, id: msg.id, text }),
          (err: Error) => worker.send({ type: METRICS_RESPONSE, id: msg.id, text: `# cluster metrics failed: ${err.message}\n` }),
        );
      } else if (msg?.type === 'flywheel:listening' && !announced && msg.line) {
        announced = true;
        announce(`${msg.line} (${options.workers} workers)`);
      }
    });
  };
  for (let i = 0; i < options.workers; i++) fork();
  const signal = await Promise.race([shutdownSignal(), exited.then(() => null)]);
  stopping = true;
  if (signal) process.stderr.write(`flywheel serve: ${signal} received, stopping ${workers.size} workers (flushing their prediction logs)\n`);
  for (const w of workers) w.process.kill('SIGTERM');
  if (workers.size > 0) await exited;
}

async function runWorker(options: ServeOptions, announce: (line: string) => void): Promise<void> {
  const [{ openStore }, { openArtifactStore }, { TrackingService }, { RegistryService }, { buildServingApp }] = await Promise.all([
    import('../store/index.js'),
    import('../artifacts/index.js'),
    import('../tracking/service.js'),
    import('../registry/service.js'),
    import('./app.js'),
  ]);
  const actor = `serve@${os.hostname()}`;
  const store = await openStore(options.config.db);
  const stopped = shutdownSignal();
  let built: Awaited<ReturnType<typeof buildServingApp>>;
  try {
    const tracking = new TrackingService(store, { actor, artifacts: openArtifactStore(options.config.artifacts) });
    const registry = new RegistryService({ store, tracking, actor });
    const inCluster = cluster.isWorker;
    // Constructing one installs prom-client's worker-side listener that answers the primary's metrics requests.
    if (inCluster) new AggregatorRegistry();
    built = await buildServingApp({ store, tracking, registry, home: options.config.home, actor }, options.serving, {
      logger: options.logger,
      only: options.only,
      metricsText: inCluster ? clusterMetricsText : undefined,
    });
    if (inCluster) AggregatorRegistry.setRegistries([built.metrics]);
    try {
      await built.app.listen({ host: options.host, port: options.port });
    } catch (err) {
      await built.app.close().catch(() => {});
      throw listenError(err, options.host, options.port);
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  const address = built.app.server.address() as AddressInfo;
  const where = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const line = `Flywheel serving on http://${where}:${address.port} (deployments: ${built.serving.host.names().join(', ') || 'none yet'}; store: ${redactUrl(options.config.db)})`;
  if (cluster.isWorker) process.send?.({ type: 'flywheel:listening', line });
  else announce(line);
  await stopped;
  // Stops accepting, waits for requests in flight, closes the host (models, then the prediction log's final flush).
  await built.app.close();
  const stats = built.serving.host.logStats();
  if (stats.dropped > 0) process.stderr.write(`flywheel serve: ${stats.dropped} predictions were not logged (buffer full or store unreachable)\n`);
  await store.close();
}

let nextMetricsRequest = 0;
/** A worker's /metrics: asks the primary, which gathers every worker's registry. */
function clusterMetricsText(_own: Registry): Promise<string> {
  const id = ++nextMetricsRequest;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new FlywheelError('FW_NOT_READY', 'the cluster primary did not answer for metrics within 5 s'));
    }, 5000);
    const onMessage = (msg: { type?: string; id?: number; text?: string }) => {
      if (msg?.type === METRICS_RESPONSE && msg.id === id) {
        clearTimeout(timer);
        process.off('message', onMessage);
        resolve(msg.text ?? '');
      }
    };
    process.on('message', onMessage);
    process.send?.({ type: METRICS_REQUEST, id });
  });
}
