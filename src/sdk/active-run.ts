/**
 * A run being recorded: what `fw.startRun()` returns. Params, tags and
 * artifacts are written at once. Metrics are buffered: each point is checked
 * and time-stamped when logged, then written in log-batch chunks (at most 1000
 * points) when the buffer fills, when `flushIntervalMs` has passed since the
 * first unwritten point, on `flush()` and on `end()`. Chunks are written in
 * order, one at a time. A failed background write is raised by the next
 * `logMetric`, `flush` or `end`; `end` always writes what is buffered first and,
 * if that fails, ends the run FAILED instead of FINISHED and rethrows.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { FlywheelError, invalidArgument } from '../core/errors.js';
import { joinArtifactPath, validateArtifactPath } from '../artifacts/paths.js';
import type { TrackingApi } from '../tracking/api.js';
import { LIMITS, validateInt64, validateKey } from '../tracking/limits.js';
import type { Metric, Run, RunInfo, RunStatus } from '../tracking/types.js';

export type ParamValue = string | number | boolean;

export interface MetricOptions {
  /** Training step or epoch; default 0. */
  step?: number;
  /** Epoch milliseconds; default the moment of the call. */
  timestamp?: number;
}

export interface ActiveRunOptions {
  /** How long a logged metric may wait in the buffer; 0 writes every call through. */
  flushIntervalMs: number;
  /** Called once the run has ended (the SDK forgets it). */
  onEnd?: (run: ActiveRun) => void;
}

