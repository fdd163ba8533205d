/**
 * Where CLI data commands get their TrackingApi: the SDK's `Flywheel.open`,
 * which opens the store in-process (embedded default, honouring --home/--db)
 * or, with --tracking-uri / FLYWHEEL_TRACKING_URI, talks to a Flywheel
 * server. Commands only see the interface, so both modes share every line.
 */
import { resolveConfig, type FlywheelConfig } from '../core/config.js';
import type { TrackingApi } from '../tracking/api.js';
import { Flywheel } from '../sdk/flywheel.js';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  home?: string;
  db?: string;
  trackingUri?: string;
}

export function configFrom(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): FlywheelConfig {
  return resolveConfig({ home: globals.home, db: globals.db }, env);
}

/**
 * Opens tracking for one command, runs `fn`, and always closes what it opened.
 * An explicit --tracking-uri wins; else an explicit --home/--db means the local
 * store; else FLYWHEEL_TRACKING_URI (or an http MLFLOW_TRACKING_URI) if set.
 */
export async function withTracking<T>(globals: GlobalOptions, fn: (api: TrackingApi) => Promise<T>): Promise<T> {
  // The CLI writes nothing through a run buffer, so nothing waits to be flushed.
  const fw = await Flywheel.open({ home: globals.home, db: globals.db, trackingUri: globals.trackingUri, flushIntervalMs: 0 });
  try {
    return await fn(fw.tracking);
  } finally {
    await fw.close();
  }
}
