/**
 * Live progress of a pipeline run in a terminal: one line per step (status,
 * duration, attempt, and a bar for steps that emit `step.progress`, such as
 * sweeps), redrawn in place under a header line.
 *
 * The view is a pure function of the event stream and a clock: `foldEvent`
 * folds events into a `ProgressState`, `renderFrame(state, now, …)` turns it
 * into the frame's text, so tests feed events and compare text. `LiveProgress`
 * is the thin part that touches the terminal: it moves the cursor back up
 * over the previous frame and rewrites it (ANSI cursor-up and clear-line), at
 * most every `intervalMs` (10 frames a second), and only when the text
 * changed. Lines are cut to the terminal's width, because a wrapped line
 * would break the cursor-up count, and a frame taller than the terminal
 * shows the running and failed steps first with a count of the others (the
 * cursor cannot move up into the scrollback); the final frame is printed in
 * full. Where stdout is not a terminal, `flywheel run` prints plain lines
 * instead (commands.ts `eventLine`).
 */
import { formatDuration } from '../cli/output.js';
import type { ExecutionEvent, PipelineStatus } from './events.js';

export type ViewStatus = 'PENDING' | 'RUNNING' | 'RETRYING' | 'SUCCEEDED' | 'CACHED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';

export interface StepView {
  step: string;
  status: ViewStatus;
  /** The current (or last) attempt, 1-based; 0 before the first. */
  attempt: number;
  /** When the first attempt started (ms), kept across retries. */
  startedAt?: number;
  endedAt?: number;
  progress?: { done: number; total: number; detail?: string };
  /** Why it ended or waits: first line of the error, the skip reason. */
  note?: string;
}

export interface ProgressState {
  pipeline?: string;
  startedAt: number;
  steps: Map<string, StepView>;
  finished?: { status: PipelineStatus; durationMs: number };
}

const BAR_WIDTH = 20;
const ENDED: ReadonlySet<ViewStatus> = new Set(['SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELLED']);

/** A state with the steps known up front (shown PENDING, in this order); others are added as their events come. */
export function initialProgress(startedAt: number, steps: readonly string[] = [], pipeline?: string): ProgressState {
  return { pipeline, startedAt, steps: new Map(steps.map((step) => [step, { step, status: 'PENDING', attempt: 0 }])) };
}

const firstLine = (text: string) => text.split('\n')[0];

/** Folds one event into the state (in place) and returns it. */
export function foldEvent(state: ProgressState, e: ExecutionEvent): ProgressState {
  state.pipeline ??= e.pipeline;
  if (e.type === 'pipeline.finished') {
    state.finished = { status: e.status, durationMs: e.durationMs };
    return state;
  }
  let v = state.steps.get(e.step);
  if (!v) state.steps.set(e.step, (v = { step: e.step, status: 'PENDING', attempt: 0 }));
  switch (e.type) {
    case 'step.started':
      Object.assign(v, { status: 'RUNNING', attempt: e.attempt, note: undefined, progress: undefined, endedAt: undefined });
      v.startedAt ??= e.at;
      break;
    case 'step.progress':
      v.progress = { done: e.done, total: e.total, ...(e.detail !== undefined ? { detail: e.detail } : {}) };
      break;
    case 'step.retrying':
      Object.assign(v, { status: 'RETRYING', attempt: e.attempt, note: `attempt ${e.attempt} failed: ${firstLine(e.error)}` });
      break;
    case 'step.succeeded':
      Object.assign(v, { status: e.cached ? 'CACHED' : 'SUCCEEDED', attempt: e.attempt, endedAt: e.at, note: undefined });
      v.startedAt ??= e.at - e.durationMs;
      break;
    case 'step.failed':
      Object.assign(v, { status: 'FAILED', attempt: e.attempt, endedAt: e.at, note: firstLine(e.error) });
      v.startedAt ??= e.at - e.durationMs;
      break;
    case 'step.cancelled':
      Object.assign(v, { status: 'CANCELLED', attempt: e.attempt, endedAt: e.at });
      break;
    case 'step.skipped':
      Object.assign(v, { status: e.status, note: `(${e.reason})` });
      break;
  }
  return state;
}

