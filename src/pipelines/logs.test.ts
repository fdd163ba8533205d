/**
 * Step logs as `pipelines logs` reads them, on a real SQLite store and
 * artifact directory with hand-made run and step records: stored logs of
 * ended steps (with headers for a whole run), live files (with the rotated
 * part first), unknown runs and steps, and following — appended output,
 * rotation by rename, truncation, the end of the step, a retry in a new file,
 * a live log that is on another machine, and a whole run's steps with
 * headers on each switch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../artifacts/local.js';
import { newRunId } from '../core/ids.js';
import { openStore, type Store } from '../store/index.js';
import { TrackingService } from '../tracking/service.js';
import { FileTail, followLogs, printLogs, type LogOutput } from './logs.js';
import { STEP_LOG_ARTIFACT } from './runner.js';
import { finishPipelineRun, insertPipelineRun, saveStepRun, type StepRunRecord } from './store.js';

let dir: string;
let store: Store;
let tracking: TrackingService;
let experimentId: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-logs-test-'));
  store = await openStore(`sqlite:${path.join(dir, 'flywheel.db')}`);
  tracking = new TrackingService(store, { actor: 'tester', artifacts: new LocalArtifactStore(path.join(dir, 'artifacts')) });
  experimentId = (await tracking.ensureExperiment('pipelines/logs')).experimentId;
});

afterAll(async () => {
  await store?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const deps = () => ({ db: store.db, tracking });

function capture(): LogOutput & { text: () => string; notices: string[] } {
  const chunks: Buffer[] = [];
  const notices: string[] = [];
  return {
    write: (c) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)),
    notice: (m) => notices.push(m),
    text: () => Buffer.concat(chunks).toString('utf8'),
    notices,
  };
}

/** A RUNNING pipeline run whose definition has these steps (name → retries). */
async function newRun(steps: Record<string, number>): Promise<string> {
  const id = newRunId();
  const definition = JSON.stringify({ name: 'logs', steps: Object.entries(steps).map(([name, retries]) => ({ name, retry: { retries, backoffMs: 0, maxBackoffMs: 0 } })) });
  await insertPipelineRun(store.db, { id, pipeline: 'logs', status: 'RUNNING', params: {}, definitionHash: 'h', definition, trackingRunId: null, resumedFrom: null, error: null, startedTime: Date.now(), endedTime: null });
  return id;
}

/** A step tracking run holding `log` as its stored log (none when undefined). */
async function stepRun(log?: string): Promise<string> {
  const run = await tracking.createRun({ experimentId });
  if (log !== undefined) await tracking.putRunArtifact(run.info.runId, STEP_LOG_ARTIFACT, Buffer.from(log));
  return run.info.runId;
}

async function saveStep(runId: string, step: string, fields: Partial<StepRunRecord>): Promise<void> {
  await saveStepRun(store.db, {
    pipelineRunId: runId,
    pipeline: 'logs',
    step,
    status: 'RUNNING',
    attempts: 1,
    cacheKey: null,
    cached: false,
    trackingRunId: null,
    error: null,
    outputs: {},
    startedTime: Date.now(),
    endedTime: null,
    ...fields,
  });
}

