/**
 * The SDK's entry point: `Flywheel.open()` for the store in this process (the
 * embedded default, `.flywheel/` in the working directory) or a server when
 * FLYWHEEL_TRACKING_URI (or an http(s) MLFLOW_TRACKING_URI) is set, and
 * `Flywheel.connect(url)` for a server explicitly. Both modes sit behind the
 * one TrackingApi interface, so `startRun`/`withRun` behave the same in each;
 * `fw.data` (FlywheelData), `fw.suites` (the suite registry) and
 * `fw.lineage` likewise answer the same in both.
 */
import os from 'node:os';
import { resolveConfig, type ConfigOverrides } from '../core/config.js';
import { FlywheelError } from '../core/errors.js';
import { openStore } from '../store/index.js';
import { openArtifactStore } from '../artifacts/index.js';
import type { TrackingApi } from '../tracking/api.js';
import { TrackingService } from '../tracking/service.js';
import { sourceTags } from '../tracking/source-tags.js';
import type { Experiment } from '../tracking/types.js';
import { ActiveRun, type ParamValue } from './active-run.js';
import { RemoteTracking } from './remote.js';
import type { Engine } from '../engine/index.js';
import type { Direction, LineageGraph } from '../lineage/graph.js';
import type { FlywheelData } from './data-extra.js';
import type { EmbeddedData } from './embedded-data.js';
import { RemoteFlywheelData } from './remote-data-extra.js';
import { embeddedLineage, remoteLineage, type LineageOptions, type LineageWalk } from './lineage.js';
import { embeddedSuites, RemoteSuites, type FlywheelSuites } from './suites.js';

/** The default for how long logged metrics may wait before they are written. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;

export interface ClientOptions {
  /** How long a logged metric may wait in the buffer before it is written; 0 writes every call through. */
  flushIntervalMs?: number;
}

export interface OpenOptions extends ConfigOverrides, ClientOptions {
  /** A server to talk to instead of a local store (same as `Flywheel.connect`). */
  trackingUri?: string;
}

export interface StartRunOptions {
  /** Experiment name; created when it does not exist. Default "Default". */
  experiment?: string;
  /** Run name; default a generated one. */
  name?: string;
  params?: Record<string, ParamValue>;
  tags?: Record<string, string>;
  /** The parent run (id or ActiveRun): makes this a nested run. */
  parent?: string | ActiveRun;
}

/**
 * The tracking server named by the environment, if any: FLYWHEEL_TRACKING_URI,
 * else MLFLOW_TRACKING_URI when it is http(s) (MLflow also allows file paths
 * and database URLs there, which name no server).
 */
export function trackingUriFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.FLYWHEEL_TRACKING_URI) return env.FLYWHEEL_TRACKING_URI;
  const mlflow = env.MLFLOW_TRACKING_URI;
  return mlflow && /^https?:\/\//i.test(mlflow) ? mlflow : undefined;
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** An object whose async methods create the real one on first call. */
function lazy<T extends object>(create: () => Promise<T>): T {
  let target: Promise<T> | undefined;
  return new Proxy({} as T, {
    get: (_t, prop) =>
      // Not a thenable: `await fw.data` must not call into it.
      prop === 'then'
        ? undefined
        : async (...args: unknown[]) => {
            target ??= create();
            const obj = (await target) as Record<string | symbol, (...a: unknown[]) => unknown>;
            return obj[prop](...args);
          },
  });
}

export class Flywheel {
  private readonly openRuns = new Set<ActiveRun>();
  private readonly flushIntervalMs: number;
  private released = false;

  private constructor(
    /** Everything tracking offers beyond runs started here: search, history, experiments… */
    readonly tracking: TrackingApi,
    /** Where the data lives: this process's store, or a server. */
    readonly mode: 'embedded' | 'remote',
    private readonly release: () => Promise<void>,
    options: ClientOptions,
    /** Datasets and their versions: add, resolve, read (rows or a Parquet path), diff, transform, validate… */
    readonly data: FlywheelData,
    private readonly lineageWalk: LineageWalk,
    /** Quality suites registered by name: put, get, list, delete. */
    readonly suites: FlywheelSuites,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (!Number.isFinite(this.flushIntervalMs) || this.flushIntervalMs < 0) {
      throw new FlywheelError('FW_INVALID_ARGUMENT', `flushIntervalMs must be a non-negative number, got ${options.flushIntervalMs}`);
    }
  }

