/**
 * Reading and lightly rewriting ONNX graphs with `onnx-proto`, for the two
 * things onnxruntime-node's metadata does not give: class labels (stored as
 * attributes of the classifier or ZipMap node) and ZipMap outputs.
 *
 * scikit-learn-onnx classifiers end in a ZipMap by default, whose output is a
 * sequence of maps {class → probability}; onnxruntime-node cannot return
 * non-tensor values ("Non tensor type is temporarily not supported"). The
 * ZipMap's input is the plain [N, classes] probability tensor in class order,
 * so `unzipMapOutputs` replaces each ZipMap that feeds a graph output with an
 * Identity of that tensor under the same output name: same names, same order,
 * a tensor instead of the maps.
 */
import onnxProto from 'onnx-proto';
import { invalidArgument } from '../../core/errors.js';

const { onnx } = onnxProto;
export type OnnxModelProto = onnxProto.onnx.ModelProto;
type Attribute = onnxProto.onnx.IAttributeProto;

const ML_DOMAIN = 'ai.onnx.ml';
const CLASSIFIER_OPS = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier', 'ZipMap']);

/** Parses ONNX bytes; a file that is not an ONNX model (corrupt, truncated, something else) is FW_INVALID_ARGUMENT naming it. */
export function decodeModel(bytes: Uint8Array, file: string): OnnxModelProto {
  let model: OnnxModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw invalidArgument(`${file} is not a readable ONNX model (corrupt or truncated?): ${(err as Error).message}`);
  }
  if (!model.graph) throw invalidArgument(`${file} is not an ONNX model: it holds no graph`);
  return model;
}

export function encodeModel(model: OnnxModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

const toNumber = (v: number | { toString(): string }): number => (typeof v === 'number' ? v : Number(v.toString()));
const decoder = new TextDecoder();

function attr(node: onnxProto.onnx.INodeProto, name: string): Attribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** The class labels a classifier node (or ZipMap) of the main graph declares, as strings, in probability-column order. */
export function classLabels(model: OnnxModelProto): string[] | null {
  for (const node of model.graph?.node ?? []) {
    if (!CLASSIFIER_OPS.has(node.opType ?? '') || node.domain !== ML_DOMAIN) continue;
    const strings = attr(node, 'classlabels_strings')?.strings;
    if (strings && strings.length > 0) return strings.map((s) => decoder.decode(s));
    const ints = (attr(node, 'classlabels_ints') ?? attr(node, 'classlabels_int64s'))?.ints;
    if (ints && ints.length > 0) return ints.map((i) => String(toNumber(i)));
  }
  return null;
}

/**
 * Replaces every ZipMap that produces a graph output with an Identity of its
 * probability tensor (see the module comment). Returns the names of the
 * outputs it changed; the model is modified in place.
 */
export function unzipMapOutputs(model: OnnxModelProto): string[] {
  const graph = model.graph;
  if (!graph) return [];
  const changed: string[] = [];
  const nodes = graph.node ?? [];
  for (const output of graph.output ?? []) {
    const name = output.name;
    if (!output.type || output.type.tensorType || !name) continue;
    const i = nodes.findIndex((n) => n.opType === 'ZipMap' && n.domain === ML_DOMAIN && n.output?.includes(name));
    const zipInput = i >= 0 ? nodes[i].input?.[0] : undefined;
    if (!zipInput) continue;
    nodes[i] = onnx.NodeProto.create({ opType: 'Identity', domain: '', input: [zipInput], output: [name], name: `${nodes[i].name || 'ZipMap'}_unzipped` });
    output.type = onnx.TypeProto.create({ tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } });
    changed.push(name);
  }
  if (changed.length > 0 && !model.opsetImport.some((o) => o.domain === '' || o.domain === 'ai.onnx')) {
    model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: '', version: 13 }));
  }
  return changed;
}
