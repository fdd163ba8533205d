/**
 * Puts serving together for one process: the deployment service, a
 * ServingHost that loads packages from the artifact store (through the
 * registry's URIs) inline or on worker threads, and its metrics on the
 * process's Prometheus registry. Used by the full server (`flywheel server`)
 * and by the serving-only process (`flywheel serve`).
 */
import path from 'node:path';
import type { Registry } from 'prom-client';
import { loadModelFromDir } from '../models/load.js';
import { readModelPackage } from '../models/package.js';
import type { LoadedModel } from '../models/types.js';
import type { ResolvedModel } from '../registry/types.js';
import type { RegistryService } from '../registry/service.js';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import type { ServingConfig } from './config.js';
import { ServingHost, type ServingHostOptions } from './host.js';
import { createServingMetrics } from './metrics.js';
import { DeploymentService } from './service.js';

export interface ServingParts {
  store: Store;
  tracking: TrackingApi;
  registry: Pick<RegistryService, 'resolveModelUri'>;
  home: string;
  actor?: string;
}

export interface ServingServices {
  deployments: DeploymentService;
  host: ServingHost;
  config: ServingConfig;
}

export function deploymentService(parts: Pick<ServingParts, 'store' | 'registry' | 'actor'>): DeploymentService {
  return new DeploymentService({ store: parts.store, resolveModelUri: (uri) => parts.registry.resolveModelUri(uri), actor: parts.actor });
}

export function createServing(parts: ServingParts, config: ServingConfig, metricsRegistry?: Registry, logger?: ServingHostOptions['logger'], only?: readonly string[]): ServingServices {
  const deployments = deploymentService(parts);
  const cacheDir = path.join(parts.home, 'cache', 'models');
  // Spinning intra-op threads cost more than they give for the small batches serving runs.
  const onnxSessionOptions = { intraOpNumThreads: config.onnxThreads, interOpNumThreads: 1 };
  const loadModel = async (resolved: ResolvedModel): Promise<LoadedModel> => {
    const pkg = await readModelPackage(parts.tracking, resolved.packageUri ?? resolved.source, { cacheDir });
    if (config.threads > 0) {
      const { loadModelInThread } = await import('./thread-model.js');
      return loadModelInThread(pkg.dir, { manifest: pkg.manifest, source: pkg.source, threads: config.threads, onnxSessionOptions });
    }
    return loadModelFromDir(pkg.dir, { manifest: pkg.manifest, source: pkg.source, onnxSessionOptions });
  };
  const host = new ServingHost({
    deployments,
    resolveModelUri: (uri) => parts.registry.resolveModelUri(uri),
    loadModel,
    batching: config.batching
      ? { maxBatchSize: config.maxBatchSize, maxWaitMicros: config.maxBatchWaitMicros, maxQueueRows: config.maxQueueRows, queueTimeoutMs: config.queueTimeoutMs }
      : false,
    log: config.log ? { capacity: config.logCapacity, batchSize: config.logBatchSize, flushIntervalMs: config.logFlushIntervalMs, policy: config.logPolicy } : false,
    metrics: metricsRegistry ? createServingMetrics(metricsRegistry) : undefined,
    refreshIntervalMs: config.refreshIntervalMs,
    only,
    logger,
  });
  return { deployments, host, config };
}
