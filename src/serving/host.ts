/**
 * The serving runtime of one process: which models each deployment serves
 * right now, and the path of a request through them.
 *
 * A reconcile loop (every `refreshIntervalMs`, and on demand) reads each
 * deployment's current revision and resolves its arms through the registry.
 * When the revision or an alias's target changed, the new models are loaded
 * and warmed first; only then does the deployment switch to the new plan in
 * one assignment. The old plan is retired once the requests that started on
 * it have finished: then its batchers drain and its models close. A revision
 * that cannot be loaded is marked failed with the reason while the previous
 * plan keeps serving; a fresh process whose current revision fails falls
 * back to the last revision any process served.
 *
 * Per request: choose the arm (policy.ts), validate the rows against that
 * arm's signature (done by the protocol before `predict`), submit them to the
 * arm's micro-batcher, log every row's outcome through the bounded prediction
 * log (never awaited on the request path), copy the request to shadow arms
 * without waiting for them, and count it all in the Prometheus metrics.
 */
import { randomUUID } from 'node:crypto';
import { FlywheelError, isFlywheelError, notFound } from '../core/errors.js';
import type { ModelSignature } from '../models/manifest.js';
import type { LoadedModel, Prediction } from '../models/types.js';
import type { ResolvedModel } from '../registry/types.js';
import { MicroBatcher, type BatcherOptions } from './batcher.js';
import type { ServingMetrics } from './metrics.js';
import { chooseArm } from './policy.js';
import { PredictionLog, type PredictionLogOptions, type PredictionRecord } from './prediction-log.js';
import type { DeploymentService } from './service.js';
import type { Arm, Deployment, ResolvedArm, Revision } from './types.js';

export interface ModelLoader {
  /** Loads a resolved registry version (the host passes `resolved.packageUri ?? resolved.source`). */
  (resolved: ResolvedModel): Promise<LoadedModel>;
}

export interface ServingHostOptions {
  deployments: DeploymentService;
  resolveModelUri: (uri: string) => Promise<ResolvedModel>;
  loadModel: ModelLoader;
  /** Micro-batching per model; `false` sends each request alone (still through a bounded queue). */
  batching?: Partial<BatcherOptions> | false;
  /** The prediction log; `false` turns logging off. */
  log?: PredictionLogOptions | false;
  metrics?: ServingMetrics;
  /** How often deployments and aliases are re-read; 0 = only on `refresh()`. */
  refreshIntervalMs?: number;
  /** Serve only these deployments (a replica dedicated to some). */
  only?: readonly string[];
  logger?: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

/** Requests sent alone, without batching, may still overlap this many per model. */
const UNBATCHED_CONCURRENCY = 4;

interface PooledModel {
  key: string;
  modelName: string;
  modelVersion: string;
  model: LoadedModel;
  batcher: MicroBatcher<Record<string, unknown>, Prediction>;
  refs: number;
}

export interface LiveArm {
  arm: Arm;
  modelName: string;
  modelVersion: string;
  versionId: string | null;
  pooled: PooledModel;
}

export interface Plan {
  deployment: Deployment;
  revision: Revision;
  /** Arms that answer, in policy order. */
  arms: LiveArm[];
  shadows: LiveArm[];
  /** Revision and resolved versions: a change means a new plan. */
  fingerprint: string;
  inflight: number;
  retired: boolean;
  idle?: () => void;
}

export interface PredictOptions {
  /** Sticky-split key; defaults to the policy's key field of the first row. */
  key?: string | null;
  /** Which protocol the request came by (a metrics label). */
  protocol: string;
}

export interface PredictResult {
  deployment: string;
  revision: number;
  arm: string;
  modelName: string;
  modelVersion: string;
  predictionIds: string[];
  predictions: Prediction[];
  signature: ModelSignature;
}

const fingerprintOf = (revision: number, resolved: readonly { modelVersion: string; modelName: string }[]) =>
  `${revision}:${resolved.map((r) => `${r.modelName}/${r.modelVersion}`).join(',')}`;

/** A row the model can take, from its signature alone: warms caches and JIT before traffic arrives. */
function warmupRow(signature: ModelSignature): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const input of signature.inputs) row[input.name] = input.type === 'string' ? '' : input.type === 'boolean' ? false : 0;
  return row;
}

