/**
 * Dataset and alert triggers on a real SQLite store, with a fake data
 * service (latest version per dataset) and a fake host recording starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notFound } from '../core/errors.js';
import type { DatasetVersion } from '../data/types.js';
import { openStore, type Store } from '../store/index.js';
import type { StartOptions } from './host.js';
import { fireAlertTrigger, PipelineTriggers } from './triggers.js';
import type { PipelineDefinition } from './types.js';

let dir: string;
let store: Store;
const latest = new Map<string, string>();
const started: { name: string; options: StartOptions }[] = [];
const defs: PipelineDefinition[] = [
  { name: 'retrain', steps: [], triggers: [{ on: 'dataset', dataset: 'orders' }, { on: 'alert', monitor: 'drift' }] },
  { name: 'report', steps: [], triggers: [{ on: 'alert', monitor: 'latency' }] },
];

function triggers() {
  return new PipelineTriggers({
    db: store.db,
    data: {
      resolve: async (ref: string) => {
        const id = latest.get(ref);
        if (id === undefined) throw notFound(`Dataset "${ref}" does not exist`);
        return { id } as DatasetVersion;
      },
    },
    host: {
      start: async (name, options = {}) => {
        started.push({ name: name as string, options });
        return `run-${started.length}`;
      },
    },
    definitions: () => defs,
    log: () => undefined,
  });
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-trig-'));
  store = await openStore(`sqlite:${path.join(dir, 'fw.db')}`);
  latest.clear();
  started.length = 0;
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dataset triggers', () => {
  it('fire once per new version, not for the version there at first sight, and not again after a restart', async () => {
    latest.set('orders', 'v1');
    const first = triggers();
    expect(await first.poll()).toEqual([]);
    expect(await first.poll()).toEqual([]);
    latest.set('orders', 'v2');
    expect(await first.poll()).toEqual([{ pipeline: 'retrain', pipelineRunId: 'run-1' }]);
    expect(await first.poll()).toEqual([]);
    expect(started).toEqual([{ name: 'retrain', options: { trigger: 'dataset', detail: { dataset: 'orders', versionId: 'v2' } } }]);

    const restarted = triggers();
    expect(await restarted.poll()).toEqual([]);
    latest.set('orders', 'v3');
    expect(await restarted.poll()).toEqual([{ pipeline: 'retrain', pipelineRunId: 'run-2' }]);
    expect(started).toHaveLength(2);
  });

  it('a dataset that does not exist yet fires on its first version', async () => {
    const w = triggers();
    expect(await w.poll()).toEqual([]);
    latest.set('orders', 'v1');
    expect(await w.poll()).toEqual([{ pipeline: 'retrain', pipelineRunId: 'run-1' }]);
  });

  it('two watchers on one store fire a new version once', async () => {
    latest.set('orders', 'v1');
    const a = triggers();
    const b = triggers();
    await a.poll();
    latest.set('orders', 'v2');
    const [ra, rb] = await Promise.all([a.poll(), b.poll()]);
    expect(ra.length + rb.length).toBe(1);
    expect(started).toHaveLength(1);
  });
});

describe('fireAlertTrigger', () => {
  it('runs every pipeline whose trigger names the monitor, in started watchers only', async () => {
    const w = triggers();
    expect(await fireAlertTrigger('drift', { score: 0.4 })).toEqual([]);
    w.start(3_600_000);
    try {
      expect(await fireAlertTrigger('drift', { score: 0.4 })).toEqual([{ pipeline: 'retrain', pipelineRunId: 'run-1' }]);
      expect(started).toEqual([{ name: 'retrain', options: { trigger: 'alert', detail: { monitor: 'drift', payload: { score: 0.4 } } } }]);
      expect(await fireAlertTrigger('nobody-watches-this', {})).toEqual([]);
      expect(started).toHaveLength(1);
    } finally {
      await w.stop();
    }
    expect(await fireAlertTrigger('drift', {})).toEqual([]);
  });
});
