/**
 * The executor's semantics on small graphs with fake steps: dependency order
 * on a diamond, global and per-tag parallelism (never above a limit, reaching
 * it when the graph allows), retries with their backoff delays, attempt
 * timeouts, cancellation, fail-fast vs continue with an independent branch,
 * resume via `skip`, and graph errors. Steps wait on timers or signals, never
 * on timing thresholds; jitter comes from a fixed random source.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionEvent } from './events.js';
import { executePipeline, type RunStep, type StepOutcome } from './executor.js';
import type { PipelineDefinition, StepDefinition } from './types.js';

function step(name: string, upstream: string[] = [], extra: Partial<StepDefinition> = {}): StepDefinition {
  return {
    name,
    kind: 'function',
    inputs: Object.fromEntries(upstream.map((u) => [u, { step: u, output: 'out' }])),
    outputs: ['out'],
    params: {},
    retry: { retries: 0, backoffMs: 10, maxBackoffMs: 1000 },
    tags: [],
    cache: true,
    deps: [],
    ...extra,
  };
}

const pipeline = (steps: StepDefinition[], extra: Partial<PipelineDefinition> = {}): PipelineDefinition => ({ name: 'p', steps, ...extra });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const ok: RunStep = async () => {
  await tick();
};

/** Runs with an event log; returns the result and the events in order. */
async function run(def: PipelineDefinition, opts: Partial<Parameters<typeof executePipeline>[1]> = {}) {
  const events: ExecutionEvent[] = [];
  const result = await executePipeline(def, { runStep: ok, concurrency: 4, random: () => 0.5, onEvent: (e) => events.push(e), ...opts });
  return { result, events };
}

const statuses = (r: { steps: Record<string, { status: string }> }) =>
  Object.fromEntries(Object.entries(r.steps).map(([k, v]) => [k, v.status]));
const eventsOf = (events: ExecutionEvent[], type: ExecutionEvent['type']) => events.filter((e) => e.type === type);

describe('executePipeline ordering', () => {
  it('starts each step of a diamond only after its upstream steps succeeded', async () => {
    // a → b, a → c, b + c → d
    const def = pipeline([step('d', ['b', 'c']), step('b', ['a']), step('c', ['a']), step('a')]);
    const { result, events } = await run(def);
    expect(result.status).toBe('SUCCEEDED');
    expect(statuses(result)).toEqual({ d: 'SUCCEEDED', b: 'SUCCEEDED', c: 'SUCCEEDED', a: 'SUCCEEDED' });
    const idx = (type: string, name: string) => events.findIndex((e) => e.type === type && 'step' in e && e.step === name);
    for (const [down, ups] of [['b', ['a']], ['c', ['a']], ['d', ['b', 'c']]] as const) {
      for (const up of ups) expect(idx('step.started', down)).toBeGreaterThan(idx('step.succeeded', up));
    }
    expect(events.at(-1)).toMatchObject({ type: 'pipeline.finished', pipeline: 'p', status: 'SUCCEEDED' });
  });

  it('passes the direct upstream outcomes to runStep', async () => {
    const seen: Record<string, Record<string, StepOutcome>> = {};
    const def = pipeline([step('a'), step('b', ['a'])]);
    await run(def, {
      runStep: async (s, _attempt, _signal, upstream) => {
        seen[s.name] = upstream;
        return { outputs: { out: `${s.name}@1` } };
      },
    });
    expect(seen).toEqual({ a: {}, b: { a: { outputs: { out: 'a@1' } } } });
  });

  it('reports CACHED steps and lets their downstream run', async () => {
    const def = pipeline([step('a'), step('b', ['a'])]);
    const { result, events } = await run(def, { runStep: async (s) => ({ cached: s.name === 'a' }) });
    expect(statuses(result)).toEqual({ a: 'CACHED', b: 'SUCCEEDED' });
    expect(result.status).toBe('SUCCEEDED');
    expect(eventsOf(events, 'step.succeeded').map((e) => 'cached' in e && e.cached)).toEqual([true, false]);
  });
});

