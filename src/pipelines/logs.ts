/**
 * Reading step logs for `flywheel pipelines logs RUN [STEP] [--follow]`.
 *
 * Where a step's log is depends on when you look. While an attempt runs, its
 * live file is at the step record's `log_path` on the machine running it
 * (shell.ts rotates it to `<file>.1` at the cap, so `.1` comes first). Once
 * the step ended, the log is the `logs/step.log` artifact of the step's
 * tracking run (runner.ts STEP_LOG_ARTIFACT), read through TrackingApi, so
 * it is found from any machine. Everything is streamed: a 16 MB log is never
 * held in memory.
 *
 * Following tails the live file the way `tail -F` does: it polls the size
 * (every 200 ms), keeps the file open, and notices rotation — when the path
 * names another file, the old one is read to its end first and the new one
 * from its start; a file that shrank is read again from its start. When the
 * step ends, the open file is read to its end (the runner removes the file
 * only after recording the end, and an open file stays readable). A step
 * whose live file is not on this machine is printed from its artifact when
 * it ends. A FAILED step with attempts left is not over while the run runs:
 * its retry gets a new log file, which is followed too.
 *
 * Without STEP, each step's log comes under a `==> STEP (STATUS) <==` header;
 * following several steps at once, output is passed on in whole lines and a
 * `==> STEP <==` header marks each switch from one step to another.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Kysely } from 'kysely';
import { isFlywheelError, notFound } from '../core/errors.js';
import type { Database } from '../store/schema.js';
import type { TrackingApi } from '../tracking/api.js';
import { STEP_LOG_ARTIFACT } from './runner.js';
import { rotatedLogPath } from './shell.js';
import { getPipelineRun, listStepRuns, type PipelineRunRecord, type StepRunRecord } from './store.js';
import type { StepStatus } from './types.js';

export interface LogDeps {
  db: Kysely<Database>;
  tracking: Pick<TrackingApi, 'getRunArtifact'>;
}

export interface LogOutput {
  /** Log bytes and headers (stdout in the CLI). */
  write(chunk: Buffer | string): void;
  /** Remarks about the logs, not part of them (stderr in the CLI). */
  notice(message: string): void;
}

export interface FollowOptions {
  /** Between two looks at the files and the records (default 200 ms). */
  pollMs?: number;
  /** Stops following (the promise then resolves). */
  signal?: AbortSignal;
}

const ENDED: ReadonlySet<StepStatus> = new Set(['SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELLED']);
const CHUNK = 64 * 1024;
/** A partial line longer than this is passed on without waiting for its end. */
const MAX_PARTIAL_LINE = 64 * 1024;

interface RunSteps {
  run: PipelineRunRecord;
  /** Step names in definition order. */
  names: string[];
  /** Step name → attempts it may take (1 + retries). */
  maxAttempts: Map<string, number>;
}

/** The run and its steps as defined; unknown run or step → FW_NOT_FOUND. */
async function loadRun(db: Kysely<Database>, pipelineRunId: string, step?: string): Promise<RunSteps> {
  const run = await getPipelineRun(db, pipelineRunId);
  if (!run) throw notFound(`No pipeline run with id ${pipelineRunId}`);
  let steps: { name: string; retry?: { retries?: number } }[] = [];
  try {
    steps = (JSON.parse(run.definition) as { steps?: typeof steps }).steps ?? [];
  } catch {
    // An unreadable snapshot: fall back to the step records.
  }
  const names = steps.map((s) => s.name);
  if (names.length === 0) names.push(...(await listStepRuns(db, pipelineRunId)).map((s) => s.step));
  if (step !== undefined && !names.includes(step)) {
    throw notFound(`pipeline run ${pipelineRunId} (${run.pipeline}) has no step "${step}" (steps: ${names.join(', ') || 'none'})`);
  }
  return { run, names, maxAttempts: new Map(steps.map((s) => [s.name, 1 + Math.max(0, s.retry?.retries ?? 0)])) };
}

/** Records of the run's steps in definition order, only `step` when given. */
async function stepRecords(db: Kysely<Database>, rs: RunSteps, step?: string): Promise<StepRunRecord[]> {
  const byName = new Map((await listStepRuns(db, rs.run.id)).map((s) => [s.step, s]));
  return (step !== undefined ? [step] : rs.names).flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []));
}

