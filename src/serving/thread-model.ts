/**
 * A LoadedModel whose predict runs in worker threads. onnxruntime-node runs
 * `session.run` synchronously on the calling thread, and a js model's predict
 * is plain JS: in-process, both stall the event loop that parses HTTP
 * requests. Here `threads` worker threads (thread-model-worker.ts) each load
 * the same package with `loadModelFromDir`, and the proxy hands each call to
 * the least busy one (ties in turn), so serving keeps accepting requests and
 * uses more than one core.
 *
 * One postMessage each way per call (structured clone, no JSON); typed arrays
 * of results are transferred, not copied, and row predictions travel packed
 * as columns (packPredictions), as do an onnx model's input rows (only the
 * signature's columns matter to it; a js model gets its rows whole, extra
 * fields included). The caller's own input arrays are cloned, so it keeps
 * them. Errors come back with their FlywheelError code
 * (anything else is FW_PREDICTION_FAILED). A thread that dies (process.exit
 * in a model, an uncaught error) fails its in-flight calls with
 * FW_PREDICTION_FAILED and is started again for the next call routed to it. A
 * load error (bad package, corrupt ONNX file) rejects the load with the
 * worker's error after every thread it started has exited.
 *
 * Running from the TypeScript source (tests, tsx), the worker entry is the .ts
 * file and needs tsx. Node 20 does not apply `--import tsx` hooks from a
 * worker's execArgv to its entry, so the worker is a one-line eval calling
 * tsx's `tsImport` (hooks scoped to the entry's graph; a global `register()`
 * there would collide with the one the js flavor makes for a .ts model
 * module). From dist/ the .js entry runs directly.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { ERROR_CODES, FlywheelError, type ErrorCode } from '../core/errors.js';
import { rowsToColumns, type ColumnBatch, type ModelManifest } from '../models/manifest.js';
import type { ColumnarPredictions, LoadedModel, Prediction } from '../models/types.js';

const HERE = fileURLToPath(import.meta.url);
/** thread-model-worker.ts beside this file in the source tree, thread-model-worker.js in dist/. */
export const THREAD_MODEL_ENTRY = path.join(path.dirname(HERE), `thread-model-worker${path.extname(HERE)}`);
/** How long close() waits for a thread to release its model before terminating it. */
const CLOSE_GRACE_MS = 2000;

export interface ThreadModelOptions {
  /** The package's manifest when the caller has already read it (as loadModelFromDir). */
  manifest?: ModelManifest;
  /** Where the package came from (`runs:/…/model`); default the directory. */
  source?: string;
  /** Passed to onnxruntime in every thread (set intraOpNumThreads when running several threads). */
  onnxSessionOptions?: InferenceSession.SessionOptions;
  /** Worker threads sharing the calls, each with its own copy of the model; default 1. */
  threads?: number;
}

// ----------------------------------------------------------------- protocol (shared with the worker)

export interface ThreadWorkerData {
  dir: string;
  manifest?: ModelManifest;
  source?: string;
  onnxSessionOptions?: InferenceSession.SessionOptions;
}

export type ThreadRequest = { id: number; op: 'rows'; input: readonly Record<string, unknown>[] } | { id: number; op: 'columns'; input: ColumnBatch };

export interface WireError {
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}

type FromWorker =
  | { kind: 'ready'; manifest: ModelManifest; source: string; dir: string }
  | { kind: 'load-error'; error: WireError }
  | { kind: 'closed' }
  | { kind?: undefined; id: number; value?: unknown; error?: WireError };

/**
 * Row predictions as they cross between threads: cloning n small objects
 * costs the main thread more than a trivial model's whole predict, so
 * predictions that fit go as one label column and one n × k probability
 * buffer (transferred). Anything else (mixed label types, ragged
 * probabilities) goes as the objects themselves.
 */
export type PackedPredictions = { n: number; prediction: Float64Array | string[]; probability?: Float64Array; k?: number } | Prediction[];

export function packPredictions(preds: Prediction[]): PackedPredictions {
  const n = preds.length;
  if (n === 0) return preds;
  const first = preds[0];
  const kind = typeof first.prediction;
  const k = first.probability?.length;
  for (let i = 1; i < n; i++) {
    const p = preds[i];
    if (typeof p.prediction !== kind || p.probability?.length !== k) return preds;
  }
  const packed: PackedPredictions = { n, prediction: kind === 'number' ? Float64Array.from(preds, (p) => p.prediction as number) : preds.map((p) => p.prediction as string) };
  if (k !== undefined) {
    const prob = new Float64Array(n * k);
    for (let i = 0; i < n; i++) prob.set(preds[i].probability!, i * k);
    packed.probability = prob;
    packed.k = k;
  }
  return packed;
}