describe('executePipeline parallelism', () => {
  /** A runStep that tracks peak concurrency, globally and per tag. */
  function tracker() {
    let active = 0;
    const tagActive: Record<string, number> = {};
    const peak = { global: 0, tags: {} as Record<string, number> };
    const runStep: RunStep = async (s) => {
      active++;
      peak.global = Math.max(peak.global, active);
      for (const t of s.tags) {
        tagActive[t] = (tagActive[t] ?? 0) + 1;
        peak.tags[t] = Math.max(peak.tags[t] ?? 0, tagActive[t]);
      }
      await tick();
      active--;
      for (const t of s.tags) tagActive[t]--;
    };
    return { runStep, peak };
  }

  it('never exceeds the global limit and reaches it', async () => {
    const t = tracker();
    const def = pipeline(Array.from({ length: 10 }, (_, i) => step(`s${i}`)));
    const { result } = await run(def, { runStep: t.runStep, concurrency: 3 });
    expect(result.status).toBe('SUCCEEDED');
    expect(t.peak.global).toBe(3);
  });

  it('honours per-tag limits, including steps with two tags, without deadlock', async () => {
    const t = tracker();
    const steps = [
      ...Array.from({ length: 4 }, (_, i) => step(`gpu${i}`, [], { tags: ['gpu'] })),
      ...Array.from({ length: 3 }, (_, i) => step(`both${i}`, [], { tags: ['gpu', 'db'] })),
      ...Array.from({ length: 3 }, (_, i) => step(`db${i}`, [], { tags: ['db'] })),
      ...Array.from({ length: 4 }, (_, i) => step(`free${i}`)),
    ];
    const { result } = await run(pipeline(steps, { tagConcurrency: { gpu: 2, db: 1 } }), { runStep: t.runStep, concurrency: 5 });
    expect(result.status).toBe('SUCCEEDED');
    expect(Object.values(result.steps).every((s) => s.status === 'SUCCEEDED')).toBe(true);
    expect(t.peak.tags).toEqual({ gpu: 2, db: 1 });
    expect(t.peak.global).toBe(5);
  });

  it('lets options override the definition limits', async () => {
    const t = tracker();
    const steps = Array.from({ length: 4 }, (_, i) => step(`g${i}`, [], { tags: ['gpu'] }));
    await run(pipeline(steps, { concurrency: 1, tagConcurrency: { gpu: 1 } }), {
      runStep: t.runStep,
      concurrency: 4,
      tagConcurrency: { gpu: 2 },
    });
    expect(t.peak.global).toBe(2);
  });
});

