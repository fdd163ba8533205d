/**
 * Finds the experiment a user named on the command line, by id or by name:
 * digits are tried as an id first, then as a name (names like "2024" exist).
 */
import { FlywheelError, notFound } from '../core/errors.js';
import type { TrackingApi } from '../tracking/api.js';
import type { Experiment } from '../tracking/types.js';

function isNotFound(err: unknown): boolean {
  return err instanceof FlywheelError && err.code === 'FW_NOT_FOUND';
}

export async function resolveExperiment(api: TrackingApi, ref: string): Promise<Experiment> {
  if (/^\d+$/.test(ref)) {
    try {
      return await api.getExperiment(ref);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  try {
    return await api.getExperimentByName(ref);
  } catch (err) {
    if (isNotFound(err)) throw notFound(`no experiment with id or name '${ref}'`);
    throw err;
  }
}