/** Prediction objects from packed rows or from columnar predictions (the same loop as the onnx flavor's predict). */
export function unpackPredictions(value: PackedPredictions | ColumnarPredictions): Prediction[] {
  if (Array.isArray(value)) return value;
  const { n } = value;
  const pred = value.prediction;
  const prob = value.probability;
  const k = ('k' in value ? value.k : (value as ColumnarPredictions).probabilityColumns) ?? 0;
  const out = new Array<Prediction>(n);
  for (let i = 0; i < n; i++) {
    const p: Prediction = { prediction: pred[i] };
    if (prob) {
      const row = new Array<number>(k);
      for (let j = 0, o = i * k; j < k; j++) row[j] = prob[o + j];
      p.probability = row;
    }
    out[i] = p;
  }
  return out;
}

/** The error as thrown on this side: a FlywheelError keeps code, message and details; anything else is FW_PREDICTION_FAILED. */
export function fromWireError(wire: WireError): FlywheelError {
  if (wire.code !== undefined && wire.code in ERROR_CODES) return new FlywheelError(wire.code as ErrorCode, wire.message, wire.details);
  return new FlywheelError('FW_PREDICTION_FAILED', wire.message);
}

// ----------------------------------------------------------------- threads

let liveThreads = 0;
/** Model threads alive in this process (started and not yet exited), across all thread models. */
export function modelThreadCount(): number {
  return liveThreads;
}

function startWorker(data: ThreadWorkerData): Worker {
  const options = { workerData: data, execArgv: [] as string[] };
  if (!/\.[cm]?ts$/i.test(THREAD_MODEL_ENTRY)) return new Worker(THREAD_MODEL_ENTRY, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = pathToFileURL(THREAD_MODEL_ENTRY).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
  return new Worker(boot, { ...options, eval: true });
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface LoadedInfo {
  manifest: ModelManifest;
  source: string;
  dir: string;
}

/** One worker thread and its in-flight calls; started again after it dies. */
class ModelThread {
  private worker: Worker | null = null;
  /** The worker once it has loaded the model: calls are posted to it straight away. */
  private readyWorker: Worker | null = null;
  /** Settles when the current worker has loaded the model (rejects with its load error). */
  private ready: Promise<LoadedInfo> | null = null;
  readonly inflight = new Map<number, Pending>();
  private exited: Promise<void> = Promise.resolve();
  private onClosed: (() => void) | null = null;
  private onDrained: (() => void) | null = null;
  private setRef: (on: boolean) => void = () => undefined;

  constructor(
    private readonly data: ThreadWorkerData,
    private readonly label: string,
  ) {}

  /** Starts the worker if none is running; the returned promise is its load. */
  start(): Promise<LoadedInfo> {
    if (this.worker && this.ready) return this.ready;
    const worker = startWorker(this.data);
    liveThreads++;
    this.worker = worker;
    let fatal: Error | undefined;
    let loaded = false;
    let settleLoad!: { resolve(info: LoadedInfo): void; reject(err: Error): void };
    this.ready = new Promise<LoadedInfo>((resolve, reject) => (settleLoad = { resolve, reject }));
    // A load that fails with nobody awaiting yet must not be an unhandled rejection.
    this.ready.catch(() => undefined);
    let onExit!: () => void;
    this.exited = new Promise<void>((resolve) => (onExit = resolve));
    // Referenced while loading or busy (a caller awaits it), not while idle: a forgotten model must not keep the process alive.
    let refed = true;
    this.setRef = (on) => {
      if (on === refed) return;
      refed = on;
      if (on) worker.ref();
      else worker.unref();
    };

    worker.on('message', (msg: FromWorker) => {
      if (msg.kind === undefined) {
        const p = this.inflight.get(msg.id);
        if (!p) return;
        this.inflight.delete(msg.id);
        if (msg.error) p.reject(fromWireError(msg.error));
        else p.resolve(msg.value);
        this.afterSettle();
      } else if (msg.kind === 'ready') {
        loaded = true;
        this.readyWorker = worker;
        if (this.inflight.size === 0) this.setRef(false);
        settleLoad.resolve({ manifest: msg.manifest, source: msg.source, dir: msg.dir });
      } else if (msg.kind === 'load-error') {
        settleLoad.reject(fromWireError(msg.error));
        void worker.terminate();
      } else if (msg.kind === 'closed') {
        this.onClosed?.();
      }
    });
    worker.on('error', (err) => (fatal = err));
    worker.on('exit', (code) => {
      liveThreads--;
      if (this.worker === worker) {
        this.worker = null;
        this.readyWorker = null;
        this.ready = null;
      }
      const how = fatal ? `failed: ${fatal.message}` : `exited with code ${code}`;
      if (!loaded) settleLoad.reject(new FlywheelError('FW_PREDICTION_FAILED', `the model thread for ${this.label} ${how} before the model loaded`));
      // Calls still waiting for a restarted worker's load are not this worker's: they stay.
      if (loaded) {
        const err = new FlywheelError('FW_PREDICTION_FAILED', `the model thread for ${this.label} ${how} during the call`);
        for (const p of this.inflight.values()) p.reject(err);
        this.inflight.clear();
        this.afterSettle();
      }
      onExit();
    });
    return this.ready;
  }

  private afterSettle(): void {
    if (this.inflight.size > 0) return;
    this.setRef(false);
    this.onDrained?.();
  }

  private post(worker: Worker, request: ThreadRequest, transfer: ArrayBuffer[], reject: (err: Error) => void): void {
    try {
      worker.postMessage(request, transfer);
    } catch (err) {
      this.inflight.delete(request.id);
      reject(new FlywheelError('FW_INVALID_ARGUMENT', `the input cannot be sent to the model thread: ${(err as Error).message}`));
      this.afterSettle();
      return;
    }
    this.setRef(true);
  }

  /** Posts one call (once the worker is ready; a worker that died is started again first). */
  call(request: ThreadRequest, transfer: ArrayBuffer[] = []): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      // Counted as in flight from now, so the least-busy choice sees calls waiting on a restart.
      this.inflight.set(request.id, { resolve, reject });
      if (this.readyWorker) {
        this.post(this.readyWorker, request, transfer, reject);
        return;
      }
      this.start().then(
        () => {
          if (this.inflight.has(request.id) && this.readyWorker) this.post(this.readyWorker, request, transfer, reject);
        },
        (err: Error) => {
          if (!this.inflight.delete(request.id)) return;
          reject(err);
          this.afterSettle();
        },
      );
    });
  }

  /** Resolves once no call is in flight. */
  drained(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.onDrained = () => {
        this.onDrained = null;
        resolve();
      };
    });
  }

  /** Asks the worker to release its model, then terminates it. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return this.exited;
    const loaded = await this.ready!.then(
      () => true,
      () => false,
    );
    if (loaded && this.worker === worker) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_GRACE_MS);
        this.onClosed = () => {
          clearTimeout(timer);
          resolve();
        };
        worker.postMessage({ op: 'close' });
      });
    }
    await worker.terminate();
    await this.exited;
  }
}

let seq = 0;

/** The proxy handed to callers: routes calls to the least busy thread, and waits for in-flight calls on close. */
class ThreadModel implements LoadedModel {
  private closed = false;
  private closing: Promise<void> | undefined;
  private next = 0;

