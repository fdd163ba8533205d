/**
 * Get-or-create of an experiment by name, race-safe against another writer:
 * shared by the in-process service and the HTTP client.
 */
import { FlywheelError } from '../core/errors.js';
import type { Experiment } from './types.js';

export interface ExperimentLookup {
  getExperimentByName(name: string): Promise<Experiment>;
  createExperiment(input: { name: string }): Promise<Experiment>;
}

export async function ensureExperiment(api: ExperimentLookup, name: string): Promise<Experiment> {
  try {
    return await api.getExperimentByName(name);
  } catch (err) {
    if (!(err instanceof FlywheelError) || err.code !== 'FW_NOT_FOUND') throw err;
  }
  try {
    return await api.createExperiment({ name });
  } catch (err) {
    // Another writer created it between our read and our create.
    if (err instanceof FlywheelError && err.code === 'FW_ALREADY_EXISTS') return api.getExperimentByName(name);
    throw err;
  }
}
