/** The local-directory artifact store: atomic writes, streaming reads, path safety. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { LocalArtifactStore } from './local.js';
import { validateArtifactPath } from './paths.js';

let dir: string;
let store: LocalArtifactStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-art-'));
  store = new LocalArtifactStore(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('LocalArtifactStore', () => {
  it('puts a stream and reads it back as a stream', async () => {
    const stat = await store.put('runs/r1/model/weights.bin', Readable.from(['hello ', 'world']));
    expect(stat).toMatchObject({ path: 'runs/r1/model/weights.bin', isDir: false, size: 11 });
    expect(await text(await store.get('runs/r1/model/weights.bin'))).toBe('hello world');
  });

  it('replaces a blob whole and leaves no temp files behind', async () => {
    await store.put('a.txt', 'first version');
    await store.put('a.txt', 'second');
    expect(await text(await store.get('a.txt'))).toBe('second');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('keeps the old content when a write fails midway', async () => {
    await store.put('a.txt', 'old');
    const failing = new Readable({
      read() {
        this.push('partial');
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.put('a.txt', failing)).rejects.toThrow('client went away');
    expect(await text(await store.get('a.txt'))).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('lists direct children sorted, with sizes and directory flags', async () => {
    await store.put('r/b.txt', '12');
    await store.put('r/a.txt', '1');
    await store.put('r/sub/c.txt', '123');
    const items = await store.list('r');
    expect(items.map(({ path: p, isDir, size }) => ({ p, isDir, size }))).toEqual([
      { p: 'r/a.txt', isDir: false, size: 1 },
      { p: 'r/b.txt', isDir: false, size: 2 },
      { p: 'r/sub', isDir: true, size: 0 },
    ]);
    expect(await store.list('missing')).toEqual([]);
  });

  it('stats, deletes files and directories', async () => {
    await store.put('d/x.txt', 'x');
    expect(await store.stat('d/x.txt')).toMatchObject({ isDir: false, size: 1 });
    expect(await store.stat('d')).toMatchObject({ isDir: true });
    expect(await store.stat('nope')).toBeNull();
    expect(await store.delete('d')).toBe(true);
    expect(await store.delete('d')).toBe(false);
    await expect(store.get('d/x.txt')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
  });

  it.each(['../escape.txt', 'a/../../b', '/etc/passwd', 'C:\\windows', 'a\0b', '..'])('refuses the unsafe path %j', async (bad) => {
    await expect(store.put(bad, 'x')).rejects.toMatchObject({ code: 'FW_UNSAFE_PATH' });
    await expect(store.get(bad)).rejects.toBeInstanceOf(FlywheelError);
    expect(fs.existsSync(path.join(path.dirname(dir), 'escape.txt'))).toBe(false);
  });
});

describe('validateArtifactPath', () => {
  it('normalizes separators and dots without resolving ..', () => {
    expect(validateArtifactPath('a//b/./c/')).toBe('a/b/c');
    expect(validateArtifactPath('a\\b')).toBe('a/b');
    expect(validateArtifactPath('', { allowRoot: true })).toBe('');
    expect(() => validateArtifactPath('')).toThrow(/empty/);
  });
});
