/**
 * The models slice's public face: the package manifest and signature
 * helpers, writing and reading packages as run artifacts, and loading a
 * package into a LoadedModel of its flavor (onnx, js).
 */
export * from './manifest.js';
export * from './types.js';
export { MODEL_ARTIFACT_PATH, parseRunsUri, readModelPackage, readPackageDir, runsUri, writeModelPackage, defaultPackageCacheDir, type ModelPackage, type ModelPackageInput } from './package.js';
export { loadModel, loadModelFromDir, type LoadModelOptions } from './load.js';
