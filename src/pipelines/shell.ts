/**
 * Shell steps: runs a step's command with `/bin/sh -c`, in any language.
 *
 * The contract a command sees (environment variables; NAME is the param,
 * input or output name upper-cased with every character outside [A-Z0-9]
 * turned into `_`, so `raw-orders` → `RAW_ORDERS`):
 *   FW_PARAM_<NAME>   the param's value as text (booleans as true/false)
 *   FW_PARAMS_FILE    a JSON file holding every param with its JSON type
 *   FW_INPUT_<NAME>   the path of the input's Parquet file (read it)
 *   FW_OUTPUT_<NAME>  where to write the output's Parquet file (<outputsDir>/<name>.parquet)
 *   FW_OUTPUTS_DIR    the directory of the outputs
 * plus the given `env` over the executor's own environment. Exit status 0
 * means success; any other status fails the attempt with an error naming the
 * status and the last lines of stderr (127: the command was not found).
 *
 * stdout and stderr are streamed into `logFile` as they arrive, never held
 * in memory (only a bounded tail of stderr is kept for the error message).
 * The file is rotated at `maxLogBytes`: it is renamed to `<logFile>.1`
 * (replacing an older one) and a fresh file, opening with a marker line,
 * takes the output that follows. So a step printing gigabytes uses at most
 * 2 × maxLogBytes of disk and keeps its latest output — the tail, where the
 * error is. Writes are synchronous, chunk by chunk: reading the pipes waits
 * for the disk, so nothing queues up in memory, and rotating needs no
 * coordination with a stream.
 *
 * The command runs in its own process group; on abort the whole group gets
 * SIGTERM, then SIGKILL after `killGraceMs`, so children of the shell die
 * too. When the shell exits, processes it left behind in its group are killed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalidArgument } from '../core/errors.js';

export interface ShellStepOptions {
  cmd: string;
  cwd: string;
  /** Extra environment, over process.env. */
  env?: Record<string, string>;
  params?: Record<string, string | number | boolean>;
  /** Input name → Parquet path. */
  inputs?: Record<string, string>;
  /** Declared output names; each gets FW_OUTPUT_<NAME> under `outputsDir`. */
  outputs?: readonly string[];
  outputsDir: string;
  signal?: AbortSignal;
  logFile: string;
  /** Size at which the log file is rotated to `<logFile>.1`; disk use stays under twice this. */
  maxLogBytes: number;
  /** Between SIGTERM and SIGKILL on abort (default 5 s). */
  killGraceMs?: number;
}

export interface ShellStepResult {
  /** Output name → the file path the command was told to write. */
  outputs: Record<string, string>;
  /** Bytes the command wrote to stdout and stderr, including those rotated away. */
  logBytes: number;
  /** How often the log file was rotated (0: it holds all of the output). */
  logRotations: number;
  /** True when the log file no longer holds all of the output (it was rotated). */
  logTruncated: boolean;
}

/** A shell step that exited non-zero, was killed, or could not start. */
export class ShellStepError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'ShellStepError';
  }
}

const STDERR_TAIL_LINES = 20;
/** Bytes of stderr kept for the tail (enough for 20 ordinary lines). */
const STDERR_TAIL_BYTES = 8 * 1024;
const DEFAULT_KILL_GRACE_MS = 5_000;

/** Cap of one step log file (shell and function steps); rotated beyond it, so a step's logs take at most twice this. */
export const MAX_STEP_LOG_BYTES = 16 * 1024 * 1024;

/** Where a rotated step log goes: the previous part of `logFile`'s output. */
export function rotatedLogPath(logFile: string): string {
  return `${logFile}.1`;
}

/** The env var suffix for a param, input or output name. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The FW_* variables for a step (without writing the params file). */
export function shellStepEnv(opts: Pick<ShellStepOptions, 'params' | 'inputs' | 'outputs' | 'outputsDir'>, paramsFile: string): Record<string, string> {
  const env: Record<string, string> = { FW_PARAMS_FILE: paramsFile, FW_OUTPUTS_DIR: opts.outputsDir };
  const put = (prefix: string, name: string, value: string) => {
    const key = `${prefix}${envName(name)}`;
    if (Object.hasOwn(env, key)) throw invalidArgument(`two names map to the same environment variable ${key} (rename "${name}")`);
    env[key] = value;
  };
  for (const [name, value] of Object.entries(opts.params ?? {})) put('FW_PARAM_', name, String(value));
  for (const [name, file] of Object.entries(opts.inputs ?? {})) put('FW_INPUT_', name, file);
  for (const name of opts.outputs ?? []) put('FW_OUTPUT_', name, path.join(opts.outputsDir, `${name}.parquet`));
  return env;
}

