/**
 * The CLI as a user runs it: a real process (`node --import tsx
 * src/cli/entry.ts`) against a temporary --home, checking stdout, stderr and
 * exit codes. Data is seeded in-process through the tracking service first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { openContext } from '../server/context.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(ROOT, 'src/cli/entry.ts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FLYWHEEL_') || k.startsWith('MLFLOW_')) delete env[k];
  return { ...env, ...extra };
}

function cli(home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ENTRY, '--home', home, ...args], { cwd: ROOT, env: cleanEnv(env) }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves with the URL from the server's `Flywheel listening on URL` line. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^Flywheel listening on (http:\/\/\S+)/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
  });
}

/** A usage or domain error: exit 2 and exactly one line on stderr, no stack trace. */
function expectOneLineError(r: CliResult, fragment: string): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^flywheel: /);
  expect(lines[0]).toContain(fragment);
}

let home: string;
let goodRunId: string;
let badRunId: string;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-cli-'));
  const ctx = await openContext(resolveConfig({ home }, {}), 'test');
  try {
    const exp = await ctx.tracking.createExperiment({ name: 'churn' });
    const good = await ctx.tracking.createRun({ experimentId: exp.experimentId, runName: 'good' });
    await ctx.tracking.logBatch(good.info.runId, {
      params: [{ key: 'lr', value: '0.01' }],
      metrics: [
        { key: 'acc', value: 0.8, timestamp: 1000, step: 0 },
        { key: 'acc', value: 0.9, timestamp: 2000, step: 1 },
        { key: 'acc', value: 0.95, timestamp: 3000, step: 2 },
      ],
    });
    await ctx.tracking.putRunArtifact(good.info.runId, 'model/weights.bin', new TextEncoder().encode('12345'));
    await ctx.tracking.endRun(good.info.runId, 'FINISHED');
    const bad = await ctx.tracking.createRun({ experimentId: exp.experimentId, runName: 'bad' });
    await ctx.tracking.logBatch(bad.info.runId, {
      params: [{ key: 'lr', value: '0.1' }],
      metrics: [{ key: 'acc', value: 0.5, timestamp: 1000, step: 0 }],
    });
    await ctx.tracking.createRun({ experimentId: '0', runName: 'elsewhere' });
    goodRunId = good.info.runId;
    badRunId = bad.info.runId;
  } finally {
    await ctx.close();
  }
});

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
});

describe.concurrent('flywheel (global)', () => {
  it('prints the version', async () => {
    const r = await cli(home, ['--version']);
    expect(r).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('rejects an unknown command with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['experimnts', 'ls']), "unknown command 'experimnts'");
  });

  it('rejects an unknown option with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['runs', 'ls', '--colour']), "unknown option '--colour'");
  });

  it('rejects a missing argument with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['runs', 'show']), "missing required argument 'run-id'");
  });

  it('reports an unreachable tracking server with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['--tracking-uri', 'http://127.0.0.1:9', 'experiments', 'ls']), 'Cannot reach the tracking server at http://127.0.0.1:9');
  });
});

describe('flywheel experiments', () => {
  it('lists active experiments as JSON', async () => {
    const r = await cli(home, ['experiments', 'ls', '--json']);
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { experiments: { experimentId: string; name: string }[] }).experiments.map((e) => [e.experimentId, e.name]);
    expect(names).toEqual([
      ['0', 'Default'],
      ['1', 'churn'],
    ]);
  });

  it('lists experiments as an aligned table', async () => {
    const r = await cli(home, ['experiments', 'ls']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID {2}NAME {5}CREATED {14}ARTIFACT LOCATION$/);
    expect(lines[1]).toMatch(/^ 0 {2}Default {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}mlflow-artifacts:\/0$/);
    expect(lines[2]).toMatch(/^ 1 {2}churn {4}/);
  });

  it('creates, renames, deletes and restores an experiment', async () => {
    const home2 = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-cli-exp-'));
    try {
      const created = await cli(home2, ['experiments', 'create', 'ranking', '--tag', 'team=search', '--tag', 'q=a=b', '--json']);
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({
        experimentId: '1',
        name: 'ranking',
        artifactLocation: 'mlflow-artifacts:/1',
        lifecycleStage: 'active',
        tags: { team: 'search', q: 'a=b' },
      });

      const dup = await cli(home2, ['experiments', 'create', 'ranking']);
      expectOneLineError(dup, "Experiment 'ranking' already exists");

      const renamed = await cli(home2, ['experiments', 'rename', 'ranking', 'ranking-v2']);
      expect(renamed).toEqual({ code: 0, stdout: "Renamed experiment 1 to 'ranking-v2'\n", stderr: '' });

      expect((await cli(home2, ['experiments', 'delete', '1'])).code).toBe(0);
      const deleted = JSON.parse((await cli(home2, ['experiments', 'ls', '--deleted', '--json'])).stdout) as { experiments: { name: string; lifecycleStage: string }[] };
      expect(deleted.experiments.map((e) => [e.name, e.lifecycleStage])).toEqual([['ranking-v2', 'deleted']]);
      const active = JSON.parse((await cli(home2, ['experiments', 'ls', '--json'])).stdout) as { experiments: { name: string }[] };
      expect(active.experiments.map((e) => e.name)).toEqual(['Default']);

      expect((await cli(home2, ['experiments', 'restore', 'ranking-v2'])).code).toBe(0);
      const all = JSON.parse((await cli(home2, ['experiments', 'ls', '--all', '--json'])).stdout) as { experiments: { name: string; lifecycleStage: string }[] };
      expect(all.experiments.map((e) => [e.name, e.lifecycleStage])).toEqual([
        ['Default', 'active'],
        ['ranking-v2', 'active'],
      ]);
    } finally {
      fs.rmSync(home2, { recursive: true, force: true });
    }
  });

  it('rejects a --tag without "=" as a usage error', async () => {
    expectOneLineError(await cli(home, ['experiments', 'create', 'x', '--tag', 'team']), 'expected key=value');
  });

  it('rejects an unknown experiment with exit 2', async () => {
    expectOneLineError(await cli(home, ['experiments', 'delete', 'no-such-experiment']), "no experiment with id or name 'no-such-experiment'");
  });
});

