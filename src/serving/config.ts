/**
 * Serving settings: defaults, then FLYWHEEL_SERVING_* environment variables,
 * then explicit overrides (`flywheel serve` flags). A value that does not
 * parse is FW_CONFIG naming the variable, at start-up rather than at the
 * first request.
 */
import { FlywheelError } from '../core/errors.js';
import type { OverflowPolicy } from './prediction-log.js';

export interface ServingConfig {
  /** Micro-batching on (adaptive) or off. */
  batching: boolean;
  /** Most rows per model call. */
  maxBatchSize: number;
  /** How long a request may wait for others to batch with (µs); 0 = only while the model is busy. */
  maxBatchWaitMicros: number;
  /** Most rows queued per model before 503 + Retry-After. */
  maxQueueRows: number;
  /** A request queued longer than this gets 503. */
  queueTimeoutMs: number;
  /** Models run on this many worker threads each (off the event loop); 0 = inline. */
  threads: number;
  /** onnxruntime's intra-op threads per session. 1 by default: a second spinning thread competes with the event loop on small machines. */
  onnxThreads: number;
  /** Prediction log: on or off, its buffer, batch and overflow policy. */
  log: boolean;
  logCapacity: number;
  logBatchSize: number;
  logFlushIntervalMs: number;
  logPolicy: OverflowPolicy;
  /** How often deployments and aliases are re-read (ms). */
  refreshIntervalMs: number;
  /** Largest prediction request body. */
  maxBodyBytes: number;
  /** Slow clients: a request not fully received and answered within this is cut off (ms). */
  requestTimeoutMs: number;
}

export const DEFAULT_SERVING_CONFIG: Readonly<ServingConfig> = Object.freeze({
  batching: true,
  maxBatchSize: 64,
  maxBatchWaitMicros: 0,
  maxQueueRows: 2048,
  queueTimeoutMs: 5000,
  threads: 0,
  onnxThreads: 1,
  log: true,
  logCapacity: 100_000,
  logBatchSize: 250,
  logFlushIntervalMs: 200,
  logPolicy: 'drop',
  refreshIntervalMs: 1000,
  maxBodyBytes: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
});

const ENV: Record<keyof ServingConfig, string> = {
  batching: 'FLYWHEEL_SERVING_BATCHING',
  maxBatchSize: 'FLYWHEEL_SERVING_MAX_BATCH',
  maxBatchWaitMicros: 'FLYWHEEL_SERVING_MAX_WAIT_US',
  maxQueueRows: 'FLYWHEEL_SERVING_MAX_QUEUE',
  queueTimeoutMs: 'FLYWHEEL_SERVING_QUEUE_TIMEOUT_MS',
  threads: 'FLYWHEEL_SERVING_THREADS',
  onnxThreads: 'FLYWHEEL_SERVING_ONNX_THREADS',
  log: 'FLYWHEEL_SERVING_LOG',
  logCapacity: 'FLYWHEEL_SERVING_LOG_BUFFER',
  logBatchSize: 'FLYWHEEL_SERVING_LOG_BATCH',
  logFlushIntervalMs: 'FLYWHEEL_SERVING_LOG_FLUSH_MS',
  logPolicy: 'FLYWHEEL_SERVING_LOG_POLICY',
  refreshIntervalMs: 'FLYWHEEL_SERVING_REFRESH_MS',
  maxBodyBytes: 'FLYWHEEL_SERVING_MAX_BODY_BYTES',
  requestTimeoutMs: 'FLYWHEEL_SERVING_REQUEST_TIMEOUT_MS',
};

export const SERVING_ENV_VARS = ENV;

function bad(name: string, value: unknown, want: string): FlywheelError {
  return new FlywheelError('FW_CONFIG', `${name} must be ${want} (got ${JSON.stringify(value)})`);
}

function parseValue(key: keyof ServingConfig, name: string, raw: unknown): ServingConfig[keyof ServingConfig] {
  const def = DEFAULT_SERVING_CONFIG[key];
  if (typeof def === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const t = String(raw).trim().toLowerCase();
    if (['1', 'true', 'on', 'yes'].includes(t)) return true;
    if (['0', 'false', 'off', 'no'].includes(t)) return false;
    throw bad(name, raw, 'on or off');
  }
  if (key === 'logPolicy') {
    const t = String(raw).trim().toLowerCase();
    if (t !== 'drop' && t !== 'block') throw bad(name, raw, 'drop or block');
    return t;
  }
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  // 0 is meaningful for these: no wait, inline models, no polling (refresh on demand only).
  const min = key === 'maxBatchWaitMicros' || key === 'threads' || key === 'refreshIntervalMs' ? 0 : 1;
  if (!Number.isSafeInteger(n) || n < min) throw bad(name, raw, `an integer of at least ${min}`);
  return n;
}

export function resolveServingConfig(overrides: Partial<ServingConfig> = {}, env: NodeJS.ProcessEnv = process.env): ServingConfig {
  const out = { ...DEFAULT_SERVING_CONFIG } as Record<keyof ServingConfig, unknown>;
  for (const key of Object.keys(ENV) as (keyof ServingConfig)[]) {
    const fromEnv = env[ENV[key]];
    if (fromEnv !== undefined && fromEnv !== '') out[key] = parseValue(key, ENV[key], fromEnv);
    const o = overrides[key];
    if (o !== undefined) out[key] = parseValue(key, `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, o);
  }
  return out as unknown as ServingConfig;
}
