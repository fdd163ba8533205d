/**
 * Model packages as run artifacts: a package is the directory `model/` of a
 * tracking run (URI `runs:/<runId>/model`), holding `flywheel-model.json` and
 * the files it names. Writing goes through `TrackingApi.putRunArtifact`, so it
 * works the same embedded and against a server; the manifest is written last,
 * so a package whose upload failed halfway has no manifest and never loads.
 *
 * Reading downloads the package once into a cache directory keyed by run id
 * (under os.tmpdir() unless told otherwise). A download goes to a temporary
 * directory that is renamed into place when complete, so a reader never sees
 * half a package and concurrent readers do not trip over each other; since
 * a package is never rewritten (writing over one is refused), a cached copy
 * never goes stale.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { alreadyExists, FlywheelError, invalidArgument, notFound } from '../core/errors.js';
import { validateArtifactPath } from '../artifacts/paths.js';
import type { TrackingApi } from '../tracking/api.js';
import { MANIFEST_FILE, parseManifest, parseManifestJson, type ModelManifest } from './manifest.js';

/** Where a run keeps its model package. */
export const MODEL_ARTIFACT_PATH = 'model';

export interface ModelPackageInput {
  manifest: ModelManifest;
  /** Package-relative path → content (a string is written as UTF-8). */
  files: Record<string, Uint8Array | string>;
}

export interface ModelPackage {
  manifest: ModelManifest;
  /** Local directory holding the package's files. */
  dir: string;
  runId: string;
  /** `runs:/<runId>/<path>` */
  source: string;
}

/** `runs:/<runId>/<path>` */
export function runsUri(runId: string, artifactPath = MODEL_ARTIFACT_PATH): string {
  return `runs:/${runId}/${artifactPath}`;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Splits `runs:/<runId>/<path>` (MLflow's form); the path defaults to nothing and is required here. */
export function parseRunsUri(uri: string): { runId: string; artifactPath: string } {
  const m = typeof uri === 'string' ? /^runs:\/+([^/]+)\/(.+)$/.exec(uri) : null;
  if (!m || !RUN_ID.test(m[1])) {
    throw invalidArgument(`${JSON.stringify(uri)} is not a model URI: expected runs:/<run id>/model (or models:/<name>@<alias>, models:/<name>/<version>)`);
  }
  let artifactPath: string;
  try {
    artifactPath = validateArtifactPath(m[2].replace(/\/+$/, ''));
  } catch (err) {
    throw invalidArgument(`model URI ${uri}: ${(err as Error).message}`);
  }
  return { runId: m[1], artifactPath };
}

function normalizeFilePath(rel: string): string {
  let key: string;
  try {
    key = validateArtifactPath(rel);
  } catch (err) {
    throw invalidArgument(`package file "${rel}": ${(err as Error).message}`, { field: `files.${rel}` });
  }
  if (key === MANIFEST_FILE) throw invalidArgument(`package file "${rel}" would overwrite the manifest; the manifest is passed as \`manifest\``, { field: `files.${rel}` });
  return key;
}

/**
 * Stores `files` and the manifest as the run's artifacts under `model/` and
 * returns `runs:/<runId>/model`. The manifest is checked first (a bad field is
 * FW_INVALID_ARGUMENT naming it), and every file it names must be among
 * `files`. A run holds at most one package: writing a second is FW_ALREADY_EXISTS.
 */
export async function writeModelPackage(tracking: TrackingApi, runId: string, input: ModelPackageInput, options: { artifactPath?: string } = {}): Promise<string> {
  const base = validateArtifactPath(options.artifactPath ?? MODEL_ARTIFACT_PATH);
  const manifest = parseManifest(input.manifest);
  if (typeof input.files !== 'object' || input.files === null) throw invalidArgument('files must be an object of package-relative path → content');
  const files = new Map<string, Uint8Array>();
  for (const [rel, content] of Object.entries(input.files)) {
    const key = normalizeFilePath(rel);
    if (files.has(key)) throw invalidArgument(`package file "${rel}" is given twice`, { field: `files.${rel}` });
    if (typeof content === 'string') files.set(key, Buffer.from(content, 'utf8'));
    else if (content instanceof Uint8Array) files.set(key, content);
    else throw invalidArgument(`package file "${rel}" must be a string or bytes`, { field: `files.${rel}` });
  }
  for (const [role, rel] of Object.entries(manifest.files)) {
    if (!files.has(rel)) throw invalidArgument(`manifest.files.${role} names "${rel}", which is not among the package files (${[...files.keys()].join(', ') || 'none'})`, { field: `manifest.files.${role}` });
  }
  const existing = await tracking.listRunArtifacts(runId, base);
  if (existing.some((e) => e.path === `${base}/${MANIFEST_FILE}`)) {
    throw alreadyExists(`run ${runId} already holds a model package at ${base}/ (packages are immutable: write the new one from a new run)`);
  }
  for (const [key, bytes] of files) await tracking.putRunArtifact(runId, `${base}/${key}`, bytes);
  await tracking.putRunArtifact(runId, `${base}/${MANIFEST_FILE}`, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'));
  return runsUri(runId, base);
}

/** The default cache of downloaded packages. */
export function defaultPackageCacheDir(): string {
  return path.join(os.tmpdir(), 'flywheel-models');
}

/** Reads and checks a package already on disk: the manifest parses and every file it names is there. */
export async function readPackageDir(dir: string): Promise<ModelManifest> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fsp.readFile(manifestFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`${dir} is not a model package (no ${MANIFEST_FILE})`);
    throw err;
  }
  const manifest = parseManifestJson(text, manifestFile);
  for (const [role, rel] of Object.entries(manifest.files)) {
    const st = await fsp.stat(path.join(dir, rel)).catch(() => null);
    if (!st?.isFile()) throw invalidArgument(`the model package names ${rel} (files.${role}) but does not hold it`, { field: `manifest.files.${role}` });
  }
  return manifest;
}

/** Copies the run's artifacts below `base` (walking down from `dir`) into `into`, keeping paths relative to `base`. */
async function download(tracking: TrackingApi, runId: string, base: string, into: string, dir = base): Promise<void> {
  const entries = await tracking.listRunArtifacts(runId, dir);
  for (const e of entries) {
    const rel = e.path.slice(base.length + 1);
    // Listing paths come from the store; still refuse anything that would leave the directory.
    const target = path.join(into, validateArtifactPath(rel));
    if (e.isDir) {
      await fsp.mkdir(target, { recursive: true });
      await download(tracking, runId, base, into, e.path);
    } else {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      const body = await tracking.getRunArtifact(runId, e.path);
      await pipeline(body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>), fs.createWriteStream(target));
    }
  }
}

