/** The engine hands out working DuckDB connections with the configured limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, sqlIdent, sqlLiteral } from './index.js';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open({ threads: 1, memoryLimit: '256MB' });
});
afterAll(() => engine.close());

describe('Engine', () => {
  it('applies thread and memory settings', async () => {
    const [row] = await engine.query<{ t: string; m: string }>("select current_setting('threads') as t, current_setting('memory_limit') as m");
    expect(Number(row.t)).toBe(1);
    expect(row.m).toMatch(/^2\d\d\.\d MiB$|^256/);
  });

  it('binds parameters and returns plain JS values', async () => {
    const rows = await engine.query<{ s: number; x: string }>('select $1::integer + 1 as s, $2 as x', [41, "it's"]);
    expect(rows).toEqual([{ s: 42, x: "it's" }]);
  });

  it('quotes literals and identifiers', async () => {
    const rows = await engine.query<Record<string, string>>(`select ${sqlLiteral("o'clock")} as ${sqlIdent('we"ird')}`);
    expect(rows).toEqual([{ 'we"ird': "o'clock" }]);
  });
});