export class ServingHost {
  private readonly plans = new Map<string, Plan>();
  private readonly pool = new Map<string, PooledModel>();
  /** Fingerprints that failed to load, so the loop does not retry them every tick. */
  private readonly failed = new Map<string, string>();
  private readonly log: PredictionLog | null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: ServingHostOptions) {
    const m = options.metrics;
    this.log =
      options.log === false
        ? null
        : new PredictionLog(
            async (records) => {
              // Writes to SQLite run on this thread: yield to waiting requests before each batch, so one flush
              // never holds the event loop for more than one batch's insert.
              await new Promise((resolve) => setImmediate(resolve));
              await options.deployments.writePredictions(records);
            },
            options.log ?? {},
            {
              onDrop: (n) => m?.logDropped.inc(n),
              onWrite: (n) => m?.logWritten.inc(n),
              onSinkError: (err) => options.logger?.error(`prediction log write failed (kept, retrying): ${(err as Error).message ?? err}`),
            },
          );
  }

  /** Loads every deployment once, then keeps polling. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.options.refreshIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => {
        this.refresh().catch((err) => this.options.logger?.error(`serving refresh failed: ${(err as Error).message ?? err}`));
      }, every);
      this.timer.unref();
    }
  }

  /** One reconcile pass; concurrent callers share the pass in progress. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.refreshing) {
      this.refreshing = this.reconcile().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async reconcile(): Promise<void> {
    const state = await this.options.deployments.servingState();
    const seen = new Set<string>();
    for (const { deployment, revision, serving } of state) {
      if (this.options.only && !this.options.only.includes(deployment.name)) continue;
      seen.add(deployment.name);
      const current = this.plans.get(deployment.name);
      const ok = await this.tryRevision(deployment, revision, current);
      // A process with nothing loaded falls back to what was last served.
      if (!ok && !this.plans.has(deployment.name) && serving && serving.revision !== revision.revision) {
        await this.tryRevision(deployment, serving, undefined, { fallback: true });
      }
    }
    for (const [name, plan] of this.plans) {
      if (!seen.has(name)) {
        this.plans.delete(name);
        this.retire(plan);
      }
    }
  }

  /** Makes `revision` the live plan if it is not already; false when it could not be loaded. */
  private async tryRevision(deployment: Deployment, revision: Revision, current: Plan | undefined, opts: { fallback?: boolean } = {}): Promise<boolean> {
    const name = deployment.name;
    let resolved: ResolvedModel[];
    try {
      resolved = await Promise.all(revision.policy.arms.map((a) => this.options.resolveModelUri(a.model)));
    } catch (err) {
      if (current && current.revision.revision === revision.revision) return true; // keep serving what is loaded
      await this.fail(deployment, revision, `cannot resolve the models: ${messageOf(err)}`, `${revision.revision}:unresolved`, opts);
      return false;
    }
    const versions = resolved.map((r, i) => ({ arm: revision.policy.arms[i], modelName: r.name ?? r.uri, modelVersion: String(r.version ?? r.source), versionId: r.modelVersion?.id ?? null }));
    const fingerprint = fingerprintOf(revision.revision, versions);
    if (current && current.fingerprint === fingerprint) {
      // Back to what is loaded after a failed attempt (an alias moved to a broken version and back): the revision serves, so it is ready again.
      if (this.failed.has(name) && current.revision.revision === revision.revision) {
        this.failed.delete(name);
        await this.markReady(current);
      }
      return true;
    }
    if (this.failed.get(name) === fingerprint) return false;
    const acquired: PooledModel[] = [];
    try {
      for (let i = 0; i < versions.length; i++) acquired.push(await this.acquire(deployment.name, versions[i].modelName, versions[i].modelVersion, resolved[i]));
    } catch (err) {
      for (const p of acquired) await this.release(p);
      await this.fail(deployment, revision, messageOf(err), fingerprint, opts);
      return false;
    }
    const live: LiveArm[] = versions.map((v, i) => ({ arm: v.arm, modelName: v.modelName, modelVersion: v.modelVersion, versionId: v.versionId, pooled: acquired[i] }));
    const plan: Plan = {
      deployment,
      revision,
      arms: live.filter((a) => !a.arm.shadow),
      shadows: live.filter((a) => a.arm.shadow),
      fingerprint,
      inflight: 0,
      retired: false,
    };
    this.plans.set(name, plan);
    this.failed.delete(name);
    if (current) this.retire(current);
    await this.markReady(plan);
    return true;
  }

  private async markReady(plan: Plan): Promise<void> {
    const name = plan.deployment.name;
    const revision = plan.revision.revision;
    const live = [...plan.arms, ...plan.shadows];
    const resolvedArms: ResolvedArm[] = plan.revision.policy.arms
      .map((arm) => live.find((a) => a.arm.name === arm.name)!)
      .map((a) => ({ arm: a.arm.name, model: a.arm.model, modelName: a.modelName, modelVersion: a.modelVersion, versionId: a.versionId }));
    this.options.logger?.info(`deployment ${name}: serving revision ${revision} (${resolvedArms.map((a) => `${a.arm} ${a.modelName}/${a.modelVersion}`).join(', ')})`);
    await this.options.deployments.markRevision(name, revision, 'ready', { resolved: resolvedArms }).catch((err) => this.options.logger?.warn(`could not mark ${name} revision ${revision} ready: ${messageOf(err)}`));
  }

  private async fail(deployment: Deployment, revision: Revision, message: string, fingerprint: string, opts: { fallback?: boolean }): Promise<void> {
    if (this.failed.get(deployment.name) === fingerprint) return;
    if (!opts.fallback) this.failed.set(deployment.name, fingerprint);
    this.options.logger?.warn(`deployment ${deployment.name}: revision ${revision.revision} failed to load: ${message}`);
    await this.options.deployments.markRevision(deployment.name, revision.revision, 'failed', { message }).catch(() => {});
  }

  private async acquire(deployment: string, modelName: string, modelVersion: string, resolved: ResolvedModel): Promise<PooledModel> {
    const key = `${deployment}|${modelName}/${modelVersion}`;
    const existing = this.pool.get(key);
    if (existing) {
      existing.refs++;
      return existing;
    }
    const model = await this.options.loadModel(resolved);
    try {
      await model.predict([warmupRow(model.manifest.signature)]);
    } catch (err) {
      // A model may reject synthetic zeros; real traffic decides. Loading is what must work.
      this.options.logger?.warn(`warm-up of ${modelName}/${modelVersion} failed (serving it anyway): ${messageOf(err)}`);
    }
    const m = this.options.metrics;
    const labels = { deployment, version: `${modelName}/${modelVersion}` };
    const batching = this.options.batching;
    const batcher = new MicroBatcher<Record<string, unknown>, Prediction>(
      (rows) => model.predict(rows),
      batching === false ? { maxBatchSize: 1, maxConcurrentBatches: UNBATCHED_CONCURRENCY } : batching ?? {},
      {
        onBatch: (rows) => m?.batchSize.observe(labels, rows),
        onQueueDepth: (rows) => m?.queueDepth.set(labels, rows),
      },
    );
    const pooled: PooledModel = { key, modelName, modelVersion, model, batcher, refs: 1 };
    this.pool.set(key, pooled);
    return pooled;
  }

  private async release(p: PooledModel): Promise<void> {
    if (--p.refs > 0) return;
    this.pool.delete(p.key);
    await p.batcher.close().catch(() => {});
    await p.model.close().catch(() => {});
  }

  /** Waits for the plan's requests to finish, then lets its models go. */
  private retire(plan: Plan): void {
    plan.retired = true;
    const finish = () => {
      for (const a of [...plan.arms, ...plan.shadows]) void this.release(a.pooled);
    };
    if (plan.inflight === 0) finish();
    else plan.idle = finish;
  }

  /** The live plan of a deployment; an unknown one is looked up in the store once before FW_NOT_FOUND. */
  async plan(name: string): Promise<Plan> {
    let plan = this.plans.get(name);
    if (plan) return plan;
    await this.refresh();
    plan = this.plans.get(name);
    if (plan) return plan;
    const known = (await this.options.deployments.servingState()).find((s) => s.deployment.name === name);
    if (!known || (this.options.only && !this.options.only.includes(name))) throw notFound(`Deployment ${name} not found`);
    const why = known.revision.status === 'failed' ? `: revision ${known.revision.revision} failed to load (${known.revision.statusMessage})` : ' yet';
    throw new FlywheelError('FW_NOT_READY', `Deployment ${name} is not serving${why}`, { retryAfterSeconds: 1 });
  }

  /** Whether this process serves `name` at all (a replica may be dedicated to some deployments). */
  serves(name: string): boolean {
    return !this.options.only || this.options.only.includes(name);
  }

  /** The names this process serves. */
  names(): string[] {
    return [...this.plans.keys()].sort();
  }

  livePlan(name: string): Plan | undefined {
    return this.plans.get(name);
  }

  /** Picks the arm for a request: a pinned model version (V2 `/versions/{v}`) or the policy's split. */
  chooseArm(plan: Plan, key: string | null, version?: string): LiveArm {
    if (version !== undefined) {
      const arm = plan.arms.find((a) => a.modelVersion === version) ?? plan.shadows.find((a) => a.modelVersion === version);
      if (!arm) throw notFound(`Deployment ${plan.deployment.name} does not serve version ${version} (it serves ${[...plan.arms, ...plan.shadows].map((a) => a.modelVersion).join(', ')})`);
      return arm;
    }
    return chooseArm(plan.deployment.name, plan.arms.map((a) => ({ weight: a.arm.weight, shadow: false, live: a })), key).live;
  }

  /**
   * Predicts validated rows on an arm of a plan. The plan stays alive (its
   * models open) until this returns, even if a newer plan replaced it meanwhile.
   */
  async predict(plan: Plan, arm: LiveArm, rows: Record<string, unknown>[], options: PredictOptions & { key: string | null }): Promise<PredictResult> {
    plan.inflight++;
    const m = this.options.metrics;
    const labels = { deployment: plan.deployment.name, version: `${arm.modelName}/${arm.modelVersion}`, arm: arm.arm.name };
    const counters = m ? this.armCounters(arm, labels, options.protocol, m) : undefined;
    counters?.requests.inc();
    const started = performance.now();
    const time = Date.now();
    const ids = rows.map(() => randomUUID());
    try {
      let predictions: Prediction[];
      try {
        predictions = await arm.pooled.batcher.submit(rows);
      } catch (err) {
        const fw = isFlywheelError(err) ? err : new FlywheelError('FW_PREDICTION_FAILED', `the model failed on this request: ${messageOf(err)}`);
        m?.errors.inc({ ...labels, code: fw.code });
        if (fw.code === 'FW_PREDICTION_FAILED') void this.record(plan, arm, ids, rows, null, fw.message, time, performance.now() - started, options.key, false)?.catch(() => {});
        throw fw;
      }
      const latencyMs = performance.now() - started;
      counters?.latency.observe(latencyMs / 1000);
      const logged = this.record(plan, arm, ids, rows, predictions, null, time, latencyMs, options.key, false);
      for (const shadow of plan.shadows) this.shadow(plan, shadow, ids, rows, options.key);
      // Only the 'block' overflow policy makes a request wait for room in the log (back-pressure).
      if (logged) await logged;
      return {
        deployment: plan.deployment.name,
        revision: plan.revision.revision,
        arm: arm.arm.name,
        modelName: arm.modelName,
        modelVersion: arm.modelVersion,
        predictionIds: ids,
        predictions,
        signature: arm.pooled.model.manifest.signature,
      };
    } finally {
      if (--plan.inflight === 0 && plan.retired && plan.idle) {
        const idle = plan.idle;
        plan.idle = undefined;
        idle();
      }
    }
  }

  /** Label-bound metric children per arm and protocol: resolving label objects on every request showed in profiles. */
  private readonly counterCache = new WeakMap<LiveArm, Map<string, { requests: { inc(): void }; latency: { observe(v: number): void } }>>();

  private armCounters(arm: LiveArm, labels: { deployment: string; version: string; arm: string }, protocol: string, m: ServingMetrics) {
    let byProtocol = this.counterCache.get(arm);
    if (!byProtocol) this.counterCache.set(arm, (byProtocol = new Map()));
    let c = byProtocol.get(protocol);
    if (!c) byProtocol.set(protocol, (c = { requests: m.requests.labels({ ...labels, protocol }), latency: m.latency.labels(labels) }));
    return c;
  }

  /** A copy of the request to a shadow arm: answered by nobody, logged under `<primary id>~<arm>`. */
  private shadow(plan: Plan, arm: LiveArm, primaryIds: string[], rows: Record<string, unknown>[], key: string | null): void {
    plan.inflight++;
    const labels = { deployment: plan.deployment.name, version: `${arm.modelName}/${arm.modelVersion}` };
    this.options.metrics?.shadowRequests.inc(labels);
    const ids = primaryIds.map((id) => `${id}~${arm.arm.name}`);
    const started = performance.now();
    const time = Date.now();
    arm.pooled.batcher
      .submit(rows)
      .then(
        (predictions) => void this.record(plan, arm, ids, rows, predictions, null, time, performance.now() - started, key, true)?.catch(() => {}),
        (err) => {
          this.options.metrics?.errors.inc({ ...labels, arm: arm.arm.name, code: isFlywheelError(err) ? err.code : 'FW_PREDICTION_FAILED' });
          void this.record(plan, arm, ids, rows, null, messageOf(err), time, performance.now() - started, key, true)?.catch(() => {});
        },
      )
      .finally(() => {
        if (--plan.inflight === 0 && plan.retired && plan.idle) {
          const idle = plan.idle;
          plan.idle = undefined;
          idle();
        }
      });
  }

  private record(
    plan: Plan,
    arm: LiveArm,
    ids: string[],
    rows: Record<string, unknown>[],
    predictions: Prediction[] | null,
    error: string | null,
    time: number,
    latencyMs: number,
    key: string | null,
    shadow: boolean,
  ): Promise<void> | undefined {
    if (!this.log) return undefined;
    const records: PredictionRecord[] = rows.map((features, i) => ({
      predictionId: ids[i],
      deploymentId: plan.deployment.deploymentId,
      deployment: plan.deployment.name,
      revision: plan.revision.revision,
      arm: arm.arm.name,
      modelName: arm.modelName,
      modelVersion: arm.modelVersion,
      shadow,
      time,
      latencyMs,
      requestKey: key,
      features,
      prediction: predictions ? predictions[i].prediction : null,
      probability: predictions?.[i].probability ?? null,
      error,
    }));
    const appended = this.log.append(records);
    this.options.metrics?.logBuffered.set(this.log.stats().buffered);
    return appended instanceof Promise ? appended : undefined;
  }

  /** Writes every logged prediction so far (feedback joins and tests read the store). */
  async flushLog(): Promise<void> {
    await this.log?.flush();
  }

  logStats() {
    return this.log?.stats() ?? { buffered: 0, dropped: 0, written: 0, sinkErrors: 0 };
  }

  /** Stops polling, waits for requests in flight, closes models and flushes the prediction log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing?.catch(() => {});
    const plans = [...this.plans.values()];
    this.plans.clear();
    await Promise.all(
      plans.map(
        (plan) =>
          new Promise<void>((resolve) => {
            plan.retired = true;
            const finish = async () => {
              for (const a of [...plan.arms, ...plan.shadows]) await this.release(a.pooled);
              resolve();
            };
            if (plan.inflight === 0) void finish();
            else plan.idle = () => void finish();
          }),
      ),
    );
    await this.log?.close();
  }
}

function messageOf(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