/** Streams the stored log of an ended step; false when it has none. */
async function writeArtifact(deps: LogDeps, rec: StepRunRecord, write: (chunk: Buffer) => void): Promise<boolean> {
  if (!rec.trackingRunId) return false;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await deps.tracking.getRunArtifact(rec.trackingRunId, STEP_LOG_ARTIFACT);
  } catch (err) {
    // A step that printed nothing has no log artifact.
    if (isFlywheelError(err) && err.code === 'FW_NOT_FOUND') return false;
    throw err;
  }
  for await (const chunk of stream) write(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return true;
}

/** Copies a whole local file to `write` in chunks; false when it does not exist. */
function writeFile(file: string, write: (chunk: Buffer) => void): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return true;
      write(Buffer.from(buf.subarray(0, n)));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function describeStep(rec: StepRunRecord): string {
  return rec.attempts > 1 ? `${rec.status}, attempt ${rec.attempts}` : rec.status;
}

/**
 * Prints the logs as they are now: the stored log of each ended step, the
 * live file (with its rotated part) of each running one. Without `step`,
 * every step that started, each under a header.
 */
export async function printLogs(deps: LogDeps, pipelineRunId: string, step: string | undefined, out: LogOutput): Promise<void> {
  const rs = await loadRun(deps.db, pipelineRunId, step);
  const records = await stepRecords(deps.db, rs, step);
  if (step !== undefined && records.length === 0) {
    out.notice(`step "${step}" of pipeline run ${pipelineRunId} has not started${rs.run.status === 'RUNNING' ? ' yet' : ` (the run ended ${rs.run.status})`}`);
    return;
  }
  let first = true;
  for (const rec of records) {
    if (step === undefined) {
      out.write(`${first ? '' : '\n'}==> ${rec.step} (${describeStep(rec)}) <==\n`);
      first = false;
    }
    const write = (chunk: Buffer) => out.write(chunk);
    if (rec.status === 'RUNNING') {
      if (rec.logPath && fs.existsSync(rec.logPath)) {
        writeFile(rotatedLogPath(rec.logPath), write);
        writeFile(rec.logPath, write);
      } else {
        out.notice(`step "${rec.step}" is running${rec.worker ? ` on ${rec.worker}` : ''}; its live log is not on this machine (it is stored when the step ends)`);
      }
    } else if (!(await writeArtifact(deps, rec, write))) {
      out.notice(`step "${rec.step}" (${rec.status}) has no log${rec.trackingRunId ? ': it printed nothing' : ''}`);
    }
  }
}

/**
 * An open file followed like `tail -F`: each `poll` passes on what was
 * appended since the last one, switching to a new file at the same path
 * (rotation) after reading the old one to its end.
 */
export class FileTail {
  private fd: number | undefined;
  private ino = -1;
  private dev = -1;
  private offset = 0;
  private readonly buf = Buffer.alloc(CHUNK);

  constructor(
    readonly file: string,
    private readonly write: (chunk: Buffer) => void,
  ) {}

  /** Whether the file has been opened (it existed at some poll). */
  get opened(): boolean {
    return this.fd !== undefined || this.ino !== -1;
  }

  /**
   * Passes on what is new. On the first successful open, the rotated part
   * (`<file>.1`) is passed on first, unless it is the very file just opened
   * (rotated in between).
   */
  poll(): void {
    if (this.fd === undefined) {
      if (this.ino !== -1 || !this.open()) return;
      const rotated = statOrNull(rotatedLogPath(this.file));
      if (rotated && !(rotated.ino === this.ino && rotated.dev === this.dev)) writeFile(rotatedLogPath(this.file), this.write);
    }
    const now = statOrNull(this.file);
    if (now && (now.ino !== this.ino || now.dev !== this.dev)) {
      // Replaced (rotated): finish the old file, then start the new one from its beginning.
      this.drain();
      this.closeFd();
      if (!this.open()) return;
    } else if (fs.fstatSync(this.fd!).size < this.offset) {
      // Truncated in place: start again from the beginning.
      this.offset = 0;
    }
    this.drain();
  }

  /** Reads the open file to its end and closes it (the step ended). */
  finish(): void {
    if (this.fd === undefined) return;
    this.poll();
    this.closeFd();
  }

