/**
 * How each step kind does its work once the runner has opened its tracking
 * run and resolved its inputs: shell commands (shell.ts's env contract),
 * TypeScript functions (in a worker process of function-pool.ts when the
 * pipeline came from a module file, which the worker can import again;
 * in-process when it was built in this process without one, since a closure
 * cannot move), SQL transforms (data/transform.ts, on the step's own run, with
 * every `ref()` naming an input pinned to the resolved input version) and the
 * built-ins `ingest` (DataService.add) and `validate` (QualityService).
 *
 * Each returns output name → dataset version id. Outputs are committed only
 * after the work succeeded, so a failed step leaves no version behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { joinArtifactPath, validateArtifactPath } from '../artifacts/paths.js';
import { invalidArgument } from '../core/errors.js';
import type { DataService } from '../data/service.js';
import { runTransform } from '../data/transform.js';
import type { DatasetVersion } from '../data/types.js';
import type { Engine } from '../engine/index.js';
import { QualityService } from '../quality/service.js';
import { loadSuiteFile } from '../quality/suite.js';
import type { Store } from '../store/index.js';
import type { TrackingApi } from '../tracking/api.js';
import type { ParamValue } from './define.js';
import { normalizeResult, openStepContext, type FunctionPool, type FunctionResult } from './function-pool.js';
import { MAX_STEP_LOG_BYTES, runShellStep } from './shell.js';
import type { ResolvedInput, StepDefinition, StepRun } from './types.js';

export const BUILTINS = ['ingest', 'validate', 'train', 'evaluate', 'promote'] as const;
/** Cap of one step's log file. */
export { MAX_STEP_LOG_BYTES } from './shell.js';

export interface StepKindDeps {
  store: Store;
  tracking: TrackingApi;
  data: DataService;
  engine: Engine;
  projectRoot: string;
  /** Worker processes for function steps of module pipelines (`StepWork.module`); without it they run in-process. */
  functionPool?: FunctionPool;
}

export interface StepWork {
  pipeline: string;
  step: StepDefinition;
  /** The step's tracking run (already created, ended by the caller). */
  runId: string;
  params: Record<string, ParamValue>;
  inputs: Record<string, ResolvedInput & { version: DatasetVersion }>;
  signal: AbortSignal;
  /** A private directory for this attempt, removed afterwards. */
  workDir: string;
  logFile: string;
  /** The module the pipeline was loaded from (PipelineDefinition.module): function steps run in a worker process. */
  module?: string;
}