/** Waits until `cond` holds (the follower polls every few ms). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('printLogs', () => {
  it("prints a step's stored log, and every step's under a header", async () => {
    const id = await newRun({ ingest: 0, train: 0, report: 0 });
    await saveStep(id, 'ingest', { status: 'SUCCEEDED', trackingRunId: await stepRun('read 3 rows\n'), endedTime: Date.now() });
    await saveStep(id, 'train', { status: 'FAILED', attempts: 2, trackingRunId: await stepRun('epoch 1\nboom\n'), endedTime: Date.now() });
    const one = capture();
    await printLogs(deps(), id, 'train', one);
    expect(one.text()).toBe('epoch 1\nboom\n');
    const all = capture();
    await printLogs(deps(), id, undefined, all);
    // report never started: it has no record and no header.
    expect(all.text()).toBe('==> ingest (SUCCEEDED) <==\nread 3 rows\n\n==> train (FAILED, attempt 2) <==\nepoch 1\nboom\n');
  });

  it('says so when a step printed nothing or has not started', async () => {
    const id = await newRun({ quiet: 0, later: 0 });
    await saveStep(id, 'quiet', { status: 'SUCCEEDED', trackingRunId: await stepRun(), endedTime: Date.now() });
    const quiet = capture();
    await printLogs(deps(), id, 'quiet', quiet);
    expect(quiet.text()).toBe('');
    expect(quiet.notices).toEqual(['step "quiet" (SUCCEEDED) has no log: it printed nothing']);
    const later = capture();
    await printLogs(deps(), id, 'later', later);
    expect(later.notices).toEqual([`step "later" of pipeline run ${id} has not started yet`]);
  });

  it('reads the live file of a running step, its rotated part first', async () => {
    const id = await newRun({ fit: 0 });
    const live = path.join(dir, `${id}.log`);
    fs.writeFileSync(`${live}.1`, 'older\n');
    fs.writeFileSync(live, 'newer\n');
    await saveStep(id, 'fit', { logPath: live });
    const out = capture();
    await printLogs(deps(), id, 'fit', out);
    expect(out.text()).toBe('older\nnewer\n');
  });

  it('rejects an unknown run or step with FW_NOT_FOUND', async () => {
    await expect(printLogs(deps(), 'no-such-run', undefined, capture())).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    const id = await newRun({ a: 0, b: 0 });
    await expect(printLogs(deps(), id, 'zzz', capture())).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: expect.stringContaining('has no step "zzz" (steps: a, b)') });
  });
});

describe('FileTail', () => {
  it('follows appends, a rotation by rename and a truncation, losing nothing', () => {
    const file = path.join(dir, 'tail.log');
    let out = '';
    const tail = new FileTail(file, (c) => (out += c.toString('utf8')));
    tail.poll();
    expect(tail.opened).toBe(false);
    fs.writeFileSync(file, 'one\n');
    tail.poll();
    expect(out).toBe('one\n');
    fs.appendFileSync(file, 'two\n');
    tail.poll();
    expect(out).toBe('one\ntwo\n');
    // Rotation: more is written to the old file, then it is renamed and a new one takes over.
    fs.appendFileSync(file, 'three\n');
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, 'four\n');
    tail.poll();
    expect(out).toBe('one\ntwo\nthree\nfour\n');
    // Truncated in place (it shrank): read again from the start.
    fs.writeFileSync(file, '5\n');
    tail.poll();
    expect(out).toBe('one\ntwo\nthree\nfour\n5\n');
    // Removed after more was written: finish reads the open file to its end.
    fs.appendFileSync(file, 'six\n');
    fs.rmSync(file);
    tail.finish();
    expect(out).toBe('one\ntwo\nthree\nfour\n5\nsix\n');
  });
});

describe('followLogs', () => {
  it('tails a running step through rotation until it ends, then resolves', async () => {
    const id = await newRun({ fit: 0 });
    const live = path.join(dir, `${id}-fit.log`);
    fs.writeFileSync(live, 'start\n');
    const runId = await stepRun();
    await saveStep(id, 'fit', { logPath: live, trackingRunId: runId });
    const out = capture();
    let resolved = false;
    const following = followLogs(deps(), id, 'fit', out, { pollMs: 5 }).then(() => (resolved = true));
    await until(() => out.text() === 'start\n');
    fs.appendFileSync(live, 'middle\n');
    fs.renameSync(live, `${live}.1`);
    fs.writeFileSync(live, 'after rotation\n');
    await until(() => out.text().endsWith('after rotation\n'));
    expect(resolved).toBe(false);
    // The step ends with a last line; the runner removes the file after recording the end.
    fs.appendFileSync(live, 'done\n');
    await saveStep(id, 'fit', { status: 'SUCCEEDED', logPath: live, trackingRunId: runId, endedTime: Date.now() });
    await following;
    expect(out.text()).toBe('start\nmiddle\nafter rotation\ndone\n');
  });

  it('follows a retry in its new file and ends when the run ends', async () => {
    const id = await newRun({ flaky: 1 });
    const first = path.join(dir, `${id}-1.log`);
    const second = path.join(dir, `${id}-2.log`);
    fs.writeFileSync(first, 'attempt 1\n');
    const run1 = await stepRun('attempt 1\n');
    await saveStep(id, 'flaky', { logPath: first, trackingRunId: run1 });
    const out = capture();
    const following = followLogs(deps(), id, 'flaky', out, { pollMs: 5 });
    await until(() => out.text() === 'attempt 1\n');
    // Attempt 1 failed with a retry left: not the end.
    await saveStep(id, 'flaky', { status: 'FAILED', trackingRunId: run1, endedTime: Date.now() });
    fs.writeFileSync(second, 'attempt 2\n');
    const run2 = await stepRun('attempt 2\n');
    await saveStep(id, 'flaky', { status: 'RUNNING', attempts: 2, logPath: second, trackingRunId: run2 });
    await until(() => out.text() === 'attempt 1\nattempt 2\n');
    await saveStep(id, 'flaky', { status: 'FAILED', attempts: 2, trackingRunId: run2, endedTime: Date.now() });
    await finishPipelineRun(store.db, id, 'FAILED', 'step "flaky" failed');
    await following;
    expect(out.text()).toBe('attempt 1\nattempt 2\n');
  });

  it('prints the stored log at the end when the live file is on another machine', async () => {
    const id = await newRun({ remote: 0 });
    await saveStep(id, 'remote', { logPath: '/nonexistent/elsewhere/step.log', worker: 'gpu-box-7:4242', trackingRunId: await stepRun() });
    const out = capture();
    const following = followLogs(deps(), id, 'remote', out, { pollMs: 5 });
    await until(() => out.notices.length > 0);
    expect(out.notices).toEqual(['step "remote" runs on gpu-box-7:4242, so its live log cannot be read here; it is printed when the step ends']);
    await saveStep(id, 'remote', { status: 'SUCCEEDED', trackingRunId: await stepRun('computed remotely\n'), endedTime: Date.now() });
    await following;
    expect(out.text()).toBe('computed remotely\n');
  });

  it("follows a whole run's steps in whole lines with a header at each switch", async () => {
    const id = await newRun({ a: 0, b: 0 });
    const la = path.join(dir, `${id}-a.log`);
    const lb = path.join(dir, `${id}-b.log`);
    fs.writeFileSync(la, 'a1\na2-part');
    const runA = await stepRun();
    const runB = await stepRun();
    await saveStep(id, 'a', { logPath: la, trackingRunId: runA });
    const out = capture();
    const following = followLogs(deps(), id, undefined, out, { pollMs: 5 });
    await until(() => out.text() === '==> a <==\na1\n');
    fs.writeFileSync(lb, 'b1\n');
    await saveStep(id, 'b', { logPath: lb, trackingRunId: runB });
    await until(() => out.text().endsWith('b1\n'));
    fs.appendFileSync(la, '-end\n');
    await until(() => out.text().endsWith('a2-part-end\n'));
    await saveStep(id, 'a', { status: 'SUCCEEDED', logPath: la, trackingRunId: runA, endedTime: Date.now() });
    await saveStep(id, 'b', { status: 'SUCCEEDED', logPath: lb, trackingRunId: runB, endedTime: Date.now() });
    await finishPipelineRun(store.db, id, 'SUCCEEDED', null);
    await following;
    expect(out.text()).toBe('==> a <==\na1\n\n==> b <==\nb1\n\n==> a <==\na2-part-end\n');
  });
});
