/**
 * The worker thread of thread-model.ts: loads one model package with
 * `loadModelFromDir` and answers predict calls posted by the main thread, so
 * onnxruntime's synchronous `session.run` and a js model's plain-JS predict
 * block this thread's event loop instead of the one parsing HTTP requests.
 *
 * Protocol (structured clone, no JSON): on start it posts `{ kind: 'ready',
 * manifest, source, dir }` or `{ kind: 'load-error', error }`; then for every
 * `{ id, op: 'rows' | 'columns', input }` it posts `{ id, value }` or
 * `{ id, error }`, transferring the result's typed-array buffers (row
 * predictions packed into columns where they fit, see packPredictions). `{ op:
 * 'close' }` closes the model and answers `{ kind: 'closed' }`. Errors travel
 * as { code, message, details } so a FlywheelError keeps its code.
 *
 * Started as an entry point only (`new Worker`), never imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FlywheelError } from '../core/errors.js';
import { loadModelFromDir } from '../models/load.js';
import type { LoadedModel } from '../models/types.js';
import { packPredictions, type ThreadRequest, type ThreadWorkerData, type WireError } from './thread-model.js';

const port = parentPort!;
const data = workerData as ThreadWorkerData;

function toWire(err: unknown): WireError {
  if (err instanceof FlywheelError) return { code: err.code, message: err.message, details: err.details };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** Posts an error; details that cannot be cloned are dropped rather than losing the error. */
function postError(id: number, err: unknown): void {
  const error = toWire(err);
  try {
    port.postMessage({ id, error });
  } catch {
    port.postMessage({ id, error: { code: error.code, message: error.message } });
  }
}

/** The buffers of a columnar result, each once (two views may share one buffer). */
function buffersOf(value: { prediction: unknown; probability?: unknown }): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of [value.prediction, value.probability]) {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  }
  return [...out];
}

function postValue(id: number, value: unknown, transfer: ArrayBuffer[]): void {
  try {
    port.postMessage({ id, value }, transfer);
  } catch (err) {
    // A buffer owned by the runtime may refuse to detach: copy it instead.
    if (transfer.length > 0) {
      try {
        port.postMessage({ id, value });
        return;
      } catch {
        // fall through: not cloneable at all
      }
    }
    postError(id, new FlywheelError('FW_PREDICTION_FAILED', `the model's result cannot be sent back from its thread: ${(err as Error).message}`));
  }
}

async function serve(model: LoadedModel, msg: ThreadRequest): Promise<void> {
  try {
    if (msg.op === 'rows') {
      const packed = packPredictions(await model.predict(msg.input));
      postValue(msg.id, packed, Array.isArray(packed) ? [] : buffersOf(packed));
    } else {
      const value = await model.predictColumns(msg.input);
      postValue(msg.id, value, buffersOf(value));
    }
  } catch (err) {
    postError(msg.id, err);
  }
}

async function main(): Promise<void> {
  let model: LoadedModel;
  try {
    model = await loadModelFromDir(data.dir, { manifest: data.manifest, source: data.source, onnxSessionOptions: data.onnxSessionOptions });
  } catch (err) {
    port.postMessage({ kind: 'load-error', error: toWire(err) });
    return;
  }
  port.on('message', (msg: ThreadRequest | { op: 'close' }) => {
    if (msg.op === 'close') {
      void model.close().finally(() => port.postMessage({ kind: 'closed' }));
      return;
    }
    void serve(model, msg);
  });
  port.postMessage({ kind: 'ready', manifest: model.manifest, source: model.source, dir: model.dir });
}

void main();
