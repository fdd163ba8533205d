/**
 * `flywheel models …` as a user sees it: register from a run, list, show,
 * versions, alias and unalias, JSON output, and bad input exiting 2 with one
 * line. Commands run in-process on a real RegistryService over SQLite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { LocalArtifactStore } from '../artifacts/local.js';
import { listEvents } from '../events/service.js';
import { openStore, type Store } from '../store/index.js';
import { TrackingService } from '../tracking/service.js';
import { registerModelCommands, withLocalRegistry, type WithRegistry } from './commands.js';
import { RegistryService } from './service.js';

let dir: string;
let store: Store;
let tracking: TrackingService;
let registry: RegistryService;
let runId: string;

function cli(...args: string[]): Promise<CliResult> {
  const withRegistry: WithRegistry = (_globals, fn) => fn(registry);
  const program = new Command('flywheel').exitOverride().configureOutput({ outputError: () => {} });
  registerModelCommands(program, withRegistry);
  return runCli(program, args);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-models-cli-'));
  store = await openStore(`sqlite:${path.join(dir, 'flywheel.db')}`);
  tracking = new TrackingService(store, { actor: 'ana', artifacts: new LocalArtifactStore(path.join(dir, 'artifacts')) });
  registry = new RegistryService({ store, tracking, actor: 'ana' });
  runId = (await tracking.createRun({ experimentId: '0' })).info.runId;
  await tracking.putRunArtifact(runId, 'model/flywheel-model.json', Buffer.from(JSON.stringify({ format: 1, flavor: 'onnx', signature: {}, task: 'classification' })));
});

afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('flywheel models', () => {
  it('register creates the model and prints the new version', async () => {
    const r = await cli('models', 'register', 'churn', `runs:/${runId}/model`, '-d', 'baseline', '--tag', 'data=orders@3');
    expect(r).toEqual({ code: 0, stdout: `Registered churn version 1 from runs:/${runId}/model (flavor onnx)\n`, stderr: '' });
    const json = await cli('models', 'register', 'churn', `runs:/${runId}/model`, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'churn', version: 2, flavor: 'onnx', runId, userId: expect.any(String) });
    expect((await registry.getModelVersion('churn', 1)).tags).toEqual({ data: 'orders@3' });
  });

  it('alias points an alias at a version and says what it was; unalias removes it', async () => {
    expect((await cli('models', 'alias', 'churn', 'champion', '1')).stdout).toBe('churn@champion → version 1 (new)\n');
    expect((await cli('models', 'alias', 'churn', 'champion', '2')).stdout).toBe('churn@champion → version 2 (was version 1)\n');
    expect((await cli('models', 'alias', 'churn', 'champion', '2')).stdout).toBe('churn@champion → version 2 (unchanged)\n');
    await cli('models', 'alias', 'churn', 'challenger', '1');
    expect((await cli('models', 'unalias', 'churn', 'challenger')).stdout).toBe('Removed churn@challenger (was version 1)\n');
    const kinds = (await listEvents(store.db, { entityType: 'registered_model', entityId: 'churn' })).map((e) => `${e.kind}:${e.actor}`);
    expect(kinds.filter((k) => k.startsWith('model_alias'))).toEqual(['model_alias.set:ana', 'model_alias.moved:ana', 'model_alias.set:ana', 'model_alias.deleted:ana']);
  });

  it('ls, show and versions print tables; --json prints the records', async () => {
    await registry.createRegisteredModel({ name: 'fraud', description: 'card fraud' });
    const ls = await cli('models', 'ls');
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+LATEST\s+ALIASES\s+UPDATED\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^churn\s+2\s+champion=2\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(lines[2]).toMatch(/^fraud\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+card fraud$/);
    expect(JSON.parse((await cli('models', 'ls', '--filter', "name = 'fraud'", '--json')).stdout).map((m: { name: string }) => m.name)).toEqual(['fraud']);

    const show = await cli('models', 'show', 'churn');
    expect(show.stdout).toMatch(/^name\s+churn\n/);
    expect(show.stdout).toMatch(/\naliases\s+champion=2\n/);
    expect(show.stdout).toContain('\nVersions:\nVERSION  STAGE  ALIASES   FLAVOR  RUN');

    const versions = await cli('models', 'versions', 'churn');
    const rows = versions.stdout.trimEnd().split('\n').slice(1);
    expect(rows.map((l) => l.trim().split(/\s{2,}/).slice(0, 4))).toEqual([
      ['2', 'None', 'champion', 'onnx'],
      ['1', 'None', 'onnx', runId],
    ]);
    expect(JSON.parse((await cli('models', 'versions', 'churn', '--json')).stdout).map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it('bad input exits 2 with one line, and changes nothing', async () => {
    const before = await registry.getRegisteredModelDetail('churn');
    const cases: [string[], RegExp][] = [
      [['models', 'alias', 'churn', 'latest', '1'], /'latest' alias name \(case insensitive\) is reserved/],
      [['models', 'alias', 'churn', 'champion', '7'], /Model Version \(name=churn, version=7\) not found/],
      [['models', 'alias', 'churn', 'champion', 'two'], /VERSION must be a version number/],
      [['models', 'unalias', 'churn', 'nope'], /alias nope not found/],
      [['models', 'show', 'ghost'], /Registered Model with name=ghost not found/],
      [['models', 'register', 'churn', 'runs:/nope/model'], /Invalid model URI/],
      [['models', 'register', 'churn', `runs:/${'a'.repeat(32)}/model`], /not found/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toContain('\n');
    }
    expect(await registry.getRegisteredModelDetail('churn')).toEqual(before);
  });

  it('refuses a tracking server: the commands work on the local store', async () => {
    await expect(withLocalRegistry({ trackingUri: 'http://127.0.0.1:5000' }, async () => 0)).rejects.toMatchObject({
      code: 'FW_INVALID_ARGUMENT',
      message: expect.stringContaining('http://127.0.0.1:5000/api/v1/models'),
    });
  });
});
