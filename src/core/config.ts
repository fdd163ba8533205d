/**
 * Configuration, resolved once from the environment and explicit overrides.
 *
 * Embedded default: everything under `.flywheel/` in the working directory.
 * Scaled: FLYWHEEL_DB=postgres://… and, later, FLYWHEEL_ARTIFACTS=s3://….
 */
import path from 'node:path';

export interface FlywheelConfig {
  /** The project folder holding embedded state (`.flywheel/`). */
  readonly home: string;
  /** `sqlite:<file>` or a `postgres://` URL. */
  readonly db: string;
  /** Directory (or later an s3:// URL) for the artifact store. */
  readonly artifacts: string;
}

export interface ConfigOverrides {
  home?: string;
  db?: string;
  artifacts?: string;
}

export function resolveConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): FlywheelConfig {
  const home = path.resolve(overrides.home ?? env.FLYWHEEL_HOME ?? '.flywheel');
  const db = overrides.db ?? env.FLYWHEEL_DB ?? `sqlite:${path.join(home, 'flywheel.db')}`;
  const artifacts = overrides.artifacts ?? env.FLYWHEEL_ARTIFACTS ?? path.join(home, 'artifacts');
  return { home, db, artifacts };
}

export function isPostgresUrl(db: string): boolean {
  return db.startsWith('postgres://') || db.startsWith('postgresql://');
}

/** Removes the password from a database URL before it is shown or logged. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