  private open(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return false;
    }
    const st = fs.fstatSync(fd);
    this.fd = fd;
    this.ino = st.ino;
    this.dev = st.dev;
    this.offset = 0;
    return true;
  }

  private drain(): void {
    for (;;) {
      const n = fs.readSync(this.fd!, this.buf, 0, this.buf.length, this.offset);
      if (n === 0) return;
      this.offset += n;
      this.write(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/** Passes whole lines on, with a `==> STEP <==` header whenever the step changes (several steps followed). */
class Interleaver {
  private current: string | undefined;
  private readonly partial = new Map<string, Buffer>();

  constructor(private readonly out: LogOutput) {}

  writer(step: string): (chunk: Buffer) => void {
    return (chunk) => {
      const buf = Buffer.concat([this.partial.get(step) ?? Buffer.alloc(0), chunk]);
      const nl = buf.lastIndexOf(0x0a);
      const cut = nl >= 0 ? nl + 1 : buf.length > MAX_PARTIAL_LINE ? buf.length : 0;
      if (cut > 0) this.emit(step, buf.subarray(0, cut));
      this.partial.set(step, buf.subarray(cut));
    };
  }

  /** Passes on the step's unfinished last line (it ended). */
  flush(step: string): void {
    const rest = this.partial.get(step);
    this.partial.delete(step);
    if (rest && rest.length > 0) this.emit(step, Buffer.concat([rest, Buffer.from('\n')]));
  }

  private emit(step: string, data: Buffer): void {
    if (this.current !== step) {
      this.out.write(`${this.current === undefined ? '' : '\n'}==> ${step} <==\n`);
      this.current = step;
    }
    this.out.write(data);
  }
}

interface Followed {
  tail?: FileTail;
  /** Tracking run of the attempt whose live file was followed. */
  liveRunId?: string | null;
  /** The remark that the live log is elsewhere was made. */
  noticed?: boolean;
  done?: boolean;
}

/**
 * Follows the logs until the step (with `step`) or the whole run (without)
 * has ended, then resolves. Lines already written are printed first.
 */
export async function followLogs(deps: LogDeps, pipelineRunId: string, step: string | undefined, out: LogOutput, options: FollowOptions = {}): Promise<void> {
  const rs = await loadRun(deps.db, pipelineRunId, step);
  const pollMs = options.pollMs ?? 200;
  const inter = step === undefined ? new Interleaver(out) : undefined;
  const writerFor = (name: string) => inter?.writer(name) ?? ((chunk: Buffer) => out.write(chunk));
  const followed = new Map<string, Followed>();

  for (;;) {
    // The run first: when it has ended, the step records read after it are final.
    const run = await getPipelineRun(deps.db, pipelineRunId);
    const runEnded = run === undefined || run.status !== 'RUNNING';
    for (const rec of await stepRecords(deps.db, rs, step)) {
      const f = followed.get(rec.step) ?? {};
      followed.set(rec.step, f);
      if (f.done) continue;
      if (rec.status === 'RUNNING') {
        if (f.tail && f.tail.file !== rec.logPath) {
          // A new attempt writes a new file: finish the old one.
          f.tail.finish();
          f.tail = undefined;
        }
        if (!f.tail && rec.logPath) f.tail = new FileTail(rec.logPath, writerFor(rec.step));
        f.tail?.poll();
        if (f.tail?.opened) f.liveRunId = rec.trackingRunId;
        else if (!f.noticed && rec.logPath && rec.worker && !rec.worker.startsWith(`${osHost()}:`)) {
          out.notice(`step "${rec.step}" runs on ${rec.worker}, so its live log cannot be read here; it is printed when the step ends`);
          f.noticed = true;
        }
      } else if (ENDED.has(rec.status)) {
        f.tail?.finish();
        f.tail = undefined;
        const retryComing = !runEnded && rec.status === 'FAILED' && rec.attempts < (rs.maxAttempts.get(rec.step) ?? 1);
        if (retryComing) continue;
        // The last attempt was not (or not wholly) seen live: its stored log is the whole of it.
        if (f.liveRunId === undefined || f.liveRunId !== rec.trackingRunId) await writeArtifact(deps, rec, writerFor(rec.step));
        inter?.flush(rec.step);
        f.done = true;
      }
    }
    if (step !== undefined ? followed.get(step)?.done === true || (runEnded && !followed.has(step)) : runEnded) {
      if (step !== undefined && !followed.has(step)) out.notice(`step "${step}" never started (the run ended ${run?.status ?? ''})`);
      for (const f of followed.values()) f.tail?.finish();
      return;
    }
    if (options.signal?.aborted) {
      for (const f of followed.values()) f.tail?.finish();
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pollMs);
      options.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

let host: string | undefined;
function osHost(): string {
  return (host ??= os.hostname());
}