export async function runShellStep(opts: ShellStepOptions): Promise<ShellStepResult> {
  if (!(opts.maxLogBytes >= 1)) throw invalidArgument(`maxLogBytes must be at least 1 (got ${opts.maxLogBytes})`);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  fs.mkdirSync(opts.outputsDir, { recursive: true });
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-step-'));
  try {
    const paramsFile = path.join(tmp, 'params.json');
    const fwEnv = shellStepEnv(opts, paramsFile);
    fs.writeFileSync(paramsFile, JSON.stringify(opts.params ?? {}, null, 2));
    const outputs = Object.fromEntries((opts.outputs ?? []).map((n) => [n, fwEnv[`FW_OUTPUT_${envName(n)}`]]));
    const run = await spawnCapped(opts, { ...process.env, ...opts.env, ...fwEnv });
    if (run.aborted) throw abortError(opts.signal!);
    if (run.code !== 0) throw exitError(opts.cmd, run.code, run.signal, run.stderrTail);
    return { outputs, logBytes: run.logBytes, logRotations: run.rotations, logTruncated: run.rotations > 0 };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

interface SpawnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  aborted: boolean;
  stderrTail: string;
  logBytes: number;
  rotations: number;
}

/**
 * Appends a step's output to its log file, rotating it at `cap` bytes. Every
 * write is synchronous, so the caller's buffer is on disk when `write`
 * returns and nothing is held back. A cut falls after the last newline of
 * the part that fits when there is one near its end, so files start on a
 * whole line unless a line is longer than half a file.
 */
export class RotatingLog {
  private fd: number;
  private fileBytes = 0;
  rotations = 0;
  total = 0;
  private readonly marker: Buffer | undefined;

  constructor(
    private readonly file: string,
    private readonly cap: number,
  ) {
    this.fd = fs.openSync(file, 'w');
    // A `.1` left from an earlier run of the same file is not this output's past.
    fs.rmSync(rotatedLogPath(file), { force: true });
    const marker = Buffer.from(`[flywheel] log rotated: the output before this line is in ${path.basename(rotatedLogPath(file))}, older output was discarded\n`);
    // A marker may take at most a quarter of a file, so most of each file is output.
    this.marker = marker.length * 4 <= cap ? marker : undefined;
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const room = this.cap - this.fileBytes;
      if (room <= 0) {
        this.rotate();
        continue;
      }
      let n = Math.min(room, rest.length);
      if (n < rest.length) {
        // Cut after a newline when one is in the second half of what fits; a very long line is cut anywhere.
        const nl = rest.lastIndexOf(0x0a, n - 1);
        if (nl >= 0 && nl + 1 >= n / 2) n = nl + 1;
      }
      this.writeAll(rest.subarray(0, n));
      rest = rest.subarray(n);
      // The file is full when the cut was made, even if a newline cut left some room.
      if (rest.length > 0) this.fileBytes = this.cap;
    }
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.closeSync(fd);
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.renameSync(this.file, rotatedLogPath(this.file));
    this.fd = fs.openSync(this.file, 'w');
    this.fileBytes = 0;
    this.rotations++;
    if (this.marker) this.writeAll(this.marker);
  }

  private writeAll(buf: Buffer): void {
    for (let off = 0; off < buf.length; ) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    this.fileBytes += buf.length;
  }
}

function spawnCapped(opts: ShellStepOptions, env: NodeJS.ProcessEnv): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    let log: RotatingLog;
    try {
      log = new RotatingLog(opts.logFile, opts.maxLogBytes);
    } catch (err) {
      reject(new ShellStepError(`could not write the step log ${opts.logFile}: ${(err as Error).message}`, null, null, ''));
      return;
    }
    const child = spawn('/bin/sh', ['-c', opts.cmd], { cwd: opts.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderrTail = Buffer.alloc(0);
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let openStreams = 2;
    let failed = false;

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const onAbort = () => {
      aborted = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const fail = (err: ShellStepError) => {
      if (failed) return;
      failed = true;
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      killGroup('SIGKILL');
      try {
        log.close();
      } catch {
        // The log's own failure is what is reported.
      }
      reject(err);
    };
    const capture = (chunk: Buffer) => {
      if (failed) return;
      try {
        log.write(chunk);
      } catch (err) {
        fail(new ShellStepError(`could not write the step log ${opts.logFile}: ${(err as Error).message}`, null, null, ''));
      }
    };
    child.stdout!.on('data', capture);
    child.stderr!.on('data', (chunk: Buffer) => {
      capture(chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES);
    });

    const finish = () => {
      if (failed || exit === undefined || openStreams > 0) return;
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      try {
        log.close();
      } catch (err) {
        fail(new ShellStepError(`could not write the step log ${opts.logFile}: ${(err as Error).message}`, null, null, ''));
        return;
      }
      resolve({ ...exit, aborted, stderrTail: lastLines(stderrTail.toString('utf8'), STDERR_TAIL_LINES), logBytes: log.total, rotations: log.rotations });
    };
    for (const s of [child.stdout!, child.stderr!]) s.on('close', () => (openStreams--, finish()));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Leftovers in the step's process group (e.g. `sleep 30 &`) would keep the pipes open: end them.
      killGroup('SIGKILL');
      finish();
    });
    child.on('error', (err) => fail(new ShellStepError(`could not start /bin/sh for the step: ${err.message}`, null, null, '')));
  });
}

function exitError(cmd: string, code: number | null, signal: NodeJS.Signals | null, tail: string): ShellStepError {
  const shown = cmd.length > 200 ? `${cmd.slice(0, 200)}…` : cmd;
  let head: string;
  if (code === 127) head = `command not found (exit code 127): ${shown} — is the program installed and on PATH?`;
  else if (code === 126) head = `command not executable (exit code 126): ${shown}`;
  else if (code !== null) head = `command failed with exit code ${code}: ${shown}`;
  else head = `command killed by signal ${signal}: ${shown}`;
  const message = tail ? `${head}\nlast lines of stderr:\n${tail}` : head;
  return new ShellStepError(message, code, signal, tail);
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('shell step aborted');
}

/** The last `n` lines of `text`, without a trailing empty line. */
export function lastLines(text: string, n: number): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
