/**
 * Between domain objects and the /api/v1 wire shapes (v1-schemas.ts), shared by
 * the routes and the SDK's HTTP client. Kept apart from the schemas so the
 * client loads no schema machinery. The one mapping that is not the identity
 * is a metric's value: JSON has no NaN or ±Infinity, so on the wire a value is
 * a number or one of the strings "NaN", "Infinity", "-Infinity" (proto-JSON's
 * spelling).
 */
import { invalidArgument } from '../core/errors.js';
import type { Metric, Run } from './types.js';
import type { WireMetric, WireRun } from './v1-schemas.js';

export const NON_FINITE_SPELLINGS = ['NaN', 'Infinity', '-Infinity'] as const;
export type WireMetricValue = number | (typeof NON_FINITE_SPELLINGS)[number];

export function encodeMetricValue(value: number): WireMetricValue {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function decodeMetricValue(value: WireMetricValue | number | string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  // The schema admits no other string; a numeric one can only come from type coercion.
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw invalidArgument(`Invalid metric value ${JSON.stringify(value)}: expected a number, "NaN", "Infinity" or "-Infinity"`);
  return n;
}

export const toWireMetric = (m: Metric): WireMetric => ({ key: m.key, value: encodeMetricValue(m.value), timestamp: m.timestamp, step: m.step });
export const fromWireMetric = (m: WireMetric): Metric => ({ key: m.key, value: decodeMetricValue(m.value), timestamp: m.timestamp, step: m.step });

export const toWireRun = (run: Run): WireRun => ({ info: run.info, data: { ...run.data, metrics: run.data.metrics.map(toWireMetric) } });
export const fromWireRun = (run: WireRun): Run => ({ info: run.info, data: { ...run.data, metrics: run.data.metrics.map(fromWireMetric) } });
