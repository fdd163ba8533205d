/**
 * `data validate` as a user sees it: the table of checks, the JSON form, the
 * stored result, and the exit code (1 only when an error-severity check
 * fails; suite and ref problems are ordinary errors, exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine } from '../engine/index.js';
import { openStore, type Store } from '../store/index.js';
import { FIXTURES, FakeReader, csvSelect, tempDir, writeParquet } from '../../test/fixtures/quality/support.js';
import { registerQualityCommands, type WithQuality } from './commands.js';
import { QualityService } from './service.js';
import { runCli, type CliResult } from '../../test/support/cli.js';

let engine: Engine;
let store: Store;
let reader: FakeReader;
let quality: QualityService;
const suites = path.join(FIXTURES, 'suites');

beforeAll(async () => {
  const dir = tempDir();
  engine = await Engine.open({ threads: 1, memoryLimit: '256MB' });
  store = await openStore(`sqlite:${path.join(dir, 'fw.db')}`);
  reader = new FakeReader();
  reader.add('orders', await writeParquet(engine, dir, 'orders', csvSelect('orders.csv')));
  quality = new QualityService({ store, engine, data: reader });
});
afterAll(async () => {
  engine?.close();
  await store?.close();
});
afterEach(() => vi.restoreAllMocks());

const withQuality: WithQuality = (_globals, fn) => fn(quality);

/** Runs `flywheel …args` in-process; returns stdout and the exit code main would use. */
function cli(...args: string[]): Promise<CliResult> {
  const program = new Command('flywheel').exitOverride().configureOutput({ outputError: () => {} });
  program.command('data').description('datasets');
  registerQualityCommands(program, withQuality);
  return runCli(program, args);
}

describe('flywheel data validate', () => {
  it('prints a table and exits 1 when an error check fails', async () => {
    const r = await cli('data', 'validate', 'orders@1', '--suite', path.join(suites, 'orders.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+CHECK\s+SEVERITY\s+OBSERVED\s+UNEXPECTED\s+NOTE$/);
    expect(lines[1]).toMatch(/^✓  not_null\(id\)\s+error\s+100% pass\s+0 \(0%\)$/);
    expect(lines[2]).toMatch(/^✓  unique\(id\)\s+error\s+100% pass\s+0 \(0%\)$/);
    expect(lines[3]).toMatch(/^✓  in_set\(status\)\s+error/);
    // amounts: 2 negative of 9 non-null; emails: 1 bad of 9 non-null.
    expect(lines[4]).toMatch(/^✗  between\(amount\)\s+warn\s+77\.78% pass\s+2 \(22\.22%\)$/);
    expect(lines[5]).toMatch(/^✗  regex\(email\)\s+error\s+88\.89% pass\s+1 \(11\.11%\)$/);
    expect(lines[6]).toBe('orders@1 · suite orders_basic: 3 of 5 checks passed, 1 error, 1 warning — FAILED');
  });

  it('exits 0 when only warnings fail', async () => {
    const r = await cli('data', 'validate', 'orders', '--suite', path.join(suites, 'orders-warn-only.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('orders · suite orders_warn_only: 1 of 2 checks passed, 0 errors, 1 warning — PASSED with warnings');
  });

  it('prints JSON with --json and stores the result unless --no-save', async () => {
    const version = await reader.resolve('orders');
    const before = (await quality.results(version.id)).length;
    const r = await cli('data', 'validate', 'orders', '--suite', path.join(suites, 'orders.yaml'), '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ suite: 'orders_basic', versionId: version.id, success: false, statistics: { checks: 5, errors: 1, warnings: 1 } });
    expect(doc.checks[4].sampleFailingRows).toEqual([expect.objectContaining({ id: '4', email: 'd@x' })]);
    expect((await quality.results(version.id)).length).toBe(before + 1);
    await cli('data', 'validate', 'orders', '--suite', path.join(suites, 'orders.yaml'), '--no-save');
    expect((await quality.results(version.id)).length).toBe(before + 1);
  });

  it('measures freshness from --now', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'fresh.yaml');
    fs.writeFileSync(file, 'dataset: orders\nchecks:\n  - {type: freshness, column: created_at, max_age: 24h}\n');
    expect((await cli('data', 'validate', 'orders', '--suite', file, '--now', '2024-03-06T12:00:00Z')).code).toBe(0);
    expect((await cli('data', 'validate', 'orders', '--suite', file, '--now', '2024-03-07T12:00:00Z')).code).toBe(1);
    expect(await cli('data', 'validate', 'orders', '--suite', file, '--now', 'tomorrow')).toMatchObject({ code: 2, stderr: 'flywheel: --now "tomorrow" is not a time (use ISO 8601, e.g. 2024-03-06T12:00:00Z)' });
  });

  it('reports suite and ref problems as errors (exit 2)', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'dataset: orders\nchecks:\n  - type: not_null\n    column: amout\n');
    expect(await cli('data', 'validate', 'orders', '--suite', bad)).toMatchObject({
      code: 2,
      stderr: 'flywheel: suite "bad": checks[0] (not_null): column "amout" is not in dataset orders (columns: id, customer_id, status, amount, email, created_at, region)',
    });
    expect(await cli('data', 'validate', 'orders@7', '--suite', path.join(suites, 'orders.yaml'))).toMatchObject({ code: 2, stderr: 'flywheel: Dataset version orders@7 not found' });
    expect((await cli('data', 'validate', 'orders')).code).toBe(2);
  });
});
