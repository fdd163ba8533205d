/**
 * Histogram decision trees and the two ensembles built from them: gradient
 * boosting (as scikit-learn's HistGradientBoosting, trees grown to max_depth)
 * and random forests (bagged CART with Gini / squared error).
 *
 * Why written here: ml-cart (under ml-random-forest) tries every distinct
 * value of a feature by re-partitioning the whole column, O(n²) per feature
 * and node; on 2,000 rows × 20 features one depth-6 tree took 1.8 s and the
 * time quadruples with each doubling of rows, so 100,000 rows is out of reach.
 * Histograms make a split search O(rows + bins).
 *
 * One builder serves all four cases. Each row carries k gradient sums and a
 * hessian; a split's gain is Σ_c G_Lc²/(H_L+λ) + G_Rc²/(H_R+λ) − G_c²/(H+λ)
 * and a leaf's value is −G_c/(H+λ). Boosting uses the loss's gradients and
 * hessians (k = 1 per tree). A forest uses g = −y, h = 1, λ = 0: the gain is
 * then the reduction in squared error (regression) or, with one-hot class
 * indicators as g, the weighted Gini decrease, and the leaf value is the mean
 * or the class fractions.
 *
 * Thresholds are float32 values and rows go left when float32(x) ≤ threshold,
 * which is exactly what ONNX's TreeEnsemble (BRANCH_LEQ on float input) does.
 */
import type { Task } from './types.js';

const f32 = Math.fround;

export interface Binned {
  n: number;
  p: number;
  /** Per feature: the bin of each row (row r is in bin b when x ≤ thresholds[b], first such b). */
  bins: Uint8Array[];
  /** Per feature: ascending float32 thresholds; a feature has thresholds.length + 1 bins. */
  thresholds: Float64Array[];
  /** The same bins row-major (n × p): one pass over a node's rows fills every feature's histogram. */
  byRow: Uint8Array;
}

/** Bins each column of a row-major design matrix (n × p) into at most `maxBins` bins. */
export function binColumns(X: Float64Array, n: number, p: number, maxBins: number): Binned {
  const bins: Uint8Array[] = [];
  const thresholds: Float64Array[] = [];
  const values = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) values[i] = f32(X[i * p + j]);
    // Few distinct values (one-hot columns, small integers) are found without sorting.
    const few = new Set<number>();
    for (let i = 0; i < n && few.size <= maxBins; i++) few.add(values[i]);
    let distinct: number[];
    let sorted: Float64Array | null = null;
    if (few.size <= maxBins) {
      distinct = [...few].sort((a, b) => a - b);
    } else {
      // Quantiles from at most 200,000 evenly spaced rows (as scikit-learn's subsample).
      const m = Math.min(n, 200_000);
      sorted = new Float64Array(m);
      for (let i = 0; i < m; i++) sorted[i] = values[Math.floor((i * n) / m)];
      sorted.sort();
      distinct = [];
      for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
    }
    const thr: number[] = [];
    if (distinct.length <= maxBins) {
      // Every distinct value its own bin, split halfway between neighbours (as scikit-learn's binner).
      for (let i = 0; i + 1 < distinct.length; i++) {
        const mid = f32((distinct[i] + distinct[i + 1]) / 2);
        thr.push(mid < distinct[i + 1] ? mid : distinct[i]);
      }
    } else {
      // Quantiles: bin edges at evenly spaced ranks, each edge a data value (x ≤ edge goes left).
      const m = sorted!.length;
      for (let q = 1; q < maxBins; q++) {
        const v = sorted![Math.min(m - 1, Math.floor((q * m) / maxBins))];
        if (v < distinct[distinct.length - 1] && (thr.length === 0 || v > thr[thr.length - 1])) thr.push(v);
      }
    }
    const t = Float64Array.from(thr);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = binOf(t, values[i]);
    bins.push(b);
    thresholds.push(t);
  }
  const byRow = new Uint8Array(n * p);
  for (let j = 0; j < p; j++) {
    const b = bins[j];
    for (let i = 0; i < n; i++) byRow[i * p + j] = b[i];
  }
  return { n, p, bins, thresholds, byRow };
}

