/** Opens the artifact store named by the config; the only place naming a backend. */
import { FlywheelError } from '../core/errors.js';
import { LocalArtifactStore } from './local.js';
import type { ArtifactStore } from './types.js';

export type { ArtifactStore, ArtifactStat } from './types.js';
export { validateArtifactPath, joinArtifactPath } from './paths.js';
export { LocalArtifactStore } from './local.js';

export function openArtifactStore(location: string): ArtifactStore {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    throw new FlywheelError('FW_CONFIG', `FLYWHEEL_ARTIFACTS "${location}": only local directories are supported in this version`);
  }
  return new LocalArtifactStore(location.startsWith('file://') ? new URL(location).pathname : location);
}
