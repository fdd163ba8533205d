/**
 * Test support for serving: a Flywheel home with an opened context, and
 * registered model versions made from small `js` model packages (a module
 * whose predict is written in the test), so deployments have something real
 * to load without training.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, type FlywheelConfig } from '../../src/core/config.js';
import type { ModelManifest, ModelSignature } from '../../src/models/manifest.js';
import { writeModelPackage } from '../../src/models/package.js';
import { openContext, type AppContext } from '../../src/server/context.js';

export type OpenedContext = AppContext & { close(): Promise<void> };

export interface ServingHarness {
  home: string;
  config: FlywheelConfig;
  ctx: OpenedContext;
  /** Registers a new version of `name` whose predict is `module` (an ES module's source); returns its number. */
  register(name: string, module: string, options?: { signature?: ModelSignature; classes?: string[] | null; task?: ModelManifest['task'] }): Promise<number>;
  dispose(): Promise<void>;
}

/** Two inputs (x double, plan string) and a binary classifier's outputs. */
export const TWO_INPUTS: ModelSignature = {
  inputs: [
    { name: 'x', type: 'double' },
    { name: 'plan', type: 'string', nullable: true },
  ],
  outputs: [
    { name: 'prediction', type: 'string' },
    { name: 'probability', type: 'double', shape: [-1, 2] },
  ],
};

/** A classifier answering `tag` for every row, with probability [1 - x/10, x/10]; it throws on x = 666. */
export const taggedModule = (tag: string, delayMs = 0) => `
export async function predict(rows) {
  ${delayMs > 0 ? `await new Promise((r) => setTimeout(r, ${delayMs}));` : ''}
  return rows.map((r) => {
    if (r.x === 666) throw new Error('the model refuses 666');
    return { prediction: ${JSON.stringify(tag)}, probability: [1 - r.x / 10, r.x / 10] };
  });
}
`;

export async function openServingHarness(): Promise<ServingHarness> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-serving-'));
  const config = resolveConfig({ home });
  const ctx = await openContext(config, 'tester');
  const experimentId = (await ctx.tracking.ensureExperiment('serving/test')).experimentId;
  return {
    home,
    config,
    ctx,
    async register(name, module, options = {}) {
      const runId = (await ctx.tracking.createRun({ experimentId })).info.runId;
      const manifest: ModelManifest = {
        format: 1,
        flavor: 'js',
        signature: options.signature ?? TWO_INPUTS,
        task: options.task === undefined ? 'classification' : options.task,
        classes: options.classes === undefined ? ['no', 'yes'] : options.classes,
        files: { module: 'predict.mjs' },
        preprocessing: null,
        training: { runId, dataset: null, datasetVersionId: null, target: null },
        metrics: {},
        libraries: {},
        createdTime: Date.now(),
      };
      const uri = await writeModelPackage(ctx.tracking, runId, { manifest, files: { 'predict.mjs': module } });
      const mv = await ctx.registry.createModelVersion({ name, source: uri, runId, createModel: true });
      return mv.version;
    },
    async dispose() {
      await ctx.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
