/**
 * The serving-only HTTP app behind `flywheel serve`: prediction, V2, MLflow
 * scoring, feedback and deployment routes, health and Prometheus metrics —
 * none of the tracking, data or pipelines API, and no DuckDB. It holds no
 * state of its own beyond caches: deployments, aliases and packages come from
 * the shared store and artifact store, so replicas can sit behind a load
 * balancer.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { FLYWHEEL_VERSION } from '../core/version.js';
import { errorHandler, notFoundHandler } from '../server/errors.js';
import { parseJsonBody } from '../server/json-body.js';
import { createMetricsRegistry, instrumentHttp } from '../server/metrics.js';
import type { ServingConfig } from './config.js';
import { servingRoutes } from './routes.js';
import { createServing, type ServingParts, type ServingServices } from './server.js';

export interface ServingAppOptions {
  logger?: boolean;
  /** Serve only these deployments; MLflow's root /invocations serves the first. */
  only?: string[];
  /** Metrics text for /metrics (cluster mode asks the primary for every worker's); default this process's registry. */
  metricsText?: (registry: Registry) => Promise<string>;
}

/** Node checks request timeouts on this interval (30 s by default), so a slow client is cut within a tenth of the timeout. */
const checkingInterval = (timeoutMs: number) => Math.max(100, Math.min(30_000, Math.floor(timeoutMs / 10)));

export async function buildServingApp(parts: ServingParts, config: ServingConfig, options: ServingAppOptions = {}): Promise<{ app: FastifyInstance; serving: ServingServices; metrics: Registry }> {
  const app = Fastify({
    logger: options.logger ? { level: process.env.FLYWHEEL_LOG_LEVEL ?? 'info' } : false,
    bodyLimit: config.maxBodyBytes,
    // Slow clients: requestTimeout cuts a request whose headers never complete (408); connectionTimeout one whose
    // body stalls mid-way (Node hands the body to the app once the headers are in). Between requests a keep-alive
    // socket is governed by keepAliveTimeout instead.
    requestTimeout: config.requestTimeoutMs,
    // Later than the 408 check can fire, so a client whose headers stall still gets its 408.
    connectionTimeout: config.requestTimeoutMs + 2 * checkingInterval(config.requestTimeoutMs),
    // Keep-alive connections idle longer than a load balancer's (commonly 60 s) would be cut under it.
    keepAliveTimeout: 65_000,
    http: { connectionsCheckingInterval: checkingInterval(config.requestTimeoutMs) },
  });
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const metrics = createMetricsRegistry();
  instrumentHttp(app, metrics, options.metricsText ? { text: () => options.metricsText!(metrics) } : undefined);
  const serving = createServing(parts, config, metrics, app.log, options.only);
  app.get('/healthz', async () => ({ status: 'ok', version: FLYWHEEL_VERSION }));
  await app.register(servingRoutes, { host: serving.host, deployments: serving.deployments, maxBodyBytes: config.maxBodyBytes, defaultDeployment: options.only?.[0] });
  app.addHook('onClose', async () => serving.host.close());
  await serving.host.start();
  await app.ready();
  return { app, serving, metrics };
}
