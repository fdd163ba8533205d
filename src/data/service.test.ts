/**
 * DataService as users rely on it: versions made from files, identical
 * content stored once, unchanged files recognised without reading them,
 * refs, bad input refused with the file/line/column named, bad rows set
 * aside under quarantine, and nothing left behind by a failed add.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { listEvents } from '../events/service.js';
import { walkLineage } from '../lineage/service.js';
import { DATA_FIXTURES, openDataHarness, type DataHarness } from '../../test/support/data.js';
import { BACKENDS } from '../../test/support/backends.js';

const PEOPLE = path.join(DATA_FIXTURES, 'people.csv');

let h: DataHarness;
beforeEach(async () => {
  h = await openDataHarness();
});
afterEach(async () => h.dispose());

/** The error an add fails with. */
async function addError(promise: Promise<unknown>): Promise<FlywheelError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlywheelError);
  return err as FlywheelError;
}

describe('adding versions', () => {
  it('stores a CSV as version 1 with schema, counts, hash, message, author and tags', async () => {
    const r = await h.data.add('people', PEOPLE, { message: 'first load', tags: { source: 'crm' } });
    expect(r.created).toBe(true);
    const v = r.version;
    expect(v).toMatchObject({ dataset: 'people', version: 1, rowCount: 40, message: 'first load', author: 'tester', tags: { source: 'crm' }, parentVersionId: null, runId: null });
    expect(v.schema).toEqual([
      { name: 'id', type: 'BIGINT', nullable: false },
      { name: 'age', type: 'BIGINT', nullable: true },
      { name: 'income', type: 'DOUBLE', nullable: false },
      { name: 'city', type: 'VARCHAR', nullable: false },
      { name: 'email', type: 'VARCHAR', nullable: false },
      { name: 'card', type: 'VARCHAR', nullable: false },
      { name: 'bogus_card', type: 'BIGINT', nullable: false },
      { name: 'ip', type: 'VARCHAR', nullable: false },
      { name: 'phone', type: 'VARCHAR', nullable: false },
      { name: 'signup', type: 'DATE', nullable: false },
      { name: 'active', type: 'BOOLEAN', nullable: false },
    ]);
    expect(v.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(v.storageKey).toBe(`datasets/blobs/${v.contentHash}.parquet`);
    // The stored blob is the Parquet the hash names, of the recorded size.
    const blob = await h.data.parquetPath(v);
    expect(fs.statSync(blob).size).toBe(v.byteSize);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(fs.readFileSync(blob)).digest('hex')).toBe(v.contentHash);
    // The blob is zstd-compressed Parquet.
    const [codec] = await h.engine.query<{ c: string }>(`select distinct compression as c from parquet_metadata('${blob}')`);
    expect(codec.c).toBe('ZSTD');
  });

  it('records parent versions and an event per version', async () => {
    const a = h.write('a.csv', 'x,y\n1,a\n');
    const b = h.write('b.csv', 'x,y\n2,b\n');
    const v1 = (await h.data.add('t', a)).version;
    const v2 = (await h.data.add('t', b)).version;
    expect(v2.version).toBe(2);
    expect(v2.parentVersionId).toBe(v1.id);
    const events = await listEvents(h.store.db, { entityType: 'dataset', entityId: 't' });
    expect(events.map((e) => [e.kind, e.payload.version])).toEqual([
      ['dataset.version_created', 1],
      ['dataset.version_created', 2],
    ]);
  });

  it('reads TSV, Parquet, JSON and NDJSON sources and globs of files', async () => {
    const tsv = h.write('t.tsv', 'a\tb\n1\tx\n2\ty\n');
    expect((await h.data.add('tsv', tsv)).version.schema.map((c) => `${c.name}:${c.type}`)).toEqual(['a:BIGINT', 'b:VARCHAR']);
    const json = h.write('t.json', '[{"a": 1, "b": "x"}, {"a": 2, "b": null}]');
    const jv = (await h.data.add('json', json)).version;
    expect(jv.rowCount).toBe(2);
    expect(jv.schema).toEqual([
      { name: 'a', type: 'BIGINT', nullable: false },
      { name: 'b', type: 'VARCHAR', nullable: true },
    ]);
    const nd = h.write('t.ndjson', '{"a": 1}\n{"a": 2}\n{"a": 3}\n');
    expect((await h.data.add('nd', nd)).version.rowCount).toBe(3);
    const pq = path.join(h.dir, 'p.parquet');
    await h.data.export('tsv', pq);
    expect((await h.data.add('pq', pq)).version.rowCount).toBe(2);
    h.write('parts/p1.csv', 'a,b\n1,x\n');
    h.write('parts/p2.csv', 'a,b\n2,y\n3,z\n');
    h.write('parts/skip.txt', 'not data');
    const globbed = await h.data.add('parts', path.join(h.dir, 'parts/*.csv'));
    expect(globbed.version.rowCount).toBe(3);
    const head = await h.data.head('parts', 10);
    expect(head.rows).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
      { a: 3, b: 'z' },
    ]);
  });
});

