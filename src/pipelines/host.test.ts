/**
 * PipelineHost.cancel: a run started by this host is aborted at once; a run
 * of another process (a PipelineRunner of its own on the same store, as
 * `flywheel run` in another terminal) is asked to stop through its record,
 * which that process polls; an ended run is FW_INVALID_STATE with its
 * status, an unknown one FW_NOT_FOUND.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { PipelineHost } from './host.js';
import { PipelineRunner } from './runner.js';
import { cancelRequestedTime, getPipelineRun, listStepRuns } from './store.js';

let h: TransformHarness;
let root: string;
let host: PipelineHost;

beforeAll(async () => {
  h = await openTransformHarness();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-host-cancel-'));
  fs.writeFileSync(path.join(root, 'flywheel.yaml'), `pipelines:\n  slow:\n    steps:\n      nap: { cmd: 'sleep 30', cache: false }\n`);
  host = new PipelineHost({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine }, { file: path.join(root, 'flywheel.yaml'), log: () => undefined });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await h?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function stepRunning(id: string): Promise<void> {
  while (!(await listStepRuns(h.store.db, id)).some((s) => s.status === 'RUNNING')) await new Promise((r) => setTimeout(r, 20));
}

async function ended(id: string): Promise<string> {
  for (;;) {
    const run = await getPipelineRun(h.store.db, id);
    if (run && run.status !== 'RUNNING') return run.status;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('PipelineHost.cancel', () => {
  it('aborts a run of this host at once', async () => {
    const id = await host.start('slow');
    await stepRunning(id);
    expect(await host.cancel(id)).toBe('aborted');
    expect(await ended(id)).toBe('CANCELLED');
    // Nothing went through the record.
    expect(await cancelRequestedTime(h.store.db, id)).toBeNull();
  }, 60_000);

  it("requests cancellation of another process's run through its record", async () => {
    const other = new PipelineRunner({ store: h.store, tracking: h.tracking, data: h.data, engine: h.engine, projectRoot: root });
    let id = '';
    const running = other.run(host.definition('slow'), { onStarted: (runId) => (id = runId) });
    while (!id) await new Promise((r) => setTimeout(r, 20));
    await stepRunning(id);
    expect(host.isActive(id)).toBe(false);
    expect(await host.cancel(id)).toBe('requested');
    expect(await cancelRequestedTime(h.store.db, id)).toEqual(expect.any(Number));
    expect((await running).run.status).toBe('CANCELLED');
    await expect(host.cancel(id)).rejects.toMatchObject({ code: 'FW_INVALID_STATE', message: `pipeline run ${id} already ended (CANCELLED)` });
  }, 60_000);

  it('refuses an unknown run with FW_NOT_FOUND', async () => {
    await expect(host.cancel('no-such-run')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
  });
});