describe.concurrent('flywheel runs', () => {
  it('lists the runs of one experiment as JSON', async () => {
    const r = await cli(home, ['runs', 'ls', '--experiment', 'churn', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: { info: { runName: string } }[]; nextPageToken: string | null };
    expect(doc.runs.map((x) => x.info.runName).sort()).toEqual(['bad', 'good']);
    expect(doc.nextPageToken).toBeNull();
  });

  it('lists runs of all active experiments in a table with metric and param columns', async () => {
    const r = await cli(home, ['runs', 'ls']);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^RUN ID +NAME +EXPERIMENT +STATUS +STARTED +DURATION +metrics\.acc +params\.lr$/);
    expect(rows).toHaveLength(3);
    const good = rows.find((l) => l.startsWith(goodRunId))!;
    expect(good).toMatch(/ good +churn +FINISHED .* 0\.95 +0\.01$/);
    const bad = rows.find((l) => l.startsWith(badRunId))!;
    expect(bad).toMatch(/ bad +churn +RUNNING .* - +0\.5 +0\.1$/);
  });

  it('shows one run with params, latest metrics, tags and artifacts', async () => {
    const r = await cli(home, ['runs', 'show', goodRunId, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.info).toMatchObject({ runId: goodRunId, runName: 'good', experimentId: '1', status: 'FINISHED' });
    expect(doc.experimentName).toBe('churn');
    expect(doc.data.params).toEqual({ lr: '0.01' });
    expect(doc.data.metrics).toEqual([{ key: 'acc', value: 0.95, timestamp: 3000, step: 2 }]);
    expect(doc.data.tags['mlflow.runName']).toBe('good');
    expect(doc.artifacts).toEqual([
      { path: 'model', isDir: true, size: 0 },
      { path: 'model/weights.bin', isDir: false, size: 5 },
    ]);

    const text = await cli(home, ['runs', 'show', goodRunId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Run ${goodRunId}\n`);
    expect(text.stdout).toContain("  experiment    1 'churn'\n");
    expect(text.stdout).toContain('Params\n  lr  0.01\n');
    expect(text.stdout).toContain('Metrics (latest)\n  acc  0.95  (step 2)\n');
    expect(text.stdout).toContain('Artifacts\n  model/weights.bin  5 B\n');
  });

  it('answers an unknown run id with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['runs', 'show', 'ffffffffffffffffffffffffffffffff']), 'Run with id=ffffffffffffffffffffffffffffffff not found');
  });

  it('searches runs with an MLflow filter', async () => {
    const r = await cli(home, ['runs', 'search', '--filter', 'metrics.acc > 0.9', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { runs: { info: { runName: string } }[] }).runs.map((x) => x.info.runName)).toEqual(['good']);

    const both = await cli(home, ['runs', 'search', '--filter', "params.lr = '0.1' AND metrics.acc < 0.9", '--experiment', 'churn', '--json']);
    expect((JSON.parse(both.stdout) as { runs: { info: { runName: string } }[] }).runs.map((x) => x.info.runName)).toEqual(['bad']);
  });

  it('orders and pages search results', async () => {
    const asc = await cli(home, ['runs', 'search', '--experiment', 'churn', '--order-by', 'metrics.acc ASC', '--json']);
    expect((JSON.parse(asc.stdout) as { runs: { info: { runName: string } }[] }).runs.map((x) => x.info.runName)).toEqual(['bad', 'good']);

    const first = JSON.parse((await cli(home, ['runs', 'search', '--experiment', '1', '--order-by', 'metrics.acc DESC', '--max', '1', '--json'])).stdout);
    expect(first.runs.map((x: { info: { runName: string } }) => x.info.runName)).toEqual(['good']);
    expect(typeof first.nextPageToken).toBe('string');
    const second = JSON.parse(
      (await cli(home, ['runs', 'search', '--experiment', '1', '--order-by', 'metrics.acc DESC', '--max', '1', '--page-token', first.nextPageToken, '--json'])).stdout,
    );
    expect(second.runs.map((x: { info: { runName: string } }) => x.info.runName)).toEqual(['bad']);
    expect(second.nextPageToken).toBeNull();
  });

  it('rejects a malformed filter with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['runs', 'search', '--filter', 'metrics.acc >']), 'metrics.acc >');
  });

  it('rejects a bad --max with one line and exit 2', async () => {
    expectOneLineError(await cli(home, ['runs', 'ls', '--max', 'ten']), "option '--max <n>' argument 'ten' is invalid");
  });
});

describe('flywheel server', () => {
  it('serves until SIGTERM, then shuts down cleanly with exit 0; a busy port is exit 2', async () => {
    const serverHome = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-cli-server-'));
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--home', serverHome, 'server', '--port', '0'], {
      cwd: ROOT,
      env: cleanEnv({ FLYWHEEL_LOG_LEVEL: 'warn' }),
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await listeningUrl(child);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const created = await fetch(`${url}/api/2.0/mlflow/experiments/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'over-http' }),
      });
      expect(await created.json()).toEqual({ experiment_id: '1' });

      // The same commands work against the server with --tracking-uri.
      const remoteHome = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-cli-remote-'));
      try {
        const remote = await cli(remoteHome, ['--tracking-uri', url, 'experiments', 'create', 'via-cli', '--json']);
        expect(remote.code).toBe(0);
        expect(JSON.parse(remote.stdout)).toMatchObject({ experimentId: '2', name: 'via-cli' });
        const runs = await cli(remoteHome, ['--tracking-uri', url, 'runs', 'ls', '--json']);
        expect(JSON.parse(runs.stdout)).toEqual({ runs: [], nextPageToken: null });
        expectOneLineError(await cli(remoteHome, ['--tracking-uri', url, 'runs', 'show', 'ffffffffffffffffffffffffffffffff']), 'Run with id=ffffffffffffffffffffffffffffffff not found');
        expectOneLineError(await cli(remoteHome, ['--tracking-uri', url, 'runs', 'search', '--filter', 'metrics.acc >']), 'metrics.acc >');
      } finally {
        fs.rmSync(remoteHome, { recursive: true, force: true });
      }

      const port = new URL(url).port;
      const busy = await cli(serverHome, ['server', '--port', port]);
      expect(busy.code).toBe(2);
      expect(busy.stderr.split('\n')).toContain(`flywheel: port ${port} on 127.0.0.1 is already in use; stop the other server or pick another with --port`);
      expect(busy.stderr).not.toMatch(/^\s+at /m);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('flywheel: SIGTERM received, shutting down');

      // What the server wrote is in the store once it has stopped.
      const ls = await cli(serverHome, ['experiments', 'ls', '--json']);
      expect((JSON.parse(ls.stdout) as { experiments: { name: string }[] }).experiments.map((e) => e.name)).toEqual(['Default', 'over-http', 'via-cli']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(serverHome, { recursive: true, force: true });
    }
  });

  it('serves the pipelines of --pipelines FILE', async () => {
    const serverHome = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-cli-server-'));
    const file = path.join(serverHome, 'elsewhere.yaml');
    fs.writeFileSync(file, 'pipelines:\n  nightly:\n    steps:\n      hello: { cmd: "echo hi" }\n');
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--home', serverHome, 'server', '--port', '0', '--pipelines', file, '--no-scheduler'], {
      cwd: ROOT,
      env: cleanEnv({ FLYWHEEL_LOG_LEVEL: 'warn' }),
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await listeningUrl(child);
      const listed = (await (await fetch(`${url}/api/v1/pipelines`)).json()) as { pipelines: { name: string }[] };
      expect(listed.pipelines.map((p) => p.name)).toEqual(['nightly']);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(serverHome, { recursive: true, force: true });
    }
  });
});
