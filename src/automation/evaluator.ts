/**
 * The seam between promotion (and model cards) and model evaluation: the
 * small `Evaluator` interface the gates call, the shape of what it returns
 * (a subset of src/evaluation's evaluateModel result), and the flattening of
 * that result into the metric names gate rules use. Injected, so the gate
 * logic and its tests do not depend on how evaluation runs a model.
 */

/** What one evaluation of a model version on a dataset version yields (evaluateModel's result, as far as gates read it). */
export interface ModelEvaluation {
  report: {
    metrics: Record<string, number | null | undefined>;
    slices?: Record<string, { value: string | null; count: number; metrics: Record<string, number | null | undefined> }[]>;
    fairness?: Record<string, unknown>;
    [key: string]: unknown;
  };
  modelUri?: string;
  name?: string | null;
  version?: number | null;
  /** The dataset version evaluated on, `name@N`. */
  dataset: string;
  rowCount: number;
  /** Permutation importance (`{ metric, features: [{ feature, importance_mean, importance_std }] }`), when computed. */
  featureImportance?: unknown;
  latency?: { p50_ms: number; p99_ms: number } | null;
  /** The tracking run the evaluation was recorded on, when it was. */
  runId?: string | null;
  createdTime?: number;
}

export interface EvaluateRequest {
  /** `models:/<name>/<version>`: versions are pinned so both sides of a gate name exactly what was compared. */
  model: string;
  name: string;
  version: number;
  /** A pinned dataset version, `name@N`. */
  dataset: string;
  label?: string;
  group?: string;
  slices?: string[];
  threshold?: number;
}

export interface Evaluator {
  evaluate(request: EvaluateRequest): Promise<ModelEvaluation>;
}

/** The latest recorded evaluation of a model version, or null when it was never evaluated (model cards). */
export type EvaluationLookup = (name: string, version: number) => Promise<ModelEvaluation | null>;

/** Short names the issue and common usage give to report fields. */
const METRIC_ALIASES: Record<string, string> = { auc: 'roc_auc', average_precision: 'pr_auc' };
const FAIRNESS_ALIASES: Record<string, string> = {
  dp_difference: 'demographic_parity_difference',
  dp_ratio: 'demographic_parity_ratio',
  eo_difference: 'equalized_odds_difference',
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const numOrNull = (v: unknown): number | null | undefined => (typeof v === 'number' ? (Number.isFinite(v) ? v : null) : v === null ? null : undefined);

/**
 * The names a rule may read, flattened from an evaluation:
 * - every report metric, bare and as `metrics.<name>` (`roc_auc`, `metrics.f1`…), plus `auc` (= roc_auc) and `average_precision` (= pr_auc);
 * - `fairness.<name>` for the numeric fairness fields, plus `fairness.dp_difference`, `dp_ratio`, `eo_difference`;
 * - `p50_latency_ms`, `p99_latency_ms` (and `latency.p50_ms`, `latency.p99_ms`) when latency was measured;
 * - `rows`, the number of rows evaluated;
 * - `slices.<column>.<value>.<metric>` for slice values that are plain names.
 */
export function metricValues(e: ModelEvaluation): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const put = (k: string, v: unknown) => {
    const n = numOrNull(v);
    if (n !== undefined && !out.has(k)) out.set(k, n);
  };
  const metrics = e.report.metrics ?? {};
  for (const [k, v] of Object.entries(metrics)) {
    put(k, v);
    put(`metrics.${k}`, v);
  }
  for (const [alias, k] of Object.entries(METRIC_ALIASES)) if (k in metrics) put(alias, metrics[k]);
  const fairness = e.report.fairness ?? {};
  for (const [k, v] of Object.entries(fairness)) put(`fairness.${k}`, v);
  for (const [alias, k] of Object.entries(FAIRNESS_ALIASES)) if (k in fairness) put(`fairness.${alias}`, fairness[k]);
  if (e.latency) {
    put('p50_latency_ms', e.latency.p50_ms);
    put('p99_latency_ms', e.latency.p99_ms);
    put('latency.p50_ms', e.latency.p50_ms);
    put('latency.p99_ms', e.latency.p99_ms);
  }
  put('rows', e.rowCount);
  for (const [column, slices] of Object.entries(e.report.slices ?? {})) {
    if (!IDENT.test(column)) continue;
    for (const s of slices) {
      if (s.value === null || !IDENT.test(s.value)) continue;
      for (const [k, v] of Object.entries(s.metrics ?? {})) put(`slices.${column}.${s.value}.${k}`, v);
    }
  }
  return out;
}
