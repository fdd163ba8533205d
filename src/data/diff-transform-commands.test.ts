/**
 * `flywheel data diff` as a user sees it, run in-process on a real
 * DataService: the report for the v1 → v2 fixture (test/fixtures/diff; the
 * counts are the hand counts of diff.test.ts, the statistics and PSI the
 * NumPy values of psi.py, rounded for display), the JSON form, and usage
 * errors.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTransformHarness, type TransformHarness } from '../../test/support/transforms.js';
import { registerDiffTransformCommands, type WithDataContext } from './diff-transform-commands.js';
import { runCli, type CliResult } from '../../test/support/cli.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/diff');
let h: TransformHarness;

function cli(...args: string[]): Promise<CliResult> {
  const withData: WithDataContext = (_g, fn) => fn({ data: h.data, tracking: h.tracking, engine: h.engine, store: h.store });
  const program = new Command('flywheel').exitOverride().configureOutput({ outputError: () => {} });
  registerDiffTransformCommands(program.command('data'), withData);
  return runCli(program, args);
}

beforeAll(async () => {
  h = await openTransformHarness();
  await h.data.add('shop', path.join(FIXTURES, 'v1.csv'));
  await h.data.add('shop', path.join(FIXTURES, 'v2.csv'), { allowSchemaChange: true });
});
afterAll(async () => {
  await h?.dispose();
});

describe('flywheel data diff', () => {
  it('prints schema changes, column statistics with PSI, and row changes by key', async () => {
    const r = await cli('data', 'diff', 'shop@1', 'shop@2', '--key', 'id', '--sample', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'shop@1 → shop@2: 20 → 21 rows (+1)',
        'Schema:',
        '  + country VARCHAR',
        '  - city VARCHAR',
        '  ~ qty BIGINT → DOUBLE',
        '',
        'Columns in both:',
        'COLUMN   TYPE             NULLS  DISTINCT  MEAN               STD                 MIN  MAX        PSI',
        'id       BIGINT           0      20 → 21   10.5 → 12.6667     5.91608 → 6.69577   1    20 → 23    0.1992 moderate',
        'segment  VARCHAR          0      3 → 4     -                  -                   A    C → D      0.6736 major',
        'amount   DOUBLE           1 → 2  19        32.7632 → 42.1579  14.5032 → 23.4787   10   57.5 → 90  0.2541 major',
        'qty      BIGINT → DOUBLE  0      3 → 4     1.95 → 1.92857     0.825578 → 0.87014  1    3 → 3.5    0.3107 major',
        '',
        'Rows by key (id): 3 added, 2 removed, 4 changed, 14 unchanged',
        '  changed values: segment 1, amount 2, qty 1',
        'Added (first 2 of 3):',
        '  id  segment  amount  qty  country',
        '  21  D        80      1    FR',
        '  22  D        85      2    DE',
        'Removed (2):',
        '  id  segment  amount  qty  city',
        '  3   B        15      1    berlin',
        '  7   A        25      2    rome',
        'Changed (first 2 of 4):',
        '  id=5: amount 20 → 21',
        '  id=10: segment C → A',
        '',
      ].join('\n'),
    );
  });

  it('prints one JSON document with --json', async () => {
    const r = await cli('data', 'diff', 'shop@1', 'shop@2', '--key', 'id', '--json');
    const d = JSON.parse(r.stdout);
    expect(d.rowCount).toEqual({ a: 20, b: 21, delta: 1 });
    expect(d.rows).toMatchObject({ added: 3, removed: 2, changed: 4, unchanged: 14 });
    expect(d.rows.samples.changed).toHaveLength(4);
    expect(d.columns.find((c: { name: string }) => c.name === 'segment').drift.psi).toBeCloseTo(0.6736345341983477, 10);
  });

  it('says when both refs hold the same content', async () => {
    const r = await cli('data', 'diff', 'shop@2', 'shop');
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['shop@2 → shop@2: 21 → 21 rows (0) — same content', 'Schema: unchanged']);
  });

  it('reports bad input as usage errors (exit 2, one line)', async () => {
    expect(await cli('data', 'diff', 'shop@1', 'shop@2', '--sample', 'many')).toMatchObject({
      code: 2,
      stderr: "flywheel: option '--sample <n>' argument 'many' is invalid. expected a whole number from 0 to 1000.",
    });
    expect(await cli('data', 'diff', 'shop@1', 'shop@9')).toMatchObject({ code: 2, stderr: 'flywheel: Dataset "shop" has no version 9 (latest is 2)' });
    expect(await cli('data', 'diff', 'shop@1', 'shop@2', '--key', 'segment')).toMatchObject({
      code: 2,
      stderr: 'flywheel: Key (segment) is not unique in shop@1: segment=A appears 10 times; choose key columns that identify one row',
    });
  });
});
