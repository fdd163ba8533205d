/**
 * Serving from the command line, on the local store (--home/--db):
 *
 *   deploy NAME --model REF [--canary REF:P%] [--ab REF:P%] [--shadow REF] [--key FIELD]
 *                                             create a deployment or give it a new revision
 *   deployments ls [--json]                   every deployment, its revision, policy and status
 *   deployments show NAME [--json]            one deployment with its revisions
 *   deployments traffic NAME [--model] [--canary] [--ab] [--shadow] [--key]
 *                                             a new revision with another split (primary kept unless --model)
 *   deployments rollback NAME [--to REV]      a new revision with an earlier revision's policy
 *   deployments logs NAME [--limit N] [--arm A] [--labelled] [--since MS] [--json]
 *                                             the prediction log, joined with feedback
 *   deployments rm NAME                       delete a deployment (its log stays)
 *   serve [--port P] [--workers N] [--deployment NAME]... [--no-batching] ...
 *                                             the serving-only HTTP process (serve.ts)
 *
 * A running `flywheel server` or `flywheel serve` picks changes up within its
 * refresh interval (FLYWHEEL_SERVING_REFRESH_MS, 1 s by default).
 */
import os from 'node:os';
import type { Command } from 'commander';
import { invalidArgument } from '../core/errors.js';
import { collect, parsePort, parsePositiveInt } from '../cli/options.js';
import { formatTime, print, renderPairs, renderTable, toJson } from '../cli/output.js';
import { configFrom, type GlobalOptions } from '../cli/session.js';
import { trackingUriFromEnv } from '../sdk/flywheel.js';
import { describePolicy } from './policy.js';
import type { DeploymentService } from './service.js';
import type { Deployment, DeploymentDetail, LoggedPrediction, Revision } from './types.js';

const cliUser = () => process.env.USER ?? os.userInfo().username ?? 'cli';

/** Opens the deployment service on the local store for one command (no DuckDB). */
async function withDeployments<T>(globals: GlobalOptions, fn: (deployments: DeploymentService) => Promise<T>): Promise<T> {
  const remote = globals.trackingUri ?? (globals.home === undefined && globals.db === undefined ? trackingUriFromEnv() : undefined);
  if (remote !== undefined) {
    throw invalidArgument(`flywheel deploy and deployments work on the local store (--home/--db); the server ${remote} has them at ${remote.replace(/\/+$/, '')}/api/v1/deployments`);
  }
  const [{ openStore }, { openArtifactStore }, { TrackingService }, { RegistryService }, { deploymentService }] = await Promise.all([
    import('../store/index.js'),
    import('../artifacts/index.js'),
    import('../tracking/service.js'),
    import('../registry/service.js'),
    import('./server.js'),
  ]);
  const config = configFrom(globals);
  const actor = cliUser();
  const store = await openStore(config.db);
  try {
    const tracking = new TrackingService(store, { actor, artifacts: openArtifactStore(config.artifacts) });
    const registry = new RegistryService({ store, tracking, actor });
    return await fn(deploymentService({ store, registry, actor }));
  } finally {
    await store.close();
  }
}

const served = (r: Revision) => (r.resolved ? r.resolved.map((a) => `${a.arm} ${a.modelName}/${a.modelVersion}`).join(', ') : '-');

function renderDeployments(list: (Deployment & { revision: Revision })[]): string {
  if (list.length === 0) return 'No deployments.\n';
  return renderTable(
    [{ header: 'NAME', maxWidth: 40 }, { header: 'REV', align: 'right' }, { header: 'STATUS' }, { header: 'POLICY', maxWidth: 70 }, { header: 'SERVING', maxWidth: 50 }, { header: 'UPDATED' }],
    list.map((d) => [d.name, String(d.currentRevision), d.revision.status, describePolicy(d.revision.policy), served(d.revision), formatTime(d.lastUpdatedTime)]),
  );
}