describe('round trips', () => {
  it('add → export CSV gives back the same rows, byte for byte', async () => {
    await h.data.add('people', PEOPLE);
    const out = path.join(h.dir, 'out.csv');
    const res = await h.data.export('people@1', out);
    expect(res).toEqual({ path: out, format: 'csv', rows: 40 });
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(PEOPLE, 'utf8'));
  });

  it('add → export Parquet → add → export CSV keeps every row and the same content hash', async () => {
    const v1 = (await h.data.add('people', PEOPLE)).version;
    const pq = path.join(h.dir, 'people.parquet');
    expect((await h.data.export('people', pq)).format).toBe('parquet');
    const again = await h.data.add('people_pq', pq);
    expect(again.version.contentHash).toBe(v1.contentHash);
    const out = path.join(h.dir, 'again.csv');
    await h.data.export('people_pq', out);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(PEOPLE, 'utf8'));
  });
});

describe('identical content is stored once', () => {
  it('a copy of the same file makes a new version pointing at the same blob', async () => {
    const copy = h.write('copy.csv', fs.readFileSync(PEOPLE));
    const v1 = (await h.data.add('people', PEOPLE)).version;
    const r2 = await h.data.add('people', copy);
    expect(r2.created).toBe(true);
    expect(r2.unchanged).toBe('content');
    expect(r2.version.version).toBe(2);
    expect(r2.version.contentHash).toBe(v1.contentHash);
    expect(r2.version.storageKey).toBe(v1.storageKey);
    expect(h.blobs()).toEqual([`${v1.contentHash}.parquet`]);
  });

  it('with skipUnchanged, the same content makes no version', async () => {
    const copy = h.write('copy.csv', fs.readFileSync(PEOPLE));
    const v1 = (await h.data.add('people', PEOPLE)).version;
    const r = await h.data.add('people', copy, { skipUnchanged: true });
    expect(r).toMatchObject({ created: false, unchanged: 'content' });
    expect(r.version.id).toBe(v1.id);
    expect((await h.data.log('people')).map((v) => v.version)).toEqual([1]);
  });

  it('different content is a different blob', async () => {
    const a = h.write('a.csv', 'x\n1\n');
    const b = h.write('b.csv', 'x\n2\n');
    const v1 = (await h.data.add('t', a)).version;
    const v2 = (await h.data.add('t', b)).version;
    expect(v2.contentHash).not.toBe(v1.contentHash);
    expect(h.blobs()).toHaveLength(2);
  });
});

