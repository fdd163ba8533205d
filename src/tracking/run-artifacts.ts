/**
 * Where a run's artifacts live in the artifact store. Runs whose artifact URI
 * is `mlflow-artifacts:/<path>` (the default, as with `mlflow server
 * --serve-artifacts`) keep their files under the store key `mlflow-artifacts/<path>`;
 * the artifact proxy routes serve that same tree.
 */
import { FlywheelError } from '../core/errors.js';
import { joinArtifactPath, validateArtifactPath } from '../artifacts/paths.js';

export const PROXY_SCHEME = 'mlflow-artifacts:';
export const PROXY_ROOT_KEY = 'mlflow-artifacts';

/** Store key of a path below the proxy root (as used in /api/2.0/mlflow-artifacts/artifacts/<path>). */
export function proxyKey(proxyPath: string): string {
  return joinArtifactPath(PROXY_ROOT_KEY, validateArtifactPath(proxyPath, { allowRoot: true }));
}

/** Store key of the run's artifact root. */
export function runArtifactRootKey(artifactUri: string): string {
  if (!artifactUri.startsWith(PROXY_SCHEME)) {
    throw new FlywheelError(
      'FW_INVALID_ARGUMENT',
      `The run's artifact location ${artifactUri} is not served by Flywheel (only ${PROXY_SCHEME} locations are); write to it directly.`,
    );
  }
  const rest = artifactUri.slice(PROXY_SCHEME.length).replace(/^\/+/, '');
  return proxyKey(rest);
}

/** Store key of a file below the run's artifact root. */
export function runArtifactKey(artifactUri: string, relPath: string, allowRoot = false): string {
  return joinArtifactPath(runArtifactRootKey(artifactUri), validateArtifactPath(relPath, { allowRoot }));
}
