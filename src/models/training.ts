/**
 * Training as a tracked run: what `flywheel train` and the pipeline step
 * `uses: train` share. Given a run already open and a dataset version,
 * trains a built-in learner (train/), logs the algorithm, its params (with
 * defaults filled in) and the held-out metrics to the run, records the run
 * —consumes→ version edge, stores the feature importances as the artifact
 * `feature_importance.json`, and writes the `onnx` model package (graph with
 * preprocessing inside) under `model/`. Registering the package is the
 * caller's choice (it needs the registry).
 */
import { createRequire } from 'node:module';
import type { DatasetVersion } from '../data/types.js';
import type { Engine } from '../engine/index.js';
import { FLYWHEEL_VERSION } from '../core/version.js';
import type { TrackingApi } from '../tracking/api.js';
import type { ModelManifest, ModelSignature } from './manifest.js';
import { MANIFEST_FORMAT } from './manifest.js';
import { writeModelPackage } from './package.js';
import { trainTabular, type TrainTabularResult } from './train/index.js';

export interface TrainRunInput {
  tracking: TrackingApi;
  engine: Engine;
  /** The open run the training is recorded on (the caller ends it). */
  runId: string;
  version: DatasetVersion;
  parquetPath: string;
  target: string;
  algo: string;
  task?: 'classification' | 'regression';
  params?: Record<string, unknown>;
  features?: string[];
}

export interface TrainRunResult {
  /** `runs:/<runId>/model` */
  uri: string;
  manifest: ModelManifest;
  result: TrainTabularResult;
}

function onnxRuntimeVersion(): string {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function trainOnRun(input: TrainRunInput): Promise<TrainRunResult> {
  const { tracking, runId, version } = input;
  const ref = `${version.dataset}@${version.version}`;
  const result = await trainTabular({ engine: input.engine, parquetPath: input.parquetPath, target: input.target, algo: input.algo, task: input.task, params: input.params, features: input.features });
  const now = Date.now();
  await tracking.logBatch(runId, {
    params: [
      { key: 'algo', value: result.algo },
      { key: 'target', value: input.target },
      { key: 'task', value: result.task },
      { key: 'dataset', value: ref },
      ...Object.entries(result.params).map(([key, value]) => ({ key: `param.${key}`, value: String(value) })),
    ],
    metrics: Object.entries(result.metrics)
      .filter(([, v]) => Number.isFinite(v))
      .map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
    tags: [{ key: 'flywheel.model.flavor', value: 'onnx' }],
  });
  if (result.featureImportance) {
    await tracking.putRunArtifact(runId, 'feature_importance.json', Buffer.from(JSON.stringify(result.featureImportance, null, 2) + '\n'));
  }
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    flavor: 'onnx',
    signature: result.signature as unknown as ModelSignature,
    task: result.task,
    classes: result.classes === null ? null : result.classes.map(String),
    files: { model: 'model.onnx' },
    preprocessing: result.preprocessing as unknown as Record<string, unknown>,
    training: { runId, dataset: ref, datasetVersionId: version.id, target: input.target },
    metrics: Object.fromEntries(Object.entries(result.metrics).filter(([, v]) => Number.isFinite(v))),
    libraries: { 'onnxruntime-node': onnxRuntimeVersion(), flywheel: FLYWHEEL_VERSION },
    createdTime: now,
  };
  const uri = await writeModelPackage(tracking, runId, { manifest, files: { 'model.onnx': result.onnx } });
  return { uri, manifest, result };
}
