/**
 * The SDK in both modes through one shared case: embedded (the store in this
 * process) and remote (a real server on an ephemeral port, chosen through
 * FLYWHEEL_TRACKING_URI). The same scenario must leave the same records:
 * params, metric history and latest value, artifact bytes, final status and
 * the reproducibility tags. Errors cross the wire as the same FlywheelError.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flywheel, FlywheelError, trackingUriFromEnv } from '../src/index.js';
import { startTestServer, type TestServer } from './support/listening-server.js';

let server: TestServer;
let workdir: string;

beforeAll(async () => {
  server = await startTestServer();
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sdk-'));
});

afterAll(async () => {
  await server?.close();
  if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as Readable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** The commit the reproducibility tag must name, or null when the repository has none yet. */
function headCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

type Mode = 'embedded' | 'remote';

const MODES: Record<Mode, () => Promise<Flywheel>> = {
  embedded: () => Flywheel.open({ home: fs.mkdtempSync(path.join(workdir, 'home-')) }),
  remote: () => Flywheel.open({}, { FLYWHEEL_TRACKING_URI: server.url }),
};

/** One scenario, run against either mode. */
async function trackingScenario(fw: Flywheel) {
  const model = path.join(workdir, 'model.bin');
  fs.writeFileSync(model, Buffer.from([0, 1, 2, 253, 254, 255]));
  const dataDir = path.join(workdir, 'data');
  fs.mkdirSync(path.join(dataDir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'a.csv'), 'x,y\n1,2\n');
  fs.writeFileSync(path.join(dataDir, 'sub', 'b.csv'), 'z\n3\n');

  const run = await fw.startRun({ experiment: 'churn', name: 'baseline', params: { lr: 0.1, depth: 6 }, tags: { team: 'ml' } });
  expect(run.id).toMatch(/^[0-9a-f]{32}$/);
  expect(run.info.status).toBe('RUNNING');
  await run.logParams({ optimizer: 'adam', shuffle: true });
  await run.logParam('seed', 42);
  for (const [step, loss] of [
    [0, 0.9],
    [1, 0.5],
    [2, 0.25],
  ]) {
    await run.logMetric('loss', loss, { step });
  }
  await run.logMetric('train/grad_norm', Number.NaN, { step: 0 });
  await run.logMetrics({ acc: 0.75, f1: 0.5 }, { step: 2 });
  await run.setTags({ stage: 'dev' });
  expect(await run.logArtifact(model, 'models')).toEqual(['models/model.bin']);
  expect(await run.logArtifact(dataDir)).toEqual(['data/a.csv', 'data/sub/b.csv']);
  await run.logText('# Baseline\n', 'notes/README.md');
  const info = await run.end();
  expect(info.status).toBe('FINISHED');
  expect(typeof info.endTime).toBe('number');

  const stored = await fw.tracking.getRun(run.id);
  expect(stored.info.status).toBe('FINISHED');
  expect(stored.info.runName).toBe('baseline');
  expect((await fw.tracking.getExperiment(stored.info.experimentId)).name).toBe('churn');
  expect(stored.data.params).toEqual({ lr: '0.1', depth: '6', optimizer: 'adam', shuffle: 'true', seed: '42' });

  const latest = Object.fromEntries(stored.data.metrics.map((m) => [m.key, [m.value, m.step]]));
  expect(latest).toEqual({ loss: [0.25, 2], acc: [0.75, 2], f1: [0.5, 2], 'train/grad_norm': [Number.NaN, 0] });

  const history = await fw.tracking.getMetricHistory(run.id, 'loss');
  expect(history.items.map((m) => [m.step, m.value])).toEqual([
    [0, 0.9],
    [1, 0.5],
    [2, 0.25],
  ]);
  const grad = await fw.tracking.getMetricHistory(run.id, 'train/grad_norm');
  expect(grad.items).toHaveLength(1);
  expect(Number.isNaN(grad.items[0].value)).toBe(true);

  expect([...(await readAll(await fw.tracking.getRunArtifact(run.id, 'models/model.bin')))]).toEqual([0, 1, 2, 253, 254, 255]);
  expect((await readAll(await fw.tracking.getRunArtifact(run.id, 'data/sub/b.csv'))).toString('utf8')).toBe('z\n3\n');
  expect((await readAll(await fw.tracking.getRunArtifact(run.id, 'notes/README.md'))).toString('utf8')).toBe('# Baseline\n');
  expect(await fw.tracking.listRunArtifacts(run.id)).toEqual([
    { path: 'data', isDir: true, size: 0 },
    { path: 'models', isDir: true, size: 0 },
    { path: 'notes', isDir: true, size: 0 },
  ]);

  // Reproducibility tags, each against an independent source.
  const tags = stored.data.tags;
  expect(tags.team).toBe('ml');
  expect(tags.stage).toBe('dev');
  expect(tags['mlflow.user']).toBe(os.userInfo().username);
  expect(stored.info.userId).toBe(os.userInfo().username);
  expect(tags['flywheel.runtime.node']).toBe(process.version);
  const commit = headCommit();
  if (commit) expect(tags['mlflow.source.git.commit']).toBe(commit);
  else expect(tags['mlflow.source.git.commit']).toBeUndefined();

  // The rest of tracking through fw.tracking: search, tag removal.
  const experiments = await fw.tracking.searchExperiments({ filter: "name = 'churn'" });
  expect(experiments.items.map((e) => e.experimentId)).toEqual([stored.info.experimentId]);
  const found = await fw.tracking.searchRuns({ experimentIds: [stored.info.experimentId], filter: "params.optimizer = 'adam' and metrics.loss < 0.3", orderBy: ['attributes.start_time DESC'] });
  expect(found.items.map((r) => r.info.runId)).toEqual([run.id]);
  expect(Number.isNaN(found.items[0].data.metrics.find((m) => m.key === 'train/grad_norm')!.value)).toBe(true);
  await fw.tracking.deleteTag(run.id, 'stage');
  expect((await fw.tracking.getRun(run.id)).data.tags.stage).toBeUndefined();

  // withRun: FINISHED when the function resolves, FAILED (and rethrown) when it throws.
  let okId = '';
  const value = await fw.withRun({ experiment: 'churn' }, async (r) => {
    okId = r.id;
    await r.logMetric('loss', 0.1, { step: 0 });
    return 'done';
  });
  expect(value).toBe('done');
  const ok = await fw.tracking.getRun(okId);
  expect(ok.info.status).toBe('FINISHED');
  expect(ok.data.metrics.map((m) => [m.key, m.value])).toEqual([['loss', 0.1]]);

  let failedId = '';
  const boom = new Error('training diverged');
  await expect(
    fw.withRun({ experiment: 'churn', parent: run }, async (r) => {
      failedId = r.id;
      throw boom;
    }),
  ).rejects.toBe(boom);
  const failed = await fw.tracking.getRun(failedId);
  expect(failed.info.status).toBe('FAILED');
  expect(failed.info.parentRunId).toBe(run.id);

  // A param never changes: logging it again with another value is a conflict.
  const again = await fw.startRun({ experiment: 'churn', params: { lr: 0.1 } });
  const conflict = await again.logParam('lr', 0.2).catch((err: unknown) => err);
  expect(conflict).toBeInstanceOf(FlywheelError);
  expect((conflict as FlywheelError).code).toBe('FW_CONFLICT');
  expect((conflict as FlywheelError).message).toContain("Param with key='lr' was already logged with value='0.1'");
  await again.end('KILLED');
  expect((await fw.tracking.getRun(again.id)).info.status).toBe('KILLED');
}