function binOf(thr: Float64Array, x: number): number {
  let lo = 0;
  let hi = thr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= thr[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A fitted tree; node 0 is the root, leaves have feature −1 and k values each. */
export interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** nodes × k, zero on internal nodes. */
  value: Float64Array;
  k: number;
}

export interface GrowOptions {
  maxDepth: number;
  minSamplesLeaf: number;
  minHessian: number;
  lambda: number;
  /** Leaf values are multiplied by this (learning rate; 1 for forests). */
  leafScale: number;
  /** Features tried per split; p = all (then histograms are subtracted parent − sibling). */
  maxFeatures: number;
  random: () => number;
}

export interface GrownTree {
  tree: Tree;
  /** Per feature, the total gain of its splits. */
  gain: Float64Array;
  /** Leaves as [node, start, end) ranges of `rows`, for updating training predictions. */
  leaves: { node: number; start: number; end: number }[];
  rows: Uint32Array;
}

/**
 * Grows one tree depth-first on `rows` (indices into `binned`, repeats allowed
 * for bootstrap samples). `g` is n × k gradients, `h` n hessians.
 */
export function growTree(binned: Binned, rows: Uint32Array, g: Float64Array, h: Float64Array, k: number, o: GrowOptions): GrownTree {
  const { p, bins, thresholds, byRow } = binned;
  const stride = k + 2; // G_1..G_k, H, count
  const offsets = new Int32Array(p + 1);
  for (let j = 0; j < p; j++) offsets[j + 1] = offsets[j] + (thresholds[j].length + 1) * stride;
  const histSize = offsets[p];
  const allFeatures = o.maxFeatures >= p;

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const gainByFeature = new Float64Array(p);
  const leaves: GrownTree['leaves'] = [];

  // Histogram buffers are reused: a tree needs only a few at a time, and fresh ones cost zeroing and GC.
  const pool: Float64Array[] = [];
  const fullHist = (start: number, end: number) => {
    const buffer = pool.pop()?.fill(0) ?? new Float64Array(histSize);
    return k === 1 ? histogramsOne(rows, start, end, byRow, p, offsets, g, h, buffer) : histogramsMany(rows, start, end, byRow, p, offsets, g, h, k, buffer);
  };
  // Partitions are stable, so a node's rows stay in ascending order and memory is read forwards.
  const spill = new Uint32Array(rows.length);

  // Nodes with at least this many rows keep all features' histograms (children by subtraction,
  // which pays once a child's rows × features exceed the histogram's size); smaller ones build
  // one feature's histogram at a time in `scratch` (all zeros between uses), sparsely when tiny.
  const histRows = allFeatures ? histSize / p : Infinity;
  const scratch = new Float64Array(256 * stride);
  const touched = new Int32Array(256);
  const G = new Float64Array(k);
  const GL = new Float64Array(k);
  const best: ScanBest = { gain: 0, bin: -1, GL: 0, HL: 0 };
  const order = new Int32Array(p);
  for (let j = 0; j < p; j++) order[j] = j;

  const newNode = () => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    for (let c = 0; c < k; c++) value.push(0);
    return feature.length - 1;
  };

  // hist: all features' histograms of this node (only when every feature is tried and the node is large), else null.
  // Gsum/H: the node's gradient sums and hessian sum (known from the parent's split).
  const grow = (node: number, start: number, end: number, depth: number, hist: Float64Array | null, Gsum: Float64Array, H: number) => {
    const count = end - start;
    G.set(Gsum);
    const makeLeaf = () => {
      for (let c = 0; c < k; c++) value[node * k + c] = (-G[c] / (H + o.lambda)) * o.leafScale;
      leaves.push({ node, start, end });
      if (hist) pool.push(hist);
    };
    if (depth >= o.maxDepth || count < 2 * o.minSamplesLeaf || H < 2 * o.minHessian) return makeLeaf();

    let parentScore = 0;
    for (let c = 0; c < k; c++) parentScore += (G[c] * G[c]) / (H + o.lambda);
    let bestGain = 1e-10 * Math.max(1, Math.abs(parentScore));
    let bestFeature = -1;
    let bestBin = -1;
    const bestGL = new Float64Array(k);
    let bestHL = 0;
    if (!allFeatures) {
      // Random order; stop after maxFeatures features once a valid split is found (as scikit-learn).
      for (let j = p - 1; j > 0; j--) {
        const s = Math.floor(o.random() * (j + 1));
        const t = order[j];
        order[j] = order[s];
        order[s] = t;
      }
    }
    for (let idx = 0; idx < p; idx++) {
      if (!allFeatures && idx >= o.maxFeatures && bestFeature >= 0) break;
      const j = order[idx];
      const nb = thresholds[j].length + 1;
      if (nb < 2) continue;
      let source = hist;
      let base = offsets[j];
      // Bins to scan as split points, in order: all of them, or (sparse) only those holding rows.
      let list: Int32Array | null = null;
      let scan = nb - 1;
      if (!source) {
        source = scratch;
        base = 0;
        if (count * 4 < nb) {
          const bj = bins[j];
          let m = 0;
          for (let i = start; i < end; i++) {
            const r = rows[i];
            const at = bj[r] * stride;
            if (scratch[at + k + 1] === 0) touched[m++] = bj[r];
            for (let c = 0; c < k; c++) scratch[at + c] += g[r * k + c];
            scratch[at + k] += h[r];
            scratch[at + k + 1] += 1;
          }
          list = touched.subarray(0, m).sort();
          scan = m - 1; // a split after the last occupied bin leaves the right side empty
        } else {
          histogramOfFeature(rows, start, end, bins[j], g, h, k, scratch);
        }
      }
      if (k === 1) {
        best.gain = bestGain;
        if (scanOne(source, base, list, scan, count, G[0], H, o.lambda, o.minSamplesLeaf, o.minHessian, parentScore, best)) {
          bestGain = best.gain;
          bestFeature = j;
          bestBin = best.bin;
          bestGL[0] = best.GL;
          bestHL = best.HL;
        }
      } else {
        GL.fill(0);
        let HL = 0;
        let NL = 0;
        for (let t = 0; t < scan; t++) {
          const b = list ? list[t] : t;
          const at = base + b * stride;
          for (let c = 0; c < k; c++) GL[c] += source[at + c];
          HL += source[at + k];
          NL += source[at + k + 1];
          if (NL < o.minSamplesLeaf) continue;
          if (count - NL < o.minSamplesLeaf) break;
          const HR = H - HL;
          if (HL < o.minHessian || HR < o.minHessian) continue;
          let gain = -parentScore;
          for (let c = 0; c < k; c++) {
            const gr = G[c] - GL[c];
            gain += (GL[c] * GL[c]) / (HL + o.lambda) + (gr * gr) / (HR + o.lambda);
          }
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = j;
            bestBin = b;
            bestGL.set(GL);
            bestHL = HL;
          }
        }
      }
      // Leave scratch all zeros for the next feature.
      if (list) for (const b of list) scratch.fill(0, b * stride, b * stride + stride);
      else if (source === scratch) scratch.fill(0, 0, nb * stride);
    }
    if (bestFeature < 0) return makeLeaf();

    // Partition rows: bin ≤ bestBin to the left, each side keeping its order.
    const b = bins[bestFeature];
    let mid = start;
    let spilled = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i];
      if (b[r] <= bestBin) rows[mid++] = r;
      else spill[spilled++] = r;
    }
    rows.set(spill.subarray(0, spilled), mid);
    feature[node] = bestFeature;
    threshold[node] = thresholds[bestFeature][bestBin];
    gainByFeature[bestFeature] += bestGain;
    const l = newNode();
    const r = newNode();
    left[node] = l;
    right[node] = r;

    let leftHist: Float64Array | null = null;
    let rightHist: Float64Array | null = null;
    const leftSmaller = mid - start <= end - mid;
    const [small, large] = leftSmaller ? [mid - start, end - mid] : [end - mid, mid - start];
    if (hist && large >= histRows) {
      // Build the smaller child's histograms; the larger one's are the parent's minus those.
      const smallHist = leftSmaller ? fullHist(start, mid) : fullHist(mid, end);
      for (let x = 0; x < histSize; x++) hist[x] -= smallHist[x];
      const keepSmall = small >= histRows ? smallHist : null;
      if (!keepSmall) pool.push(smallHist);
      leftHist = leftSmaller ? keepSmall : hist;
      rightHist = leftSmaller ? hist : keepSmall;
    } else if (hist) {
      pool.push(hist);
    }
    const rightG = Gsum.map((v, c) => v - bestGL[c]);
    grow(l, start, mid, depth + 1, leftHist, bestGL, bestHL);
    grow(r, mid, end, depth + 1, rightHist, rightG, H - bestHL);
  };

  const root = newNode();
  const rootG = new Float64Array(k);
  let rootH = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    for (let c = 0; c < k; c++) rootG[c] += g[r * k + c];
    rootH += h[r];
  }
  grow(root, 0, rows.length, 0, rows.length >= histRows ? fullHist(0, rows.length) : null, rootG, rootH);
  const tree: Tree = {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    k,
  };
  return { tree, gain: gainByFeature, leaves, rows };
}

