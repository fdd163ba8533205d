/**
 * Assembles every slice's routes into one Fastify app. Slices register
 * themselves as plugins; this file only wires shared concerns: JSON parsing,
 * errors, metrics, health and the OpenAPI document.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { FLYWHEEL_VERSION, MLFLOW_API_VERSION } from '../core/version.js';
import type { AppContext } from './context.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { parseJsonBody } from './json-body.js';
import { createMetricsRegistry, instrumentHttp } from './metrics.js';
import { mlflowTrackingRoutes } from '../tracking/mlflow-routes.js';
import { mlflowArtifactRoutes } from '../tracking/mlflow-artifact-routes.js';
import { trackingRoutes } from '../tracking/routes.js';
import { dataRoutes } from '../data/routes.js';
import { diffTransformRoutes } from '../data/diff-transform-routes.js';
import { qualityRoutes } from '../quality/routes.js';
import { lineageRoutes } from '../lineage/routes.js';
import { pipelinesRoutes } from '../pipelines/routes.js';
import type { PipelineServices } from '../pipelines/server.js';
import { mlflowRegistryRoutes } from '../registry/mlflow-routes.js';
import { registryRoutes } from '../registry/routes.js';
import { servingRoutes } from '../serving/routes.js';
import { monitorRoutes } from '../monitoring/monitors/routes.js';
import { createServing, type ServingServices } from '../serving/server.js';
import { resolveServingConfig } from '../serving/config.js';

export interface BuildAppOptions {
  logger?: boolean;
  /** The server's pipeline host and scheduler; without it the routes read ./flywheel.yaml and schedule nothing. */
  pipelines?: PipelineServices;
  /**
   * Serving (deployments, /v2, /invocations): given, or made here from
   * FLYWHEEL_SERVING_* settings; `false` leaves the prediction routes out.
   * A host made here is started with the app and closed with it.
   */
  serving?: ServingServices | false;
  /** Answers 408 to a client whose request headers are not in within this (slow clients; default 30 s); 0 = no limit. */
  requestTimeoutMs?: number;
}

/** Largest JSON body accepted by any route; log-batch narrows it to MLflow's 1 MB. */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ? { level: process.env.FLYWHEEL_LOG_LEVEL ?? 'info' } : false,
    bodyLimit: MAX_JSON_BODY_BYTES,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
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

  const registry = createMetricsRegistry();
  instrumentHttp(app, registry);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Flywheel API', version: FLYWHEEL_VERSION, description: "Flywheel's own REST API. The MLflow-compatible API lives under /api/2.0/mlflow." },
      tags: [
        { name: 'tracking', description: 'Experiments, runs, metrics, params, tags and artifacts' },
        { name: 'data', description: 'Datasets, immutable versions, profiles' },
        { name: 'quality', description: 'Quality suites and validation results per dataset version' },
        { name: 'lineage', description: 'Runs, dataset versions and what consumed or produced them' },
        { name: 'pipelines', description: 'Pipelines of flywheel.yaml, their runs, steps, schedules and triggers' },
        { name: 'models', description: 'The model registry: registered models, versions, aliases, stages, model URIs' },
        { name: 'deployments', description: 'Deployments and their traffic policies, predictions, the prediction log and feedback' },
        { name: 'monitors', description: 'Monitors on deployments and datasets: drift, data quality, performance, latency, alerts' },
      ],
    },
    // Only Flywheel's own API is described; MLflow's routes follow MLflow's protos.
    transform: ({ schema, url }) => ({ schema: url.startsWith('/api/v1/') ? schema : { ...(schema ?? {}), hide: true }, url }),
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('OK'));
  app.get('/version', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/plain').header('x-flywheel-version', FLYWHEEL_VERSION).send(MLFLOW_API_VERSION),
  );

  await app.register(mlflowTrackingRoutes, { ctx });
  await app.register(mlflowArtifactRoutes, { ctx });
  await app.register(mlflowRegistryRoutes, { ctx });
  await app.register(trackingRoutes, { ctx, prefix: '/api/v1' });
  await app.register(dataRoutes, { ctx, prefix: '/api/v1' });
  await app.register(diffTransformRoutes, { ctx, prefix: '/api/v1' });
  await app.register(qualityRoutes, { ctx, prefix: '/api/v1' });
  await app.register(lineageRoutes, { ctx, prefix: '/api/v1' });
  await app.register(registryRoutes, { ctx, prefix: '/api/v1' });
  await app.register(monitorRoutes, { ctx, prefix: '/api/v1' });
  await app.register(pipelinesRoutes, { ctx, host: options.pipelines?.host, scheduler: options.pipelines?.scheduler, prefix: '/api/v1' });

  if (options.serving !== false) {
    const own = options.serving === undefined;
    const serving = options.serving ?? createServing({ store: ctx.store, tracking: ctx.tracking, registry: ctx.registry, home: ctx.config.home }, resolveServingConfig(), registry, app.log);
    await app.register(servingRoutes, { host: serving.host, deployments: serving.deployments, maxBodyBytes: serving.config.maxBodyBytes });
    if (own) {
      await serving.host.start();
      app.addHook('onClose', async () => serving.host.close());
    }
  }

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
