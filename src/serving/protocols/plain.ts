/**
 * Flywheel's own prediction protocol, `POST /api/v1/deployments/{name}/predict`:
 * `{"rows": [...], "key"?: "..."}` in, one result per row out, each naming the
 * model version and traffic arm that answered (the other protocols cannot say
 * which arm served a row). `key` is the sticky A/B request key; this module
 * only passes it on, the traffic policy hashes it.
 */
import { invalidArgument } from '../../core/errors.js';
import type { ModelSignature } from '../../models/manifest.js';
import type { Prediction } from '../../models/types.js';
import { describeValue, prepareRows } from './rows.js';

export interface PlainRequest {
  rows: Record<string, unknown>[];
  key?: string;
}

/** Parses `{"rows": [...], "key"?}` and checks the rows against the signature (prepareRows). */
export function parsePlainRequest(body: unknown, signature: ModelSignature): PlainRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument(`the request body must be an object {"rows": [...], "key"?: "..."}, got ${describeValue(body)}`);
  }
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.rows)) throw invalidArgument(`rows must be an array of objects, got ${describeValue(b.rows)}`, { field: 'rows' });
  const out: PlainRequest = { rows: prepareRows(signature, b.rows) };
  if (b.key !== undefined && b.key !== null) {
    if (typeof b.key !== 'string') throw invalidArgument(`key must be a string, got ${describeValue(b.key)}`, { field: 'key' });
    out.key = b.key;
  }
  return out;
}

export interface PlainResult {
  predictionId: string;
  modelName: string;
  modelVersion: string;
  arm: string;
  prediction: Prediction;
}

export interface PlainPrediction {
  prediction_id: string;
  prediction: number | string;
  probability?: number[];
  /** "name/version" of the model version that answered. */
  model: string;
  arm: string;
}

/** The predict response: one entry per row, in row order. */
export function plainResponse(r: { deployment: string; revision: number | string; results: PlainResult[] }): {
  deployment: string;
  revision: number | string;
  predictions: PlainPrediction[];
} {
  return {
    deployment: r.deployment,
    revision: r.revision,
    predictions: r.results.map(
      (x): PlainPrediction => ({
        prediction_id: x.predictionId,
        prediction: x.prediction.prediction,
        ...(x.prediction.probability !== undefined ? { probability: [...x.prediction.probability] } : {}),
        model: `${x.modelName}/${x.modelVersion}`,
        arm: x.arm,
      }),
    ),
  };
}