/** Files a built-in reads that belong in its cache key (ingest's source, validate's suite, promote's gate policy). */
export function implicitDeps(step: StepDefinition, projectRoot: string): string[] {
  if (step.kind !== 'builtin') return [];
  const w = step.with ?? {};
  const file = step.uses === 'ingest' ? w.source : step.uses === 'validate' ? w.suite : step.uses === 'promote' ? w.gate : undefined;
  if (typeof file !== 'string' || /^[a-z]+:\/\//i.test(file)) return [];
  return fs.existsSync(path.resolve(projectRoot, file)) ? [file] : [];
}

export async function runStepKind(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const { step } = work;
  switch (step.kind) {
    case 'shell':
      return runShell(deps, work);
    case 'function':
      return runFunction(deps, work);
    case 'sql':
      return runSql(deps, work);
    case 'builtin':
      if (step.uses === 'ingest') return runIngest(deps, work);
      if (step.uses === 'validate') return runValidate(deps, work);
      if (step.uses === 'train') return runTrain(deps, work);
      if (step.uses === 'evaluate') return runEvaluate(deps, work);
      if (step.uses === 'promote') return runPromote(deps, work);
      throw invalidArgument(`step "${step.name}": unknown built-in "${String(step.uses)}" (known: ${BUILTINS.join(', ')})`);
    default:
      throw invalidArgument(`step "${step.name}": unknown step kind "${String(step.kind)}"`);
  }
}

async function commitOutputs(deps: StepKindDeps, work: StepWork, files: Record<string, string | undefined>): Promise<Record<string, string>> {
  // Check every file first, so a missing one commits nothing.
  for (const name of work.step.outputs) {
    const file = files[name];
    if (file === undefined || !fs.existsSync(file)) throw new Error(`step "${work.step.name}" did not write its output "${name}"${file ? ` (expected ${file})` : ''}`);
  }
  const out: Record<string, string> = {};
  for (const name of work.step.outputs) {
    const v = await deps.data.commitParquet({
      dataset: name,
      parquetFile: files[name]!,
      runId: work.runId,
      skipUnchanged: true,
      message: `pipeline ${work.pipeline}, step ${work.step.name}`,
    });
    out[name] = v.id;
  }
  return out;
}

async function runShell(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const result = await runShellStep({
    cmd: work.step.cmd!,
    cwd: deps.projectRoot,
    env: { FW_RUN_ID: work.runId },
    params: work.params,
    inputs: Object.fromEntries(Object.entries(work.inputs).map(([n, i]) => [n, i.parquetPath])),
    outputs: work.step.outputs,
    outputsDir: path.join(work.workDir, 'outputs'),
    signal: work.signal,
    logFile: work.logFile,
    maxLogBytes: MAX_STEP_LOG_BYTES,
  });
  return commitOutputs(deps, work, result.outputs);
}

async function runFunction(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const run = stepRunHandle(deps.tracking, work.runId);
  const context = {
    runId: work.runId,
    params: work.params,
    inputs: Object.fromEntries(Object.entries(work.inputs).map(([n, i]) => [n, { ref: i.ref, versionId: i.versionId, parquetPath: i.parquetPath }])),
    workDir: work.workDir,
    logFile: work.logFile,
  };
  try {
    let result: FunctionResult;
    if (work.module !== undefined && deps.functionPool) {
      result = await deps.functionPool.run({ module: work.module, pipeline: work.pipeline, step: work.step.name, context }, { signal: work.signal, run });
    } else {
      const fn = work.step.fn;
      if (typeof fn !== 'function') throw invalidArgument(`step "${work.step.name}": a function step has no function`);
      const { ctx, close } = openStepContext(work.pipeline, work.step.name, context, work.signal, run);
      try {
        result = normalizeResult(work.step.name, await fn(ctx));
      } finally {
        close();
      }
    }
    return await commitOutputs(deps, work, Object.fromEntries(Object.entries(result).map(([n, r]) => [n, r?.parquetFile])));
  } finally {
    // The runner removes a function step's work directory only when it holds a log; one with only outputs goes here.
    if (fs.existsSync(work.workDir) && !fs.existsSync(work.logFile)) fs.rmSync(work.workDir, { recursive: true, force: true });
  }
}

/** `ctx.run` of a function step: writes straight to the step's tracking run (for worker processes, on their behalf). */
export function stepRunHandle(tracking: TrackingApi, runId: string): StepRun {
  return {
    id: runId,
    logMetric: (key, value, step = 0) => tracking.logBatch(runId, { metrics: [{ key, value, step, timestamp: Date.now() }] }),
    logParam: (key, value) => tracking.logBatch(runId, { params: [{ key, value: String(value) }] }),
    setTag: (key, value) => tracking.logBatch(runId, { tags: [{ key, value: String(value) }] }),
    async logArtifact(localFile, artifactPath = '') {
      const file = path.resolve(localFile);
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st?.isFile()) throw invalidArgument(`cannot log artifact: ${localFile} ${st ? 'is not a file' : 'does not exist'}`);
      const dest = joinArtifactPath(validateArtifactPath(artifactPath, { allowRoot: true }), path.basename(file));
      await tracking.putRunArtifact(runId, dest, fs.createReadStream(file));
      return dest;
    },
  };
}

/** A reader whose refs naming an input (by input name or dataset name) resolve to the pinned input version. */
function pinnedReader(data: DataService, inputs: StepWork['inputs']) {
  const pinned = new Map<string, DatasetVersion>();
  for (const [name, i] of Object.entries(inputs)) {
    pinned.set(i.version.dataset, i.version);
    pinned.set(name, i.version);
  }
  return {
    resolve: (ref: string) => Promise.resolve(pinned.get(ref) ?? null).then((v) => v ?? data.resolve(ref)),
    parquetPath: (v: DatasetVersion) => data.parquetPath(v),
    commitParquet: (input: Parameters<DataService['commitParquet']>[0]) => data.commitParquet(input),
  };
}

