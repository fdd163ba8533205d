/**
 * Exports a trained tabular model as one ONNX graph, preprocessing included,
 * so the `onnx` flavor serves it through onnxruntime with no JS around it.
 *
 * Graph inputs: one per feature column, named after it, shape [N, 1]:
 * float for numeric columns (missing = NaN), string for categorical ones
 * (booleans as "true"/"false", missing = ""). Each numeric input goes through
 * Imputer (NaN → training statistic) and, for standardised linear models,
 * Scaler; each categorical input through OneHotEncoder (unknown → zeros) and
 * Flatten. Concat joins them in `preprocessing.designColumns` order, then a
 * LinearClassifier / LinearRegressor / TreeEnsembleClassifier /
 * TreeEnsembleRegressor (ai.onnx.ml opset 3) predicts.
 *
 * Outputs: classifiers `label` [N] (int64 or string) and `probabilities`
 * [N, classes] (float, columns in `classes` order; no ZipMap); regressors
 * `prediction` [N, 1] (float).
 *
 * `feedsFor` converts raw column values into the tensors these inputs expect;
 * it is exported so every caller feeds the graph the same way.
 */
import onnxProto from 'onnx-proto';
import { invalidArgument } from '../../core/errors.js';
import type { TreeEnsemble } from './trees.js';
import type { ClassLabel, FeatureEncoding, RawColumns, Task } from './types.js';
import { toCategory, toNumber } from './preprocess.js';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

const A = onnx.AttributeProto.AttributeType;
const T = onnx.TensorProto.DataType;
const ML = 'ai.onnx.ml';
const utf8 = (s: string) => new TextEncoder().encode(s);

type AttrValue = number | string | number[] | string[];
/** Attribute kinds cannot be told apart from JS numbers, so callers say which: 'i' int, 'f' float, 's' string, plural for lists. */
type AttrKind = 'i' | 'f' | 's' | 'ints' | 'floats' | 'strings';

function attr(name: string, kind: AttrKind, value: AttrValue): IAttributeProto {
  switch (kind) {
    case 'i':
      return { name, type: A.INT, i: value as number };
    case 'f':
      return { name, type: A.FLOAT, f: value as number };
    case 's':
      return { name, type: A.STRING, s: utf8(value as string) };
    case 'ints':
      return { name, type: A.INTS, ints: value as number[] };
    case 'floats':
      return { name, type: A.FLOATS, floats: value as number[] };
    case 'strings':
      return { name, type: A.STRINGS, strings: (value as string[]).map(utf8) };
  }
}

