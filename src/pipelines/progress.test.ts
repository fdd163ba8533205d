/**
 * The terminal progress view: frames rendered from event streams at a given
 * clock (statuses, durations, attempts, the progress bar, skip reasons, the
 * finished header), lines cut to the terminal width, tall runs compacted to
 * the terminal height, and the live redraw (cursor-up over the previous
 * frame, nothing written when nothing changed, at most one frame per
 * interval).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExecutionEvent, EventInput } from './events.js';
import { LiveProgress, progressBar, redraw, renderEvents } from './progress.js';

const ev = (at: number, e: EventInput): ExecutionEvent => ({ ...e, pipeline: 'churn', at }) as ExecutionEvent;

describe('renderEvents', () => {
  it('shows each step with status, duration and a bar for step.progress', () => {
    const events = [
      ev(1000, { type: 'step.started', step: 'ingest', attempt: 1 }),
      ev(2200, { type: 'step.succeeded', step: 'ingest', attempt: 1, cached: false, durationMs: 1200 }),
      ev(2200, { type: 'step.started', step: 'train', attempt: 1 }),
      ev(2500, { type: 'step.progress', step: 'train', done: 5, total: 20, detail: 'lr=0.1' }),
    ];
    expect(renderEvents(events, 5000, { steps: ['ingest', 'train', 'eval'], startedAt: 1000 })).toBe(
      [
        'pipeline churn  RUNNING  1/3 steps ended  4.0s',
        '  SUCCEEDED  ingest     1.2s',
        '  RUNNING    train      2.8s  [#####---------------] 5/20 lr=0.1',
        '  PENDING    eval',
        '',
      ].join('\n'),
    );
  });

  it('counts a step across retries and shows the attempt and the failure', () => {
    const events = [
      ev(0, { type: 'step.started', step: 'fit', attempt: 1 }),
      ev(1000, { type: 'step.retrying', step: 'fit', attempt: 1, delayMs: 500, error: 'boom\nstack' }),
    ];
    expect(renderEvents(events, 1200, { startedAt: 0 })).toBe(
      'pipeline churn  RUNNING  0/1 steps ended  1.2s\n  RETRYING   fit     1.2s  attempt 1 failed: boom\n',
    );
    events.push(
      ev(1500, { type: 'step.started', step: 'fit', attempt: 2 }),
      ev(3000, { type: 'step.failed', step: 'fit', attempt: 2, error: 'command failed with exit code 3: fit.sh\nlast lines', durationMs: 1500 }),
      ev(3000, { type: 'pipeline.finished', status: 'FAILED', durationMs: 3000 }),
    );
    // The duration runs from the first attempt's start (0) to the end (3000).
    expect(renderEvents(events, 9999, { startedAt: 0 })).toBe(
      'pipeline churn  FAILED  1/1 steps ended  3.0s\n  FAILED     fit     3.0s  attempt 2  command failed with exit code 3: fit.sh\n',
    );
  });

  it('shows cached, resumed, skipped and cancelled steps with their reason', () => {
    const events = [
      ev(0, { type: 'step.skipped', step: 'a', reason: 'resumed', status: 'SUCCEEDED' }),
      ev(0, { type: 'step.started', step: 'b', attempt: 1 }),
      ev(40, { type: 'step.succeeded', step: 'b', attempt: 1, cached: true, durationMs: 40 }),
      ev(50, { type: 'step.started', step: 'c', attempt: 1 }),
      ev(900, { type: 'step.cancelled', step: 'c', attempt: 1 }),
      ev(900, { type: 'step.skipped', step: 'd', reason: 'cancelled', status: 'CANCELLED' }),
      ev(900, { type: 'step.skipped', step: 'e', reason: 'upstream-failed', status: 'SKIPPED' }),
    ];
    expect(renderEvents(events, 1000, { startedAt: 0 })).toBe(
      [
        'pipeline churn  RUNNING  5/5 steps ended  1.0s',
        '  SUCCEEDED  a  (resumed)',
        '  CACHED     b     40ms',
        '  CANCELLED  c    850ms',
        '  CANCELLED  d  (cancelled)',
        '  SKIPPED    e  (upstream-failed)',
        '',
      ].join('\n'),
    );
  });

  it('cuts lines to the terminal width, leaving the last column free', () => {
    const events = [ev(0, { type: 'step.started', step: 's', attempt: 1 }), ev(0, { type: 'step.progress', step: 's', done: 1, total: 2, detail: 'x'.repeat(200) })];
    const lines = renderEvents(events, 0, { startedAt: 0, width: 40 }).split('\n').slice(0, -1);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect([...l].length).toBeLessThan(40);
    expect(lines[1]).toBe('  RUNNING    s      0ms  [##########--…');
  });

  it('fits a tall run into the terminal height: running and failed steps first, the rest counted', () => {
    const steps = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const events = [
      ev(0, { type: 'step.started', step: 's0', attempt: 1 }),
      ev(100, { type: 'step.succeeded', step: 's0', attempt: 1, cached: false, durationMs: 100 }),
      ev(100, { type: 'step.started', step: 's7', attempt: 1 }),
      ev(100, { type: 'step.started', step: 's3', attempt: 1 }),
      ev(200, { type: 'step.failed', step: 's3', attempt: 1, error: 'bad', durationMs: 100 }),
      ev(200, { type: 'step.started', step: 's5', attempt: 1 }),
    ];
    expect(renderEvents(events, 300, { steps, startedAt: 0, height: 5 })).toBe(
      [
        'pipeline churn  RUNNING  2/10 steps ended  300ms',
        '  FAILED     s3    100ms  bad',
        '  RUNNING    s5    100ms',
        '  RUNNING    s7    200ms',
        '  … 7 more: 1 SUCCEEDED, 6 PENDING',
        '',
      ].join('\n'),
    );
  });
});

describe('progressBar', () => {
  it('fills cells in proportion and never overflows', () => {
    expect(progressBar(0, 4, 4)).toBe('[----] 0/4');
    expect(progressBar(3, 4, 4)).toBe('[###-] 3/4');
    expect(progressBar(9, 4, 4)).toBe('[####] 9/4');
    expect(progressBar(0, 0, 4)).toBe('[----] 0/0');
  });
});

describe('redraw', () => {
  it('moves up over the previous frame and rewrites each line', () => {
    expect(redraw(0, 'a\nb\n')).toBe('\r\x1b[2Ka\n\x1b[2Kb\n\x1b[J');
    expect(redraw(3, 'a\n')).toBe('\r\x1b[3A\x1b[2Ka\n\x1b[J');
  });
});

describe('LiveProgress', () => {
  afterEach(() => vi.useRealTimers());

  it('redraws in place, skips unchanged frames and leaves the full final frame', () => {
    let out = '';
    let now = 0;
    const live = new LiveProgress({ write: (t) => (out += t), now: () => now, steps: ['a', 'b'], size: () => ({ columns: 80, rows: 2 }) });
    live.draw();
    expect(out).toBe('\r\x1b[2Kpipeline   RUNNING  0/2 steps ended  0ms\n\x1b[2K  … 2 more: 2 PENDING\n\x1b[J');
    out = '';
    live.draw();
    expect(out).toBe('');
    now = 500;
    live.onEvent(ev(0, { type: 'step.started', step: 'a', attempt: 1 }));
    live.onEvent(ev(500, { type: 'step.succeeded', step: 'a', attempt: 1, cached: false, durationMs: 500 }));
    live.stop();
    expect(out).toBe('\r\x1b[2A\x1b[2Kpipeline churn  RUNNING  1/2 steps ended  500ms\n\x1b[2K  SUCCEEDED  a    500ms\n\x1b[2K  PENDING    b\n\x1b[J');
  });

  it('draws at most one frame per interval however many events come', () => {
    vi.useFakeTimers();
    let frames = 0;
    let now = 0;
    const live = new LiveProgress({ write: () => frames++, now: () => now, intervalMs: 100 }).start();
    expect(frames).toBe(1);
    for (let i = 0; i < 1000; i++) {
      now = i;
      live.onEvent(ev(i, { type: 'step.progress', step: 's', done: i, total: 1000 }));
      if (i % 10 === 0) vi.advanceTimersByTime(1);
    }
    // 100 ms of fake time passed: one frame at the 100 ms tick.
    expect(frames).toBe(2);
    live.stop();
    expect(frames).toBe(3);
  });
});
