/**
 * Packages as run artifacts on a real store and artifact directory: written
 * under `model/` with the manifest, read back into a cache directory keyed by
 * run id (once), refused when the manifest is bad, names a file that is not
 * there, or the run already holds a package; a run without one is not found.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { manifest, openTrackingHarness, type TrackingHarness } from '../../test/fixtures/models/support.js';
import { parseRunsUri, readModelPackage, writeModelPackage } from './package.js';

let h: TrackingHarness;
beforeAll(async () => {
  h = await openTrackingHarness();
});
afterAll(async () => {
  await h?.dispose();
});

async function rejection(p: Promise<unknown>): Promise<FlywheelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

describe('model packages', () => {
  it('writes files and manifest under model/ and reads them back into the cache', async () => {
    const runId = await h.newRun();
    const m = manifest({ training: { runId, dataset: 'orders@3', datasetVersionId: 'v'.repeat(32), target: 'churned' }, metrics: { auc: 0.91 } });
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const uri = await writeModelPackage(h.tracking, runId, { manifest: m, files: { 'model.onnx': bytes, 'notes/README.md': '# churn\n' } });
    expect(uri).toBe(`runs:/${runId}/model`);

    const listed = (await h.tracking.listRunArtifacts(runId, 'model')).map((e) => e.path);
    expect(listed).toEqual(['model/flywheel-model.json', 'model/model.onnx', 'model/notes']);

    const pkg = await readModelPackage(h.tracking, uri, { cacheDir: h.cacheDir });
    expect(pkg.runId).toBe(runId);
    expect(pkg.source).toBe(uri);
    expect(pkg.dir).toBe(path.join(h.cacheDir, runId, 'model'));
    expect(pkg.manifest).toEqual({ ...m, signature: { ...m.signature, inputs: m.signature.inputs.map((i) => ({ ...i, nullable: i.nullable === true })) } });
    expect(new Uint8Array(fs.readFileSync(path.join(pkg.dir, 'model.onnx')))).toEqual(bytes);
    expect(fs.readFileSync(path.join(pkg.dir, 'notes/README.md'), 'utf8')).toBe('# churn\n');
    // No temporary directories are left beside the cached package.
    expect(fs.readdirSync(path.join(h.cacheDir, runId))).toEqual(['model']);

    // A second read uses the cache: it works even when the store no longer serves the file.
    fs.rmSync(path.join(h.dir, 'artifacts'), { recursive: true, force: true });
    const again = await readModelPackage(h.tracking, uri, { cacheDir: h.cacheDir });
    expect(again.manifest.metrics).toEqual({ auc: 0.91 });
  });

  it('refuses a second package in the same run', async () => {
    const runId = await h.newRun();
    await writeModelPackage(h.tracking, runId, { manifest: manifest(), files: { 'model.onnx': new Uint8Array([1]) } });
    const err = await rejection(writeModelPackage(h.tracking, runId, { manifest: manifest(), files: { 'model.onnx': new Uint8Array([2]) } }));
    expect(err.code).toBe('FW_ALREADY_EXISTS');
  });

  it('refuses a bad manifest or a missing file before writing anything', async () => {
    const runId = await h.newRun();
    const bad = await rejection(writeModelPackage(h.tracking, runId, { manifest: manifest({ task: 'clustering' as never }), files: { 'model.onnx': 'x' } }));
    expect(bad.code).toBe('FW_INVALID_ARGUMENT');
    expect(bad.message).toMatch(/^manifest\.task must be one of/);
    const missing = await rejection(writeModelPackage(h.tracking, runId, { manifest: manifest(), files: { 'other.onnx': 'x' } }));
    expect(missing.message).toMatch(/^manifest\.files\.model names "model\.onnx", which is not among the package files \(other\.onnx\)/);
    const escaping = await rejection(writeModelPackage(h.tracking, runId, { manifest: manifest(), files: { 'model.onnx': 'x', '../up': 'x' } }));
    expect(escaping.message).toMatch(/^package file "\.\.\/up"/);
    expect(await h.tracking.listRunArtifacts(runId, 'model')).toEqual([]);
  });

  it('a run without a package, an unknown run and a malformed URI are clear errors', async () => {
    const runId = await h.newRun();
    const none = await rejection(readModelPackage(h.tracking, `runs:/${runId}/model`, { cacheDir: h.cacheDir }));
    expect(none.code).toBe('FW_NOT_FOUND');
    expect(none.message).toBe(`no model package at runs:/${runId}/model (the run has no model/flywheel-model.json)`);
    const unknown = await rejection(readModelPackage(h.tracking, `runs:/${'0'.repeat(32)}/model`, { cacheDir: h.cacheDir }));
    expect(unknown.code).toBe('FW_NOT_FOUND');
    expect(unknown.message).toMatch(/^no model package at runs:\/0{32}\/model: /);
    expect((await rejection(readModelPackage(h.tracking, 'churn/3', { cacheDir: h.cacheDir }))).code).toBe('FW_INVALID_ARGUMENT');
    expect(parseRunsUri('runs:/abc123/deep/model/')).toEqual({ runId: 'abc123', artifactPath: 'deep/model' });
  });
});