// The hot loops live outside growTree as plain functions of their arrays: V8 optimises
// them better than closures over the same variables (about twice as fast here).

/** Every feature's histogram (G, H, count per bin) of rows[start, end), one output. */
function histogramsOne(
  rows: Uint32Array, start: number, end: number, byRow: Uint8Array, p: number,
  offsets: Int32Array, g: Float64Array, h: Float64Array, hist: Float64Array,
): Float64Array {
  for (let i = start; i < end; i++) {
    const r = rows[i];
    const gr = g[r];
    const hr = h[r];
    const rowAt = r * p;
    for (let j = 0; j < p; j++) {
      const at = offsets[j] + byRow[rowAt + j] * 3;
      hist[at] += gr;
      hist[at + 1] += hr;
      hist[at + 2] += 1;
    }
  }
  return hist;
}

/** As histogramsOne for k outputs (G_1..G_k, H, count per bin). */
function histogramsMany(
  rows: Uint32Array, start: number, end: number, byRow: Uint8Array, p: number,
  offsets: Int32Array, g: Float64Array, h: Float64Array, k: number, hist: Float64Array,
): Float64Array {
  const stride = k + 2;
  for (let i = start; i < end; i++) {
    const r = rows[i];
    const rowAt = r * p;
    const gAt = r * k;
    const hr = h[r];
    for (let j = 0; j < p; j++) {
      const at = offsets[j] + byRow[rowAt + j] * stride;
      for (let c = 0; c < k; c++) hist[at + c] += g[gAt + c];
      hist[at + k] += hr;
      hist[at + k + 1] += 1;
    }
  }
  return hist;
}

