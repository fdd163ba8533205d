/**
 * Monitors end to end on SQLite: a deployment with a registered js model,
 * prediction-log rows written through the log's sink with chosen times (so
 * windows are exact), a reference dataset version from a CSV, and the
 * monitor's verdicts, run metrics, alert transitions and events.
 * Expected values are worked out by hand from the synthetic data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../events/service.js';
import { buildApp } from '../../server/app.js';
import type { ModelManifest, ModelSignature } from '../../models/manifest.js';
import { writeModelPackage } from '../../models/package.js';
import type { PredictionLogInsert } from '../../serving/store.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../../test/support/serving.js';
import { modelCacheDir } from './compute.js';
import { MonitorService } from './service.js';

const SIGNATURE: ModelSignature = {
  inputs: [
    { name: 'x', type: 'double' },
    { name: 'y', type: 'double' },
    { name: 'plan', type: 'string', nullable: true },
  ],
  outputs: [
    { name: 'prediction', type: 'string' },
    { name: 'probability', type: 'double', shape: [-1, 2] },
  ],
};

const T0 = 1_700_000_000_000;
const MIN = 60_000;
/** x and y take each of 0, 0.1, …, 9.9 twice over 200 rows (in different orders). */
const xOf = (i: number) => ((i * 37) % 100) / 10;
const yOf = (i: number) => ((i * 53 + 11) % 100) / 10;
const planOf = (i: number) => (i % 2 === 0 ? 'basic' : 'pro');

let h: ServingHarness;
let monitors: MonitorService;
let deploymentId: string;
let seq = 0;

async function log(rows: Partial<PredictionLogInsert>[]): Promise<string[]> {
  const records: PredictionLogInsert[] = rows.map((r) => ({
    predictionId: `p${++seq}`,
    deploymentId,
    revision: 1,
    arm: 'primary',
    modelName: 'churn',
    modelVersion: '1',
    shadow: false,
    time: T0,
    latencyMs: 1,
    requestKey: null,
    features: {},
    prediction: 'yes',
    probability: [0.5, 0.5],
    error: null,
    ...r,
  }));
  await h.ctx.deployments.writePredictions(records);
  return records.map((r) => r.predictionId);
}

/** 200 rows in the 10-minute window ending at `end`; x shifted by `shift`. */
async function logWindow(end: number, shift: number): Promise<void> {
  await log(Array.from({ length: 200 }, (_, i) => ({ time: end - 5 * MIN + i, features: { x: xOf(i) + shift, y: yOf(i), plan: planOf(i) } })));
}

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('yes'), { signature: SIGNATURE });
  deploymentId = (await h.ctx.deployments.deploy('churn', { model: 'churn/1' })).deploymentId;
  const csv = path.join(h.home, 'reference.csv');
  fs.writeFileSync(csv, 'x,y,plan,when\n' + Array.from({ length: 200 }, (_, i) => `${xOf(i)},${yOf(i)},${planOf(i)},2024-01-01`).join('\n') + '\n');
  await h.ctx.data.add('reference', csv);
  const empty = path.join(h.home, 'empty.csv');
  fs.writeFileSync(empty, 'x,y,plan\n');
  await h.ctx.data.add('empty', empty, { columnTypes: { x: 'DOUBLE', y: 'DOUBLE', plan: 'VARCHAR' } });
  monitors = new MonitorService({ ...h.ctx, modelCacheDir: modelCacheDir(h.home), actor: 'tester' });
}, 60_000);

afterAll(async () => {
  await h?.dispose();
});

/** Registers a version of `name` whose manifest names its training dataset version and target (the harness leaves them null). */
async function registerTrained(name: string, training: ModelManifest['training'] extends infer T ? Omit<T & object, 'runId'> : never): Promise<void> {
  const experimentId = (await h.ctx.tracking.ensureExperiment('monitoring/test-training')).experimentId;
  const runId = (await h.ctx.tracking.createRun({ experimentId })).info.runId;
  const manifest: ModelManifest = {
    format: 1,
    flavor: 'js',
    signature: SIGNATURE,
    task: 'classification',
    classes: ['no', 'yes'],
    files: { module: 'predict.mjs' },
    preprocessing: null,
    training: { runId, ...training },
    metrics: {},
    libraries: {},
    createdTime: Date.now(),
  };
  const uri = await writeModelPackage(h.ctx.tracking, runId, { manifest, files: { 'predict.mjs': taggedModule('yes') } });
  await h.ctx.registry.createModelVersion({ name, source: uri, runId, createModel: true });
}

