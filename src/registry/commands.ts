/**
 * `flywheel models …`: the model registry on the local store (--home/--db).
 *
 *   models ls [--filter F] [--json]           registered models, their latest version and aliases
 *   models show NAME [--json]                 one model: description, tags, aliases, versions
 *   models versions NAME [--json]             its versions, newest first
 *   models register NAME SOURCE               a new version from runs:/<runId>/model (the model is created if needed)
 *   models alias NAME ALIAS VERSION           point an alias at a version (a move is recorded as an event)
 *   models unalias NAME ALIAS                 remove an alias
 *   models card NAME VERSION|@ALIAS [--json]  the model card of a version (card.ts), Markdown or JSON
 *   models promote NAME --from A --to B --gate FILE   gated promotion (src/automation)
 *
 * `registerModelCommands` returns the `models` group so other slices can add
 * their subcommands (import, promote) to it. Bad input exits 2 through the
 * FlywheelError the service throws.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { invalidArgument } from '../core/errors.js';
import { collectTag } from '../cli/options.js';
import { formatTime, print, renderPairs, renderTable, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import { trackingUriFromEnv } from '../sdk/flywheel.js';
import { registerPromoteCommand } from '../automation/commands.js';
import { registerCardCommand } from './card-commands.js';
import type { RegistryService } from './service.js';
import type { AliasChange, ModelVersion, RegisteredModel } from './types.js';

/** Opens a RegistryService for one command and always closes what it opened. */
export type WithRegistry = <T>(globals: GlobalOptions, fn: (registry: RegistryService) => Promise<T>) => Promise<T>;

/** The embedded default: the local store and artifacts named by --home/--db (no DuckDB: the registry does not need it). */
export const withLocalRegistry: WithRegistry = async (globals, fn) => {
  const remote = globals.trackingUri ?? (globals.home === undefined && globals.db === undefined ? trackingUriFromEnv() : undefined);
  if (remote !== undefined) {
    throw invalidArgument(`flywheel models works on the local store (--home/--db); the registry of the server ${remote} is at ${remote.replace(/\/+$/, '')}/api/v1/models`);
  }
  const [{ openStore }, { openArtifactStore }, { TrackingService }, { RegistryService }] = await Promise.all([
    import('../store/index.js'),
    import('../artifacts/index.js'),
    import('../tracking/service.js'),
    import('./service.js'),
  ]);
  const config = configFrom(globals);
  const actor = process.env.USER ?? os.userInfo().username ?? 'cli';
  const store = await openStore(config.db);
  try {
    const tracking = new TrackingService(store, { actor, artifacts: openArtifactStore(config.artifacts) });
    return await fn(new RegistryService({ store, tracking, actor }));
  } finally {
    await store.close();
  }
};

const cliUser = () => process.env.USER ?? os.userInfo().username ?? 'cli';

function aliasList(aliases: Record<string, number>): string {
  return Object.entries(aliases)
    .map(([alias, version]) => `${alias}=${version}`)
    .join(', ');
}

function latestNumber(m: RegisteredModel): string {
  const n = Math.max(0, ...m.latestVersions.map((v) => v.version));
  return n ? String(n) : '-';
}

export function renderModels(models: RegisteredModel[]): string {
  if (models.length === 0) return 'No registered models.\n';
  return renderTable(
    [{ header: 'NAME', maxWidth: 40 }, { header: 'LATEST', align: 'right' }, { header: 'ALIASES', maxWidth: 40 }, { header: 'UPDATED' }, { header: 'DESCRIPTION', maxWidth: 50 }],
    models.map((m) => [m.name, latestNumber(m), aliasList(m.aliases), formatTime(m.lastUpdatedTime), m.description]),
  );
}

export function renderVersions(versions: ModelVersion[]): string {
  if (versions.length === 0) return 'No versions.\n';
  return renderTable(
    [
      { header: 'VERSION', align: 'right' },
      { header: 'STAGE' },
      { header: 'ALIASES', maxWidth: 30 },
      { header: 'FLAVOR' },
      { header: 'RUN' },
      { header: 'CREATED' },
      { header: 'SOURCE', maxWidth: 60 },
    ],
    versions.map((v) => [String(v.version), v.currentStage, v.aliases.join(', '), v.flavor ?? '-', v.runId ?? '-', formatTime(v.creationTime), v.source]),
  );
}