  /**
   * Opens tracking. With `trackingUri`, or with none of home/db/artifacts given
   * and a tracking server named in the environment, talks to that server;
   * otherwise opens the store in this process (creating `.flywheel/` if needed).
   */
  static async open(options: OpenOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Flywheel> {
    const explicitStore = options.home !== undefined || options.db !== undefined || options.artifacts !== undefined;
    const uri = options.trackingUri ?? (explicitStore ? undefined : trackingUriFromEnv(env));
    if (uri !== undefined) return Flywheel.connect(uri, options);
    const config = resolveConfig({ home: options.home, db: options.db, artifacts: options.artifacts }, env);
    const store = await openStore(config.db);
    const artifacts = openArtifactStore(config.artifacts);
    const service = new TrackingService(store, { actor: osUser(), artifacts });
    // The data slice (and DuckDB) load on the first data call that needs them, not with every client.
    let engine: Engine | undefined;
    const data = lazy<EmbeddedData>(async () => {
      const [{ EmbeddedData }, { Engine }] = await Promise.all([import('./embedded-data.js'), import('../engine/index.js')]);
      return new EmbeddedData({ store, artifacts, engine: async () => (engine = await Engine.open()), tracking: service, actor: osUser() }, service);
    });
    const release = async () => {
      engine?.close();
      await store.close();
    };
    return new Flywheel(service, 'embedded', release, options, data, embeddedLineage({ db: store.db, data, tracking: service }), embeddedSuites(store, osUser()));
  }

  /** Talks to the Flywheel server at `url` (for example http://127.0.0.1:5000). */
  static async connect(url: string, options: ClientOptions = {}): Promise<Flywheel> {
    // RemoteTracking checks the URL first and names what is wrong with it.
    const tracking = new RemoteTracking(url);
    const data = new RemoteFlywheelData(url);
    return new Flywheel(tracking, 'remote', () => data.close(), options, data, remoteLineage(url), new RemoteSuites(url));
  }

  /**
   * Where a dataset version came from (`upstream`, the default: the runs that
   * produced it and their inputs, recursively) or what was made from it
   * (`downstream`). `ref` is a dataset ref (NAME@3, NAME@latest…) or
   * `run:<run id>`.
   */
  lineage(ref: string, direction: Direction = 'upstream', options: LineageOptions = {}): Promise<LineageGraph> {
    return this.lineageWalk(ref, direction, options);
  }

  /**
   * Starts a run in `experiment` (created if absent), tagged with what
   * reproduces it (git commit and dirty-state hash, entry point, user, Node
   * version), then logs `params`. The caller ends it with `run.end()`.
   */
  async startRun(options: StartRunOptions = {}): Promise<ActiveRun> {
    const experiment: Experiment = await this.tracking.ensureExperiment(options.experiment ?? 'Default');
    const parentRunId = typeof options.parent === 'string' ? options.parent : options.parent?.id;
    const run = await this.tracking.createRun({
      experimentId: experiment.experimentId,
      runName: options.name,
      tags: { ...(await sourceTags()), ...options.tags },
      parentRunId,
    });
    const active = new ActiveRun(this.tracking, run, {
      flushIntervalMs: this.flushIntervalMs,
      onEnd: (r) => this.openRuns.delete(r),
    });
    this.openRuns.add(active);
    if (options.params && Object.keys(options.params).length > 0) {
      try {
        await active.logParams(options.params);
      } catch (err) {
        await active.end('FAILED').catch(() => undefined);
        throw err;
      }
    }
    return active;
  }

  /**
   * Runs `fn` inside a new run: ended FINISHED when `fn` resolves, FAILED when
   * it throws (and the error is rethrown). A run `fn` ended itself keeps its status.
   */
  async withRun<T>(options: StartRunOptions, fn: (run: ActiveRun) => Promise<T> | T): Promise<T> {
    const run = await this.startRun(options);
    let result: T;
    try {
      result = await fn(run);
    } catch (err) {
      if (!run.ended) await run.end('FAILED').catch(() => undefined);
      throw err;
    }
    if (!run.ended) await run.end('FINISHED');
    return result;
  }

  /** Writes what runs still buffer (without ending them), then releases the store. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.openRuns].map((r) => r.flush()));
    if (!this.released) {
      this.released = true;
      await this.release();
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