interface ScanBest {
  gain: number;
  bin: number;
  GL: number;
  HL: number;
}

/**
 * The split scan of one feature's histogram for one output (the common case):
 * updates `best` and returns true when a split beats `best.gain`. Split points
 * are after bin `list[t]` (or bin t), t < scan.
 */
function scanOne(
  hist: Float64Array, base: number, list: Int32Array | null, scan: number, count: number,
  G: number, H: number, lambda: number, minLeaf: number, minHessian: number, parentScore: number, best: ScanBest,
): boolean {
  let GL = 0;
  let HL = 0;
  let NL = 0;
  let found = false;
  for (let t = 0; t < scan; t++) {
    const at = base + (list ? list[t] : t) * 3;
    GL += hist[at];
    HL += hist[at + 1];
    NL += hist[at + 2];
    if (NL < minLeaf) continue;
    if (count - NL < minLeaf) break;
    const HR = H - HL;
    if (HL < minHessian || HR < minHessian) continue;
    const GR = G - GL;
    const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parentScore;
    if (gain > best.gain) {
      best.gain = gain;
      best.bin = list ? list[t] : t;
      best.GL = GL;
      best.HL = HL;
      found = true;
    }
  }
  return found;
}

/** One feature's histogram of rows[start, end) added into `hist` from offset 0. */
function histogramOfFeature(
  rows: Uint32Array, start: number, end: number, b: Uint8Array, g: Float64Array, h: Float64Array, k: number, hist: Float64Array,
): void {
  if (k === 1) {
    for (let i = start; i < end; i++) {
      const r = rows[i];
      const at = b[r] * 3;
      hist[at] += g[r];
      hist[at + 1] += h[r];
      hist[at + 2] += 1;
    }
    return;
  }
  const stride = k + 2;
  for (let i = start; i < end; i++) {
    const r = rows[i];
    const at = b[r] * stride;
    for (let c = 0; c < k; c++) hist[at + c] += g[r * k + c];
    hist[at + k] += h[r];
    hist[at + k + 1] += 1;
  }
}