async function runSql(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const into = work.step.outputs[0];
  if (into === undefined) throw invalidArgument(`step "${work.step.name}": a sql step needs one output (the dataset it writes)`);
  // The transform records itself on the step's run instead of opening its own.
  const t = deps.tracking;
  const tracking = {
    ensureExperiment: (name: string) => t.ensureExperiment(name),
    createRun: async (input: { tags?: Record<string, string> }) => {
      const tags = Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value }));
      if (tags.length > 0) await t.logBatch(work.runId, { tags });
      return t.getRun(work.runId);
    },
    logBatch: t.logBatch.bind(t),
    putRunArtifact: t.putRunArtifact.bind(t),
    endRun: async () => (await t.getRun(work.runId)).info,
  };
  fs.writeFileSync(work.logFile, `sql transform into ${into}\n`);
  const result = await runTransform(
    { data: pinnedReader(deps.data, work.inputs), tracking: tracking as never, engine: deps.engine, store: deps.store },
    { sql: work.step.sql!, name: `step "${work.step.name}"` },
    { into, message: `pipeline ${work.pipeline}, step ${work.step.name}` },
  );
  fs.appendFileSync(work.logFile, `wrote ${result.version.dataset}@${result.version.version} (${result.version.rowCount} rows)\n`);
  return { [into]: result.version.id };
}

async function runIngest(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const w = work.step.with ?? {};
  const into = work.step.outputs[0];
  if (into === undefined) throw invalidArgument(`step "${work.step.name}": ingest needs one output (the dataset it writes)`);
  if (typeof w.source !== 'string' || w.source === '') throw invalidArgument(`step "${work.step.name}": ingest needs with.source (a file or URL)`);
  const source = /^[a-z]+:\/\//i.test(w.source) ? w.source : path.resolve(deps.projectRoot, w.source);
  const { version } = await deps.data.add(into, source, {
    runId: work.runId,
    skipUnchanged: true,
    message: `pipeline ${work.pipeline}, step ${work.step.name}`,
    ...(typeof w.format === 'string' ? { format: w.format as never } : {}),
    ...(typeof w.query === 'string' ? { query: w.query } : {}),
  });
  fs.writeFileSync(work.logFile, `ingested ${w.source} into ${version.dataset}@${version.version} (${version.rowCount} rows)\n`);
  return { [into]: version.id };
}

async function runValidate(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const w = work.step.with ?? {};
  const first = Object.values(work.inputs)[0];
  const ref = first ? first.ref : typeof w.dataset === 'string' ? w.dataset : typeof w.ref === 'string' ? w.ref : undefined;
  if (ref === undefined) throw invalidArgument(`step "${work.step.name}": validate needs an input or with.dataset`);
  if (typeof w.suite !== 'string') throw invalidArgument(`step "${work.step.name}": validate needs with.suite (a suite file)`);
  const suite = loadSuiteFile(path.resolve(deps.projectRoot, w.suite));
  const quality = new QualityService({ store: deps.store, engine: deps.engine, data: deps.data });
  const result = await quality.validate(ref, suite);
  const failed = result.checks.filter((c) => !c.success && !c.skipped);
  fs.writeFileSync(work.logFile, `validated ${ref} with ${w.suite}: ${result.success ? 'passed' : 'failed'}\n${failed.map((c) => `  failed: ${JSON.stringify(c)}\n`).join('')}`);
  await deps.tracking.logBatch(work.runId, {
    metrics: [
      { key: 'checks_failed', value: result.statistics.failed, timestamp: Date.now(), step: 0 },
      { key: 'errors', value: result.statistics.errors, timestamp: Date.now(), step: 0 },
    ],
  });
  if (!result.success) throw new Error(`validation of ${ref} failed: ${result.statistics.errors} error check(s) failed`);
  return {};
}

/** The model registry on the step's store, acting as the pipeline (loaded only by the model built-ins). */
async function stepRegistry(deps: StepKindDeps, work: StepWork) {
  const { RegistryService } = await import('../registry/service.js');
  return new RegistryService({ store: deps.store, tracking: deps.tracking, actor: `pipeline ${work.pipeline}` });
}