function renderDetail(d: DeploymentDetail): string {
  const pairs: [string, string][] = [
    ['Name', d.name],
    ['Revision', `${d.currentRevision} (${d.revision.status}${d.revision.statusMessage ? `: ${d.revision.statusMessage}` : ''})`],
    ['Serving revision', d.servingRevision === null ? '-' : String(d.servingRevision)],
    ['Policy', describePolicy(d.revision.policy)],
    ['Serving', served(d.revision)],
    ['Description', d.description || '-'],
    ['Created', formatTime(d.creationTime)],
  ];
  const revisions = renderTable(
    [{ header: 'REV', align: 'right' }, { header: 'STATUS' }, { header: 'POLICY', maxWidth: 70 }, { header: 'BY' }, { header: 'CREATED' }, { header: 'MESSAGE', maxWidth: 60 }],
    d.revisions.map((r) => [String(r.revision), r.status, describePolicy(r.policy), r.actor, formatTime(r.creationTime), r.statusMessage ?? '']),
  );
  return `${renderPairs(pairs)}\nRevisions:\n${revisions}`;
}

function renderLogs(rows: LoggedPrediction[]): string {
  if (rows.length === 0) return 'No logged predictions.\n';
  const value = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return renderTable(
    [{ header: 'TIME' }, { header: 'PREDICTION ID' }, { header: 'ARM' }, { header: 'MODEL' }, { header: 'PREDICTION', maxWidth: 24 }, { header: 'LABEL', maxWidth: 16 }, { header: 'MS', align: 'right' }, { header: 'FEATURES', maxWidth: 60 }],
    rows.map((p) => [
      formatTime(p.time),
      p.predictionId,
      p.shadow ? `${p.arm} (shadow)` : p.arm,
      `${p.modelName}/${p.modelVersion}`,
      p.error ? `error: ${p.error}` : value(p.prediction),
      value(p.label),
      p.latencyMs.toFixed(2),
      JSON.stringify(p.features),
    ]),
  );
}

interface SplitOptions {
  model?: string;
  canary?: string;
  ab?: string;
  shadow?: string;
  key?: string;
  description?: string;
  json?: boolean;
}

function splitOptions(cmd: Command, withModel: 'required' | 'optional'): Command {
  (withModel === 'required'
    ? cmd.requiredOption('--model <ref>', 'the model to serve: churn@champion (follows the alias) or churn/3')
    : cmd.option('--model <ref>', 'a new primary model (default: keep the current one)'))
    .option('--canary <ref:percent>', 'send PERCENT% of requests to another version, e.g. churn@challenger:10%')
    .option('--ab <ref:percent>', 'sticky A/B split: PERCENT% of request keys go to arm b')
    .option('--shadow <ref>', 'copy every request to this model; its answers are logged, never returned')
    .option('--key <field>', 'row field keying the sticky split when a request has no key (header x-flywheel-key)')
    .option('--json', 'print the deployment as JSON');
  return cmd;
}