/** The leaf a design-matrix row reaches (rows go left when float32(x) ≤ threshold). */
export function leafOf(tree: Tree, X: Float64Array, row: number, p: number): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    node = f32(X[row * p + tree.feature[node]]) <= tree.threshold[node] ? tree.left[node] : tree.right[node];
  }
  return node;
}

export interface TreeEnsemble {
  kind: 'gradient_boosting' | 'random_forest';
  task: Task;
  /** Number of outputs: classes for multiclass classification, else 1 (binary: the class-1 margin or probability). */
  outputs: number;
  trees: Tree[];
  /** Output each tree adds to (boosting: tree i of a round serves class i). */
  treeOutput: Int32Array;
  /** Added to the summed leaf values (boosting's initial raw prediction; zeros for forests). */
  base: Float64Array;
  /** Forests average: leaf values are divided by the number of trees. */
  average: boolean;
  /** Per design column, total split gain. */
  gain: Float64Array;
}

/** Raw summed outputs for each row: n × outputs (boosting: margins; forests: averaged values). */
export function ensembleRaw(model: TreeEnsemble, X: Float64Array, n: number, p: number): Float64Array {
  const m = model.outputs;
  const out = new Float64Array(n * m);
  const div = model.average ? model.trees.length : 1;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) out[i * m + c] = model.base[c];
    model.trees.forEach((tree, t) => {
      const leaf = leafOf(tree, X, i, p);
      if (tree.k === 1) out[i * m + model.treeOutput[t]] += tree.value[leaf] / div;
      else for (let c = 0; c < tree.k; c++) out[i * m + c] += tree.value[leaf * tree.k + c] / div;
    });
  }
  return out;
}

export interface BoostingOptions {
  nEstimators: number;
  learningRate: number;
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  maxBins: number;
}

/**
 * Gradient boosting on a design matrix. Regression: squared error, base = mean.
 * Classification with `classes` = 2: log loss on a margin, base = log(p/(1−p)).
 * More classes: softmax, one tree per class per round, base = log(p_c).
 */
