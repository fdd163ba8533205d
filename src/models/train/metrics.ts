/**
 * The few held-out metrics training reports with a model (the evaluation
 * slice computes the full set later): classification auc, accuracy and
 * log_loss; regression rmse, mae and r2, as scikit-learn defines them.
 * A metric that is undefined on the held-out rows (AUC with one class
 * present, R² of a constant target) is left out rather than reported as NaN.
 */

/** ROC AUC of `score` for `positive` rows: the Mann–Whitney statistic, tied scores sharing their mean rank. */
export function rocAuc(score: ArrayLike<number>, positive: (i: number) => boolean, n: number): number | undefined {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]] === score[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive(order[t])) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return undefined;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * `y` class indices, `probabilities` row-major n × k, `predicted` class indices.
 * auc: binary ROC AUC of class 1's probability; more classes: the mean over
 * classes of one-vs-rest AUC (scikit-learn's multi_class='ovr', average='macro').
 */
export function classificationMetrics(y: Int32Array, probabilities: Float64Array, predicted: Int32Array, k: number): Record<string, number> {
  const n = y.length;
  let correct = 0;
  let loss = 0;
  const eps = 1e-15;
  for (let i = 0; i < n; i++) {
    if (predicted[i] === y[i]) correct++;
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.min(1 - eps, Math.max(eps, probabilities[i * k + c]));
    loss -= Math.log(Math.min(1 - eps, Math.max(eps, probabilities[i * k + y[i]])) / sum);
  }
  const out: Record<string, number> = { accuracy: correct / n, log_loss: loss / n };
  let auc: number | undefined;
  if (k === 2) {
    auc = rocAuc(column(probabilities, k, 1), (i) => y[i] === 1, n);
  } else {
    const per: number[] = [];
    for (let c = 0; c < k; c++) {
      const a = rocAuc(column(probabilities, k, c), (i) => y[i] === c, n);
      if (a !== undefined) per.push(a);
    }
    if (per.length === k) auc = per.reduce((s, a) => s + a, 0) / k;
  }
  if (auc !== undefined) out.auc = auc;
  return out;
}

export function regressionMetrics(y: Float64Array, predicted: Float64Array): Record<string, number> {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i];
  mean /= n;
  let se = 0;
  let ae = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i] - predicted[i];
    se += e * e;
    ae += Math.abs(e);
    tot += (y[i] - mean) ** 2;
  }
  const out: Record<string, number> = { rmse: Math.sqrt(se / n), mae: ae / n };
  if (tot > 0) out.r2 = 1 - se / tot;
  return out;
}

function column(m: Float64Array, k: number, c: number): Float64Array {
  const n = m.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = m[i * k + c];
  return out;
}
