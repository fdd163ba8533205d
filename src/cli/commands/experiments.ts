/**
 * `flywheel experiments …`: list, create, rename, delete and restore
 * experiments through the TrackingApi (embedded store or remote server).
 */
import { Option, type Command } from 'commander';
import type { TrackingApi } from '../../tracking/api.js';
import type { Experiment, ViewType } from '../../tracking/types.js';
import { collectTag } from '../options.js';
import { formatTime, print, renderTable, toJson } from '../output.js';
import { resolveExperiment } from '../resolve.js';
import { withTracking, type GlobalOptions } from '../session.js';

interface LsOptions {
  all?: boolean;
  deleted?: boolean;
  json?: boolean;
}

interface CreateOptions {
  artifactLocation?: string;
  tag?: Record<string, string>;
  json?: boolean;
}

/** Every experiment in the view, following page tokens. */
async function listAllExperiments(api: TrackingApi, viewType: ViewType): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api.searchExperiments({ viewType, pageToken, orderBy: ['experiment_id ASC'] });
    out.push(...page.items);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

function experimentsTable(experiments: Experiment[], showStage: boolean): string {
  const columns = [
    { header: 'ID', align: 'right' as const },
    { header: 'NAME', maxWidth: 40 },
    ...(showStage ? [{ header: 'STAGE' }] : []),
    { header: 'CREATED' },
    { header: 'ARTIFACT LOCATION', maxWidth: 50 },
  ];
  const rows = experiments.map((e) => [
    e.experimentId,
    e.name,
    ...(showStage ? [e.lifecycleStage] : []),
    formatTime(e.creationTime),
    e.artifactLocation,
  ]);
  return renderTable(columns, rows);
}

export function registerExperimentCommands(program: Command): void {
  const experiments = program.command('experiments').description('list and manage experiments');

  experiments
    .command('ls')
    .description('list experiments (active ones unless told otherwise)')
    .addOption(new Option('--all', 'include deleted experiments'))
    .addOption(new Option('--deleted', 'only deleted experiments').conflicts('all'))
    .option('--json', 'print one JSON document')
    .action(async (opts: LsOptions, cmd: Command) => {
      const viewType: ViewType = opts.all ? 'ALL' : opts.deleted ? 'DELETED_ONLY' : 'ACTIVE_ONLY';
      const list = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), (api) => listAllExperiments(api, viewType));
      if (opts.json) print(toJson({ experiments: list }));
      else if (list.length === 0) print(viewType === 'DELETED_ONLY' ? 'No deleted experiments.' : 'No experiments.');
      else print(experimentsTable(list, viewType !== 'ACTIVE_ONLY'));
    });

  experiments
    .command('create')
    .description('create an experiment')
    .argument('<name>', 'experiment name (unique)')
    .option('--artifact-location <uri>', 'where its runs keep artifacts (default: served by Flywheel, mlflow-artifacts:/<id>)')
    .option('--tag <key=value>', 'an experiment tag (repeatable)', collectTag)
    .option('--json', 'print the experiment as JSON')
    .action(async (name: string, opts: CreateOptions, cmd: Command) => {
      const exp = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), (api) =>
        api.createExperiment({ name, artifactLocation: opts.artifactLocation, tags: opts.tag }),
      );
      print(opts.json ? toJson(exp) : `Created experiment ${exp.experimentId} '${exp.name}' (artifacts: ${exp.artifactLocation})`);
    });

  experiments
    .command('rename')
    .description('rename an experiment')
    .argument('<experiment>', 'experiment id or current name')
    .argument('<new-name>', 'the new name')
    .option('--json', 'print the renamed experiment as JSON')
    .action(async (ref: string, newName: string, opts: { json?: boolean }, cmd: Command) => {
      const exp = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), async (api) => {
        const current = await resolveExperiment(api, ref);
        return api.renameExperiment(current.experimentId, newName);
      });
      print(opts.json ? toJson(exp) : `Renamed experiment ${exp.experimentId} to '${exp.name}'`);
    });

  experiments
    .command('delete')
    .description('delete an experiment and its runs (restorable)')
    .argument('<experiment>', 'experiment id or name')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const exp = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), async (api) => {
        const found = await resolveExperiment(api, ref);
        await api.deleteExperiment(found.experimentId);
        return found;
      });
      print(`Deleted experiment ${exp.experimentId} '${exp.name}' (restore with: flywheel experiments restore ${exp.experimentId})`);
    });

  experiments
    .command('restore')
    .description('restore a deleted experiment and the runs deleted with it')
    .argument('<experiment>', 'experiment id or name')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const exp = await withTracking(cmd.optsWithGlobals<GlobalOptions>(), async (api) => {
        const found = await resolveExperiment(api, ref);
        await api.restoreExperiment(found.experimentId);
        return found;
      });
      print(`Restored experiment ${exp.experimentId} '${exp.name}'`);
    });
}
