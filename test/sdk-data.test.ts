/**
 * `fw.data` in both SDK modes, as a pipeline step uses it: add a file, resolve
 * a ref, and read the version as a Parquet path with DuckDB; embedded against
 * a temp home, remote against a real server. Both give the same answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/index.js';
import { Flywheel } from '../src/sdk/flywheel.js';
import { DATA_FIXTURES } from './support/data.js';
import { startTestServer, type TestServer } from './support/listening-server.js';

const PEOPLE = path.join(DATA_FIXTURES, 'people.csv');
let engine: Engine;
let server: TestServer;
let home: string;
let scratch: string;

beforeAll(async () => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  engine = await Engine.open({ threads: 1 });
  server = await startTestServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sdk-data-'));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-sdk-data-out-'));
});
afterAll(async () => {
  engine.close();
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

const modes: [string, () => Promise<Flywheel>][] = [
  ['embedded', () => Flywheel.open({ home }, {})],
  ['remote', () => Flywheel.connect(server.url)],
];

for (const [mode, open] of modes) {
  describe(`fw.data (${mode})`, () => {
    it('adds a file and reads the version back as a Parquet path', async () => {
      const fw = await open();
      try {
        const added = await fw.data.add('people', PEOPLE, { message: 'from a step', tags: { step: 'ingest' } });
        expect(added.version).toMatchObject({ dataset: 'people', version: 1, rowCount: 40, message: 'from a step', tags: { step: 'ingest' } });
        const v = await fw.data.resolve('people@latest');
        expect(v.id).toBe(added.version.id);
        const file = await fw.data.parquetPath(v);
        const [row] = await engine.query<{ n: bigint; s: number }>(`select count(*) as n, sum(income) as s from read_parquet('${file}')`);
        expect(Number(row.n)).toBe(40);
        // 40 incomes whose mean NumPy puts at 3705.775.
        expect(row.s).toBeCloseTo(40 * 3705.775, 6);
        const head = await fw.data.head('people', 1);
        expect(head.rows[0]).toMatchObject({ id: 1, city: 'Paris' });
        const out = path.join(scratch, `${mode}.csv`);
        await fw.data.export('people@1', out);
        expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(PEOPLE, 'utf8'));
        expect((await fw.data.profile('people')).columns.find((c) => c.name === 'email')!.pii).toEqual(['email']);
        expect((await fw.data.ls()).map((d) => d.name)).toEqual(['people']);
        await expect(fw.data.resolve('people@5')).rejects.toMatchObject({ code: 'FW_NOT_FOUND', message: 'Dataset "people" has no version 5 (latest is 1)' });
      } finally {
        await fw.close();
      }
    });
  });
}
