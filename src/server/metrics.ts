/**
 * Prometheus metrics for the HTTP server: requests and latency by route,
 * plus Node's process metrics, in the text exposition format at /metrics.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flywheel_' });
  return registry;
}

export function instrumentHttp(app: FastifyInstance, registry: Registry, exposition?: { text(): Promise<string> }): void {
  const requests = new Counter({
    name: 'flywheel_http_requests_total',
    help: 'HTTP requests served, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'flywheel_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // Label-bound children, cached by their label values: resolving a label object costs more than the
  // increment itself on a prediction route answering thousands of requests a second.
  const requestChildren = new Map<string, { inc(): void }>();
  const durationChildren = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const key = `${request.method} ${route}`;
    let counter = requestChildren.get(`${key} ${status}`);
    if (!counter) requestChildren.set(`${key} ${status}`, (counter = requests.labels({ method: request.method, route, status })));
    let histogram = durationChildren.get(key);
    if (!histogram) durationChildren.set(key, (histogram = duration.labels({ method: request.method, route })));
    counter.inc();
    histogram.observe(reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return exposition ? exposition.text() : registry.metrics();
  });
}
