/**
 * A PostgreSQL query as a source: column types carried over from PostgreSQL,
 * NULL kept apart from the empty string, rows streamed through COPY, and
 * clear messages for a bad query or an unreachable server. Skipped (with a
 * warning from the backends module) when the test database is not reachable.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, postgresAvailable } from '../../test/support/backends.js';
import { openDataHarness, type DataHarness } from '../../test/support/data.js';

describe.skipIf(!postgresAvailable)('postgres:// sources', () => {
  const schema = `fw_pgsrc_${randomBytes(4).toString('hex')}`;
  let client: pg.Client;
  let h: DataHarness;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.query(`create table ${schema}.orders (
      id bigint primary key, amount numeric(10,2), qty integer, note text, paid boolean, day date, at timestamp, tz timestamptz, code uuid, tags text[])`);
    await client.query(`insert into ${schema}.orders values
      (1, 12.50, 3, 'first, with "quotes"', true, '2024-01-02', '2024-01-02 10:00:00', '2024-01-02 10:00:00+00', '11111111-1111-1111-1111-111111111111', '{a,b}'),
      (2, null, null, '', false, null, null, null, null, null),
      (3, 7.25, 1, null, true, '2024-02-03', '2024-02-03 11:30:00', '2024-02-03 11:30:00+00', '22222222-2222-2222-2222-222222222222', '{}')`);
    h = await openDataHarness();
  });
  afterAll(async () => {
    await client.query(`drop schema ${schema} cascade`).catch(() => undefined);
    await client.end();
    await h?.dispose();
  });

  it('reads a query result with PostgreSQL’s types', async () => {
    const r = await h.data.add('orders', POSTGRES_URL, { query: `select * from ${schema}.orders order by id;` });
    expect(r.version.rowCount).toBe(3);
    expect(r.version.schema.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:BIGINT',
      'amount:DOUBLE',
      'qty:INTEGER',
      'note:VARCHAR',
      'paid:BOOLEAN',
      'day:DATE',
      'at:TIMESTAMP',
      'tz:TIMESTAMP WITH TIME ZONE',
      'code:UUID',
      'tags:VARCHAR',
    ]);
    const rows = (await h.data.head('orders')).rows;
    expect(rows[0]).toMatchObject({ id: 1, amount: 12.5, qty: 3, note: 'first, with "quotes"', paid: true, day: '2024-01-02', at: '2024-01-02 10:00:00', code: '11111111-1111-1111-1111-111111111111', tags: '{a,b}' });
    // NULL stays NULL, and the empty string stays an empty string.
    expect(rows[1]).toMatchObject({ id: 2, amount: null, qty: null, note: '', day: null });
    expect(rows[2].note).toBeNull();
  });

  it('makes no new version when the query returns the same rows (skipUnchanged)', async () => {
    const r = await h.data.add('orders', POSTGRES_URL, { query: `select * from ${schema}.orders order by id`, skipUnchanged: true });
    expect(r).toMatchObject({ created: false, unchanged: 'content' });
  });

  it('reports a failing query and a missing query', async () => {
    await expect(h.data.add('x', POSTGRES_URL, { query: `select * from ${schema}.nope` })).rejects.toMatchObject({
      code: 'FW_INVALID_ARGUMENT',
      message: expect.stringMatching(/^PostgreSQL rejected the query: relation ".*nope" does not exist/),
    });
    await expect(h.data.add('x', POSTGRES_URL)).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: expect.stringContaining('needs a query') });
    expect(h.blobs()).toHaveLength(1);
  });

  it('reports an unreachable server without its password', async () => {
    await expect(h.data.add('x', 'postgres://u:secret@127.0.0.1:1/db', { query: 'select 1' })).rejects.toMatchObject({
      code: 'FW_INVALID_ARGUMENT',
      message: expect.stringMatching(/^Cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/),
    });
  });
});