  constructor(
    readonly manifest: ModelManifest,
    readonly source: string,
    readonly dir: string,
    private readonly threads: ModelThread[],
  ) {}

  /** The thread with the fewest calls in flight, starting the search one further each time (round robin among equals). */
  private pick(): ModelThread {
    const n = this.threads.length;
    let best = this.threads[this.next];
    for (let k = 1; k < n; k++) {
      const t = this.threads[(this.next + k) % n];
      if (t.inflight.size < best.inflight.size) best = t;
    }
    this.next = (this.next + 1) % n;
    return best;
  }

  private send(request: ThreadRequest, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.pick().call(request, transfer);
  }

  private closedError(): FlywheelError {
    return new FlywheelError('FW_INVALID_STATE', `the model ${this.source} is closed`);
  }

  async predict(rows: readonly Record<string, unknown>[]): Promise<Prediction[]> {
    if (this.manifest.flavor !== 'onnx') return unpackPredictions((await this.send({ id: ++seq, op: 'rows', input: rows })) as PackedPredictions);
    // The onnx flavor reads only the signature's columns: send those (validated here, as its predict would), not the row objects.
    if (this.closed) throw this.closedError();
    const { columns } = rowsToColumns(this.manifest.signature, rows);
    const transfer = Object.values(columns).flatMap((c) => (ArrayBuffer.isView(c) ? [c.buffer as ArrayBuffer] : []));
    return unpackPredictions((await this.send({ id: ++seq, op: 'columns', input: columns }, transfer)) as ColumnarPredictions);
  }

  predictColumns(columns: ColumnBatch): Promise<ColumnarPredictions> {
    return this.send({ id: ++seq, op: 'columns', input: columns }) as Promise<ColumnarPredictions>;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.drained()));
    await Promise.all(this.threads.map((t) => t.stop()));
  }
}

/**
 * Loads the package in `dir` in `threads` worker threads (default 1) and
 * returns a LoadedModel whose calls run there. Rejects with the load error
 * (the same FlywheelError loadModelFromDir gives) once no thread is left.
 */
export async function loadModelInThread(dir: string, options: ThreadModelOptions = {}): Promise<LoadedModel> {
  const count = options.threads ?? 1;
  if (!Number.isSafeInteger(count) || count < 1) throw new FlywheelError('FW_INVALID_ARGUMENT', `threads must be a positive integer (got ${count})`, { field: 'threads' });
  const data: ThreadWorkerData = { dir, manifest: options.manifest, source: options.source, onnxSessionOptions: options.onnxSessionOptions };
  const label = options.source ?? dir;
  const threads = Array.from({ length: count }, () => new ModelThread(data, label));
  const loads = await Promise.allSettled(threads.map((t) => t.start()));
  const failed = loads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(threads.map((t) => t.stop()));
    throw failed.reason;
  }
  const info = (loads[0] as PromiseFulfilledResult<LoadedInfo>).value;
  return new ThreadModel(info.manifest, info.source, info.dir, threads);
}