/**
 * `uses: train`: trains a built-in learner on the step's (first) input
 * dataset version as the step's own run (models/training.ts: params,
 * metrics, the ONNX model package under `model/`), and with `with.register`
 * registers it as a new model version (moving `with.alias` to it). The
 * model's URI is the run's tag `flywheel.model_uri`; the version, when
 * registered, `flywheel.model_version`.
 */
async function runTrain(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const w = work.step.with ?? {};
  const where = `step "${work.step.name}"`;
  const input = Object.values(work.inputs)[0];
  if (input === undefined) throw invalidArgument(`${where}: train needs an input (the training dataset)`);
  if (typeof w.target !== 'string' || w.target === '') throw invalidArgument(`${where}: train needs with.target (the column to predict)`);
  if (typeof w.algo !== 'string' || w.algo === '') throw invalidArgument(`${where}: train needs with.algo`);
  if (w.task !== undefined && w.task !== 'classification' && w.task !== 'regression') throw invalidArgument(`${where}: with.task must be classification or regression`);
  if (w.params !== undefined && (typeof w.params !== 'object' || w.params === null || Array.isArray(w.params))) throw invalidArgument(`${where}: with.params must be a map`);
  if (w.register !== undefined && typeof w.register !== 'string') throw invalidArgument(`${where}: with.register must be a model name`);
  if (w.alias !== undefined && (typeof w.alias !== 'string' || w.register === undefined)) throw invalidArgument(`${where}: with.alias needs with.register`);
  // Step params override the learner params of the same name (so sweeps and --param reach the learner).
  const params = { ...(w.params as Record<string, unknown> | undefined), ...work.params };
  const { trainOnRun } = await import('../models/training.js');
  const trained = await trainOnRun({
    tracking: deps.tracking,
    engine: deps.engine,
    runId: work.runId,
    version: input.version,
    parquetPath: input.parquetPath,
    target: w.target,
    algo: w.algo,
    task: w.task as 'classification' | 'regression' | undefined,
    params,
  });
  const tags = [{ key: 'flywheel.model_uri', value: trained.uri }];
  let line = `trained ${trained.result.algo} (${trained.result.task}) on ${input.ref}: ${Object.entries(trained.manifest.metrics).map(([k, v]) => `${k}=${Number(v.toFixed(6))}`).join(' ')}\nmodel: ${trained.uri}\n`;
  if (typeof w.register === 'string') {
    const registry = await stepRegistry(deps, work);
    const v = await registry.createModelVersion({ name: w.register, source: trained.uri, runId: work.runId, createModel: true });
    if (typeof w.alias === 'string') await registry.setAlias(v.name, w.alias, v.version);
    tags.push({ key: 'flywheel.model_version', value: `models:/${v.name}/${v.version}` });
    line += `registered models:/${v.name}/${v.version}${typeof w.alias === 'string' ? ` (@${w.alias})` : ''}\n`;
  }
  await deps.tracking.logBatch(work.runId, { tags });
  fs.writeFileSync(work.logFile, line);
  return {};
}

/**
 * `uses: evaluate`: evaluates `with.model` (churn@challenger, models:/churn/3,
 * runs:/…/model) on the step's (first) input dataset version as the step's own
 * run (evaluation/model.ts: metrics, `fairness.*`, latency, `evaluation.json`,
 * lineage, and the `flywheel.eval.*` tag on a registered version).
 * Cached like any other step: the key holds `with.model` as written, not the
 * version an alias points at, so set `cache: false` to re-evaluate after an
 * alias moves on unchanged data.
 */