describe('executePipeline retries and timeouts', () => {
  it('retries with exponential backoff and full jitter, then succeeds', async () => {
    const def = pipeline([step('flaky', [], { retry: { retries: 3, backoffMs: 10, maxBackoffMs: 1000 } })]);
    const { result, events } = await run(def, {
      runStep: async (_s, attempt) => {
        if (attempt < 3) throw new Error(`flake ${attempt}`);
      },
    });
    expect(result.steps.flaky).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
    // random 0.5: 0.5 · 10 = 5, then 0.5 · 20 = 10.
    expect(eventsOf(events, 'step.retrying').map((e) => ({ ...e, at: 0 }))).toEqual([
      { type: 'step.retrying', pipeline: 'p', at: 0, step: 'flaky', attempt: 1, delayMs: 5, error: 'flake 1' },
      { type: 'step.retrying', pipeline: 'p', at: 0, step: 'flaky', attempt: 2, delayMs: 10, error: 'flake 2' },
    ]);
    expect(eventsOf(events, 'step.started').map((e) => 'attempt' in e && e.attempt)).toEqual([1, 2, 3]);
  });

  it('fails with the last error once retries are exhausted', async () => {
    const def = pipeline([step('bad', [], { retry: { retries: 2, backoffMs: 1, maxBackoffMs: 1 } }), step('after', ['bad'])]);
    const { result, events } = await run(def, {
      runStep: async (_s, attempt) => {
        throw new Error(`boom ${attempt}`);
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.steps.bad).toMatchObject({ status: 'FAILED', attempts: 3, error: 'boom 3' });
    expect(result.steps.after).toMatchObject({ status: 'SKIPPED', reason: 'upstream-failed', attempts: 0 });
    expect(eventsOf(events, 'step.failed')).toMatchObject([{ step: 'bad', attempt: 3, error: 'boom 3' }]);
  });

  it('times out an attempt by aborting its signal, retries, then fails naming the timeout', async () => {
    const def = pipeline([step('slow', [], { timeoutMs: 50, retry: { retries: 1, backoffMs: 1, maxBackoffMs: 1 } })]);
    const aborted: boolean[] = [];
    const { result, events } = await run(def, {
      runStep: (_s, _attempt, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.push(signal.aborted);
            reject(new Error('stopped'));
          });
        }),
    });
    expect(aborted).toEqual([true, true]);
    expect(result.steps.slow).toMatchObject({ status: 'FAILED', attempts: 2, error: 'step "slow" timed out after 0.05s' });
    expect(eventsOf(events, 'step.retrying')).toMatchObject([{ attempt: 1, error: 'step "slow" timed out after 0.05s' }]);
  });

  it('abandons an attempt that ignores its signal after the grace period', async () => {
    const def = pipeline([step('stubborn', [], { timeoutMs: 20 })]);
    const { result } = await run(def, { abortGraceMs: 20, runStep: () => new Promise(() => {}) });
    expect(result.steps.stubborn).toMatchObject({ status: 'FAILED', error: 'step "stubborn" timed out after 0.02s' });
  });
});

describe('executePipeline cancellation', () => {
  it('aborts running steps, starts nothing new and ends the rest CANCELLED', async () => {
    const ac = new AbortController();
    const def = pipeline([step('a'), step('b', ['a']), step('c', ['b'])]);
    let sawAbort = false;
    const { result, events } = await run(def, {
      signal: ac.signal,
      runStep: (s, _attempt, signal) =>
        new Promise((_resolve, reject) => {
          expect(s.name).toBe('a');
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('killed'));
          });
          setTimeout(() => ac.abort(), 5);
        }),
    });
    expect(sawAbort).toBe(true);
    expect(result.status).toBe('CANCELLED');
    expect(result.steps).toMatchObject({
      a: { status: 'CANCELLED', attempts: 1 },
      b: { status: 'CANCELLED', reason: 'cancelled', attempts: 0 },
      c: { status: 'CANCELLED', reason: 'cancelled', attempts: 0 },
    });
    expect(events.map((e) => `${e.type}${'step' in e ? ':' + e.step : ''}`)).toEqual([
      'step.started:a',
      'step.cancelled:a',
      'step.skipped:b',
      'step.skipped:c',
      'pipeline.finished',
    ]);
  });

  it('cancels a step waiting for its next retry', async () => {
    const ac = new AbortController();
    const def = pipeline([step('a', [], { retry: { retries: 5, backoffMs: 60_000, maxBackoffMs: 60_000 } })]);
    const { result } = await run(def, {
      signal: ac.signal,
      runStep: async () => {
        setTimeout(() => ac.abort(), 5);
        throw new Error('fails');
      },
    });
    expect(result.status).toBe('CANCELLED');
    expect(result.steps.a).toMatchObject({ status: 'CANCELLED', attempts: 1 });
  });

  it('runs nothing when cancelled before the start', async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    const { result } = await run(pipeline([step('a')]), { signal: ac.signal, runStep: async () => void calls++ });
    expect(calls).toBe(0);
    expect(result).toMatchObject({ status: 'CANCELLED', steps: { a: { status: 'CANCELLED', reason: 'cancelled' } } });
  });
});