describe('MonitorService', () => {
  it('reaches the right drift verdict per column, logs the numbers as run metrics, and reports an empty window as no data', async () => {
    await monitors.create({ name: 'drift', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1', window: { kind: 'time', minutes: 10 } });
    const end = T0 + 100 * MIN;
    await logWindow(end, 5);
    const r = await monitors.run('drift', { now: end });
    expect(r.noData).toBe(false);
    expect(r.window).toEqual({ start: end - 10 * MIN, end, id: String(end), rows: 200 });
    expect(r.columns).toEqual(['x', 'y', 'plan']);
    const byColumn = Object.fromEntries(r.featureDrift!.columns.map((c) => [c.column, c]));
    // Reference x is uniform on {0, …, 9.9}; live x + 5 on {5, …, 14.9}: the CDFs differ most at 4.9 (0.5 vs 0).
    expect(byColumn.x!.method).toBe('ks');
    expect(byColumn.x!.statistic).toBeCloseTo(0.5, 12);
    expect(byColumn.x!.drifted).toBe(true);
    // y has exactly the reference's values: KS statistic 0, p-value 1.
    expect(byColumn.y!.statistic).toBe(0);
    expect(byColumn.y!.drifted).toBe(false);
    expect(byColumn.plan!.drifted).toBe(false);
    expect(r.metrics.feature_drift_share).toBeCloseTo(1 / 3, 12);
    // Live x > 9.9 exactly when the reference value was ≥ 5.0: half the rows.
    expect(r.quality!.x!.out_of_range_share).toBe(0.5);
    expect(r.quality!.y!.out_of_range_share).toBe(0);

    const history = await h.ctx.tracking.getMetricHistory(r.runId, 'drift.x.statistic');
    expect(history.items.map((m) => [m.timestamp, m.step])).toEqual([[end, 1]]);
    expect(history.items[0]!.value).toBeCloseTo(0.5, 12);
    const run = await h.ctx.tracking.getRun(r.runId);
    expect(run.info.status).toBe('FINISHED');
    const experiment = await h.ctx.tracking.getExperimentByName('monitoring/drift');
    expect(run.info.experimentId).toBe(experiment.experimentId);
    const tags = run.data.tags;
    expect(tags).toMatchObject({ 'flywheel.monitor': 'drift', 'flywheel.deployment': 'churn', 'flywheel.monitor.window_start': String(end - 10 * MIN), 'flywheel.monitor.window_end': String(end) });

    const empty = await monitors.run('drift', { now: T0 + 1000 * MIN });
    expect(empty.noData).toBe(true);
    expect(empty.featureDrift).toBeNull();
    expect(empty.metrics).toEqual({ rows: 0, no_data: 1 });
    expect((await monitors.get('drift')).executions).toBe(2);
  });

  it('reports data quality, latency percentiles, error rate and performance of labelled rows', async () => {
    await monitors.create({ name: 'ops', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1', window: { kind: 'time', minutes: 10 }, columns: ['x', 'plan'] });
    const end = T0 + 2000 * MIN;
    // 100 rows: latency 1..100 ms; 5 errors; plan null in 10 rows and "gold" (unseen) in 20; x = "oops" (a string) in 4 rows.
    const ids = await log(
      Array.from({ length: 100 }, (_, i) => ({
        time: end - MIN + i,
        latencyMs: i + 1,
        error: i < 5 ? 'boom' : null,
        prediction: i < 5 ? null : i % 4 === 0 ? 'no' : 'yes',
        probability: i < 5 ? null : i % 4 === 0 ? [0.9, 0.1] : [0.2, 0.8],
        features: { x: i >= 96 ? 'oops' : xOf(i), plan: i >= 80 ? null : i >= 60 ? 'gold' : planOf(i) },
      })),
    );
    // Labels for rows 8..11: predictions no, yes, yes, yes (8 % 4 = 0); labels no, yes, no, yes → 3 of 4 right.
    await h.ctx.deployments.recordFeedback('churn', [
      { predictionId: ids[8]!, label: 'no' },
      { predictionId: ids[9]!, label: 'yes' },
      { predictionId: ids[10]!, label: 'no' },
      { predictionId: ids[11]!, label: 'yes' },
    ]);
    const r = await monitors.run('ops', { now: end });
    expect(r.quality!.plan).toEqual({ null_share: 0.2, invalid_share: 0, unseen_share: 0.2 });
    expect(r.quality!.x!.invalid_share).toBe(0.04);
    expect(r.quality!.x!.null_share).toBe(0.04);
    // Sorted 1..100: p50 = (50 + 51) / 2; p99 at rank 0.99·99 = 98.01 → 99 + 0.01.
    expect(r.latency!.p50).toBe(50.5);
    expect(r.latency!.p99).toBeCloseTo(99.01, 12);
    expect(r.metrics.error_rate).toBe(0.05);
    expect(r.performance!.labelledRows).toBe(4);
    expect(r.metrics['performance.accuracy']).toBe(0.75);
    // Positive class "yes" (classes[1]): 3 predicted yes of which 2 are yes → precision 2/3, recall 2/2.
    expect(r.metrics['performance.precision']).toBeCloseTo(2 / 3, 12);
    expect(r.metrics['performance.recall']).toBe(1);
    expect(r.performance!.groups).toEqual([expect.objectContaining({ arm: 'primary', modelName: 'churn', modelVersion: '1', labelledRows: 4 })]);
    expect(r.metrics['performance.primary.churn.v1.accuracy']).toBe(0.75);
    // No reference target in the manifest: predictions are compared with the previous window, which is empty here.
    expect(r.predictionDrift).toMatchObject({ against: 'previous window', status: 'no data', drifted: false });
  });

  it('fires an alert after N bad windows and resolves it after M good ones, with events in order', async () => {
    await monitors.create({
      name: 'alerting',
      target: { kind: 'deployment', deployment: 'churn' },
      reference: 'reference@1',
      window: { kind: 'time', minutes: 10 },
      columns: ['x', 'y'],
      checks: ['feature_drift'],
      alerts: ['shift: feature_drift_share >= 0.5 for 2 resolve 2 severity critical'],
    });
    const base = T0 + 5000 * MIN;
    const ends = [1, 2, 3, 4, 5, 6].map((k) => base + k * 10 * MIN);
    const shifts = [5, 5, 5, 0, 0, 0];
    const seen: (string | null)[] = [];
    for (let k = 0; k < ends.length; k++) {
      await logWindow(ends[k]!, shifts[k]!);
      const r = await monitors.run('alerting', { now: ends[k]! });
      seen.push(r.alerts[0]!.transition);
    }
    expect(seen).toEqual(['pending', 'firing', null, null, 'resolved', null]);
    // Running the same window again changes nothing.
    const again = await monitors.run('alerting', { now: ends[5]! });
    expect(again.alerts[0]).toMatchObject({ transition: null, skipped: 'duplicate-window', status: 'resolved' });
    const states = await monitors.alertStates('alerting');
    expect(states.shift!.status).toBe('resolved');
    expect(states.shift!.lastResolved).toMatchObject({ startWindow: String(ends[0]), firedWindow: String(ends[1]), endWindow: String(ends[4]), badWindows: 3 });

    const events = await listEvents(h.ctx.store.db, { entityType: 'alert', entityId: 'alerting/shift' });
    expect(events.map((e) => [e.kind, e.time])).toEqual([
      ['alert.firing', ends[1]],
      ['alert.resolved', ends[4]],
    ]);
    expect(events[0]!.payload).toMatchObject({ monitor: 'alerting', metric: 'feature_drift_share', severity: 'critical', state: 'firing' });
  });

  it('refuses bad input with a clear error', async () => {
    const base = { target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1' };
    await expect(monitors.create({ ...base, name: 'm1', target: { kind: 'deployment', deployment: 'nope' } })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    await expect(monitors.create({ ...base, name: 'm2', reference: 'missing@1' })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    await expect(monitors.create({ ...base, name: 'm3', columns: ['x', 'income'] })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('"income"') });
    await expect(monitors.create({ ...base, name: 'm4', reference: null })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('training dataset') });
    await expect(monitors.create({ ...base, name: 'm5', checks: ['vibes'] })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('vibes') });
    await expect(monitors.create({ ...base, name: 'm6', window: { kind: 'count', rows: 0 } })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('window.rows') });
    await expect(monitors.create({ ...base, name: 'm7', alerts: ['feature_drift_share >>= 1'] })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    await expect(monitors.create({ name: 'm8', target: { kind: 'dataset', dataset: 'reference' }, reference: 'reference@1', checks: ['latency'] })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('deployment target') });
    await expect(monitors.run('ghost')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    expect((await h.ctx.data.resolve('empty@1')).rowCount).toBe(0);
    await expect(monitors.create({ ...base, name: 'm9', reference: 'empty@1' })).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('zero rows') });
    expect((await monitors.list()).map((m) => m.name)).not.toContain('m3');
  });

  it('keeps definitions, refuses duplicates and records create/delete events', async () => {
    const m = await monitors.create({ name: 'lifecycle', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1', window: { kind: 'count', rows: 50 } });
    expect(m).toMatchObject({ name: 'lifecycle', window: { kind: 'count', rows: 50 }, executions: 0, checks: ['feature_drift', 'prediction_drift', 'data_quality', 'performance', 'latency', 'errors'] });
    await expect(monitors.create({ name: 'lifecycle', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1' })).rejects.toMatchObject({ code: 'FW_ALREADY_EXISTS' });
    // A count window takes the last 50 rows before now, whatever their age.
    const r = await monitors.run('lifecycle', { now: T0 + 100_000 * MIN });
    expect(r.window.rows).toBe(50);
    await monitors.delete('lifecycle');
    await expect(monitors.get('lifecycle')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    const events = await listEvents(h.ctx.store.db, { entityType: 'monitor', entityId: 'lifecycle' });
    expect(events.map((e) => e.kind)).toEqual(['monitor.created', 'monitor.deleted']);
  });

  it('defaults the reference to the served model\'s training dataset and compares predictions with its target', async () => {
    const csv = path.join(h.home, 'training.csv');
    fs.writeFileSync(csv, 'x,y,plan,churned\n' + Array.from({ length: 200 }, (_, i) => `${xOf(i)},${yOf(i)},${planOf(i)},${i % 2 === 0 ? 'yes' : 'no'}`).join('\n') + '\n');
    const training = (await h.ctx.data.add('training', csv)).version;
    await registerTrained('scorer', { dataset: 'training@1', datasetVersionId: training.id, target: 'churned' });
    const scorerId = (await h.ctx.deployments.deploy('scorer', { model: 'scorer/1' })).deploymentId;
    await monitors.create({ name: 'scorer', target: { kind: 'deployment', deployment: 'scorer' }, window: { kind: 'time', minutes: 10 } });
    const end = T0 + 9000 * MIN;
    // 100 primary rows, all predicted "yes", each with a shadow copy from version 2 predicting "no".
    const rows = Array.from({ length: 100 }, (_, i) => ({ deploymentId: scorerId, modelName: 'scorer', time: end - MIN + i, features: { x: xOf(i), y: yOf(i), plan: planOf(i) }, prediction: 'yes', probability: [0.3, 0.7] }));
    const ids = await log(rows);
    await log(ids.map((id, i) => ({ ...rows[i], predictionId: `${id}~shadow`, arm: 'shadow', shadow: true, modelVersion: '2', prediction: 'no', probability: [0.6, 0.4] })));
    await h.ctx.deployments.recordFeedback('scorer', [{ predictionId: ids[0]!, label: 'yes' }, { predictionId: ids[1]!, label: 'yes' }]);
    const r = await monitors.run('scorer', { now: end });
    expect(r.reference).toEqual({ source: 'training@1', rows: 200, how: 'training dataset' });
    expect(r.window.rows).toBe(100);
    // The reference target is half "yes"; every live prediction is "yes".
    expect(r.predictionDrift).toMatchObject({ against: 'reference target', status: 'ok', drifted: true });
    // Overall performance is over primary rows; the shadow arm (labelled through its primary) is reported on its own.
    expect(r.metrics['performance.accuracy']).toBe(1);
    expect(r.metrics['performance.shadow.scorer.v2.accuracy']).toBe(0);
    expect(r.metrics['performance.primary.scorer.v1.labelled_rows']).toBe(2);
    expect(r.metrics['performance.shadow.scorer.v2.labelled_rows']).toBe(2);
  });

  it('checks each new version of a dataset against its reference', async () => {
    const v1 = path.join(h.home, 'orders1.csv');
    const v2 = path.join(h.home, 'orders2.csv');
    fs.writeFileSync(v1, 'x,y,plan\n' + Array.from({ length: 200 }, (_, i) => `${xOf(i)},${yOf(i)},${planOf(i)}`).join('\n') + '\n');
    fs.writeFileSync(v2, 'x,y,plan\n' + Array.from({ length: 200 }, (_, i) => `${xOf(i) + 5},${yOf(i)},${i < 20 ? 'gold' : planOf(i)}`).join('\n') + '\n');
    await h.ctx.data.add('orders', v1);
    const latest = (await h.ctx.data.add('orders', v2)).version;
    await monitors.create({ name: 'orders', target: { kind: 'dataset', dataset: 'orders' }, reference: 'orders@1', columns: ['x', 'y'], alerts: ['drift: feature_drift_share > 0.3'] });
    const r = await monitors.run('orders', { now: T0 });
    expect(r.window).toMatchObject({ id: latest.id, rows: 200 });
    expect(r.featureDrift!.columns.map((c) => [c.column, c.drifted])).toEqual([
      ['x', true],
      ['y', false],
    ]);
    expect(r.quality!.x!.out_of_range_share).toBe(0.5);
    expect(r.alerts[0]).toMatchObject({ transition: 'firing', value: 0.5 });
    // The same version again is the same window: the alert does not fire twice.
    const again = await monitors.run('orders', { now: T0 + MIN });
    expect(again.alerts[0]).toMatchObject({ transition: null, skipped: 'duplicate-window', status: 'firing' });
  });

  it('reads what the serving endpoint logged', async () => {
    await h.register('live', taggedModule('yes'), { signature: SIGNATURE });
    await h.ctx.deployments.deploy('live', { model: 'live/1' });
    await monitors.create({ name: 'live', target: { kind: 'deployment', deployment: 'live' }, reference: 'reference@1', window: { kind: 'count', rows: 10 } });
    const app = await buildApp(h.ctx);
    try {
      const res = await app.inject({ method: 'POST', url: '/api/v1/deployments/live/predict', payload: { rows: [{ x: 2, y: 1, plan: 'pro' }, { x: 30, y: 1, plan: null }, { x: 666, y: 1, plan: 'basic' }] } });
      expect(res.statusCode).not.toBe(200);
      const ok = await app.inject({ method: 'POST', url: '/api/v1/deployments/live/predict', payload: { rows: [{ x: 2, y: 1, plan: 'pro' }, { x: 30, y: 1, plan: null }] } });
      expect(ok.statusCode).toBe(200);
    } finally {
      // Closing the app flushes the prediction log.
      await app.close();
    }
    const r = await monitors.run('live', { now: Date.now() + 1 });
    // The refused request logged its three rows with the error; the good one two rows.
    expect(r.window.rows).toBe(5);
    expect(r.errors).toEqual({ errors: 3, errorRate: 0.6 });
    // x = 30, 666, 30 lie above the reference's maximum 9.9; plan is null in two rows.
    expect(r.quality!.x!.out_of_range_share).toBe(0.6);
    expect(r.quality!.plan!.null_share).toBe(0.4);
    expect(r.quality!.plan!.unseen_share).toBe(0);
  });

  it('stores no NaN for all-null and constant columns', async () => {
    await monitors.create({ name: 'degenerate', target: { kind: 'deployment', deployment: 'churn' }, reference: 'reference@1', window: { kind: 'time', minutes: 10 }, checks: ['feature_drift', 'data_quality'] });
    const end = T0 + 20_000 * MIN;
    await log(Array.from({ length: 50 }, (_, i) => ({ time: end - MIN + i, features: { x: null, y: 3, plan: null } })));
    const r = await monitors.run('degenerate', { now: end });
    const byColumn = Object.fromEntries(r.featureDrift!.columns.map((c) => [c.column, c]));
    expect(byColumn.x).toMatchObject({ status: 'no data', drifted: false, statistic: null });
    expect(byColumn.plan).toMatchObject({ status: 'no data', drifted: false });
    // y is constant at 3 (the reference spreads over 0..9.9): drift, with a finite statistic.
    expect(byColumn.y).toMatchObject({ status: 'ok', drifted: true });
    expect(r.metrics['drift.x.statistic']).toBeUndefined();
    expect(r.quality!.x).toEqual({ null_share: 1, invalid_share: 0, out_of_range_share: 0 });
    expect(r.metrics.feature_drift_share).toBe(1);
    expect(Object.values(r.metrics).every(Number.isFinite)).toBe(true);
    const run = await h.ctx.tracking.getRun(r.runId);
    expect(run.data.metrics.every((m) => Number.isFinite(m.value))).toBe(true);
  });
});