async function runEvaluate(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const w = work.step.with ?? {};
  const where = `step "${work.step.name}"`;
  const input = Object.values(work.inputs)[0];
  if (input === undefined) throw invalidArgument(`${where}: evaluate needs an input (the evaluation dataset)`);
  if (typeof w.model !== 'string' || w.model === '') throw invalidArgument(`${where}: evaluate needs with.model (e.g. churn@challenger)`);
  for (const key of ['label', 'group', 'positive'] as const) {
    if (w[key] !== undefined && typeof w[key] !== 'string') throw invalidArgument(`${where}: with.${key} must be a column name or value`);
  }
  const slices = typeof w.slices === 'string' ? [w.slices] : w.slices;
  if (slices !== undefined && (!Array.isArray(slices) || !slices.every((s) => typeof s === 'string'))) throw invalidArgument(`${where}: with.slices must be a list of columns`);
  if (w.threshold !== undefined && typeof w.threshold !== 'number') throw invalidArgument(`${where}: with.threshold must be a number`);
  const [{ evaluateModel }, registry] = await Promise.all([import('../evaluation/model.js'), stepRegistry(deps, work)]);
  const e = await evaluateModel({
    engine: deps.engine,
    tracking: deps.tracking,
    data: deps.data,
    registry,
    store: deps.store,
    model: w.model,
    dataset: input.version,
    label: w.label as string | undefined,
    slices: slices as string[] | undefined,
    group: w.group as string | undefined,
    threshold: w.threshold as number | undefined,
    positive: w.positive as string | undefined,
    importance: w.importance === true ? {} : false,
    runId: work.runId,
  });
  const metrics = Object.entries(e.report.metrics).map(([k, v]) => `${k}=${v === null ? 'null' : Number(v.toFixed(6))}`);
  fs.writeFileSync(work.logFile, `evaluated ${e.version !== null ? `models:/${e.name}/${e.version}` : e.packageUri} on ${e.dataset} (${e.rowCount} rows): ${metrics.join(' ')}\n`);
  return {};
}

/**
 * `uses: promote`: gated promotion (automation/promote.ts) of `with.model`
 * from `with.from` (alias or version) to `with.to`, judged by the policy file
 * `with.gate`, on the step's (first) input dataset version, else `with.data`,
 * else the policy's `data`. Both versions are evaluated by evaluation/model.ts
 * (each evaluation is its own recorded run); the step's run gets the outcome
 * as tags and the failed-rule count as a metric, and the step fails when a
 * rule fails (the alias is then unchanged), so later steps do not run.
 * The step is cached like any other: set `cache: false` to judge again on
 * every run even when its inputs are unchanged.
 */
async function runPromote(deps: StepKindDeps, work: StepWork): Promise<Record<string, string>> {
  const w = work.step.with ?? {};
  const where = `step "${work.step.name}"`;
  for (const key of ['model', 'from', 'to', 'gate'] as const) {
    if (typeof w[key] !== 'string' || w[key] === '') throw invalidArgument(`${where}: promote needs with.${key}`);
  }
  if (w.data !== undefined && typeof w.data !== 'string') throw invalidArgument(`${where}: with.data must be a dataset reference NAME@VERSION`);
  const [{ loadGatePolicy }, { promote, renderPromotion }, { defaultEvaluator }, registry] = await Promise.all([
    import('../automation/policy.js'),
    import('../automation/promote.js'),
    import('../automation/evaluators.js'),
    stepRegistry(deps, work),
  ]);
  const policy = await loadGatePolicy(path.resolve(deps.projectRoot, w.gate as string));
  const input = Object.values(work.inputs)[0];
  const actor = `pipeline ${work.pipeline}`;
  const evaluator = defaultEvaluator({ engine: deps.engine, tracking: deps.tracking, data: deps.data, registry, store: deps.store });
  const result = await promote(
    { registry, data: deps.data, evaluator, db: deps.store.db, actor },
    { name: w.model as string, from: w.from as string, to: w.to as string, policy, data: input ? input.ref : (w.data as string | undefined) },
  );
  const failed = result.rules.filter((r) => r.verdict === 'fail').length;
  await deps.tracking.logBatch(work.runId, {
    tags: [
      { key: 'flywheel.promotion.outcome', value: result.outcome },
      { key: 'flywheel.promotion.version', value: `models:/${result.name}/${result.challenger.version}` },
    ],
    metrics: [{ key: 'rules_failed', value: failed, timestamp: Date.now(), step: 0 }],
  });
  fs.writeFileSync(work.logFile, renderPromotion(result));
  if (result.outcome !== 'promoted') throw new Error(`promotion of ${result.name} version ${result.challenger.version} to @${result.to} rejected: ${failed} gate rule(s) failed`);
  return {};
}