export class ActiveRun {
  readonly id: string;
  private currentInfo: RunInfo;
  private buffer: Metric[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private backgroundError: unknown = null;
  private closed = false;
  private finished = false;

  constructor(
    private readonly api: TrackingApi,
    run: Run,
    private readonly options: ActiveRunOptions,
  ) {
    this.id = run.info.runId;
    this.currentInfo = run.info;
  }

  /** The run's info as of its start, or as returned by `end()`. */
  get info(): RunInfo {
    return this.currentInfo;
  }

  /** True once `end()` has recorded the final status. */
  get ended(): boolean {
    return this.finished;
  }

  // ----------------------------------------------------------- params, tags

  async logParams(params: Record<string, ParamValue>): Promise<void> {
    this.assertOpen();
    const entries = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));
    for (let i = 0; i < entries.length; i += LIMITS.maxParamsTagsPerBatch) {
      await this.api.logBatch(this.id, { params: entries.slice(i, i + LIMITS.maxParamsTagsPerBatch) });
    }
  }

  logParam(key: string, value: ParamValue): Promise<void> {
    return this.logParams({ [key]: value });
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    this.assertOpen();
    const entries = Object.entries(tags).map(([key, value]) => ({ key, value: String(value) }));
    for (let i = 0; i < entries.length; i += LIMITS.maxParamsTagsPerBatch) {
      await this.api.logBatch(this.id, { tags: entries.slice(i, i + LIMITS.maxParamsTagsPerBatch) });
    }
  }

  setTag(key: string, value: string): Promise<void> {
    return this.setTags({ [key]: value });
  }

  // ---------------------------------------------------------------- metrics

  /** Records one point. Key, value, step and timestamp are checked now; the write may be buffered. */
  async logMetric(key: string, value: number, options: MetricOptions = {}): Promise<void> {
    this.assertOpen();
    this.raiseBackgroundError();
    this.buffer.push(checkMetric(key, value, options, Date.now()));
    await this.afterPush();
  }

  /** Records several metrics at the same step and timestamp. */
  async logMetrics(metrics: Record<string, number>, options: MetricOptions = {}): Promise<void> {
    this.assertOpen();
    this.raiseBackgroundError();
    const now = Date.now();
    const points = Object.entries(metrics).map(([key, value]) => checkMetric(key, value, options, now));
    this.buffer.push(...points);
    await this.afterPush();
  }

  /** Writes every buffered metric; resolves when they are stored, rejects if a write failed. */
  flush(): Promise<void> {
    this.cancelTimer();
    const drained = this.chain.then(() => this.drain());
    this.chain = drained.catch(() => undefined);
    return drained.then(() => this.raiseBackgroundError());
  }

  private async afterPush(): Promise<void> {
    if (this.options.flushIntervalMs <= 0 || this.buffer.length >= LIMITS.maxMetricsPerBatch) await this.flush();
    else this.scheduleFlush();
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      // Taken out before the write: points logged meanwhile go to the next chunk.
      const chunk = this.buffer.splice(0, LIMITS.maxMetricsPerBatch);
      await this.api.logBatch(this.id, { metrics: chunk });
    }
  }

  private scheduleFlush(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // The failure is recorded inside the chain, so the next flush or end sees it.
      const drained = this.chain.then(() => this.drain());
      this.chain = drained.catch((err: unknown) => {
        this.backgroundError ??= err;
      });
    }, this.options.flushIntervalMs);
    // A pending flush must not keep the process alive; end() or close() writes the rest.
    this.timer.unref();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private raiseBackgroundError(): void {
    if (this.backgroundError === null) return;
    const err = this.backgroundError;
    this.backgroundError = null;
    throw err;
  }

  // -------------------------------------------------------------- artifacts

  /**
   * Uploads a file, streamed, as `<artifactPath>/<its name>`; a directory is
   * uploaded recursively as `<artifactPath>/<its name>/…`. Symbolic links to
   * files are followed; links to directories are skipped (they may loop).
   * Returns the artifact paths written.
   */
  async logArtifact(localPath: string, artifactPath = ''): Promise<string[]> {
    this.assertOpen();
    const source = path.resolve(localPath);
    const st = await fsp.stat(source).catch(() => null);
    if (!st) throw new FlywheelError('FW_NOT_FOUND', `Cannot log artifact: ${localPath} does not exist`);
    const dest = joinArtifactPath(validateArtifactPath(artifactPath, { allowRoot: true }), path.basename(source));
    if (st.isFile()) {
      await this.api.putRunArtifact(this.id, dest, fs.createReadStream(source));
      return [dest];
    }
    if (!st.isDirectory()) throw invalidArgument(`Cannot log artifact: ${localPath} is neither a file nor a directory`);
    const written: string[] = [];
    for await (const [file, rel] of walkFiles(source, dest)) {
      await this.api.putRunArtifact(this.id, rel, fs.createReadStream(file));
      written.push(rel);
    }
    return written;
  }

  /** Stores `text` (UTF-8) as the artifact file `artifactPath`, for example "notes/summary.md". */
  async logText(text: string, artifactPath: string): Promise<void> {
    this.assertOpen();
    await this.api.putRunArtifact(this.id, validateArtifactPath(artifactPath), new TextEncoder().encode(text));
  }

  // -------------------------------------------------------------------- end

  /**
   * Writes buffered metrics, then records the final status (default FINISHED)
   * and end time. Calling it again after success returns the same info.
   */
  async end(status: RunStatus = 'FINISHED'): Promise<RunInfo> {
    if (this.finished) return this.currentInfo;
    this.closed = true;
    let flushError: unknown = null;
    try {
      await this.flush();
    } catch (err) {
      flushError = err;
    }
    this.currentInfo = await this.api.endRun(this.id, flushError !== null && status === 'FINISHED' ? 'FAILED' : status);
    this.finished = true;
    this.options.onEnd?.(this);
    if (flushError !== null) throw flushError;
    return this.currentInfo;
  }

  private assertOpen(): void {
    if (this.closed) throw new FlywheelError('FW_INVALID_STATE', `Run ${this.id} has ended; nothing more can be logged to it`);
  }
}

function checkMetric(key: string, value: number, options: MetricOptions, now: number): Metric {
  const k = validateKey('metric', key);
  if (typeof value !== 'number') throw invalidArgument(`Metric '${k}' must be a number, got ${typeof value}`);
  return {
    key: k,
    value,
    step: validateInt64(`step of metric '${k}'`, options.step, 0),
    timestamp: validateInt64(`timestamp of metric '${k}'`, options.timestamp, now),
  };
}

/** Every file below `dir` as [absolute path, artifact path under `prefix`], in name order. */
async function* walkFiles(dir: string, prefix: string): AsyncGenerator<[string, string]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) yield* walkFiles(full, rel);
    else if (entry.isFile()) yield [full, rel];
    else if (entry.isSymbolicLink() && (await fsp.stat(full).catch(() => null))?.isFile()) yield [full, rel];
  }
}
