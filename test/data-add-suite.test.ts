/**
 * `flywheel data add NAME SOURCE --suite FILE [--quarantine]` as the CLI
 * wires it (data commands with the quality slice's addWithSuiteCommand),
 * against a temporary --home: the table of checks, the exit code (1 when the
 * suite refuses the data, like `data validate`; 2 for bad usage), nothing
 * committed on refusal, and failing rows set aside under --quarantine.
 * Expected counts are hand counts on test/fixtures/quality/orders.csv (see
 * the comments in the suite files).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDataCommands } from '../src/data/commands.js';
import { addWithSuiteCommand, makeAddWithSuite, registerQualityCommands } from '../src/quality/commands.js';
import { FIXTURES } from './fixtures/quality/support.js';
import { runCli, type CliResult } from './support/cli.js';

const ORDERS = path.join(FIXTURES, 'orders.csv');
const SUITES = path.join(FIXTURES, 'suites');
let root: string;

beforeAll(() => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-add-suite-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function program(): Command {
  const p = new Command('flywheel')
    .option('--home <dir>')
    .option('--db <url>')
    .option('--tracking-uri <url>')
    .configureOutput({ outputError: () => {}, writeOut: () => {}, writeErr: () => {} })
    .exitOverride();
  registerDataCommands(p, { addWithSuite: addWithSuiteCommand });
  registerQualityCommands(p);
  return p;
}

/** Runs `flywheel --home HOME …args`; returns stdout, and the exit code and stderr line main would produce. */
function run(home: string, ...args: string[]): Promise<CliResult> {
  return runCli(program(), ['--home', home, ...args]);
}

function newHome(): string {
  return fs.mkdtempSync(path.join(root, 'home-'));
}

function blobs(home: string): string[] {
  const dir = path.join(home, 'artifacts', 'datasets', 'blobs');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('flywheel data add --suite', () => {
  it('commits the version when the suite passes, prints the checks, and stores the result', async () => {
    const home = newHome();
    const r = await run(home, 'data', 'add', 'orders', ORDERS, '--suite', path.join(SUITES, 'orders-warn-only.yaml'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+CHECK\s+SEVERITY\s+OBSERVED\s+UNEXPECTED\s+NOTE$/);
    expect(lines[1]).toMatch(/^✓  not_null\(id\)\s+error\s+100% pass\s+0 \(0%\)$/);
    expect(lines[2]).toMatch(/^✗  between\(amount\)\s+warn\s+77\.78% pass\s+2 \(22\.22%\)$/);
    expect(lines[3]).toBe('orders@1 · suite orders_warn_only: 1 of 2 checks passed, 0 errors, 1 warning — PASSED with warnings');
    expect(lines[4]).toMatch(/^Added orders@1: 10 rows, 7 columns, /);
    const json = await run(home, 'data', 'add', 'orders', ORDERS, '--suite', path.join(SUITES, 'orders-warn-only.yaml'), '--json', '-m', 'again');
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ created: true, version: { version: 2, message: 'again' }, validation: { suite: 'orders_warn_only', success: true } });
    expect(doc.validation.versionId).toBe(doc.version.id);
  });

  it('refuses the data when an error check fails: exit 1, the check named, nothing committed', async () => {
    const home = newHome();
    const r = await run(home, 'data', 'add', 'orders', ORDERS, '--suite', path.join(SUITES, 'orders.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[5]).toMatch(/^✗  regex\(email\)\s+error\s+88\.89% pass\s+1 \(11\.11%\)$/);
    expect(lines[6]).toBe('orders (staged) · suite orders_basic: 3 of 5 checks passed, 1 error, 1 warning — FAILED');
    expect(lines[7]).toBe('Not added: orders failed suite orders_basic: regex(email) (1 unexpected)');
    expect(lines).toHaveLength(8);
    expect((await run(home, 'data', 'ls')).stdout).toBe('No datasets.\n');
    expect(blobs(home)).toEqual([]);
    const json = await run(home, 'data', 'add', 'orders', ORDERS, '--suite', path.join(SUITES, 'orders.yaml'), '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ created: false, validation: { success: false, versionId: null } });
  });

  it('--quarantine commits the passing rows and sets the failing ones aside', async () => {
    const home = newHome();
    const r = await run(home, 'data', 'add', 'orders', ORDERS, '--suite', path.join(SUITES, 'orders-quarantine.yaml'), '--quarantine');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[8]).toBe('orders@1 · suite orders_quarantine: 6 of 7 checks passed, 0 errors, 1 warning — PASSED with warnings');
    expect(lines[9]).toMatch(/^Added orders@1: 6 rows, 7 columns, /);
    expect(lines[10]).toBe('Set aside 4 row(s) failing suite orders_quarantine as orders__quarantine@1 (see: flywheel data head orders__quarantine@1)');
    const head = JSON.parse((await run(home, 'data', 'head', 'orders__quarantine', '--json')).stdout);
    expect(head.rows.map((row: Record<string, unknown>) => [row.id, row.flywheel_failed_checks])).toEqual([
      [3, 'between(amount)'],
      [4, 'regex(email)'],
      [9, 'in_set(region), between(amount)'],
      [10, 'not_null(customer_id)'],
    ]);
    expect(blobs(home)).toHaveLength(2);
  });

  it('--quarantine still refuses the add when a check on the whole set fails', async () => {
    const home = newHome();
    const suite = path.join(home, 'keys.yaml');
    fs.writeFileSync(suite, "name: keys\ndataset: orders\nchecks:\n  - {type: regex, column: email, pattern: '^[^@]+@[^@]+\\.[a-z]+$'}\n  - {type: row_count, min: 10}\n");
    const r = await run(home, 'data', 'add', 'orders', ORDERS, '--suite', suite, '--quarantine');
    expect(r.code).toBe(1);
    // Without id 4 (bad email), 9 rows remain.
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      'Not added: orders failed suite keys: row_count (observed 9). --quarantine sets aside only rows failing row-level checks; these judge the whole dataset',
    );
    expect((await run(home, 'data', 'ls')).stdout).toBe('No datasets.\n');
    expect(blobs(home)).toEqual([]);
  });

  it('bad usage exits 2', async () => {
    const home = newHome();
    expect(await run(home, 'data', 'add', 'orders', ORDERS, '--quarantine')).toMatchObject({ code: 2, stderr: 'flywheel: --quarantine needs --suite' });
    expect(await run(home, 'data', 'add', 'orders', ORDERS, '--suite', path.join(home, 'none.yaml'))).toMatchObject({ code: 2 });
    expect(await run(home, 'data', 'add', 'sales', ORDERS, '--suite', path.join(SUITES, 'orders.yaml'))).toMatchObject({
      code: 2,
      stderr: 'flywheel: suite "orders_basic" is bound to dataset orders, not sales',
    });
  });

  it('needs the local store', async () => {
    const add = makeAddWithSuite(() => {
      throw new Error('must not open anything');
    });
    await expect(
      add({ trackingUri: 'http://127.0.0.1:1' }, { name: 'orders', source: ORDERS, options: {}, suiteFile: path.join(SUITES, 'orders.yaml'), quarantine: false }),
    ).rejects.toMatchObject({ code: 'FW_INVALID_ARGUMENT', message: '--suite checks the data in this process and needs the local store; it cannot be used with the tracking server http://127.0.0.1:1' });
  });
});
