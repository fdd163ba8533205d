/**
 * Built-in tabular training: `trainTabular` turns a Parquet table into a
 * complete ONNX graph (preprocessing included) plus everything a model
 * package's manifest records about it. The CLI command and the `train`
 * pipeline step call this and write the package; nothing here writes files.
 */
export { trainTabular, MAX_CLASSES, ONNX_OUTPUT_NAMES } from './train.js';
export { algorithms, algorithmInfo, validateParams, type AlgorithmInfo, type ResolvedParams } from './params.js';
export { feedsFor, type OnnxFeed } from './onnx.js';
export type * from './types.js';