/** `[########------------] 8/20`: a bar of `width` cells for done of total. */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.floor(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

/** Cuts a line to `width` characters (the last column stays free, so the terminal never wraps). */
function fit(line: string, width: number): string {
  const chars = [...line];
  return chars.length < width ? line : chars.slice(0, Math.max(1, width - 2)).join('') + '…';
}

export interface FrameOptions {
  /** Terminal columns; lines are cut to fit. Default: no limit. */
  width?: number;
  /** Most lines the frame may take; beyond, running and failed steps come first. Default: no limit. */
  height?: number;
}

function stepLine(v: StepView, nameWidth: number, now: number): string {
  const end = v.endedAt ?? (ENDED.has(v.status) ? undefined : now);
  const duration = v.startedAt !== undefined && end !== undefined ? formatDuration(end - v.startedAt) : '';
  const parts = [`  ${v.status.padEnd(9)}  ${v.step.padEnd(nameWidth)}${duration ? `  ${duration.padStart(7)}` : ''}`];
  if (v.attempt > 1) parts.push(`attempt ${v.attempt}`);
  if (v.progress && (v.status === 'RUNNING' || v.status === 'RETRYING')) {
    parts.push(progressBar(v.progress.done, v.progress.total) + (v.progress.detail ? ` ${v.progress.detail}` : ''));
  }
  if (v.note) parts.push(v.note);
  return parts.join('  ').trimEnd();
}

/** The frame's text: a header line and one line per step, each ending in a newline. */
export function renderFrame(state: ProgressState, now: number, options: FrameOptions = {}): string {
  const views = [...state.steps.values()];
  const ended = views.filter((v) => ENDED.has(v.status)).length;
  const elapsed = state.finished ? state.finished.durationMs : now - state.startedAt;
  const head = `pipeline ${state.pipeline ?? ''}  ${state.finished ? state.finished.status : 'RUNNING'}  ${ended}/${views.length} steps ended  ${formatDuration(elapsed)}`;
  const nameWidth = Math.max(0, ...views.map((v) => [...v.step].length));

  let shown = views;
  let hidden: StepView[] = [];
  const room = options.height === undefined ? Infinity : Math.max(1, options.height - 1);
  if (views.length > room) {
    // Running and failing steps matter most; the rest is counted in one line.
    const rank = (v: StepView) => (v.status === 'RUNNING' || v.status === 'RETRYING' ? 0 : v.status === 'FAILED' ? 1 : 2);
    const keep = new Set([...views].sort((a, b) => rank(a) - rank(b)).slice(0, Math.max(0, room - 1)));
    shown = views.filter((v) => keep.has(v));
    hidden = views.filter((v) => !keep.has(v));
  }
  const lines = [head, ...shown.map((v) => stepLine(v, nameWidth, now))];
  if (hidden.length > 0) {
    const counts = new Map<ViewStatus, number>();
    for (const v of hidden) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
    lines.push(`  … ${hidden.length} more: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  }
  const width = options.width;
  return lines.map((l) => (width === undefined ? l : fit(l, width)) + '\n').join('');
}

/** Every event folded, then rendered at `now`: the view after a stream of events. */
export function renderEvents(events: readonly ExecutionEvent[], now: number, options: FrameOptions & { steps?: readonly string[]; startedAt?: number } = {}): string {
  const state = initialProgress(options.startedAt ?? events[0]?.at ?? now, options.steps);
  for (const e of events) foldEvent(state, e);
  return renderFrame(state, now, options);
}

const ESC = '\x1b[';

/** The bytes that replace a frame of `previousLines` lines (cursor just below it) with `frame`. */
export function redraw(previousLines: number, frame: string): string {
  const up = previousLines > 0 ? `${ESC}${previousLines}A` : '';
  const body = frame
    .split('\n')
    .slice(0, -1)
    .map((l) => `${ESC}2K${l}\n`)
    .join('');
  // Erase what is left below when the new frame is shorter.
  return `\r${up}${body}${ESC}J`;
}

export interface LiveProgressOptions {
  write: (text: string) => void;
  now?: () => number;
  /** The pipeline's name, for the header before the first event. */
  pipeline?: string;
  /** Terminal size, read at each frame (it can change). */
  size?: () => { columns?: number; rows?: number };
  steps?: readonly string[];
  /** Least time between two frames (default 100 ms). */
  intervalMs?: number;
}

/** Draws the progress of one run in place on a terminal until `stop`. */
export class LiveProgress {
  private readonly state: ProgressState;
  private readonly now: () => number;
  private lines = 0;
  private last = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LiveProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.state = initialProgress(this.now(), opts.steps, opts.pipeline);
  }

  /** The event listener to pass to the runner. */
  readonly onEvent = (e: ExecutionEvent): void => {
    foldEvent(this.state, e);
  };

  /** Starts redrawing every `intervalMs`. */
  start(): this {
    this.draw();
    this.timer = setInterval(() => this.draw(), this.opts.intervalMs ?? 100);
    this.timer.unref();
    return this;
  }

  /** Draws one frame if its text changed. */
  draw(full = false): void {
    const size = this.opts.size?.() ?? {};
    // A terminal that reports no size (0) is treated as unbounded.
    const known = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined);
    const frame = renderFrame(this.state, this.now(), { width: known(size.columns), height: full ? undefined : known(size.rows) });
    if (frame === this.last) return;
    this.opts.write(redraw(this.lines, frame));
    this.last = frame;
    this.lines = frame.split('\n').length - 1;
  }

  /** Stops redrawing and leaves the final frame, every step shown. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true);
  }
}
