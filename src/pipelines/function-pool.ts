/**
 * Function steps in worker processes: a pool of long-lived Node children
 * (function-child.ts, forked with an IPC channel) that run the TypeScript
 * function steps of pipelines loaded from a module file. A closure cannot
 * move to another process, but the module path can (load.ts sets
 * `def.module`): the child imports the module, finds the pipeline and step
 * by name and calls the step's `fn`. Definitions built in-process without a
 * module (tests, embedding programs) keep running function steps in-process
 * (step-runners.ts).
 *
 * Why processes: a step that blocks its event loop, leaks memory, ignores its
 * abort signal or calls `process.exit` must not take the runner down with it.
 * Children are spawned lazily up to `size`, run one step at a time and are
 * reused, so a no-op step costs one IPC round trip (about 0.1–0.2 ms), not a
 * process start. `close()` ends them all.
 *
 * Protocol (structured-clone serialization, so NaN metrics survive):
 * parent → child `run` {id, module, pipeline, step, context}, `abort` {id,
 * reason}, `reply` {call, error?}; child → parent `ready`, `done` {id,
 * result}, `error` {id, message, stack, code}, `call` {id, call, op, args}
 * for what the step logs on its run (`ctx.run.*`): the parent applies it on
 * the step's tracking run and replies, so the step awaits the write and its
 * failure surfaces in the step. The child writes the step log itself.
 *
 * Abort: the parent forwards it; a step that has not settled `abortGraceMs`
 * (5 s) later has its child SIGKILLed (and replaced) and fails with the abort
 * reason (the timeout or cancel message). A child that exits mid-step fails
 * that step with its exit code or signal; the pool replaces it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ERROR_CODES, FlywheelError, invalidArgument, type ErrorCode } from '../core/errors.js';
import { MAX_STEP_LOG_BYTES, RotatingLog } from './shell.js';
import type { ResolvedInput, StepContext, StepRun } from './types.js';

export const DEFAULT_FUNCTION_ABORT_GRACE_MS = 5000;
/** How long `close()` lets an idle child exit on its own before killing it. */
const CLOSE_GRACE_MS = 2000;

const HERE = fileURLToPath(import.meta.url);
/** function-child.ts beside this file in the source tree (run through tsx), function-child.js in dist/. */
export const FUNCTION_CHILD_ENTRY = path.join(path.dirname(HERE), `function-child${path.extname(HERE)}`);

/** TypeScript modules (and the child entry itself when running from source) need tsx's loader. */
export function isTypeScriptFile(file: string): boolean {
  return /\.[cm]?ts$/i.test(file);
}

// ----------------------------------------------------------------- protocol

/** What a step gets besides its signal and run handle; plain data, so it can cross to a child. */
export interface StepCallContext {
  runId: string;
  params: Record<string, string | number | boolean>;
  inputs: Record<string, ResolvedInput>;
  workDir: string;
  logFile: string;
}

export interface FunctionCall {
  /** Absolute path of the module exporting the pipeline. */
  module: string;
  pipeline: string;
  step: string;
  context: StepCallContext;
}

/** A function step's result as it crosses the process boundary: output name → Parquet file. */
export type FunctionResult = Record<string, { parquetFile: string } | undefined>;

export const STEP_RUN_OPS = ['logMetric', 'logParam', 'setTag', 'logArtifact'] as const;
export type StepRunOp = (typeof STEP_RUN_OPS)[number];

export type ToChild =
  | ({ type: 'run'; id: number } & FunctionCall)
  | { type: 'abort'; id: number; reason: { name: string; message: string } }
  | { type: 'reply'; call: number; value?: unknown; error?: WireError };

export type FromChild =
  | { type: 'ready' }
  | { type: 'done'; id: number; result: FunctionResult }
  | ({ type: 'error'; id: number } & WireError)
  | { type: 'call'; id: number; call: number; op: StepRunOp; args: unknown[] };

export interface WireError {
  message: string;
  stack?: string;
  code?: string;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, stack: err.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(err) };
}

