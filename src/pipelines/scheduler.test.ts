/**
 * The scheduler on a real SQLite store with a fake clock and a fake host that
 * records what it was asked to start: on-time ticks, the missed-tick policies
 * after a "restart", and two schedulers on one store firing a tick once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.js';
import { PipelineScheduler } from './scheduler.js';
import type { StartOptions } from './host.js';
import type { MissedTickPolicy, PipelineDefinition } from './types.js';

const t = (iso: string) => Date.parse(iso);
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sched-'));
  store = await openStore(`sqlite:${path.join(dir, 'fw.db')}`);
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function hourly(missed: MissedTickPolicy): PipelineDefinition[] {
  return [{ name: 'nightly', steps: [], schedule: { cron: '0 * * * *', timezone: 'UTC', missed } }, { name: 'unscheduled', steps: [] }];
}

function scheduler(defs: PipelineDefinition[]) {
  const started: { name: string; options: StartOptions }[] = [];
  const host = {
    start: async (name: string | PipelineDefinition, options: StartOptions = {}) => {
      started.push({ name: name as string, options });
      return `run-${started.length}`;
    },
  };
  return { started, s: new PipelineScheduler({ db: store.db, host, definitions: () => defs, log: () => undefined }) };
}

describe('PipelineScheduler', () => {
  it('fires an on-time tick once and records last and next fire times', async () => {
    const { started, s } = scheduler(hourly('skip'));
    await s.sync(t('2024-01-01T10:20:00Z'));
    expect(await s.tick(t('2024-01-01T10:59:59Z'))).toEqual([]);
    const out = await s.tick(t('2024-01-01T11:00:01Z'));
    expect(out).toEqual([{ pipeline: 'nightly', tick: t('2024-01-01T11:00:00Z'), action: 'fired', pipelineRunId: 'run-1' }]);
    expect(started).toEqual([{ name: 'nightly', options: { trigger: 'schedule', detail: { tick: '2024-01-01T11:00:00.000Z', cron: '0 * * * *' } } }]);
    expect(await s.tick(t('2024-01-01T11:00:02Z'))).toEqual([]);
    expect(await s.states()).toEqual([
      { pipeline: 'nightly', cron: '0 * * * *', timezone: 'UTC', missed: 'skip', lastFireTime: t('2024-01-01T11:00:00Z'), nextFireTime: t('2024-01-01T12:00:00Z') },
    ]);
  });

  it('skip: ticks missed while down start nothing; the next tick fires', async () => {
    const first = scheduler(hourly('skip'));
    await first.s.sync(t('2024-01-01T10:20:00Z'));
    // "Restart" at 13:30: 11:00, 12:00 and 13:00 were missed.
    const { started, s } = scheduler(hourly('skip'));
    await s.sync(t('2024-01-01T13:30:00Z'));
    expect(await s.tick(t('2024-01-01T13:30:00Z'))).toEqual([{ pipeline: 'nightly', tick: t('2024-01-01T13:00:00Z'), action: 'skipped-missed' }]);
    expect(started).toEqual([]);
    expect(await s.tick(t('2024-01-01T14:00:00Z'))).toMatchObject([{ action: 'fired', tick: t('2024-01-01T14:00:00Z') }]);
    expect(started).toHaveLength(1);
  });

  it('skip: a single tick missed by more than the grace period is skipped too', async () => {
    const { started, s } = scheduler(hourly('skip'));
    await s.sync(t('2024-01-01T10:20:00Z'));
    expect(await s.tick(t('2024-01-01T11:05:00Z'))).toMatchObject([{ action: 'skipped-missed' }]);
    expect(started).toEqual([]);
  });

  it('catch_up_one: three missed ticks start exactly one run, then the schedule continues', async () => {
    await scheduler(hourly('catch_up_one')).s.sync(t('2024-01-01T10:20:00Z'));
    const { started, s } = scheduler(hourly('catch_up_one'));
    await s.sync(t('2024-01-01T13:30:00Z'));
    await s.tick(t('2024-01-01T13:30:00Z'));
    await s.tick(t('2024-01-01T13:30:01Z'));
    expect(started).toEqual([{ name: 'nightly', options: { trigger: 'schedule', detail: { tick: '2024-01-01T13:00:00.000Z', cron: '0 * * * *', catchUp: true } } }]);
    await s.tick(t('2024-01-01T14:00:00Z'));
    expect(started.map((x) => (x.options.detail as { tick: string }).tick)).toEqual(['2024-01-01T13:00:00.000Z', '2024-01-01T14:00:00.000Z']);
  });

  it('a changed cron starts over from now (no missed ticks of the old pattern)', async () => {
    await scheduler(hourly('catch_up_one')).s.sync(t('2024-01-01T10:20:00Z'));
    const defs: PipelineDefinition[] = [{ name: 'nightly', steps: [], schedule: { cron: '30 * * * *', timezone: 'UTC', missed: 'catch_up_one' } }];
    const { started, s } = scheduler(defs);
    await s.sync(t('2024-01-01T13:10:00Z'));
    expect(await s.tick(t('2024-01-01T13:10:00Z'))).toEqual([]);
    expect(started).toEqual([]);
    expect((await s.states())[0]).toMatchObject({ cron: '30 * * * *', lastFireTime: t('2024-01-01T13:10:00Z'), nextFireTime: t('2024-01-01T13:30:00Z') });
  });

  it('two schedulers on one store fire a tick once', async () => {
    const a = scheduler(hourly('skip'));
    const b = scheduler(hourly('skip'));
    await a.s.sync(t('2024-01-01T10:20:00Z'));
    await b.s.sync(t('2024-01-01T10:20:05Z'));
    const [ra, rb] = await Promise.all([a.s.tick(t('2024-01-01T11:00:00Z')), b.s.tick(t('2024-01-01T11:00:00Z'))]);
    expect([...ra, ...rb].map((o) => o.action).sort()).toEqual(['claimed-elsewhere', 'fired']);
    expect(a.started.length + b.started.length).toBe(1);
  });
});
