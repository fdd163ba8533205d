/**
 * What a model version copies from its package: the manifest
 * (`<path>/flywheel-model.json`, written by src/models) is read through the
 * TrackingApi's run artifacts, and its flavor, signature and task are kept
 * with the version so listings and serving can show them without opening
 * the package. A source that is not a Flywheel package (an MLflow client
 * logging its own model format) simply has no manifest. A manifest that is
 * there but unreadable is an error: registering it would hide a broken package.
 */
import { text } from 'node:stream/consumers';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import type { TrackingApi } from '../tracking/api.js';

export const MANIFEST_FILE = 'flywheel-model.json';

export interface ManifestSummary {
  flavor: string;
  signature: Record<string, unknown> | null;
  task: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The manifest's flavor, signature and task, or null when the package has no manifest. */
export async function readManifestSummary(tracking: Pick<TrackingApi, 'getRunArtifact'>, runId: string, artifactPath: string): Promise<ManifestSummary | null> {
  const file = `${artifactPath}/${MANIFEST_FILE}`;
  let body: string;
  try {
    body = await text(await tracking.getRunArtifact(runId, file));
  } catch (err) {
    // No such file, or a run whose artifacts Flywheel does not serve (a custom artifact location).
    if (err instanceof FlywheelError && (err.code === 'FW_NOT_FOUND' || err.code === 'FW_INVALID_ARGUMENT')) return null;
    throw err;
  }
  const where = `${file} of run ${runId}`;
  let manifest: unknown;
  try {
    manifest = JSON.parse(body);
  } catch (err) {
    throw invalidArgument(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(manifest)) throw invalidArgument(`${where} must be a JSON object`);
  const { flavor, signature, task } = manifest;
  if (typeof flavor !== 'string' || flavor === '') throw invalidArgument(`${where} has no "flavor"`);
  if (signature !== undefined && signature !== null && !isObject(signature)) throw invalidArgument(`${where}: "signature" must be an object`);
  if (task !== undefined && task !== null && typeof task !== 'string') throw invalidArgument(`${where}: "task" must be a string or null`);
  return { flavor, signature: (signature as Record<string, unknown> | undefined) ?? null, task: (task as string | undefined) ?? null };
}
