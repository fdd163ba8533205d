/**
 * `flywheel drift` as a user runs it: one JSON object of the documented shape
 * (values by hand: KS of two disjoint 5-samples is D = 1, exact p = 2/C(10,5);
 * a category unseen in the reference gives chi-square = Infinity, p = 0), the
 * table, skipped columns, dataset versions from the local store, and bad input
 * exiting 2 with one line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { resolveConfig } from '../core/config.js';
import { openContext } from '../server/context.js';
import { registerMonitoringCommands } from './commands.js';

// Made at load time so the it.each table below can name the files.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-drift-cli-'));
const REF = path.join(dir, 'ref.csv');
const CUR = path.join(dir, 'cur.csv');
let home: string;

function cli(...args: string[]) {
  const program = new Command('flywheel')
    .option('--home <dir>')
    .option('--db <url>')
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  registerMonitoringCommands(program);
  return runCli(program, [...args]);
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-drift-cli-home-'));
  fs.writeFileSync(REF, 'x,color,seen\n1,a,2024-01-01\n2,a,2024-01-02\n3,b,2024-01-03\n4,b,2024-01-04\n5,a,2024-01-05\n');
  fs.writeFileSync(CUR, 'x,color,extra\n6,a,1\n7,b,1\n8,c,1\n9,c,1\n10,c,1\n');
  const ctx = await openContext(resolveConfig({ home }), 'test');
  try {
    await ctx.data.add('shop', REF);
  } finally {
    await ctx.close();
  }
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

describe('flywheel drift', () => {
  it('prints exactly one JSON object with columns and the dataset verdict', async () => {
    const r = await cli('drift', REF, CUR, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.columns.map((c: { column: string }) => c.column)).toEqual(['x', 'color']);
    const [x, color] = out.columns;
    for (const c of out.columns) expect(Object.keys(c)).toEqual(expect.arrayContaining(['column', 'type', 'method', 'statistic', 'p_value', 'threshold', 'drifted']));
    expect(x).toMatchObject({ type: 'numeric', method: 'ks', statistic: 1, threshold: 0.05, drifted: true });
    expect(x.p_value).toBeCloseTo(2 / 252, 12);
    // "c" never occurs in the reference: expected count 0, observed 3.
    expect(color).toMatchObject({ type: 'categorical', method: 'chisquare', statistic: 'Infinity', p_value: 0, drifted: true });
    expect(out.dataset).toMatchObject({ drifted_share: 1, drifted: true });
    expect(out.skipped).toEqual([
      { column: 'seen', reason: 'only in the reference data' },
      { column: 'extra', reason: 'only in the current data' },
    ]);
  });

  it('takes --method, --threshold, --columns and --drift-share', async () => {
    const r = await cli('drift', REF, CUR, '--method', 'x=wasserstein', '--threshold', 'x=5', '--columns', 'x', '--drift-share', '0.9', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.columns).toHaveLength(1);
    // W1 of {1..5} vs {6..10} is 5; np.std({1..5}) = sqrt(2); normed 5/sqrt(2) ≈ 3.5355 < 5.
    expect(out.columns[0]).toMatchObject({ method: 'wasserstein', threshold: 5, p_value: null, drifted: false });
    expect(out.columns[0].statistic).toBeCloseTo(5 / Math.sqrt(2), 12);
    expect(out.dataset).toMatchObject({ drifted_share: 0, drifted: false, drift_share_threshold: 0.9 });
  });

  it('prints a table and the dataset verdict by default', async () => {
    const r = await cli('drift', REF, CUR);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^column +type +method +statistic +p-value +threshold +verdict +psi$/m);
    expect(r.stdout).toMatch(/^x +numeric +ks +1 +0\.00793651 +0\.05 +DRIFT/m);
    expect(r.stdout).toMatch(/^color +categorical +chisquare +Infinity +0 +0\.05 +DRIFT/m);
    expect(r.stdout).toMatch(/^ {2}seen: only in the reference data$/m);
    expect(r.stdout).toMatch(/^Dataset: DRIFT — 2 of 2 columns drifted/m);
  });

  it('compares a dataset version from the local store with a file', async () => {
    const r = await cli('--home', home, 'drift', 'shop@latest', CUR, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.reference).toMatchObject({ source: 'shop@1', rows: 5 });
    expect(out.columns[0]).toMatchObject({ column: 'x', statistic: 1 });
  });

  it.each([
    ['an unknown dataset', ['drift', 'nosuch@1', 'nosuch@2'], /Dataset "nosuch" does not exist/],
    ['a missing file', ['drift', REF, '/nonexistent/cur.csv'], /does not exist/],
    ['a --method without =', ['drift', REF, REF, '--method', 'ks'], /--method ks: expected column=value/],
    ['an unknown method', ['drift', REF, REF, '--method', 'x=magic'], /unknown method "magic"/],
    ['a method that does not fit the column', ['drift', REF, REF, '--method', 'color=ks'], /column "color": method "ks" needs a numeric column/],
    ['an override for a column not compared', ['drift', REF, REF, '--columns', 'x', '--threshold', 'color=0.2'], /"color", which is not compared/],
    ['a bad --drift-share', ['drift', REF, REF, '--drift-share', '2'], /expected a number from 0 to 1/],
    ['a source that is neither', ['drift', 'justaname', REF], /neither a dataset version/],
  ])('refuses %s with exit 2 and one line', async (_name, args, message) => {
    const r = await cli('--home', home, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flywheel: /);
    expect(r.stderr).not.toMatch(/\n/);
    expect(r.stderr).toMatch(message);
  });
});

