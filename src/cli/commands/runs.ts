/**
 * `flywheel runs …`: list runs, show one run in full, and search runs with
 * MLflow's filter and order-by syntax, through the TrackingApi.
 */
import type { Command } from 'commander';
import { FlywheelError } from '../../core/errors.js';
import type { TrackingApi } from '../../tracking/api.js';
import type { Experiment, Page, Run } from '../../tracking/types.js';
import { collect, parseKeyList, parsePositiveInt } from '../options.js';
import { print, toJson } from '../output.js';
import { resolveExperiment } from '../resolve.js';
import { runPage, runsTable, type ArtifactEntry } from '../run-table.js';
import { withTracking, type GlobalOptions } from '../session.js';

/** Runs shown when --max is not given: a screenful, not MLflow's 1000. */
const DEFAULT_MAX_RUNS = 50;
/** `runs show` stops listing artifacts after this many entries. */
const MAX_ARTIFACT_ENTRIES = 1000;

interface ColumnOptions {
  metrics?: string[];
  params?: string[];
}

interface LsOptions extends ColumnOptions {
  experiment?: string;
  max?: number;
  json?: boolean;
}

interface SearchOptions extends ColumnOptions {
  filter?: string;
  experiment?: string[];
  orderBy?: string[];
  max?: number;
  pageToken?: string;
  json?: boolean;
}

/** The named experiments, or every active one when none is named. */
async function experimentsFor(api: TrackingApi, refs: string[]): Promise<Experiment[]> {
  if (refs.length > 0) return Promise.all(refs.map((r) => resolveExperiment(api, r)));
  const out: Experiment[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api.searchExperiments({ pageToken });
    out.push(...page.items);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

function printRuns(page: Page<Run>, experiments: Experiment[], opts: ColumnOptions & { json?: boolean }, more: string): void {
  if (opts.json) {
    print(toJson({ runs: page.items, nextPageToken: page.nextPageToken }));
    return;
  }
  if (page.items.length === 0) {
    print('No runs.');
    return;
  }
  // An EXPERIMENT column only when the runs shown come from more than one.
  const spansExperiments = new Set(page.items.map((r) => r.info.experimentId)).size > 1;
  const names = spansExperiments ? new Map(experiments.map((e) => [e.experimentId, e.name])) : undefined;
  print(runsTable(page.items, { metrics: opts.metrics, params: opts.params, experimentNames: names }));
  if (page.nextPageToken) print(more.replace('{token}', page.nextPageToken));
}

/** Every file and directory under the run's artifact root, depth first; null when not served by Flywheel. */
async function listArtifacts(api: TrackingApi, runId: string): Promise<ArtifactEntry[] | null> {
  const out: ArtifactEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await api.listRunArtifacts(runId, dir)) {
      if (out.length >= MAX_ARTIFACT_ENTRIES) return;
      out.push(entry);
      if (entry.isDir) await walk(entry.path);
    }
  };
  try {
    await walk('');
  } catch (err) {
    // A run whose artifact URI points elsewhere (s3://, a local path) has no listing here.
    if (err instanceof FlywheelError && err.code === 'FW_INVALID_ARGUMENT') return null;
    throw err;
  }
  return out;
}

function addColumnOptions(cmd: Command): Command {
  return cmd
    .option('--metrics <keys>', 'metric columns to show, comma-separated (default: the 3 most common)', parseKeyList)
    .option('--params <keys>', 'param columns to show, comma-separated (default: the 3 most common)', parseKeyList);
}

export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('list, show and search runs');

  addColumnOptions(
    runs
      .command('ls')
      .description('list the latest runs (of one experiment, or of all active experiments)')
      .option('--experiment <id-or-name>', 'only runs of this experiment')
      .option('--max <n>', `most runs to show (default ${DEFAULT_MAX_RUNS})`, parsePositiveInt),
  )
    .option('--json', 'print one JSON document')
    .action(async (opts: LsOptions, cmd: Command) => {
      const { page, experiments } = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), async (api) => {
        const experiments = await experimentsFor(api, opts.experiment === undefined ? [] : [opts.experiment]);
        const page = await api.searchRuns({ experimentIds: experiments.map((e) => e.experimentId), maxResults: opts.max ?? DEFAULT_MAX_RUNS });
        return { page, experiments };
      });
      printRuns(page, experiments, opts, '(more runs exist; raise --max, or page with: flywheel runs search --page-token {token})');
    });

  runs
    .command('show')
    .description('show one run: info, params, latest metrics, tags and artifacts')
    .argument('<run-id>', 'the run id (32 hex characters)')
    .option('--json', 'print one JSON document')
    .action(async (runId: string, opts: { json?: boolean }, cmd: Command) => {
      const shown = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), async (api) => {
        const run = await api.getRun(runId);
        const experimentName = await api.getExperiment(run.info.experimentId).then(
          (e) => e.name,
          () => undefined,
        );
        return { run, experimentName, artifacts: await listArtifacts(api, run.info.runId) };
      });
      print(opts.json ? toJson({ ...shown.run, experimentName: shown.experimentName ?? null, artifacts: shown.artifacts }) : runPage(shown));
    });

  addColumnOptions(
    runs
      .command('search')
      .description('search runs with an MLflow filter, e.g. --filter "metrics.acc > 0.9 AND params.lr = \'0.01\'"')
      .option('--filter <expr>', 'MLflow search filter (clauses joined with AND)')
      .option('--experiment <id-or-name>', 'search this experiment (repeatable; default: all active experiments)', collect)
      .option('--order-by <clause>', 'e.g. "metrics.acc DESC" (repeatable)', collect)
      .option('--max <n>', `most runs to return (default ${DEFAULT_MAX_RUNS})`, parsePositiveInt)
      .option('--page-token <token>', 'continue from a previous search'),
  )
    .option('--json', 'print one JSON document')
    .action(async (opts: SearchOptions, cmd: Command) => {
      const { page, experiments } = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), async (api) => {
        const experiments = await experimentsFor(api, opts.experiment ?? []);
        const page = await api.searchRuns({
          experimentIds: experiments.map((e) => e.experimentId),
          filter: opts.filter,
          orderBy: opts.orderBy,
          maxResults: opts.max ?? DEFAULT_MAX_RUNS,
          pageToken: opts.pageToken,
        });
        return { page, experiments };
      });
      printRuns(page, experiments, opts, '(more runs match; next page: --page-token {token})');
    });
}
