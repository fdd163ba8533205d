/**
 * Runs as people read them: one table row per run with its status, timing
 * and a few chosen metric and param columns, and a `runs show` page with
 * everything recorded for one run.
 */
import type { Run } from '../tracking/types.js';
import { formatBytes, formatDuration, formatNumber, formatTime, renderPairs, renderTable, type Column } from './output.js';

/** How many metric (and param) columns a runs table shows when none are named. */
export const DEFAULT_KEY_COLUMNS = 3;

/** The keys present in most runs, ties broken alphabetically, at most `limit`. */
export function mostCommonKeys(keysPerRun: string[][], limit: number): string[] {
  const counts = new Map<string, number>();
  for (const keys of keysPerRun) for (const k of new Set(keys)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([k]) => k);
}

export interface RunsTableOptions {
  /** Metric keys to show as columns; default: the most common ones. */
  metrics?: string[];
  /** Param keys to show as columns; default: the most common ones. */
  params?: string[];
  /** Experiment names by id; when given, an EXPERIMENT column is shown. */
  experimentNames?: Map<string, string>;
}

export function runsTable(runs: Run[], options: RunsTableOptions = {}): string {
  const metricKeys = options.metrics ?? mostCommonKeys(runs.map((r) => r.data.metrics.map((m) => m.key)), DEFAULT_KEY_COLUMNS);
  const paramKeys = options.params ?? mostCommonKeys(runs.map((r) => Object.keys(r.data.params)), DEFAULT_KEY_COLUMNS);
  const names = options.experimentNames;
  const columns: Column[] = [
    { header: 'RUN ID' },
    { header: 'NAME', maxWidth: 28 },
    ...(names ? [{ header: 'EXPERIMENT', maxWidth: 24 }] : []),
    { header: 'STATUS' },
    { header: 'STARTED' },
    { header: 'DURATION', align: 'right' },
    ...metricKeys.map((k): Column => ({ header: `metrics.${k}`, maxWidth: 16, align: 'right' })),
    ...paramKeys.map((k): Column => ({ header: `params.${k}`, maxWidth: 20 })),
  ];
  const rows = runs.map((r) => {
    const latest = new Map(r.data.metrics.map((m) => [m.key, m.value]));
    return [
      r.info.runId,
      r.info.runName,
      ...(names ? [names.get(r.info.experimentId) ?? r.info.experimentId] : []),
      r.info.status,
      formatTime(r.info.startTime),
      r.info.endTime === null ? '-' : formatDuration(r.info.endTime - r.info.startTime),
      ...metricKeys.map((k) => (latest.has(k) ? formatNumber(latest.get(k)!) : '')),
      ...paramKeys.map((k) => r.data.params[k] ?? ''),
    ];
  });
  return renderTable(columns, rows);
}

export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  size: number;
}

export interface RunPageInput {
  run: Run;
  experimentName?: string;
  /** Files under the run's artifact root; null when its location is not served by Flywheel. */
  artifacts: ArtifactEntry[] | null;
}

export function runPage({ run, experimentName, artifacts }: RunPageInput): string {
  const i = run.info;
  const sections: string[] = [];
  sections.push(
    `Run ${i.runId}\n` +
      renderPairs(
        [
          ['name', i.runName],
          ['experiment', experimentName === undefined ? i.experimentId : `${i.experimentId} '${experimentName}'`],
          ['status', i.status],
          ['lifecycle', i.lifecycleStage],
          ['user', i.userId || '-'],
          ['started', formatTime(i.startTime)],
          ['ended', formatTime(i.endTime)],
          ['duration', i.endTime === null ? '-' : formatDuration(i.endTime - i.startTime)],
          ['parent run', i.parentRunId ?? '-'],
          ['artifact uri', i.artifactUri],
        ],
        '  ',
      ),
  );
  const params = Object.entries(run.data.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  sections.push('Params\n' + renderPairs(params, '  '));
  const metrics = [...run.data.metrics].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  sections.push('Metrics (latest)\n' + renderPairs(metrics.map((m) => [m.key, `${formatNumber(m.value)}  (step ${m.step})`]), '  '));
  const tags = Object.entries(run.data.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  sections.push('Tags\n' + renderPairs(tags, '  '));
  const files = artifacts?.filter((a) => !a.isDir);
  sections.push(
    'Artifacts\n' +
      (files === undefined
        ? `  (kept at ${i.artifactUri}, not served by Flywheel)\n`
        : renderPairs(files.map((a) => [a.path, formatBytes(a.size)]), '  ')),
  );
  return sections.join('\n');
}
