/**
 * Prometheus metrics for model serving: traffic, errors and latency per
 * deployment, model version and traffic arm, plus the health of the micro-batcher
 * queue and of the prediction log buffer.
 *
 * Registered on a Registry the caller passes in (the server's), so /metrics shows
 * them beside the HTTP metrics. Creating them twice on the same registry returns
 * the same objects: prom-client refuses a second metric with the same name.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Request latency buckets, in seconds: 100 µs to 2.5 s. */
export const LATENCY_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Batch size buckets, in rows: powers of two from 1 to 1024. */
export const BATCH_SIZE_BUCKETS = Array.from({ length: 11 }, (_, i) => 2 ** i);

export interface ServingMetrics {
  requests: Counter<'deployment' | 'version' | 'arm' | 'protocol'>;
  errors: Counter<'deployment' | 'version' | 'arm' | 'code'>;
  latency: Histogram<'deployment' | 'version' | 'arm'>;
  batchSize: Histogram<'deployment' | 'version'>;
  queueDepth: Gauge<'deployment' | 'version'>;
  shadowRequests: Counter<'deployment' | 'version'>;
  /** Process-wide: the prediction log is one buffer shared by all deployments. */
  logDropped: Counter;
  logBuffered: Gauge;
  logWritten: Counter;
}

const created = new WeakMap<Registry, ServingMetrics>();

export function createServingMetrics(registry: Registry): ServingMetrics {
  const existing = created.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: ServingMetrics = {
    requests: new Counter({
      name: 'flywheel_serving_requests_total',
      help: 'Prediction requests received, by deployment, model version, traffic arm and protocol.',
      labelNames: ['deployment', 'version', 'arm', 'protocol'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'flywheel_serving_errors_total',
      help: 'Prediction requests that failed, by deployment, model version, traffic arm and Flywheel error code.',
      labelNames: ['deployment', 'version', 'arm', 'code'] as const,
      registers,
    }),
    latency: new Histogram({
      name: 'flywheel_serving_request_duration_seconds',
      help: 'Time to answer a prediction request in seconds, including queueing and batching, by deployment, model version and traffic arm.',
      labelNames: ['deployment', 'version', 'arm'] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    batchSize: new Histogram({
      name: 'flywheel_serving_batch_size',
      help: 'Rows in each batch handed to a model, by deployment and model version.',
      labelNames: ['deployment', 'version'] as const,
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'flywheel_serving_queue_depth',
      help: 'Rows waiting in the micro-batching queue of a model, by deployment and model version.',
      labelNames: ['deployment', 'version'] as const,
      registers,
    }),
    shadowRequests: new Counter({
      name: 'flywheel_serving_shadow_requests_total',
      help: 'Requests mirrored to a shadow model, whose answers are logged but never returned, by deployment and shadow model version.',
      labelNames: ['deployment', 'version'] as const,
      registers,
    }),
    logDropped: new Counter({
      name: 'flywheel_serving_log_dropped_total',
      help: 'Prediction records lost because the prediction log buffer was full, closed, or its store kept failing.',
      registers,
    }),
    logBuffered: new Gauge({
      name: 'flywheel_serving_log_buffered',
      help: 'Prediction records held in memory waiting to be written to the store.',
      registers,
    }),
    logWritten: new Counter({
      name: 'flywheel_serving_log_written_total',
      help: 'Prediction records written to the store.',
      registers,
    }),
  };
  created.set(registry, metrics);
  return metrics;
}