describe('an unchanged source file is recognised without reading it', () => {
  function spyEngine() {
    return [vi.spyOn(h.engine, 'withConnection'), vi.spyOn(h.engine, 'run'), vi.spyOn(h.engine, 'query')];
  }
  const calls = (spies: ReturnType<typeof spyEngine>) => spies.reduce((n, s) => n + s.mock.calls.length, 0);

  it('re-adding the same path, size and mtime does no DuckDB work', async () => {
    const v1 = (await h.data.add('people', PEOPLE)).version;
    const spies = spyEngine();
    const skipped = await h.data.add('people', PEOPLE, { skipUnchanged: true });
    expect(skipped).toMatchObject({ created: false, unchanged: 'fingerprint' });
    expect(skipped.version.id).toBe(v1.id);
    const again = await h.data.add('people', PEOPLE, { message: 'again' });
    expect(again).toMatchObject({ created: true, unchanged: 'fingerprint' });
    expect(again.version).toMatchObject({ version: 2, contentHash: v1.contentHash, rowCount: 40, message: 'again', parentVersionId: v1.id });
    expect(calls(spies)).toBe(0);
    // …and the new version has the same profile without recomputing it.
    expect((await h.data.profile('people@2')).columns[2].mean).toBe((await h.data.profile('people@1')).columns[2].mean);
    expect(calls(spies)).toBe(0);
  });

  it('a touched file (new mtime) is read again', async () => {
    const file = h.write('a.csv', 'x\n1\n');
    await h.data.add('t', file);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const spies = spyEngine();
    const r = await h.data.add('t', file, { skipUnchanged: true });
    expect(r).toMatchObject({ created: false, unchanged: 'content' });
    expect(calls(spies)).toBeGreaterThan(0);
  });

  it('the same file read with other options is read again', async () => {
    const file = h.write('a.csv', 'x\n1\n');
    await h.data.add('t', file);
    const spies = spyEngine();
    await h.data.add('t', file, { onBadRows: 'quarantine', skipUnchanged: true });
    expect(calls(spies)).toBeGreaterThan(0);
  });
});

