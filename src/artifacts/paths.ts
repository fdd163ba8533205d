/** Validation of artifact keys: nothing absolute, nothing escaping the root, no NUL bytes. */
import { FlywheelError } from '../core/errors.js';

/**
 * Returns the normalized key ("a/b/c", no leading or trailing slash; "" is the root)
 * or throws FW_UNSAFE_PATH. Empty segments and "." are dropped; ".." is refused
 * outright rather than resolved, so a key means the same thing everywhere.
 */
export function validateArtifactPath(key: string, { allowRoot = false } = {}): string {
  if (typeof key !== 'string') throw new FlywheelError('FW_UNSAFE_PATH', 'artifact path must be a string');
  if (key.includes('\0')) throw new FlywheelError('FW_UNSAFE_PATH', 'artifact path contains a NUL byte');
  if (key.startsWith('/') || key.startsWith('\\') || /^[a-zA-Z]:/.test(key)) {
    throw new FlywheelError('FW_UNSAFE_PATH', `artifact path "${key}" is absolute; give a path relative to the run's artifact root`);
  }
  const parts = key.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new FlywheelError('FW_UNSAFE_PATH', `artifact path "${key}" contains ".."`);
  const normalized = parts.join('/');
  if (!allowRoot && normalized === '') throw new FlywheelError('FW_UNSAFE_PATH', 'artifact path is empty');
  return normalized;
}

export function joinArtifactPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