/** The error as thrown on this side: a FlywheelError keeps its code; the stack is the other side's. */
export function fromWireError(wire: WireError): Error {
  const err = wire.code !== undefined && wire.code in ERROR_CODES ? new FlywheelError(wire.code as ErrorCode, wire.message) : new Error(wire.message);
  if (wire.stack) err.stack = wire.stack;
  return err;
}

/**
 * The StepContext a function step is called with, in-process or in a child.
 * The log file and the work directory are created on first use (most no-op
 * steps never log); `close()` closes the log.
 */
export function openStepContext(pipeline: string, step: string, context: StepCallContext, signal: AbortSignal, run: StepRun): { ctx: StepContext; close(): void } {
  // Rotated at the cap like a shell step's log: a step logging gigabytes keeps its latest lines and at most twice the cap.
  let log: RotatingLog | undefined;
  const ctx: StepContext = {
    pipeline,
    step,
    runId: context.runId,
    params: context.params,
    inputs: context.inputs,
    signal,
    run,
    workDir: context.workDir,
    log(line: string) {
      if (log === undefined) {
        fs.mkdirSync(path.dirname(context.logFile), { recursive: true });
        log = new RotatingLog(context.logFile, MAX_STEP_LOG_BYTES);
      }
      log.write(Buffer.from(line.endsWith('\n') ? line : `${line}\n`));
    },
    outputPath(output: string) {
      if (typeof output !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(output) || output.startsWith('.')) {
        throw invalidArgument(`step "${step}": invalid output name ${JSON.stringify(output)} for outputPath`);
      }
      const dir = path.join(context.workDir, 'outputs');
      fs.mkdirSync(dir, { recursive: true });
      return path.join(dir, `${output}.parquet`);
    },
  };
  return {
    ctx,
    close() {
      log?.close();
      log = undefined;
    },
  };
}

/** Keeps only `parquetFile` strings of a step's return value, which must be nothing or an object. */
export function normalizeResult(step: string, result: unknown): FunctionResult {
  if (result === undefined || result === null) return {};
  if (typeof result !== 'object' || Array.isArray(result)) {
    throw new Error(`step "${step}" returned ${Array.isArray(result) ? 'an array' : typeof result}; return nothing or { output: { parquetFile } }`);
  }
  const out: FunctionResult = {};
  for (const [name, r] of Object.entries(result as Record<string, unknown>)) {
    const file = r && typeof r === 'object' ? (r as { parquetFile?: unknown }).parquetFile : undefined;
    out[name] = typeof file === 'string' ? { parquetFile: file } : undefined;
  }
  return out;
}

// --------------------------------------------------------------------- pool

export interface FunctionPoolOptions {
  /** Most children at once (the pipeline's concurrency). */
  size: number;
  /** Start children with tsx's loader (TypeScript modules); default true. Forced when running from the .ts source. */
  typescript?: boolean;
  /** How long an aborted step may take to settle before its child is killed. */
  abortGraceMs?: number;
}

export interface RunFunctionOptions {
  signal: AbortSignal;
  /** Where the step's `ctx.run.*` calls are applied (the step's tracking run). */
  run: StepRun;
}

interface Task {
  id: number;
  step: string;
  run: StepRun;
  /** Writes started for the step's `ctx.run.*` calls; awaited before the step's result is handed back. */
  calls: Set<Promise<unknown>>;
  finish(outcome: { ok: true; result: FunctionResult } | { ok: false; error: Error }): void;
}

interface Worker {
  child: ChildProcess;
  task: Task | null;
  /** Killed or exited: never handed out again. */
  gone: boolean;
  exited: Promise<void>;
}

interface Waiter {
  resolve(w: Worker): void;
  reject(err: Error): void;
}

let tsxLoader: string | undefined;

function tsxLoaderUrl(): string {
  tsxLoader ??= pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return tsxLoader;
}

