/**
 * `flywheel lineage REF [--upstream|--downstream] [--depth N] [--json]`:
 * where a dataset version's data came from (upstream: the runs that made it
 * and their inputs, recursively) and what was made from it (downstream), as
 * indented trees; both directions unless one is asked for. REF is a dataset
 * ref (NAME@3, NAME@latest…) or `run:<run id>`. Works on the local store.
 */
import os from 'node:os';
import { Option, type Command } from 'commander';
import type { Kysely } from 'kysely';
import { parsePositiveInt } from '../cli/options.js';
import { print, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import type { DatasetVersion } from '../data/types.js';
import type { Database } from '../store/schema.js';
import { DEFAULT_MAX_DEPTH, lineageGraph, renderLineageTree, startNode, type Direction, type LabelSources, type LineageGraph } from './graph.js';

/** What the command reads: the edge table, and the services that label nodes. */
export interface LineageContext {
  db: Kysely<Database>;
  data: { resolve(ref: string): Promise<DatasetVersion>; getVersion(id: string): Promise<DatasetVersion> };
  tracking: Pick<LabelSources, 'getRun'>;
}

/** Opens what a lineage command needs for one command and always closes it. */
export type WithLineage = <T>(globals: GlobalOptions, fn: (ctx: LineageContext) => Promise<T>) => Promise<T>;

/** The embedded default: the local store named by --home/--db. */
export const withLocalLineage: WithLineage = async (globals, fn) => {
  const { openContext } = await import('../server/context.js');
  const ctx = await openContext(configFrom(globals), process.env.USER ?? os.userInfo().username ?? 'cli');
  try {
    return await fn({ db: ctx.store.db, data: ctx.data, tracking: ctx.tracking });
  } finally {
    await ctx.close();
  }
};

interface LineageOptions {
  upstream?: boolean;
  downstream?: boolean;
  depth?: number;
  json?: boolean;
}

/** The walks asked for, labelled: one direction, or both. */
export async function lineageWalks(ctx: LineageContext, ref: string, directions: Direction[], maxDepth = DEFAULT_MAX_DEPTH): Promise<LineageGraph[]> {
  const start = await startNode(ref, (r) => ctx.data.resolve(r));
  const sources: LabelSources = { getVersion: (id) => ctx.data.getVersion(id), getRun: (id) => ctx.tracking.getRun(id) };
  const graphs: LineageGraph[] = [];
  for (const d of directions) graphs.push(await lineageGraph(ctx.db, sources, start, d, maxDepth));
  return graphs;
}

/** Trees for people: a heading per direction when both are shown. */
export function renderLineage(graphs: LineageGraph[]): string {
  if (graphs.length === 1) return renderLineageTree(graphs[0]);
  return graphs
    .map((g) => `${g.direction === 'upstream' ? `Upstream (where ${g.root.label} came from)` : `Downstream (what was made from ${g.root.label})`}:\n${renderLineageTree(g)}`)
    .join('\n');
}

export function registerLineageCommands(program: Command, withLineage: WithLineage = withLocalLineage): void {
  program
    .command('lineage')
    .description('show where a dataset version came from and what was made from it')
    .argument('<ref>', 'dataset version (NAME, NAME@3, NAME@latest, NAME@<hash prefix>) or run:<run id>')
    .addOption(new Option('--upstream', 'only where it came from: producing runs and their inputs'))
    .addOption(new Option('--downstream', 'only what was made from it').conflicts('upstream'))
    .option('--depth <n>', `follow at most this many edges (default ${DEFAULT_MAX_DEPTH})`, parsePositiveInt)
    .option('--json', 'print the graph as JSON ({upstream, downstream} when both directions are shown)')
    .action(async (ref: string, opts: LineageOptions, cmd: Command) => {
      const directions: Direction[] = opts.upstream ? ['upstream'] : opts.downstream ? ['downstream'] : ['upstream', 'downstream'];
      const graphs = await withLineage(cmd.optsWithGlobals<GlobalOptions>(), (ctx) => lineageWalks(ctx, ref, directions, opts.depth));
      if (!opts.json) print(renderLineage(graphs));
      else if (graphs.length === 1) print(toJson(graphs[0]));
      else print(toJson({ upstream: graphs[0], downstream: graphs[1] }));
    });
}