export function fitGradientBoosting(
  X: Float64Array,
  n: number,
  p: number,
  target: Float64Array | Int32Array,
  task: Task,
  classes: number,
  o: BoostingOptions,
): TreeEnsemble {
  const binned = binColumns(X, n, p, o.maxBins);
  const m = task === 'regression' || classes === 2 ? 1 : classes;
  const base = new Float64Array(m);
  if (task === 'regression') {
    let s = 0;
    for (let i = 0; i < n; i++) s += target[i];
    base[0] = s / n;
  } else {
    const counts = new Float64Array(classes);
    for (let i = 0; i < n; i++) counts[target[i]]++;
    const eps = 2.220446049250313e-16;
    const prior = (c: number) => Math.min(1 - eps, Math.max(eps, counts[c] / n));
    if (classes === 2) base[0] = Math.log(prior(1) / (1 - prior(1)));
    else for (let c = 0; c < classes; c++) base[c] = Math.log(prior(c));
  }
  const raw = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) raw[i * m + c] = base[c];
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const probs = new Float64Array(m);
  const trees: Tree[] = [];
  const treeOutput: number[] = [];
  const gain = new Float64Array(p);
  const grads = m > 1 ? new Float64Array(n * m) : null;
  const hess = m > 1 ? new Float64Array(n * m) : null;
  const grow: GrowOptions = {
    maxDepth: o.maxDepth,
    minSamplesLeaf: o.minSamplesLeaf,
    minHessian: task === 'regression' ? 0 : 1e-3,
    lambda: o.l2,
    leafScale: o.learningRate,
    maxFeatures: p,
    random: Math.random, // unused: every feature is tried
  };
  for (let round = 0; round < o.nEstimators; round++) {
    if (m > 1) {
      for (let i = 0; i < n; i++) {
        let max = -Infinity;
        for (let c = 0; c < m; c++) max = Math.max(max, raw[i * m + c]);
        let sum = 0;
        for (let c = 0; c < m; c++) sum += probs[c] = Math.exp(raw[i * m + c] - max);
        for (let c = 0; c < m; c++) {
          const pc = probs[c] / sum;
          grads![i * m + c] = pc - (target[i] === c ? 1 : 0);
          hess![i * m + c] = pc * (1 - pc);
        }
      }
    }
    for (let c = 0; c < m; c++) {
      for (let i = 0; i < n; i++) {
        if (task === 'regression') {
          g[i] = raw[i] - target[i];
          h[i] = 1;
        } else if (m === 1) {
          const z = raw[i];
          const pi = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
          g[i] = pi - target[i];
          h[i] = pi * (1 - pi);
        } else {
          g[i] = grads![i * m + c];
          h[i] = hess![i * m + c];
        }
      }
      const rows = new Uint32Array(n);
      for (let i = 0; i < n; i++) rows[i] = i;
      const grown = growTree(binned, rows, g, h, 1, grow);
      for (const leaf of grown.leaves) {
        const v = grown.tree.value[leaf.node];
        for (let i = leaf.start; i < leaf.end; i++) raw[grown.rows[i] * m + c] += v;
      }
      for (let j = 0; j < p; j++) gain[j] += grown.gain[j];
      trees.push(grown.tree);
      treeOutput.push(c);
    }
  }
  return { kind: 'gradient_boosting', task, outputs: m, trees, treeOutput: Int32Array.from(treeOutput), base, average: false, gain };
}

export interface ForestOptions {
  nEstimators: number;
  maxDepth: number;
  minSamplesLeaf: number;
  maxBins: number;
  /** Features tried per split. */
  maxFeatures: number;
  bootstrap: boolean;
  random: () => number;
}

/**
 * A random forest: regression averages leaf means; classification averages leaf
 * class fractions. Binary classification grows one-output trees on the class-1
 * indicator: with c₀ = n − c₁ the Gini decrease is exactly twice that
 * single-output gain, so the splits are the same at half the work, and the
 * leaves hold P(class 1).
 */
export function fitRandomForest(
  X: Float64Array,
  n: number,
  p: number,
  target: Float64Array | Int32Array,
  task: Task,
  classes: number,
  o: ForestOptions,
): TreeEnsemble {
  const binned = binColumns(X, n, p, o.maxBins);
  const k = task === 'regression' || classes === 2 ? 1 : classes;
  const g = new Float64Array(n * k);
  const h = new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    if (task === 'regression') g[i] = -target[i];
    else if (k === 1) g[i] = target[i] === 1 ? -1 : 0;
    else g[i * k + target[i]] = -1;
  }
  const grow: GrowOptions = {
    maxDepth: o.maxDepth,
    minSamplesLeaf: o.minSamplesLeaf,
    minHessian: 0,
    lambda: 0,
    leafScale: 1,
    maxFeatures: Math.max(1, Math.min(p, o.maxFeatures)),
    random: o.random,
  };
  const trees: Tree[] = [];
  const gain = new Float64Array(p);
  for (let t = 0; t < o.nEstimators; t++) {
    const rows = new Uint32Array(n);
    for (let i = 0; i < n; i++) rows[i] = o.bootstrap ? Math.floor(o.random() * n) : i;
    if (o.bootstrap) rows.sort(); // ascending rows read memory forwards
    const grown = growTree(binned, rows, g, h, k, grow);
    for (let j = 0; j < p; j++) gain[j] += grown.gain[j];
    trees.push(grown.tree);
  }
  return {
    kind: 'random_forest',
    task,
    outputs: k,
    trees,
    treeOutput: new Int32Array(trees.length),
    base: new Float64Array(k),
    average: true,
    gain,
  };
}
