/** Source resolution without DuckDB: formats from names, globs, missing and empty files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, formatFromName, globToRegExp, resolveSource } from './sources.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sources-'));
  for (const f of ['a.csv', 'b.csv', 'c.tsv', 'sub/d.csv', 'sub/deeper/e.csv', 'empty.csv']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), f === 'empty.csv' ? '' : 'x\n1\n');
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('formats', () => {
  it('come from the extension, compression suffixes aside', () => {
    expect(['a.csv', 'a.TSV', 'a.tab', 'a.parquet', 'a.pq', 'a.json', 'a.jsonl', 'a.ndjson', 'a.csv.gz', 'a.txt'].map(formatFromName)).toEqual([
      'csv',
      'tsv',
      'tsv',
      'parquet',
      'parquet',
      'json',
      'ndjson',
      'ndjson',
      'csv',
      null,
    ]);
  });
});

describe('globs', () => {
  it('translate *, **, ?, [..] and {a,b}', () => {
    expect(globToRegExp('/d/*.csv').test('/d/a.csv')).toBe(true);
    expect(globToRegExp('/d/*.csv').test('/d/sub/a.csv')).toBe(false);
    expect(globToRegExp('/d/**/*.csv').test('/d/a.csv')).toBe(true);
    expect(globToRegExp('/d/**/*.csv').test('/d/x/y/a.csv')).toBe(true);
    expect(globToRegExp('/d/?.csv').test('/d/ab.csv')).toBe(false);
    expect(globToRegExp('/d/[ab].csv').test('/d/b.csv')).toBe(true);
    expect(globToRegExp('/d/*.{csv,tsv}').test('/d/c.tsv')).toBe(true);
    expect(globToRegExp('/d/a+b.csv').test('/d/a+b.csv')).toBe(true);
  });

  it('expand to sorted absolute paths', async () => {
    const spec = await resolveSource(path.join(dir, '**/*.csv'), { format: 'csv' }).catch((e) => e);
    // empty.csv matches too, and is refused by name.
    expect((spec as Error).message).toBe(`Source file ${path.join(dir, 'empty.csv')} is empty`);
    const ab = await resolveSource(path.join(dir, '[ab].csv'));
    expect(ab.kind === 'files' && ab.files.map((f) => path.basename(f.path))).toEqual(['a.csv', 'b.csv']);
    const deep = await resolveSource(path.join(dir, 'sub/**/*.csv'));
    expect(deep.kind === 'files' && deep.files.map((f) => path.relative(dir, f.path))).toEqual(['sub/d.csv', 'sub/deeper/e.csv']);
  });

  it('refuse a glob that mixes formats, unless a format is given', async () => {
    await expect(resolveSource(path.join(dir, '[abc].*'))).rejects.toThrow(/mixes formats/);
  });
});

describe('fingerprints', () => {
  it('change with the file’s mtime and with the read options', async () => {
    const file = path.join(dir, 'a.csv');
    const before = await resolveSource(file);
    const fp = fingerprintOf(before, { onBadRows: 'fail' });
    expect(fingerprintOf(await resolveSource(file), { onBadRows: 'fail' })).toBe(fp);
    expect(fingerprintOf(before, { onBadRows: 'quarantine' })).not.toBe(fp);
    fs.utimesSync(file, new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(fingerprintOf(await resolveSource(file), { onBadRows: 'fail' })).not.toBe(fp);
  });

  it('exist only for files', async () => {
    expect(fingerprintOf(await resolveSource('postgres://h/db', { query: 'select 1' }), {})).toBeNull();
  });
});
