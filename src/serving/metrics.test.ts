/** Serving metrics appear in the Prometheus text exposition with their names, labels and buckets. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createServingMetrics } from './metrics.js';

describe('createServingMetrics', () => {
  it('exposes every serving series with its labels after use', async () => {
    const registry = new Registry();
    const m = createServingMetrics(registry);
    m.requests.inc({ deployment: 'churn', version: '3', arm: 'canary', protocol: 'v2' });
    m.errors.inc({ deployment: 'churn', version: '3', arm: 'canary', code: 'FW_PREDICTION_FAILED' });
    m.latency.observe({ deployment: 'churn', version: '3', arm: 'canary' }, 0.003);
    m.batchSize.observe({ deployment: 'churn', version: '3' }, 5);
    m.queueDepth.set({ deployment: 'churn', version: '3' }, 7);
    m.shadowRequests.inc({ deployment: 'churn', version: '4' });
    m.logDropped.inc(2);
    m.logBuffered.set(11);
    m.logWritten.inc(40);
    const text = await registry.metrics();

    expect(text).toContain('flywheel_serving_requests_total{deployment="churn",version="3",arm="canary",protocol="v2"} 1');
    expect(text).toContain('flywheel_serving_errors_total{deployment="churn",version="3",arm="canary",code="FW_PREDICTION_FAILED"} 1');
    // 3 ms falls in the 5 ms bucket and every larger one, not in the 2.5 ms one.
    expect(text).toContain('flywheel_serving_request_duration_seconds_bucket{le="0.0025",deployment="churn",version="3",arm="canary"} 0');
    expect(text).toContain('flywheel_serving_request_duration_seconds_bucket{le="0.005",deployment="churn",version="3",arm="canary"} 1');
    expect(text).toContain('flywheel_serving_request_duration_seconds_bucket{le="0.0001",deployment="churn",version="3",arm="canary"} 0');
    expect(text).toContain('flywheel_serving_request_duration_seconds_bucket{le="2.5",deployment="churn",version="3",arm="canary"} 1');
    expect(text).toContain('flywheel_serving_request_duration_seconds_count{deployment="churn",version="3",arm="canary"} 1');
    // 5 rows: above the 4 bucket, inside the 8 one; buckets go up to 1024.
    expect(text).toContain('flywheel_serving_batch_size_bucket{le="4",deployment="churn",version="3"} 0');
    expect(text).toContain('flywheel_serving_batch_size_bucket{le="8",deployment="churn",version="3"} 1');
    expect(text).toContain('flywheel_serving_batch_size_bucket{le="1024",deployment="churn",version="3"} 1');
    expect(text).toContain('flywheel_serving_batch_size_sum{deployment="churn",version="3"} 5');
    expect(text).toContain('flywheel_serving_queue_depth{deployment="churn",version="3"} 7');
    expect(text).toContain('flywheel_serving_shadow_requests_total{deployment="churn",version="4"} 1');
    expect(text).toMatch(/^flywheel_serving_log_dropped_total 2$/m);
    expect(text).toMatch(/^flywheel_serving_log_buffered 11$/m);
    expect(text).toMatch(/^flywheel_serving_log_written_total 40$/m);
  });

  it('gives every metric a help text written as a sentence', async () => {
    const registry = new Registry();
    createServingMetrics(registry);
    const helps = [...(await registry.metrics()).matchAll(/^# HELP (\S+) (.*)$/gm)];
    expect(helps.map((h) => h[1]).sort()).toEqual([
      'flywheel_serving_batch_size',
      'flywheel_serving_errors_total',
      'flywheel_serving_log_buffered',
      'flywheel_serving_log_dropped_total',
      'flywheel_serving_log_written_total',
      'flywheel_serving_queue_depth',
      'flywheel_serving_request_duration_seconds',
      'flywheel_serving_requests_total',
      'flywheel_serving_shadow_requests_total',
    ]);
    for (const [, , help] of helps) expect(help).toMatch(/^[A-Z].*\.$/);
  });

  it('returns the same metrics when asked twice for one registry, instead of failing on duplicate names', () => {
    const registry = new Registry();
    expect(createServingMetrics(registry)).toBe(createServingMetrics(registry));
    expect(createServingMetrics(new Registry())).not.toBe(createServingMetrics(registry));
  });
});