describe('executePipeline failure policy', () => {
  // bad → after; independent branch: other → tail.
  const graph = () => pipeline([step('bad'), step('after', ['bad']), step('other'), step('tail', ['other'])]);
  const runStep: RunStep = async (s) => {
    if (s.name === 'bad') throw new Error('bad step');
    await tick();
  };

  it('fail-fast: stops scheduling on the first failure; the rest is SKIPPED', async () => {
    const { result } = await run(graph(), { runStep, concurrency: 1, onFailure: 'fail-fast' });
    expect(result.status).toBe('FAILED');
    expect(result.steps).toMatchObject({
      bad: { status: 'FAILED', error: 'bad step' },
      after: { status: 'SKIPPED', reason: 'upstream-failed' },
      other: { status: 'SKIPPED', reason: 'fail-fast' },
      tail: { status: 'SKIPPED', reason: 'fail-fast' },
    });
  });

  it('fail-fast: steps already running finish', async () => {
    // concurrency 2: bad and other start together; other is still running when bad fails.
    const { result } = await run(graph(), { runStep, concurrency: 2, onFailure: 'fail-fast' });
    expect(statuses(result)).toEqual({ bad: 'FAILED', after: 'SKIPPED', other: 'SUCCEEDED', tail: 'SKIPPED' });
  });

  it('continue: runs everything not downstream of a failure', async () => {
    const { result } = await run(graph(), { runStep, concurrency: 1, onFailure: 'continue' });
    expect(result.status).toBe('FAILED');
    expect(statuses(result)).toEqual({ bad: 'FAILED', after: 'SKIPPED', other: 'SUCCEEDED', tail: 'SUCCEEDED' });
  });

  it('takes the policy from the definition when the options give none', async () => {
    const { result } = await run({ ...graph(), onFailure: 'continue' }, { runStep, concurrency: 1 });
    expect(result.steps.tail.status).toBe('SUCCEEDED');
  });
});

describe('executePipeline resume and errors', () => {
  it('skips steps done in an earlier run and reuses their outcome', async () => {
    const ran: string[] = [];
    const upstreamOfB: Record<string, StepOutcome>[] = [];
    const def = pipeline([step('a'), step('b', ['a']), step('c', ['b'])]);
    const { result, events } = await run(def, {
      skip: { a: { outputs: { out: 'features@7' } } },
      runStep: async (s, _attempt, _signal, upstream) => {
        ran.push(s.name);
        if (s.name === 'b') upstreamOfB.push(upstream);
      },
    });
    expect(ran).toEqual(['b', 'c']);
    expect(upstreamOfB).toEqual([{ a: { outputs: { out: 'features@7' } } }]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.steps.a).toMatchObject({ status: 'SUCCEEDED', reason: 'resumed', attempts: 0 });
    expect(events[0]).toMatchObject({ type: 'step.skipped', step: 'a', reason: 'resumed', status: 'SUCCEEDED' });
  });

  it('accepts a list of step names to skip', async () => {
    const ran: string[] = [];
    const def = pipeline([step('a'), step('b', ['a'])]);
    await run(def, { skip: ['a'], runStep: async (s) => void ran.push(s.name) });
    expect(ran).toEqual(['b']);
  });

  it('rejects a cycle, an unknown upstream step, a duplicate name and an unknown skip', async () => {
    await expect(run(pipeline([step('a', ['b']), step('b', ['a'])]))).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringMatching(/cycle/) });
    await expect(run(pipeline([step('a', ['ghost'])]))).rejects.toThrow('step "a": input refers to unknown step "ghost"');
    await expect(run(pipeline([step('a'), step('a')]))).rejects.toThrow('duplicate step name "a"');
    await expect(run(pipeline([step('a')]), { skip: ['nope'] })).rejects.toThrow('cannot skip unknown step "nope"');
  });

  it('keeps running when the event listener throws', async () => {
    const result = await executePipeline(pipeline([step('a'), step('b', ['a'])]), {
      runStep: ok,
      onEvent: () => {
        throw new Error('listener broke');
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    // started a, succeeded a, started b, succeeded b, pipeline.finished.
    expect(result.listenerErrors).toHaveLength(5);
  });
});
