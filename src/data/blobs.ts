/**
 * Parquet blobs in the artifact store: one per distinct content, named by the
 * sha256 of its bytes (`datasets/blobs/<hash>.parquet`), so identical content
 * is stored once. Also finds a local path DuckDB can read for a blob: the file
 * itself for a local store, else a copy downloaded once into a cache folder.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../artifacts/types.js';
import { LocalArtifactStore } from '../artifacts/local.js';

export function blobKey(contentHash: string): string {
  return `datasets/blobs/${contentHash}.parquet`;
}

/** Bytes per read when hashing: large reads halve the CPU time of a 64 KiB stream (sha256 itself runs at about 1 GB/s). */
const HASH_CHUNK = 4 * 2 ** 20;

/** sha256 (hex) of a file's bytes, read in large chunks (the event loop stays free between them). */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(HASH_CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/**
 * Stores `file` as the blob for `contentHash` unless it is there already.
 * Returns true when this call wrote it (the caller removes it again if the
 * version that needed it is not recorded). With `move`, a file of ours on the
 * local store's file system is synced and renamed into place instead of copied.
 */
export async function putBlob(artifacts: ArtifactStore, contentHash: string, file: string, size: number, { move = false } = {}): Promise<boolean> {
  const key = blobKey(contentHash);
  const existing = await artifacts.stat(key);
  if (existing && !existing.isDir && existing.size === size) return false;
  if (move && artifacts instanceof LocalArtifactStore) {
    const target = path.join(artifacts.root, ...key.split('/'));
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.mkdir(path.dirname(target), { recursive: true });
    try {
      await fsp.rename(file, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
  }
  await artifacts.put(key, fs.createReadStream(file));
  return true;
}

/** A private scratch folder: inside a local store's root (hidden from listings), so finished files can be renamed into place. */
export async function makeWorkDir(artifacts: ArtifactStore): Promise<string> {
  if (artifacts instanceof LocalArtifactStore) {
    await fsp.mkdir(artifacts.root, { recursive: true });
    return fsp.mkdtemp(path.join(artifacts.root, LOCAL_TEMP_PREFIX));
  }
  return fsp.mkdtemp(path.join(os.tmpdir(), 'fw-data-'));
}

/** LocalArtifactStore hides entries starting with ".fw-tmp-". */
const LOCAL_TEMP_PREFIX = '.fw-tmp-data-';

/** A local path of the blob: in place for a local store, else downloaded (atomically) into `cacheDir`. */
export async function localBlobPath(artifacts: ArtifactStore, key: string, cacheDir: string): Promise<string> {
  if (artifacts instanceof LocalArtifactStore) return path.join(artifacts.root, ...key.split('/'));
  const target = path.join(cacheDir, ...key.split('/'));
  if (fs.existsSync(target)) return target;
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await pipeline(await artifacts.get(key), fs.createWriteStream(tmp));
    await fsp.rename(tmp, target);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  return target;
}
