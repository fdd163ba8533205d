/**
 * Configuration, resolved once from the environment and explicit overrides.
 *
 * Embedded default: everything under `.flywheel/` in the working directory.
 * Scaled: FLYWHEEL_DB=postgres://… and, later, FLYWHEEL_ARTIFACTS=s3://….
 */
import path from 'node:path';
import { FlywheelError } from './errors.js';

export interface FlywheelConfig {
  /** The project folder holding embedded state (`.flywheel/`). */
  readonly home: string;
  /** `sqlite:<file>` or a `postgres://` URL. */
  readonly db: string;
  /** Directory (or later an s3:// URL) for the artifact store. */
  readonly artifacts: string;
  /**
   * Where pipeline steps run: `local` (the process that starts the run),
   * `distributed` (`flywheel worker` processes, through the PostgreSQL queue)
   * or `auto` (distributed with PostgreSQL, local with SQLite). Env
   * FLYWHEEL_PIPELINE_EXECUTOR; default auto.
   */
  readonly pipelineExecutor?: PipelineExecutor;
}

export type PipelineExecutor = 'auto' | 'local' | 'distributed';
const PIPELINE_EXECUTORS: readonly PipelineExecutor[] = ['auto', 'local', 'distributed'];

export interface ConfigOverrides {
  home?: string;
  db?: string;
  artifacts?: string;
}

export function resolveConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): FlywheelConfig {
  const home = path.resolve(overrides.home ?? env.FLYWHEEL_HOME ?? '.flywheel');
  const db = overrides.db ?? env.FLYWHEEL_DB ?? `sqlite:${path.join(home, 'flywheel.db')}`;
  const artifacts = overrides.artifacts ?? env.FLYWHEEL_ARTIFACTS ?? path.join(home, 'artifacts');
  const executor = (env.FLYWHEEL_PIPELINE_EXECUTOR ?? 'auto').trim().toLowerCase();
  if (!PIPELINE_EXECUTORS.includes(executor as PipelineExecutor)) {
    throw new FlywheelError('FW_CONFIG', `FLYWHEEL_PIPELINE_EXECUTOR must be one of ${PIPELINE_EXECUTORS.join(', ')} (got "${env.FLYWHEEL_PIPELINE_EXECUTOR}")`);
  }
  return { home, db, artifacts, pipelineExecutor: executor as PipelineExecutor };
}

export function isPostgresUrl(db: string): boolean {
  return db.startsWith('postgres://') || db.startsWith('postgresql://');
}

/** Removes the password from a database URL before it is shown or logged. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/** Whether pipeline runs of this configuration queue their steps for workers. */
export function runsDistributed(config: FlywheelConfig, choice: PipelineExecutor = config.pipelineExecutor ?? 'auto'): boolean {
  return choice === 'distributed' || (choice === 'auto' && isPostgresUrl(config.db));
}