describe('refs', () => {
  it('resolves NAME, NAME@N, NAME@latest and NAME@<hash prefix>', async () => {
    const v1 = (await h.data.add('t', h.write('a.csv', 'x\n1\n'))).version;
    const v2 = (await h.data.add('t', h.write('b.csv', 'x\n2\n'))).version;
    expect((await h.data.resolve('t')).id).toBe(v2.id);
    expect((await h.data.resolve('t@latest')).id).toBe(v2.id);
    expect((await h.data.resolve('t@1')).id).toBe(v1.id);
    // (Fixed contents, so these hashes are fixed too and their 4-character prefixes differ.)
    expect(v1.contentHash.slice(0, 4)).not.toBe(v2.contentHash.slice(0, 4));
    expect((await h.data.resolve(`t@${v1.contentHash.slice(0, 4)}`)).id).toBe(v1.id);
    expect((await h.data.resolve(`t@${v1.contentHash.slice(0, 10).toUpperCase()}`)).id).toBe(v1.id);
    expect((await h.data.resolve(`t@${v2.contentHash}`)).id).toBe(v2.id);
  });

  it('a hash shared by several versions resolves to the newest of them', async () => {
    const a = h.write('a.csv', 'x\n1\n');
    const v1 = (await h.data.add('t', a)).version;
    await h.data.add('t', h.write('b.csv', 'x\n2\n'));
    const v3 = (await h.data.add('t', h.write('c.csv', 'x\n1\n'))).version;
    expect(v3.contentHash).toBe(v1.contentHash);
    expect((await h.data.resolve(`t@${v1.contentHash.slice(0, 8)}`)).version).toBe(3);
  });

  it('refuses unknown names and versions, and malformed refs', async () => {
    await h.data.add('t', h.write('a.csv', 'x\n1\n'));
    await expect(h.data.resolve('nope')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Dataset "nope" does not exist' });
    await expect(h.data.resolve('t@7')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Dataset "t" has no version 7 (latest is 1)' });
    await expect(h.data.resolve('t@ffffffff')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    await expect(h.data.resolve('t@abc')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    await expect(h.data.resolve('t@0')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    await expect(h.data.resolve('../t')).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
  });
});

describe('listing, log, head and soft delete', () => {
  it('ls lists datasets with their latest version; rm hides one but keeps its versions', async () => {
    await h.data.add('b', h.write('b.csv', 'x\n1\n'));
    await h.data.add('a', h.write('a.csv', 'x\n1\n'));
    await h.data.add('a', h.write('a2.csv', 'x\n2\n'));
    expect((await h.data.ls()).map((d) => [d.name, d.latestVersion, d.lifecycleStage])).toEqual([
      ['a', 2, 'active'],
      ['b', 1, 'active'],
    ]);
    await h.data.rm('a');
    expect((await h.data.ls()).map((d) => d.name)).toEqual(['b']);
    expect((await h.data.ls({ includeDeleted: true })).map((d) => [d.name, d.lifecycleStage])).toEqual([
      ['a', 'deleted'],
      ['b', 'active'],
    ]);
    expect((await h.data.resolve('a@1')).version).toBe(1);
    expect(h.blobs()).toHaveLength(2);
    await expect(h.data.rm('a')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
    // Adding again brings the dataset back, continuing its version numbers.
    expect((await h.data.add('a', h.write('a3.csv', 'x\n3\n'))).version.version).toBe(3);
    expect((await h.data.get('a')).lifecycleStage).toBe('active');
  });

  it('log lists versions newest first; head returns JSON-safe rows', async () => {
    await h.data.add('people', PEOPLE, { message: 'one' });
    await h.data.add('people', h.write('p2.csv', fs.readFileSync(PEOPLE)), { message: 'two' });
    expect((await h.data.log('people')).map((v) => [v.version, v.message])).toEqual([
      [2, 'two'],
      [1, 'one'],
    ]);
    const head = await h.data.head('people@1', 2);
    expect(head.rows).toEqual([
      { id: 1, age: 18, income: 1000, city: 'Paris', email: 'user0@example0.com', card: '4111 1111 1111 1111', bogus_card: 4000000000000000, ip: '10.0.0.0', phone: '+1 555-0100-1000', signup: '2024-01-01', active: false },
      { id: 2, age: 25, income: 4507.25, city: 'Berlin', email: 'user1@example1.com', card: '5500-0055-5555-5559', bogus_card: 4000000000000001, ip: '2001:db8::1', phone: '+1 555-0101-1001', signup: '2024-02-04', active: true },
    ]);
    expect((await h.data.head('people', 0)).rows).toEqual([]);
    await expect(h.data.log('nope')).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
  });
});

describe('bad input is refused with the file, line and column named', () => {
  it('ragged rows', async () => {
    const f = h.write('ragged.csv', 'a,b,c\n1,x,2.5\n2,y\n3,z,4.5\n');
    const err = await addError(h.data.add('t', f));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toContain(`${f} line 3: expected 3 columns, found 2`);
    expect(err.details).toMatchObject({ file: f, line: 3 });
  });

  it('a ragged first data row is not mistaken for the header (no line is skipped silently)', async () => {
    const f = h.write('ragged-first.csv', 'id,name\n1,x,y\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 2: expected 2 columns, found 3`);
  });

  it('too many columns far into a big file', async () => {
    const lines = ['a,b', ...Array.from({ length: 30_000 }, (_, i) => `${i},v${i}`), '5,6,7', '8,w'];
    const f = h.write('late.csv', lines.join('\n') + '\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 30002: expected 2 columns, found 3`);
  });

  it('bad quoting', async () => {
    const f = h.write('quote.csv', 'a,b\n1,ok\n2,"never closed\n3,z\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 3`);
    expect(err.message).toMatch(/quote/);
  });

  it('mixed types in a column, within the sniffed sample', async () => {
    const f = h.write('mixed.csv', 'id,amount\n1,10\n2,20\n3,abc\n4,40\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 4, column "amount": "abc" is not a valid BIGINT`);
    expect(err.details).toMatchObject({ file: f, line: 4, column: 'amount' });
  });

  it('mixed types in a column, past the sniffed sample', async () => {
    const lines = ['id,amount', ...Array.from({ length: 30_000 }, (_, i) => `${i},${i * 2}`), '30000,n/a'];
    const f = h.write('late-mixed.csv', lines.join('\n') + '\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 30002, column "amount": "n/a" is not a valid BIGINT`);
  });

  it('a column pinned to text is not mixed', async () => {
    const f = h.write('mixed.csv', 'id,code\n1,10\n2,20\n3,A7\n');
    const v = (await h.data.add('t', f, { columnTypes: { code: 'VARCHAR' } })).version;
    expect(v.schema[1]).toEqual({ name: 'code', type: 'VARCHAR', nullable: false });
  });

  it('an empty file', async () => {
    const f = h.write('empty.csv', '');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toBe(`Source file ${f} is empty`);
    const blank = h.write('blank.csv', '\n\n');
    expect((await addError(h.data.add('t', blank))).message).toBe(`Source file ${blank} is empty`);
  });

  it('a file that is not UTF-8', async () => {
    const f = h.write('latin1.csv', Buffer.concat([Buffer.from('name,city\nann,Paris\nbob,'), Buffer.from([0x4d, 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e]), Buffer.from('\n')]));
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 3: not valid UTF-8 text`);
  });

  it('a file that does not exist, and a glob that matches nothing', async () => {
    const missing = path.join(h.dir, 'nope.csv');
    const err = await addError(h.data.add('t', missing));
    expect(err.code).toBe('FW_NOT_FOUND');
    expect(err.message).toBe(`Source file ${missing} does not exist`);
    const glob = path.join(h.dir, 'none-*.csv');
    const gerr = await addError(h.data.add('t', glob));
    expect(gerr.code).toBe('FW_NOT_FOUND');
    expect(gerr.message).toBe(`No files match "${glob}"`);
  });

  it('malformed JSON', async () => {
    const f = h.write('bad.ndjson', '{"a": 1}\n{"a": 2}\n{"a" 3}\n{"a": 4}\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 3: malformed JSON`);
  });

  it('a JSON key with values of different types', async () => {
    const f = h.write('mixed.ndjson', '{"a": 1}\n{"a": 2}\n{"a": "three"}\n');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toContain(`${f} line 3, column "a": values of different JSON types`);
  });

  it('a file that is not Parquet', async () => {
    const f = h.write('fake.parquet', 'this is not parquet at all');
    const err = await addError(h.data.add('t', f));
    expect(err.message).toBe(`${f} is not a Parquet file`);
  });

  it('a schema that changed from the previous version, unless allowed', async () => {
    await h.data.add('t', h.write('v1.csv', 'a,b,c\n1,x,2\n'));
    const f = h.write('v2.csv', 'a,b,d\nx,x,2\n');
    const err = await addError(h.data.add('t', f));
    expect(err.code).toBe('FW_CONFLICT');
    expect(err.message).toBe(
      'Schema of dataset "t" changed from version 1: column "c" removed; column "a" changed type from BIGINT to VARCHAR; column "d" added (BIGINT). Pass allowSchemaChange (--allow-schema-change) to accept it',
    );
    expect((await h.data.add('t', f, { allowSchemaChange: true })).version.version).toBe(2);
  });

  it('invalid dataset names', async () => {
    for (const name of ['', '../x', 'a/b', '.hidden', 'a b', 'x'.repeat(129)]) {
      await expect(h.data.add(name, PEOPLE)).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT' });
    }
    expect((await h.data.add('Ok_name-1.2', h.write('a.csv', 'x\n1\n'))).version.dataset).toBe('Ok_name-1.2');
  });
});

describe('quarantine keeps the good rows and stores the bad ones with their line numbers', () => {
  it('ragged rows and bad quotes (found by the diagnostic read)', async () => {
    const f = h.write('ragged.csv', 'a,b,c\n1,x,2.5\n2,y\n3,z,4.5,9\n4,w,6.5\n');
    const r = await h.data.add('t', f, { onBadRows: 'quarantine', message: 'nightly' });
    expect(r.version.rowCount).toBe(2);
    expect((await h.data.head('t')).rows).toEqual([
      { a: 1, b: 'x', c: 2.5 },
      { a: 4, b: 'w', c: 6.5 },
    ]);
    expect(r.quarantine?.rows).toBe(2);
    expect(r.quarantine?.version).toMatchObject({ dataset: 't__quarantine', version: 1, tags: { 'flywheel.source_dataset': 't', 'flywheel.source_version': '1' } });
    const bad = await h.data.head('t__quarantine');
    expect(bad.rows.map((b) => [b.file, b.line, b.error_type, b.raw_line])).toEqual([
      [f, 3, 'MISSING COLUMNS', '2,y'],
      [f, 4, 'TOO MANY COLUMNS', '3,z,4.5,9'],
    ]);
  });

  it('values of the wrong type past the sniffed sample', async () => {
    const lines = ['id,amount', ...Array.from({ length: 30_000 }, (_, i) => `${i},${i * 2}`), '30000,n/a', '30001,5'];
    const f = h.write('late-mixed.csv', lines.join('\n') + '\n');
    const r = await h.data.add('t', f, { onBadRows: 'quarantine' });
    expect(r.version.rowCount).toBe(30_001);
    const bad = await h.data.head('t__quarantine');
    expect(bad.rows.map((b) => [b.line, b.column, b.error_type, b.raw_line])).toEqual([[30002, 'amount', 'CAST', '30000,n/a']]);
  });

  it('mixed types within the sample: the odd values go, the column keeps its type', async () => {
    const f = h.write('mixed.csv', 'id,amount\n1,10\n2,20\n3,abc\n4,40\n');
    const r = await h.data.add('t', f, { onBadRows: 'quarantine' });
    expect(r.version.schema[1]).toEqual({ name: 'amount', type: 'BIGINT', nullable: false });
    expect(r.version.rowCount).toBe(3);
    expect((await h.data.head('t__quarantine')).rows.map((b) => [b.line, b.column, b.raw_line])).toEqual([[4, 'amount', '3,abc']]);
  });

  it('a clean file under quarantine makes no quarantine version', async () => {
    const r = await h.data.add('people', PEOPLE, { onBadRows: 'quarantine' });
    expect(r.quarantine).toBeNull();
    expect((await h.data.ls()).map((d) => d.name)).toEqual(['people']);
  });
});

describe('a failed add leaves nothing behind', () => {
  async function versionCount(): Promise<number> {
    const r = await h.store.db.selectFrom('dataset_versions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  it('bad input: no version, no blob', async () => {
    await expect(h.data.add('t', h.write('r.csv', 'a,b\n1\n'))).rejects.toThrow();
    expect(await versionCount()).toBe(0);
    expect(h.blobs()).toEqual([]);
    expect(await h.data.ls({ includeDeleted: true })).toEqual([]);
  });

  it('a check that refuses the staged data: no version, no blob', async () => {
    const check = vi.fn(async () => {
      throw new FlywheelError('FW_INVALID_ARGUMENT', 'suite failed');
    });
    await expect(h.data.add('people', PEOPLE, { beforeCommit: check })).rejects.toThrow('suite failed');
    expect(check).toHaveBeenCalledWith(expect.objectContaining({ dataset: 'people', rowCount: 40 }), expect.objectContaining({ setAside: expect.any(Function) }));
    expect(await versionCount()).toBe(0);
    expect(h.blobs()).toEqual([]);
  });

  it('a database failure after the blob was written: the blob is removed again', async () => {
    await sql`create trigger fw_test_fail before insert on dataset_versions begin select raise(abort, 'disk full'); end`.execute(h.store.db);
    await expect(h.data.add('people', PEOPLE)).rejects.toThrow('disk full');
    expect(await versionCount()).toBe(0);
    expect(h.blobs()).toEqual([]);
    expect(await h.data.ls({ includeDeleted: true })).toEqual([]);
  });

  it('a database failure does not remove a blob another version uses', async () => {
    const v1 = (await h.data.add('people', PEOPLE)).version;
    await sql`create trigger fw_test_fail before insert on dataset_versions begin select raise(abort, 'disk full'); end`.execute(h.store.db);
    await expect(h.data.add('copy', h.write('c.csv', fs.readFileSync(PEOPLE)))).rejects.toThrow('disk full');
    expect(h.blobs()).toEqual([`${v1.contentHash}.parquet`]);
  });
});

describe('commitParquet (transforms, pipeline steps)', () => {
  it('stores a finished Parquet file as a new version and records run —produces→ version', async () => {
    const pq = path.join(h.dir, 'out.parquet');
    await h.engine.run(`copy (select range as n, range * 2 as twice from range(5)) to '${pq}' (format parquet, compression zstd)`);
    const v = await h.data.commitParquet({ dataset: 'features', parquetFile: pq, message: 'from sql', runId: 'r'.repeat(32) });
    expect(v).toMatchObject({ dataset: 'features', version: 1, rowCount: 5, runId: 'r'.repeat(32), message: 'from sql' });
    expect(v.schema).toEqual([
      { name: 'n', type: 'BIGINT', nullable: false },
      { name: 'twice', type: 'BIGINT', nullable: false },
    ]);
    const up = await walkLineage(h.store.db, { type: 'dataset_version', id: v.id }, 'upstream');
    expect(up.edges).toEqual([{ from: { type: 'run', id: 'r'.repeat(32) }, relation: 'produces', to: { type: 'dataset_version', id: v.id } }]);
    const same = await h.data.commitParquet({ dataset: 'features', parquetFile: pq, skipUnchanged: true });
    expect(same.id).toBe(v.id);
    await expect(h.data.commitParquet({ dataset: 'features', parquetFile: path.join(h.dir, 'none.parquet') })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
  });

  it('checks the run exists when a tracking service is given', async () => {
    const tracking = { getRun: vi.fn(async () => Promise.reject(new FlywheelError('FW_NOT_FOUND', 'Run with id=x not found'))) };
    const h2 = await openDataHarness({ deps: { tracking } });
    try {
      const pq = path.join(h2.dir, 'o.parquet');
      await h2.engine.run(`copy (select 1 as x) to '${pq}' (format parquet)`);
      await expect(h2.data.commitParquet({ dataset: 'f', parquetFile: pq, runId: 'x' })).rejects.toMatchObject({ code: 'FW_NOT_FOUND' });
      expect(h2.blobs()).toEqual([]);
    } finally {
      await h2.dispose();
    }
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`versions in the ${backend.name} metadata store`, () => {
    it('adds, dedups, resolves and soft-deletes', async () => {
      const opened = await backend.open();
      const h2 = await openDataHarness({ store: opened.store });
      try {
        const a = h2.write('a.csv', 'x,y\n1,a\n2,b\n');
        const v1 = (await h2.data.add('t', a, { tags: { k: 'v' } })).version;
        const v2 = (await h2.data.add('t', h2.write('b.csv', 'x,y\n1,a\n2,b\n'))).version;
        expect(v2).toMatchObject({ version: 2, contentHash: v1.contentHash, parentVersionId: v1.id });
        expect(typeof v2.createdTime).toBe('number');
        expect(typeof v2.rowCount).toBe('number');
        expect((await h2.data.resolve(`t@${v1.contentHash.slice(0, 6)}`)).version).toBe(2);
        expect((await h2.data.resolve('t@1')).tags).toEqual({ k: 'v' });
        expect((await h2.data.ls())[0]).toMatchObject({ name: 't', latestVersion: 2 });
        await h2.data.rm('t');
        expect(await h2.data.ls()).toEqual([]);
      } finally {
        await h2.dispose();
        await opened.dispose();
      }
    });
  });
}

describe('beforeCommit may set rows aside', () => {
  // 6 rows; amount < 0 in rows 2 and 5 (hand count).
  const CSV = 'id,amount\n1,10\n2,-3\n3,7\n4,0\n5,-1\n6,4\n';
  const negative = { where: 'amount < $1', params: [0], annotate: { why: "'negative: ' || amount" }, reason: 'negative amounts' };

  it('commits the other rows and stores those as <name>__quarantine with their extra columns', async () => {
    const f = h.write('amounts.csv', CSV);
    let kept: unknown;
    const r = await h.data.add('t', f, {
      message: 'nightly',
      beforeCommit: async (staged, actions) => {
        expect(staged.rowCount).toBe(6);
        kept = await actions.setAside(negative);
      },
    });
    expect(kept).toMatchObject({ dataset: 't', rowCount: 4, contentHash: r.version.contentHash });
    expect(r.version).toMatchObject({ dataset: 't', version: 1, rowCount: 4, message: 'nightly' });
    expect(r.version.schema).toEqual([
      { name: 'id', type: 'BIGINT', nullable: false },
      { name: 'amount', type: 'BIGINT', nullable: false },
    ]);
    expect((await h.data.head('t')).rows).toEqual([
      { id: 1, amount: 10 },
      { id: 3, amount: 7 },
      { id: 4, amount: 0 },
      { id: 6, amount: 4 },
    ]);
    expect((await h.data.profile('t')).columns[1]).toMatchObject({ min: 0, max: 10, mean: 5.25 });
    expect(r.quarantine).toBeNull();
    expect(r.setAside).toMatchObject({ rows: 2, reason: 'negative amounts', version: { dataset: 't__quarantine', version: 1, rowCount: 2 } });
    expect(r.setAside?.version.tags).toEqual({ 'flywheel.source_dataset': 't', 'flywheel.set_aside_reason': 'negative amounts', 'flywheel.source_version': '1' });
    expect(r.setAside?.version.message).toBe('Rows set aside when adding t: negative amounts');
    expect((await h.data.head('t__quarantine')).rows).toEqual([
      { id: 2, amount: -3, why: 'negative: -3' },
      { id: 5, amount: -1, why: 'negative: -1' },
    ]);
    expect(h.blobs()).toHaveLength(2);
  });

  it('a version split from a file is not recognised by the file fingerprint later', async () => {
    const f = h.write('amounts.csv', CSV);
    await h.data.add('t', f, { beforeCommit: async (_s, a) => void (await a.setAside(negative)) });
    const again = await h.data.add('t', f);
    expect(again).toMatchObject({ created: true, unchanged: null, version: { version: 2, rowCount: 6 } });
  });

  it('splits the stored content when the unchanged-file fast path is taken', async () => {
    const f = h.write('amounts.csv', CSV);
    await h.data.add('t', f);
    const r = await h.data.add('t', f, { beforeCommit: async (_s, a) => void (await a.setAside(negative)) });
    expect(r).toMatchObject({ created: true, unchanged: null, version: { version: 2, rowCount: 4 }, setAside: { rows: 2, version: { dataset: 't__quarantine', version: 1 } } });
    expect((await h.data.head('t@1')).rows).toHaveLength(6);
  });

  it('no matching row: nothing set aside, the content is the staged one', async () => {
    const f = h.write('amounts.csv', CSV);
    const plain = await h.data.add('plain', f);
    const r = await h.data.add('t', f, {
      beforeCommit: async (staged, a) => {
        expect(await a.setAside({ where: 'amount > $1', params: [100], reason: 'big' })).toEqual(staged);
      },
    });
    expect(r.version.contentHash).toBe(plain.version.contentHash);
    expect(r.setAside).toBeUndefined();
    expect((await h.data.ls()).map((d) => d.name)).toEqual(['plain', 't']);
  });

  it('refusing after setting rows aside leaves no version and no blob', async () => {
    const f = h.write('amounts.csv', CSV);
    const refuse = async (_s: unknown, a: { setAside: (r: typeof negative) => Promise<unknown> }) => {
      await a.setAside(negative);
      throw new FlywheelError('FW_INVALID_ARGUMENT', 'still bad');
    };
    await expect(h.data.add('t', f, { beforeCommit: refuse })).rejects.toThrow('still bad');
    expect(await h.data.ls({ includeDeleted: true })).toEqual([]);
    expect(h.blobs()).toEqual([]);
  });

  it('a condition DuckDB cannot run is bad input', async () => {
    const f = h.write('amounts.csv', CSV);
    const err = await addError(h.data.add('t', f, { beforeCommit: async (_s, a) => void (await a.setAside({ where: 'nope > 1', reason: 'typo' })) }));
    expect(err.code).toBe('FW_INVALID_ARGUMENT');
    expect(err.message).toMatch(/^Could not set rows aside \(typo\): .*nope/);
  });
});