function node(opType: string, input: string[], output: string[], attributes: IAttributeProto[] = [], domain = ''): INodeProto {
  return { opType, input, output, attribute: attributes, domain, name: `${opType}_${output[0]}` };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export type Estimator =
  | { kind: 'linear'; task: Task; coef: Float64Array; intercept: Float64Array; binary: boolean }
  | { kind: 'trees'; ensemble: TreeEnsemble };

export interface OnnxExport {
  features: FeatureEncoding[];
  task: Task;
  classes: ClassLabel[] | null;
  estimator: Estimator;
  producerVersion: string;
  /** Stored as metadata_props (e.g. the algorithm name). */
  metadata?: Record<string, string>;
}

export function buildOnnx(spec: OnnxExport): Uint8Array {
  const nodes: INodeProto[] = [];
  const inputs: IValueInfoProto[] = [];
  const pieces: string[] = [];
  spec.features.forEach((f, i) => {
    if (f.kind === 'numeric') {
      inputs.push(valueInfo(f.name, T.FLOAT, ['N', 1]));
      const imputed = `__fw_imputed_${i}`;
      nodes.push(
        node('Imputer', [f.name], [imputed], [attr('imputed_value_floats', 'floats', [f.impute.value]), attr('replaced_value_float', 'f', Number.NaN)], ML),
      );
      if (f.scale) {
        const scaled = `__fw_scaled_${i}`;
        nodes.push(node('Scaler', [imputed], [scaled], [attr('offset', 'floats', [f.scale.offset]), attr('scale', 'floats', [f.scale.scale])], ML));
        pieces.push(scaled);
      } else {
        pieces.push(imputed);
      }
    } else {
      inputs.push(valueInfo(f.name, T.STRING, ['N', 1]));
      const onehot = `__fw_onehot_${i}`;
      const flat = `__fw_flat_${i}`;
      const cats = f.categories.map((c) => (c === null ? '' : c));
      nodes.push(node('OneHotEncoder', [f.name], [onehot], [attr('cats_strings', 'strings', cats), attr('zeros', 'i', 1)], ML));
      nodes.push(node('Flatten', [onehot], [flat], [attr('axis', 'i', 1)]));
      pieces.push(flat);
    }
  });
  const X = '__fw_features';
  nodes.push(node('Concat', pieces, [X], [attr('axis', 'i', 1)]));

  const outputs: IValueInfoProto[] = [];
  if (spec.task === 'classification') {
    const classes = spec.classes!;
    const stringLabels = typeof classes[0] === 'string';
    const labelAttr = stringLabels ? attr('classlabels_strings', 'strings', classes as string[]) : attr('classlabels_int64s', 'ints', classes as number[]);
    const labelAttrLinear = stringLabels ? labelAttr : attr('classlabels_ints', 'ints', classes as number[]);
    outputs.push(valueInfo('label', stringLabels ? T.STRING : T.INT64, ['N']));
    outputs.push(valueInfo('probabilities', T.FLOAT, ['N', classes.length]));
    nodes.push(...classifierNodes(spec.estimator, X, classes.length, spec.estimator.kind === 'linear' ? labelAttrLinear : labelAttr));
  } else {
    outputs.push(valueInfo('prediction', T.FLOAT, ['N', 1]));
    nodes.push(...regressorNodes(spec.estimator, X));
  }

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'flywheel',
    producerVersion: spec.producerVersion,
    opsetImport: [
      { domain: '', version: 13 },
      { domain: ML, version: 3 },
    ],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: { name: 'flywheel_tabular', node: nodes, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

function classifierNodes(est: Estimator, X: string, k: number, labels: IAttributeProto): INodeProto[] {
  const out = ['label', 'probabilities'];
  if (est.kind === 'linear') {
    // Binary: rows [−w, w] and LOGISTIC give [σ(−z), σ(z)] = [1 − p, p] exactly; multinomial: SOFTMAX.
    const coef = est.binary ? [...est.coef.map((v) => -v), ...est.coef] : [...est.coef];
    const intercepts = est.binary ? [-est.intercept[0], est.intercept[0]] : [...est.intercept];
    return [
      node('LinearClassifier', [X], out, [
        attr('coefficients', 'floats', coef),
        attr('intercepts', 'floats', intercepts),
        attr('multi_class', 'i', 0),
        attr('post_transform', 's', est.binary ? 'LOGISTIC' : 'SOFTMAX'),
        labels,
      ], ML),
    ];
  }
  const e = est.ensemble;
  const t = treeAttributes(e, k === 2);
  // Binary: onnxruntime's two-class path reads one score (class 0's slot) as the positive class's:
  // boosting's margin with LOGISTIC gives [σ(−m), σ(m)]; a forest's class-1 fraction with NONE gives [1 − p, p].
  // Multiclass boosting: per-class margins, SOFTMAX. Multiclass forest: averaged fractions as they are.
  const boosting = e.kind === 'gradient_boosting';
  const postTransform = boosting ? (k === 2 ? 'LOGISTIC' : 'SOFTMAX') : 'NONE';
  const base = boosting ? [...e.base] : null;
  return [
    node('TreeEnsembleClassifier', [X], out, [
      ...t.nodes,
      attr('class_treeids', 'ints', t.targetTree),
      attr('class_nodeids', 'ints', t.targetNode),
      attr('class_ids', 'ints', t.targetId),
      attr('class_weights', 'floats', t.targetWeight),
      attr('post_transform', 's', postTransform),
      ...(base ? [attr('base_values', 'floats', base)] : []),
      labels,
    ], ML),
  ];
}

function regressorNodes(est: Estimator, X: string): INodeProto[] {
  if (est.kind === 'linear') {
    return [
      node('LinearRegressor', [X], ['prediction'], [
        attr('coefficients', 'floats', [...est.coef]),
        attr('intercepts', 'floats', [...est.intercept]),
        attr('targets', 'i', 1),
      ], ML),
    ];
  }
  const e = est.ensemble;
  const t = treeAttributes(e, false);
  return [
    node('TreeEnsembleRegressor', [X], ['prediction'], [
      ...t.nodes,
      attr('target_treeids', 'ints', t.targetTree),
      attr('target_nodeids', 'ints', t.targetNode),
      attr('target_ids', 'ints', t.targetId),
      attr('target_weights', 'floats', t.targetWeight),
      attr('n_targets', 'i', 1),
      attr('aggregate_function', 's', 'SUM'),
      attr('post_transform', 's', 'NONE'),
      attr('base_values', 'floats', [e.base[0]]),
    ], ML),
  ];
}

/**
 * The node arrays shared by both tree operators, and the leaf → output weights.
 * `binary`: one weight per leaf on output 0 (see classifierNodes).
 */
function treeAttributes(e: TreeEnsemble, binary: boolean) {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const targetTree: number[] = [];
  const targetNode: number[] = [];
  const targetId: number[] = [];
  const targetWeight: number[] = [];
  const div = e.average ? e.trees.length : 1;
  const weight = (t: number, nd: number, id: number, w: number) => {
    targetTree.push(t);
    targetNode.push(nd);
    targetId.push(id);
    targetWeight.push(w);
  };
  e.trees.forEach((tree, t) => {
    for (let nd = 0; nd < tree.feature.length; nd++) {
      treeIds.push(t);
      nodeIds.push(nd);
      const leaf = tree.feature[nd] < 0;
      featureIds.push(leaf ? 0 : tree.feature[nd]);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : tree.threshold[nd]);
      trueIds.push(leaf ? 0 : tree.left[nd]);
      falseIds.push(leaf ? 0 : tree.right[nd]);
      if (!leaf) continue;
      if (binary) weight(t, nd, 0, tree.value[nd * tree.k + tree.k - 1] / div);
      else if (tree.k === 1) weight(t, nd, e.treeOutput[t], tree.value[nd] / div);
      else for (let c = 0; c < tree.k; c++) weight(t, nd, c, tree.value[nd * tree.k + c] / div);
    }
  });
  if (binary && e.kind === 'gradient_boosting' && !targetWeight.some((w) => w < 0)) {
    // onnxruntime reads all-positive binary weights as probabilities (no LOGISTIC); a cancelling
    // ±2⁻¹⁰⁰ pair on one leaf marks them as margins without changing any float32 sum.
    const leaf = e.trees[0].feature.findIndex((f) => f < 0);
    weight(0, leaf, 0, -(2 ** -100));
    weight(0, leaf, 0, 2 ** -100);
  }
  return {
    nodes: [
      attr('nodes_treeids', 'ints', treeIds),
      attr('nodes_nodeids', 'ints', nodeIds),
      attr('nodes_featureids', 'ints', featureIds),
      attr('nodes_modes', 'strings', modes),
      attr('nodes_values', 'floats', values),
      attr('nodes_truenodeids', 'ints', trueIds),
      attr('nodes_falsenodeids', 'ints', falseIds),
    ],
    targetTree,
    targetNode,
    targetId,
    targetWeight,
  };
}

export interface OnnxFeed {
  type: 'float32' | 'string';
  data: Float32Array | string[];
  dims: [number, 1];
}

/**
 * The graph's input tensors for raw columns: numbers (and bigints) as float32
 * with null → NaN; categories as strings with booleans "true"/"false" and
 * null → "" (the graph's missing category).
 */
export function feedsFor(features: FeatureEncoding[], columns: RawColumns, rowCount: number): Record<string, OnnxFeed> {
  const feeds: Record<string, OnnxFeed> = {};
  for (const f of features) {
    const col = columns[f.name];
    if (!col) throw invalidArgument(`missing input column '${f.name}'`);
    if (f.kind === 'numeric') {
      const data = new Float32Array(rowCount);
      for (let i = 0; i < rowCount; i++) data[i] = toNumber(col[i]);
      feeds[f.name] = { type: 'float32', data, dims: [rowCount, 1] };
    } else {
      const data: string[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) data[i] = toCategory(col[i]) ?? '';
      feeds[f.name] = { type: 'string', data, dims: [rowCount, 1] };
    }
  }
  return feeds;
}