/**
 * Fetches the package at `runs:/<runId>/<path>` into the local cache (once)
 * and returns its manifest and directory. A run without a package is
 * FW_NOT_FOUND.
 */
export async function readModelPackage(tracking: TrackingApi, uri: string, options: { cacheDir?: string } = {}): Promise<ModelPackage> {
  const { runId, artifactPath } = parseRunsUri(uri);
  const source = runsUri(runId, artifactPath);
  const root = options.cacheDir ?? defaultPackageCacheDir();
  const finalDir = path.join(root, runId, encodeURIComponent(artifactPath));
  if (fs.existsSync(path.join(finalDir, MANIFEST_FILE))) return { manifest: await readPackageDir(finalDir), dir: finalDir, runId, source };

  // Ask for the manifest first: "no package here" deserves its own error, before any download.
  try {
    const listing = await tracking.listRunArtifacts(runId, artifactPath);
    if (!listing.some((e) => e.path === `${artifactPath}/${MANIFEST_FILE}`)) throw notFound(`no model package at ${source} (the run has no ${artifactPath}/${MANIFEST_FILE})`);
  } catch (err) {
    if (err instanceof FlywheelError && err.code === 'FW_NOT_FOUND' && !err.message.startsWith('no model package')) throw notFound(`no model package at ${source}: ${err.message}`);
    throw err;
  }
  await fsp.mkdir(path.dirname(finalDir), { recursive: true });
  const temp = `${finalDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.mkdir(temp, { recursive: true });
    await download(tracking, runId, artifactPath, temp);
    await readPackageDir(temp);
    try {
      await fsp.rename(temp, finalDir);
    } catch (err) {
      // Another reader finished first: its copy is the same immutable package.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw err;
    }
  } finally {
    await fsp.rm(temp, { recursive: true, force: true });
  }
  return { manifest: await readPackageDir(finalDir), dir: finalDir, runId, source };
}
