/**
 * The worker process of function-pool.ts: runs function steps of pipeline
 * modules, one at a time, for the parent that forked it. It imports a
 * module once (load.ts, cached per path), finds the pipeline and step by
 * name and calls the step's `fn` with a StepContext whose `run` forwards
 * every call to the parent (which owns the tracking store) and awaits its
 * answer. The step log is written here, directly to the file the parent
 * named. The child exits when the parent disconnects (or dies).
 *
 * Started as an entry point only (`fork`), never imported.
 */
import path from 'node:path';
import { invalidArgument } from '../core/errors.js';
import { fromWireError, normalizeResult, openStepContext, toWireError, type FromChild, type StepRunOp, type ToChild } from './function-pool.js';
import { loadPipelineModule } from './load.js';
import type { PipelineDefinition, StepFunction, StepRun } from './types.js';

const modules = new Map<string, Promise<PipelineDefinition[]>>();
const running = new Map<number, AbortController>();
const calls = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
let callSeq = 0;

function send(msg: FromChild): void {
  // The parent gone means this process is about to exit (on 'disconnect').
  if (process.connected) process.send!(msg, undefined, {}, () => undefined);
}

async function stepFunction(module: string, pipeline: string, step: string): Promise<StepFunction> {
  let defs = modules.get(module);
  if (!defs) {
    defs = loadPipelineModule(module);
    modules.set(module, defs);
    // A module that failed to load is tried again by the next step.
    defs.catch(() => modules.delete(module));
  }
  const def = (await defs).find((d) => d.name === pipeline);
  if (!def) throw invalidArgument(`pipeline module ${module} exports no pipeline "${pipeline}"`);
  const fn = def.steps.find((s) => s.name === step)?.fn;
  if (typeof fn !== 'function') throw invalidArgument(`pipeline "${pipeline}" in ${module} has no function step "${step}"`);
  return fn;
}

function call(id: number, op: StepRunOp, args: unknown[]): Promise<unknown> {
  const n = ++callSeq;
  return new Promise((resolve, reject) => {
    calls.set(n, { resolve, reject });
    send({ type: 'call', id, call: n, op, args });
  });
}

function runHandle(id: number, runId: string): StepRun {
  return {
    id: runId,
    logMetric: (key, value, step) => call(id, 'logMetric', [key, value, step]) as Promise<void>,
    logParam: (key, value) => call(id, 'logParam', [key, value]) as Promise<void>,
    setTag: (key, value) => call(id, 'setTag', [key, value]) as Promise<void>,
    // The parent reads the file: send it an absolute path (same machine, maybe another cwd later).
    logArtifact: (localFile, artifactPath) => call(id, 'logArtifact', [path.resolve(localFile), artifactPath]) as Promise<string>,
  };
}

async function run(msg: Extract<ToChild, { type: 'run' }>): Promise<void> {
  const ac = new AbortController();
  running.set(msg.id, ac);
  const { ctx, close } = openStepContext(msg.pipeline, msg.step, msg.context, ac.signal, runHandle(msg.id, msg.context.runId));
  try {
    const fn = await stepFunction(msg.module, msg.pipeline, msg.step);
    const result = normalizeResult(msg.step, await fn(ctx));
    close();
    send({ type: 'done', id: msg.id, result });
  } catch (err) {
    close();
    send({ type: 'error', id: msg.id, ...toWireError(err) });
  } finally {
    running.delete(msg.id);
  }
}

process.on('message', (msg: ToChild) => {
  switch (msg.type) {
    case 'run':
      void run(msg);
      break;
    case 'abort': {
      const reason = new Error(msg.reason.message);
      reason.name = msg.reason.name;
      running.get(msg.id)?.abort(reason);
      break;
    }
    case 'reply': {
      const pending = calls.get(msg.call);
      if (!pending) break;
      calls.delete(msg.call);
      if (msg.error) pending.reject(fromWireError(msg.error));
      else pending.resolve(msg.value);
      break;
    }
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
