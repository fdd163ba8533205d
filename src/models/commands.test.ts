/**
 * `flywheel models import` in-process against a temporary --home: the
 * fixture classifier imported with its signature read off the model, then
 * loaded back through the registry's URI and predicting the hand-computed
 * outputs; the ZipMap form; signatures from a dataset version (one input per
 * column, and one [N, F] input); and refused imports (corrupt file,
 * signature mismatch, wrong classes) that leave no run and the registry unchanged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { openStore, type Store } from '../store/index.js';
import { Flywheel } from '../sdk/flywheel.js';
import { RegistryService } from '../registry/service.js';
import { registerDataCommands } from '../data/commands.js';
import { runCli, type CliResult } from '../../test/support/cli.js';
import { fixture } from '../../test/fixtures/models/support.js';
import { registerModelCommands } from '../registry/commands.js';
import { registerModelImportCommand } from './commands.js';
import { loadModel } from './load.js';

let home: string;
let scratch: string;

beforeAll(() => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-models-cli-'));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-models-cli-src-'));
});
afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

function program(): Command {
  const p = new Command('flywheel')
    .option('--home <dir>')
    .option('--db <url>')
    .option('--tracking-uri <url>')
    .configureOutput({ outputError: () => {}, writeOut: () => {}, writeErr: () => {} })
    .exitOverride();
  registerDataCommands(p);
  registerModelImportCommand(registerModelCommands(p));
  return p;
}

function run(...args: string[]): Promise<CliResult> {
  return runCli(program(), ['--home', home, ...args]);
}

/** Opens the home's tracking and registry for a check, and closes both. */
async function withHome<T>(fn: (fw: Flywheel, registry: RegistryService) => Promise<T>): Promise<T> {
  const fw = await Flywheel.open({ home, flushIntervalMs: 0 });
  const store: Store = await openStore(resolveConfig({ home }).db);
  try {
    return await fn(fw, new RegistryService({ store, tracking: fw.tracking }));
  } finally {
    await store.close();
    await fw.close();
  }
}

async function importRunCount(name: string): Promise<number> {
  return withHome(async (fw) => {
    const exp = await fw.tracking.getExperimentByName(`models/${name}`).catch(() => null);
    return exp ? (await fw.tracking.searchRuns({ experimentIds: [exp.experimentId] })).items.length : 0;
  });
}

async function versionCount(name: string): Promise<number> {
  return withHome(async (_fw, registry) => {
    const found = await registry.searchModelVersions({ filter: `name = '${name}'` }).catch(() => ({ items: [] }));
    return found.items.length;
  });
}

// σ(−2), σ(1), σ(3): the fixture's P(yes) for these rows (see make-fixtures.ts and onnx.test.ts).
const ROWS = [
  { age: 1, income: 2, visits: 0 },
  { age: 4, income: 0, visits: 1 },
  { age: 10, income: 8, visits: 2 },
];
const P_YES = [0.11920292202211755, 0.7310585786300049, 0.9525741268224334];