function describeChange(c: AliasChange): string {
  const was = c.previousVersion === null ? 'new' : c.previousVersion === c.version ? 'unchanged' : `was version ${c.previousVersion}`;
  return `${c.name}@${c.alias} → version ${c.version} (${was})`;
}

export function registerModelCommands(program: Command, withRegistry: WithRegistry = withLocalRegistry): Command {
  const models = program.command('models').description('the model registry: registered models, versions and aliases');
  const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  models
    .command('ls')
    .description('list registered models with their latest version and aliases')
    .option('--filter <filter>', "MLflow filter on name and tags, e.g. \"name LIKE 'churn%'\"")
    .option('--json', 'print the models as JSON')
    .action(async (opts: { filter?: string; json?: boolean }, cmd: Command) => {
      const all = await withRegistry(globalsOf(cmd), async (registry) => {
        const out: RegisteredModel[] = [];
        let pageToken: string | undefined;
        do {
          const page = await registry.searchRegisteredModels({ filter: opts.filter, maxResults: 1000, pageToken });
          out.push(...page.items);
          pageToken = page.nextPageToken ?? undefined;
        } while (pageToken);
        return out;
      });
      print(opts.json ? toJson(all) : renderModels(all));
    });

  models
    .command('show')
    .description('show a registered model: description, tags, aliases and versions')
    .argument('<name>', 'registered model name')
    .option('--json', 'print the model as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const m = await withRegistry(globalsOf(cmd), (registry) => registry.getRegisteredModelDetail(name));
      if (opts.json) return print(toJson(m));
      const pairs: [string, string][] = [
        ['name', m.name],
        ['description', m.description || '-'],
        ['created', formatTime(m.creationTime)],
        ['updated', formatTime(m.lastUpdatedTime)],
        ['aliases', aliasList(m.aliases) || '-'],
        ['tags', Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '-'],
      ];
      print(`${renderPairs(pairs)}\nVersions:\n${renderVersions(m.versions)}`);
    });

  models
    .command('versions')
    .description("list a registered model's versions, newest first")
    .argument('<name>', 'registered model name')
    .option('--json', 'print the versions as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const versions = await withRegistry(globalsOf(cmd), (registry) => registry.listModelVersions(name));
      print(opts.json ? toJson(versions) : renderVersions(versions));
    });

  models
    .command('register')
    .description("register a new version of NAME from a run's model package (creates NAME if needed)")
    .argument('<name>', 'registered model name')
    .argument('<source>', 'the package, e.g. runs:/<runId>/model')
    .option('-d, --description <text>', 'description of the version')
    .option('--tag <key=value>', 'tag the version (repeatable)', collectTag)
    .option('--json', 'print the new version as JSON')
    .action(async (name: string, source: string, opts: { description?: string; tag?: Record<string, string>; json?: boolean }, cmd: Command) => {
      const mv = await withRegistry(globalsOf(cmd), (registry) =>
        registry.createModelVersion({ name, source, description: opts.description, tags: opts.tag, userId: cliUser(), createModel: true }),
      );
      if (opts.json) return print(toJson(mv));
      print(`Registered ${mv.name} version ${mv.version} from ${mv.source}${mv.flavor ? ` (flavor ${mv.flavor})` : ''}`);
    });

  models
    .command('alias')
    .description('point ALIAS of model NAME at VERSION (moving an alias is recorded as an event)')
    .argument('<name>', 'registered model name')
    .argument('<alias>', 'alias, e.g. champion')
    .argument('<version>', 'version number')
    .option('--json', 'print the change as JSON')
    .action(async (name: string, alias: string, version: string, opts: { json?: boolean }, cmd: Command) => {
      if (!/^\d+$/.test(version)) throw invalidArgument(`VERSION must be a version number, got "${version}"`);
      const change = await withRegistry(globalsOf(cmd), (registry) => registry.setAlias(name, alias, Number(version)));
      print(opts.json ? toJson(change) : describeChange(change));
    });

  models
    .command('unalias')
    .description('remove ALIAS from model NAME')
    .argument('<name>', 'registered model name')
    .argument('<alias>', 'alias to remove')
    .action(async (name: string, alias: string, _opts: unknown, cmd: Command) => {
      const change = await withRegistry(globalsOf(cmd), (registry) => registry.deleteAlias(name, alias));
      print(`Removed ${change!.name}@${change!.alias} (was version ${change!.version})`);
    });

  registerCardCommand(models);
  registerPromoteCommand(models);
  return models;
}
