/**
 * Local-directory artifact backend (embedded default, `.flywheel/artifacts`).
 * Writes go to a temp file in the same directory, are fsynced, then renamed
 * over the target, so a crash leaves the old blob or the new one.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { FlywheelError } from '../core/errors.js';
import type { ArtifactStat, ArtifactStore } from './types.js';
import { validateArtifactPath } from './paths.js';

const TEMP_PREFIX = '.fw-tmp-';

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly rootUri: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.rootUri = pathToFileURL(this.root).href;
  }

  private resolve(key: string, allowRoot = false): { key: string; file: string } {
    const k = validateArtifactPath(key, { allowRoot });
    return { key: k, file: k === '' ? this.root : path.join(this.root, ...k.split('/')) };
  }

  async put(key: string, body: Readable | Uint8Array | string): Promise<ArtifactStat> {
    const { key: k, file } = this.resolve(key);
    const dir = path.dirname(file);
    await fsp.mkdir(dir, { recursive: true });
    const existing = await fsp.stat(file).catch(() => null);
    if (existing?.isDirectory()) throw new FlywheelError('FW_INVALID_ARGUMENT', `artifact "${k}" is a directory`);
    const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      const source = typeof body === 'string' || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
      const out = fs.createWriteStream(tmp, { flags: 'wx' });
      await pipeline(source, out);
      const fh = await fsp.open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    const st = await fsp.stat(file);
    return { path: k, isDir: false, size: st.size, modifiedAt: st.mtimeMs };
  }

  async get(key: string): Promise<Readable> {
    const { key: k, file } = this.resolve(key);
    const st = await fsp.stat(file).catch(() => null);
    if (!st || !st.isFile()) throw new FlywheelError('FW_NOT_FOUND', `artifact "${k}" does not exist`);
    return fs.createReadStream(file);
  }

  async stat(key: string): Promise<ArtifactStat | null> {
    const { key: k, file } = this.resolve(key, true);
    const st = await fsp.stat(file).catch(() => null);
    if (!st) return null;
    return { path: k, isDir: st.isDirectory(), size: st.isDirectory() ? 0 : st.size, modifiedAt: st.mtimeMs };
  }

  async list(prefix: string): Promise<ArtifactStat[]> {
    const { key: k, file } = this.resolve(prefix, true);
    const entries = await fsp.readdir(file, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
      throw err;
    });
    const out: ArtifactStat[] = [];
    for (const e of entries) {
      if (e.name.startsWith(TEMP_PREFIX)) continue;
      const child = k === '' ? e.name : `${k}/${e.name}`;
      const st = await fsp.stat(path.join(file, e.name)).catch(() => null);
      if (!st) continue;
      out.push({ path: child, isDir: st.isDirectory(), size: st.isDirectory() ? 0 : st.size, modifiedAt: st.mtimeMs });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(key: string): Promise<boolean> {
    const { file } = this.resolve(key);
    const st = await fsp.stat(file).catch(() => null);
    if (!st) return false;
    await fsp.rm(file, { recursive: true, force: true });
    return true;
  }
}