describe('flywheel models import', () => {
  it('imports an ONNX classifier, registers version 1, and the registered model predicts the known outputs', async () => {
    const r = await run('models', 'import', fixture('linear-classifier.onnx'), '--name', 'churn', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name: 'churn', version: 1, source: `runs:/${out.runId}/model` });
    expect(out.manifest).toMatchObject({
      flavor: 'onnx',
      task: 'classification',
      classes: ['no', 'yes'],
      files: { model: 'model.onnx' },
      training: { runId: out.runId, dataset: null },
      signature: {
        inputs: [
          { name: 'age', type: 'double', nullable: true },
          { name: 'income', type: 'double', nullable: true },
          { name: 'visits', type: 'long', nullable: false },
        ],
        outputs: [
          { name: 'prediction', type: 'string' },
          { name: 'probability', type: 'double', shape: [-1, 2] },
        ],
      },
    });
    expect(out.manifest.libraries['onnxruntime-node']).toMatch(/^\d+\.\d+\.\d+/);

    await withHome(async (fw, registry) => {
      const run = await fw.tracking.getRun(out.runId);
      expect(run.info.status).toBe('FINISHED');
      expect((await fw.tracking.getExperiment(run.info.experimentId)).name).toBe('models/churn');
      const model = await loadModel(fw.tracking, 'models:/churn/1', { resolveModelUri: (u) => registry.resolveModelUri(u), cacheDir: path.join(scratch, 'cache') });
      try {
        const preds = await model.predict(ROWS);
        expect(preds.map((p) => p.prediction)).toEqual(['no', 'yes', 'yes']);
        preds.forEach((p, i) => expect(p.probability![1]).toBeCloseTo(P_YES[i], 6));
      } finally {
        await model.close();
      }
    });
  });

  it('imports the ZipMap form as version 2 with its classes read off the graph; prints a summary', async () => {
    const r = await run('models', 'import', fixture('linear-classifier-zipmap.onnx'), '--name', 'churn', '--description', 'sklearn export');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Imported linear-classifier-zipmap\.onnx as churn version 2\n/);
    expect(r.stdout).toMatch(/^Classes\s+no, yes$/m);
    expect(r.stdout).toMatch(/^Inputs\s+age double\?, income double\?, visits long$/m);
  });

  it('takes the signature from a dataset version: the columns a per-column model takes, all but --target for an [N, F] model', async () => {
    const csv = path.join(scratch, 'feats.csv');
    fs.writeFileSync(csv, 'customer,age,income,visits,signup,churned\nc1,1.5,2.5,0,2026-01-02,no\nc2,4.5,0.5,1,2026-02-03,yes\n');
    expect((await run('data', 'add', 'feats', csv)).code).toBe(0);
    const r = await run('models', 'import', fixture('linear-classifier.onnx'), '--name', 'churn-data', '--data', 'feats@1', '--target', 'churned', '--json');
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout).manifest;
    expect(m.signature.inputs.map((i: { name: string; type: string }) => `${i.name}:${i.type}`)).toEqual(['age:double', 'income:double', 'visits:long']);
    expect(m.training).toMatchObject({ dataset: 'feats@1', target: 'churned' });
    expect(m.training.datasetVersionId).toMatch(/^[0-9a-f]{32}$/);

    const reg = path.join(scratch, 'reg.csv');
    fs.writeFileSync(reg, 'a,b,c,y\n1.0,2.0,3.0,4.5\n0.5,0.25,8.0,6.75\n');
    expect((await run('data', 'add', 'reg', reg)).code).toBe(0);
    const lr = await run('models', 'import', fixture('linear-regressor.onnx'), '--name', 'price', '--data', 'reg@1', '--target', 'y', '--json');
    expect(lr.stderr).toBe('');
    const lm = JSON.parse(lr.stdout).manifest;
    expect(lm.task).toBe('regression');
    expect(lm.classes).toBeNull();
    // Nullability comes from the version's schema: these columns hold no nulls.
    expect(lm.signature).toEqual({ inputs: [{ name: 'a', type: 'double', nullable: false }, { name: 'b', type: 'double', nullable: false }, { name: 'c', type: 'double', nullable: false }], outputs: [{ name: 'prediction', type: 'double' }] });
  });

  it('a model with one [N, F] input needs --signature or --data', async () => {
    const r = await run('models', 'import', fixture('linear-regressor.onnx'), '--name', 'price2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/linear-regressor\.onnx takes a single tensor X \(float32\[N,3\]\), whose columns have no names: give --signature or --data/);
    const sig = path.join(scratch, 'sig.json');
    fs.writeFileSync(sig, JSON.stringify([{ name: 'a', type: 'double' }, { name: 'b', type: 'double' }, { name: 'c', type: 'long' }]));
    const ok = await run('models', 'import', fixture('linear-regressor.onnx'), '--name', 'price2', '--signature', sig, '--json');
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout).manifest.signature.inputs[2]).toEqual({ name: 'c', type: 'long', nullable: false });
  });

  it('refused imports leave no run and the registry unchanged', async () => {
    const [runsBefore, versionsBefore] = [await importRunCount('churn'), await versionCount('churn')];
    expect(versionsBefore).toBe(2);
    const truncated = path.join(scratch, 'truncated.onnx');
    const whole = fs.readFileSync(fixture('linear-classifier.onnx'));
    fs.writeFileSync(truncated, whole.subarray(0, whole.length - 40));
    const sig = path.join(scratch, 'wrong-sig.json');
    fs.writeFileSync(sig, JSON.stringify({ inputs: [{ name: 'age', type: 'double' }, { name: 'tenure', type: 'double' }, { name: 'visits', type: 'long' }] }));

    const cases: [string[], RegExp][] = [
      [[truncated], /^flywheel: cannot load the ONNX model truncated\.onnx \(corrupt, truncated or not ONNX\?\)/],
      [[fixture('linear-classifier.onnx'), '--signature', sig], /^flywheel: The ONNX model's inputs do not match the signature: the signature has no column income; the model has no input tenure\./],
      [[fixture('linear-classifier.onnx'), '--classes', 'a,b,c'], /^flywheel: --classes lists 3 classes but its probability output has 2 columns/],
      [[fixture('linear-classifier.onnx'), '--task', 'regression'], /^flywheel: The ONNX model's output probabilities \(float32\[N,2\]\) is not one value per row, as a regressor's is/],
      [[path.join(scratch, 'nope.onnx')], /^flywheel: cannot read the model file .*nope\.onnx: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = await run('models', 'import', ...args, '--name', 'churn');
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await importRunCount('churn')).toBe(runsBefore);
    expect(await versionCount('churn')).toBe(versionsBefore);
  });
});