export function registerServingCommands(program: Command): void {
  const globalsOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  splitOptions(program.command('deploy').description('create a deployment, or give an existing one a new revision').argument('<name>', 'deployment name'), 'required')
    .option('--description <text>', 'what the deployment is for')
    .action(async (name: string, opts: SplitOptions, cmd: Command) => {
      const d = await withDeployments(globalsOf(cmd), (s) => s.deploy(name, { model: opts.model!, canary: opts.canary, ab: opts.ab, shadow: opts.shadow, key: opts.key }, { description: opts.description }));
      if (opts.json) return print(toJson(d));
      print(`Deployment ${d.name} revision ${d.currentRevision}: ${describePolicy(d.revision.policy)}\nA running server or \`flywheel serve\` loads it within its refresh interval.`);
    });

  const deployments = program.command('deployments').description('deployments: revisions, traffic splits, the prediction log');

  deployments
    .command('ls')
    .description('list deployments with their current revision and status')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await withDeployments(globalsOf(cmd), (s) => s.list());
      print(opts.json ? toJson(list) : renderDeployments(list));
    });

  deployments
    .command('show')
    .description('one deployment with every revision')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const d = await withDeployments(globalsOf(cmd), (s) => s.get(name));
      print(opts.json ? toJson(d) : renderDetail(d));
    });

  splitOptions(deployments.command('traffic').description('a new revision with another traffic split').argument('<name>'), 'optional').action(async (name: string, opts: SplitOptions, cmd: Command) => {
    const d = await withDeployments(globalsOf(cmd), (s) => s.setTraffic(name, { model: opts.model, canary: opts.canary, ab: opts.ab, shadow: opts.shadow, key: opts.key }));
    if (opts.json) return print(toJson(d));
    print(`Deployment ${d.name} revision ${d.currentRevision}: ${describePolicy(d.revision.policy)}`);
  });

  deployments
    .command('rollback')
    .description("a new revision with an earlier revision's policy (default: the one before the current)")
    .argument('<name>')
    .option('--to <revision>', 'the revision whose policy to restore', parsePositiveInt)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { to?: number; json?: boolean }, cmd: Command) => {
      const d = await withDeployments(globalsOf(cmd), (s) => s.rollback(name, opts.to));
      if (opts.json) return print(toJson(d));
      print(`Deployment ${d.name} revision ${d.currentRevision}: ${describePolicy(d.revision.policy)}`);
    });

  deployments
    .command('logs')
    .description('logged predictions, newest first, with their feedback')
    .argument('<name>')
    .option('--limit <n>', 'how many', parsePositiveInt, 20)
    .option('--arm <arm>', 'only this arm (primary, canary, a, b, shadow)')
    .option('--labelled', 'only predictions with feedback')
    .option('--since <ms>', 'only from this epoch-ms time on', parsePositiveInt)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { limit: number; arm?: string; labelled?: boolean; since?: number; json?: boolean }, cmd: Command) => {
      const rows = await withDeployments(globalsOf(cmd), (s) => s.predictions(name, { limit: opts.limit, arm: opts.arm, labelled: opts.labelled, since: opts.since }));
      print(opts.json ? toJson(rows) : renderLogs(rows));
    });

  deployments
    .command('rm')
    .description('delete a deployment (its prediction log and feedback stay)')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withDeployments(globalsOf(cmd), (s) => s.delete(name));
      print(`Deleted deployment ${name}`);
    });

  program
    .command('serve')
    .description('serve deployments only (V2, MLflow /invocations, predict, feedback, metrics): a stateless replica on the shared store')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 8080)
    .option('--deployment <name>', 'serve only this deployment (repeatable; default all)', collect)
    .option('--workers <n>', 'processes sharing the port (default 1; the number of cores uses them all)', parsePositiveInt, 1)
    .option('--threads <n>', 'run each model on N worker threads, off the event loop (default 0: inline)', (v) => Number(v))
    .option('--no-batching', 'send each request to the model alone')
    .option('--max-batch <rows>', 'most rows per model call when batching', parsePositiveInt)
    .option('--max-wait-us <micros>', 'how long a request may wait to be batched (0: only while the model is busy)', (v) => Number(v))
    .option('--max-queue <rows>', 'rows queued per model before 503 + Retry-After', parsePositiveInt)
    .option('--no-log', 'do not log predictions')
    .option('--log-policy <policy>', 'when the log buffer is full: drop (counted) or block (back-pressure)')
    .option('--quiet', 'no request log')
    .action(async (opts: { host: string; port: number; deployment?: string[]; workers: number; threads?: number; batching: boolean; maxBatch?: number; maxWaitUs?: number; maxQueue?: number; log: boolean; logPolicy?: string; quiet?: boolean }, cmd: Command) => {
      const config = configFrom(globalsOf(cmd));
      const [{ resolveServingConfig }, { serve }] = await Promise.all([import('./config.js'), import('./serve.js')]);
      const serving = resolveServingConfig({
        ...(opts.batching === false ? { batching: false } : {}),
        ...(opts.log === false ? { log: false } : {}),
        threads: opts.threads,
        maxBatchSize: opts.maxBatch,
        maxBatchWaitMicros: opts.maxWaitUs,
        maxQueueRows: opts.maxQueue,
        logPolicy: opts.logPolicy as never,
      });
      await serve({ host: opts.host, port: opts.port, config, serving, only: opts.deployment, workers: opts.workers, logger: !opts.quiet, announce: (line) => print(line) });
    });
}
