/**
 * The evaluation report for people: a heading line, the metrics as aligned
 * pairs, then the confusion matrix, the calibration bins, one table per
 * slice column and the fairness table. Scripts use `--json` instead.
 */
import { formatNumber, renderPairs, renderTable, type Column } from '../cli/output.js';
import type { ClassificationReport, EvaluationReport, SliceReport } from './evaluate.js';

const fmt = (v: number | null) => (v === null ? '-' : formatNumber(v));
const label = (v: string | null) => (v === null ? '(null)' : v);
const right = (header: string): Column => ({ header, align: 'right' });

const SLICE_METRICS = {
  classification: ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'pr_auc', 'log_loss', 'brier'],
  regression: ['mae', 'rmse', 'r2', 'mape'],
} as const;

export function renderEvaluation(report: EvaluationReport): string {
  const out: string[] = [];
  if (report.task === 'classification') {
    const how = report.pred === null ? `threshold ${report.threshold}` : `predicted labels from ${report.pred}`;
    out.push(`Classification of ${report.rows} rows: label ${report.label} (positive ${report.positive}), score ${report.score}, ${how}\n`);
  } else {
    out.push(`Regression of ${report.rows} rows: label ${report.label}, prediction ${report.score}\n`);
  }
  out.push(renderPairs(Object.entries(report.metrics).map(([k, v]) => [k, fmt(v as number | null)])));
  if (report.task === 'classification') out.push(renderClassificationExtras(report));

  const names = SLICE_METRICS[report.task];
  for (const [column, slices] of Object.entries(report.slices)) {
    out.push(`\nSlices of ${column}:\n`);
    const rows = (slices as SliceReport<Record<string, number | null>>[]).map((s) => [label(s.value), String(s.count), ...names.map((m) => fmt(s.metrics[m]))]);
    out.push(renderTable([{ header: 'value', maxWidth: 40 }, right('count'), ...names.map(right)], rows));
  }

  if ('attribute' in report.fairness) {
    const f = report.fairness;
    out.push(`\nFairness across ${f.attribute}:\n`);
    out.push(
      renderPairs([
        ['demographic_parity_difference', fmt(f.demographic_parity_difference)],
        ['demographic_parity_ratio', fmt(f.demographic_parity_ratio)],
        ['equalized_odds_difference', fmt(f.equalized_odds_difference)],
      ]),
    );
    out.push(
      renderTable(
        [{ header: 'group', maxWidth: 40 }, right('count'), right('positives'), right('selection_rate'), right('tpr'), right('fpr')],
        f.groups.map((g) => [label(g.value), String(g.count), String(g.positives), fmt(g.selection_rate), fmt(g.tpr), fmt(g.fpr)]),
      ),
    );
  }
  return out.join('');
}

function renderClassificationExtras(report: ClassificationReport): string {
  const cm = report.confusion_matrix;
  const [neg, pos] = cm.labels;
  const lines = ['\nConfusion matrix (rows: label, columns: prediction):\n'];
  lines.push(
    renderTable(
      [{ header: '' }, right(`pred ${neg}`), right(`pred ${pos}`)],
      [
        [`label ${neg}`, String(cm.tn), String(cm.fp)],
        [`label ${pos}`, String(cm.fn), String(cm.tp)],
      ],
    ),
  );
  lines.push(`\nCalibration (${report.calibration.n_bins} uniform bins, non-empty shown):\n`);
  lines.push(
    renderTable(
      [{ header: 'bin' }, right('count'), right('mean_predicted'), right('fraction_positive')],
      report.calibration.bins.map((b) => [`${b.bin === 0 ? '[' : '('}${formatNumber(b.lower)}, ${formatNumber(b.upper)}]`, String(b.count), fmt(b.mean_predicted), fmt(b.fraction_positive)]),
    ),
  );
  return lines.join('');
}