describe.each(Object.keys(MODES) as Mode[])('SDK, %s mode', (mode) => {
  it('records a run the same way', async () => {
    const fw = await MODES[mode]();
    try {
      expect(fw.mode).toBe(mode);
      await trackingScenario(fw);
    } finally {
      await fw.close();
    }
  });
});

describe('SDK, remote mode errors', () => {
  it('turns error bodies back into FlywheelErrors with the same code and message', async () => {
    const fw = await Flywheel.connect(server.url);
    const missing = await fw.tracking.getRun('0123456789abcdef0123456789abcdef').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(FlywheelError);
    expect(missing).toMatchObject({ code: 'FW_NOT_FOUND', message: 'Run with id=0123456789abcdef0123456789abcdef not found' });

    const run = await fw.startRun({ experiment: 'remote-errors', params: { lr: '0.1' } });
    const conflict = await run.logParam('lr', '0.2').catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(FlywheelError);
    expect((conflict as FlywheelError).code).toBe('FW_CONFLICT');
    expect((conflict as FlywheelError).status).toBe(400);
    await run.end();
    await fw.close();
  });

  it('reports an unreachable server as a configuration error', async () => {
    const fw = await Flywheel.connect('http://127.0.0.1:9');
    const err = await fw.tracking.getExperiment('0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_CONFIG');
    expect((err as FlywheelError).message).toContain('http://127.0.0.1:9');
  });
});

describe('choosing the mode from the environment', () => {
  it('prefers FLYWHEEL_TRACKING_URI, accepts an http(s) MLFLOW_TRACKING_URI, ignores other MLflow URIs', () => {
    expect(trackingUriFromEnv({ FLYWHEEL_TRACKING_URI: 'http://a:1', MLFLOW_TRACKING_URI: 'http://b:2' })).toBe('http://a:1');
    expect(trackingUriFromEnv({ MLFLOW_TRACKING_URI: 'https://mlflow.example.com' })).toBe('https://mlflow.example.com');
    expect(trackingUriFromEnv({ MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' })).toBeUndefined();
    expect(trackingUriFromEnv({ MLFLOW_TRACKING_URI: './mlruns' })).toBeUndefined();
    expect(trackingUriFromEnv({})).toBeUndefined();
  });

  it('opens remote from MLFLOW_TRACKING_URI, and embedded when a store is named explicitly', async () => {
    const remote = await Flywheel.open({}, { MLFLOW_TRACKING_URI: server.url });
    expect(remote.mode).toBe('remote');
    expect((await remote.tracking.getExperiment('0')).name).toBe('Default');
    await remote.close();

    const embedded = await Flywheel.open({ home: fs.mkdtempSync(path.join(workdir, 'explicit-')) }, { FLYWHEEL_TRACKING_URI: server.url });
    expect(embedded.mode).toBe('embedded');
    await embedded.close();
  });

  it('refuses a tracking URI that names no HTTP server', async () => {
    await expect(Flywheel.connect('ftp://example.com')).rejects.toMatchObject({ code: 'FW_CONFIG' });
    await expect(Flywheel.open({}, { FLYWHEEL_TRACKING_URI: 'not a url' })).rejects.toMatchObject({ code: 'FW_CONFIG' });
  });
});