export class FunctionPool {
  private readonly size: number;
  private readonly typescript: boolean;
  private readonly graceMs: number;
  private readonly workers: Worker[] = [];
  private readonly live = new Set<Worker>();
  private readonly waiters: Waiter[] = [];
  /** Workers handed to a caller (or starting for one) that has not yet given them a task. */
  private readonly reserved = new Set<Worker>();
  private seq = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: FunctionPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw invalidArgument(`function pool size must be a positive integer (got ${options.size})`);
    this.size = options.size;
    this.typescript = options.typescript !== false || isTypeScriptFile(FUNCTION_CHILD_ENTRY);
    this.graceMs = options.abortGraceMs ?? DEFAULT_FUNCTION_ABORT_GRACE_MS;
  }

  /** Process ids of the children alive now. */
  pids(): number[] {
    return [...this.live].map((w) => w.child.pid).filter((p): p is number => p !== undefined);
  }

  /** Runs one function step in a child; resolves to its outputs' Parquet files, rejects with its error. */
  async run(call: FunctionCall, options: RunFunctionOptions): Promise<FunctionResult> {
    if (this.closed) throw new FlywheelError('FW_INVALID_STATE', 'the function pool is closed');
    if (isTypeScriptFile(call.module) && !this.typescript) {
      throw invalidArgument(`pipeline module ${call.module} is TypeScript but the function pool was started without tsx`);
    }
    const { signal } = options;
    if (signal.aborted) throw abortError(signal);
    const worker = await this.acquire(signal);
    if (signal.aborted) {
      this.release(worker);
      throw abortError(signal);
    }
    return this.exec(worker, call, options);
  }

  /** Ends every child: idle ones are let go (killed if they linger), busy ones killed, their steps failed. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new FlywheelError('FW_INVALID_STATE', 'the function pool was closed'));
    const all = [...this.live];
    for (const w of all) {
      w.gone = true;
      if (w.task !== null || !w.child.connected) w.child.kill('SIGKILL');
      else w.child.disconnect();
    }
    const timer = setTimeout(() => all.forEach((w) => w.child.kill('SIGKILL')), CLOSE_GRACE_MS);
    await Promise.all(all.map((w) => w.exited));
    clearTimeout(timer);
  }

  private acquire(signal: AbortSignal): Promise<Worker> {
    const idle = this.workers.find((w) => w.task === null && !w.gone && w.child.connected && !this.reserved.has(w));
    if (idle) {
      this.reserved.add(idle);
      setRef(idle, true);
      return Promise.resolve(idle);
    }
    if (this.workers.length < this.size) return this.spawn();
    return new Promise<Worker>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (w) => {
          signal.removeEventListener('abort', onAbort);
          resolve(w);
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Hands a worker that finished its task to the next waiter, or parks it idle. */
  private release(w: Worker): void {
    this.reserved.delete(w);
    if (w.gone) return;
    const next = this.waiters.shift();
    if (next) {
      this.reserved.add(w);
      next.resolve(w);
    } else {
      setRef(w, false);
    }
  }

  /** After a worker went away: start a replacement for the first waiter, if any. */
  private replace(): void {
    if (this.closed || this.waiters.length === 0 || this.workers.length >= this.size) return;
    const next = this.waiters.shift()!;
    this.spawn().then(next.resolve, next.reject);
  }

  private spawn(): Promise<Worker> {
    const child = fork(FUNCTION_CHILD_ENTRY, [], {
      execArgv: this.typescript ? ['--import', tsxLoaderUrl()] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let onExit!: () => void;
    const exited = new Promise<void>((resolve) => (onExit = resolve));
    const w: Worker = { child, task: null, gone: false, exited };
    this.workers.push(w);
    this.live.add(w);
    this.reserved.add(w);

    return new Promise<Worker>((resolve, reject) => {
      let ready = false;
      child.on('message', (msg: FromChild) => {
        if (msg.type === 'ready') {
          ready = true;
          resolve(w);
        } else this.onMessage(w, msg);
      });
      const ended = (code: number | null, sig: NodeJS.Signals | null, err?: Error) => {
        if (!this.live.has(w)) return;
        this.live.delete(w);
        this.reserved.delete(w);
        w.gone = true;
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers.splice(i, 1);
        const how = err ? `failed: ${err.message}` : sig ? `was killed by ${sig}` : `exited with code ${code}`;
        if (!ready) reject(new Error(`the function worker process ${this.closed ? 'was stopped (pool closed)' : how} before it started`));
        const task = w.task;
        if (task) {
          const why = this.closed ? `the function pool was closed while step "${task.step}" ran` : `step "${task.step}": its worker process (pid ${child.pid}) ${how} while the step ran`;
          task.finish({ ok: false, error: new Error(why) });
        }
        onExit();
        this.replace();
      };
      child.on('exit', (code, sig) => ended(code, sig));
      child.on('error', (err) => {
        // A failed spawn or send; the process may be gone without an 'exit'.
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined && !child.killed) child.kill('SIGKILL');
        if (child.pid === undefined) ended(null, null, err);
      });
    });
  }

  private exec(w: Worker, call: FunctionCall, options: RunFunctionOptions): Promise<FunctionResult> {
    const { signal } = options;
    return new Promise<FunctionResult>((resolve, reject) => {
      const id = ++this.seq;
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        const reason = abortError(signal);
        send(w, { type: 'abort', id, reason: { name: reason.name, message: reason.message } });
        graceTimer = setTimeout(() => {
          // The step ignored its signal: the child goes, its step fails with the abort reason.
          w.gone = true;
          task.finish({ ok: false, error: reason });
          w.child.kill('SIGKILL');
        }, this.graceMs);
      };
      const task: Task = {
        id,
        step: call.step,
        run: options.run,
        calls: new Set(),
        finish: (outcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(graceTimer);
          signal.removeEventListener('abort', onAbort);
          if (w.task === task) w.task = null;
          this.release(w);
          if (outcome.ok) resolve(outcome.result);
          else reject(outcome.error);
        },
      };
      w.task = task;
      this.reserved.delete(w);
      signal.addEventListener('abort', onAbort, { once: true });
      send(w, { type: 'run', id, module: call.module, pipeline: call.pipeline, step: call.step, context: call.context });
    });
  }

  private onMessage(w: Worker, msg: FromChild): void {
    const task = w.task;
    if (msg.type === 'call') {
      if (!task || task.id !== msg.id) {
        send(w, { type: 'reply', call: msg.call, error: { message: 'the step has already ended' } });
        return;
      }
      const write = applyRunCall(task.run, msg.op, msg.args).then(
        (value) => send(w, { type: 'reply', call: msg.call, value }),
        (err: unknown) => send(w, { type: 'reply', call: msg.call, error: toWireError(err) }),
      );
      task.calls.add(write);
      void write.finally(() => task.calls.delete(write));
      return;
    }
    if (!task || (msg.type !== 'done' && msg.type !== 'error') || task.id !== msg.id) return;
    // Writes the step started but did not await still land before its result counts.
    void Promise.allSettled([...task.calls]).then(() => {
      if (msg.type === 'done') task.finish({ ok: true, result: msg.result });
      else task.finish({ ok: false, error: fromWireError(msg) });
    });
  }
}

function applyRunCall(run: StepRun, op: StepRunOp, args: unknown[]): Promise<unknown> {
  const a = args as never[];
  switch (op) {
    case 'logMetric':
      return run.logMetric(a[0], a[1], a[2]);
    case 'logParam':
      return run.logParam(a[0], a[1]);
    case 'setTag':
      return run.setTag(a[0], a[1]);
    case 'logArtifact':
      return run.logArtifact(a[0], a[1]);
    default:
      return Promise.reject(invalidArgument(`unknown run operation ${JSON.stringify(op)}`));
  }
}

function send(w: Worker, msg: ToChild): void {
  if (!w.child.connected) return;
  // A failed send means the child is going away; its 'exit' fails the step.
  w.child.send(msg, (err) => void err);
}

/** Idle children must not keep the parent process alive; busy ones must. */
function setRef(w: Worker, on: boolean): void {
  if (on) {
    w.child.ref();
    w.child.channel?.ref();
  } else {
    w.child.unref();
    w.child.channel?.unref();
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(reason === undefined ? 'aborted' : String(reason));
}
