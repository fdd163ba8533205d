/**
 * `loadModel`: from a model URI to a LoadedModel of the package's flavor.
 * `runs:/<runId>/model` is read here; `models:/name@alias` and
 * `models:/name/3` belong to the registry, so the caller passes its
 * `resolveModelUri` (this slice does not import the registry). Flavor code
 * is imported on first use, so loading a js model never loads onnxruntime.
 */
import { invalidArgument } from '../core/errors.js';
import type { TrackingApi } from '../tracking/api.js';
import type { ModelManifest } from './manifest.js';
import { readModelPackage, readPackageDir } from './package.js';
import type { LoadedModel, ModelUriResolver } from './types.js';
import type { InferenceSession } from 'onnxruntime-node';

export interface LoadModelOptions {
  /** Resolves `models:/…` URIs (the registry's resolveModelUri). */
  resolveModelUri?: ModelUriResolver;
  /** Where downloaded packages are cached (default `$TMPDIR/flywheel-models`). */
  cacheDir?: string;
  /** Passed to onnxruntime for the onnx flavor (threads, optimization level…). */
  onnxSessionOptions?: InferenceSession.SessionOptions;
}

/** Loads a package already on disk (as `readModelPackage` leaves it) by its flavor. */
export async function loadModelFromDir(dir: string, options: LoadModelOptions & { manifest?: ModelManifest; source?: string } = {}): Promise<LoadedModel> {
  const manifest = options.manifest ?? (await readPackageDir(dir));
  const source = options.source ?? dir;
  switch (manifest.flavor) {
    case 'onnx': {
      const { loadOnnxModel } = await import('./flavors/onnx.js');
      return loadOnnxModel(manifest, dir, source, { sessionOptions: options.onnxSessionOptions });
    }
    case 'js': {
      const { loadJsModel } = await import('./flavors/js.js');
      return loadJsModel(manifest, dir, source);
    }
  }
}

/** Resolves a model URI (`runs:/…/model`, or `models:/…` through `resolveModelUri`), fetches the package and loads it. */
export async function loadModel(tracking: TrackingApi, uri: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  let source = uri;
  if (typeof uri === 'string' && uri.startsWith('models:/')) {
    if (!options.resolveModelUri) throw invalidArgument(`${uri} names a registered model; loading it needs the registry (pass resolveModelUri)`);
    const resolved = await options.resolveModelUri(uri);
    source = resolved.packageUri ?? resolved.source;
  }
  const pkg = await readModelPackage(tracking, source, { cacheDir: options.cacheDir });
  return loadModelFromDir(pkg.dir, { ...options, manifest: pkg.manifest, source: pkg.source });
}
