/**
 * `flywheel suites put|ls|show|rm` as the CLI wires them (through the SDK's
 * `fw.suites`), on a temporary --home and against a server with
 * --tracking-uri, and `data validate REF --suite NAME` reading a registered
 * suite when NAME is not a file (a file of that name wins). Expected counts
 * are hand counts on test/fixtures/quality/orders.csv (see the comments in
 * the suite files).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDataCommands } from '../src/data/commands.js';
import { addWithSuiteCommand, registerQualityCommands, registerSuiteCommands } from '../src/quality/commands.js';
import { FIXTURES } from './fixtures/quality/support.js';
import { startTestServer, type TestServer } from './support/listening-server.js';
import { runCli, type CliResult } from './support/cli.js';

const ORDERS = path.join(FIXTURES, 'orders.csv');
const SUITES = path.join(FIXTURES, 'suites');
let root: string;
let server: TestServer;

beforeAll(async () => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-suites-cli-'));
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function program(): Command {
  const p = new Command('flywheel')
    .option('--home <dir>')
    .option('--db <url>')
    .option('--tracking-uri <url>')
    .configureOutput({ outputError: () => {}, writeOut: () => {}, writeErr: () => {} })
    .exitOverride();
  registerDataCommands(p, { addWithSuite: addWithSuiteCommand });
  registerQualityCommands(p);
  registerSuiteCommands(p);
  return p;
}

/** Runs `flywheel …args`; returns stdout, and the exit code and stderr line main would produce. */
function run(...args: string[]): Promise<CliResult> {
  return runCli(program(), [...args]);
}

describe('flywheel suites', () => {
  let home: string;
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(root, 'home-'));
  });
  const fw = (...args: string[]) => run('--home', home, ...args);

  it('puts a suite file, and says when nothing changed', async () => {
    const r = await fw('suites', 'put', path.join(SUITES, 'orders.yaml'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Registered suite orders_basic \(dataset orders, 5 checks, sha256 [0-9a-f]{12}\)\n$/);
    const again = await fw('suites', 'put', path.join(SUITES, 'orders.yaml'));
    expect(again.stdout).toMatch(/^Suite orders_basic \(dataset orders, 5 checks, sha256 [0-9a-f]{12}\) is registered already with this definition\n$/);
    const json = JSON.parse((await fw('suites', 'put', path.join(SUITES, 'orders-warn-only.yaml'), '--json')).stdout);
    expect(json).toMatchObject({ name: 'orders_warn_only', dataset: 'orders', change: 'created', definition: { checks: [{ name: 'not_null(id)' }, { name: 'between(amount)', severity: 'warn' }] } });
  });

  it('lists suites as a table or JSON, optionally for one dataset', async () => {
    const lines = (await fw('suites', 'ls')).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+DATASET\s+CHECKS\s+UPDATED\s+SHA256$/);
    expect(lines[1]).toMatch(/^orders_basic\s+orders\s+5\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[0-9a-f]{12}$/);
    expect(lines[2]).toMatch(/^orders_warn_only\s+orders\s+2\s+/);
    expect(lines).toHaveLength(3);
    expect((await fw('suites', 'ls', '--dataset', 'customers')).stdout).toBe('No suites for dataset customers.\n');
    const doc = JSON.parse((await fw('suites', 'ls', '--dataset', 'orders', '--json')).stdout);
    expect(doc.suites.map((s: { name: string }) => s.name)).toEqual(['orders_basic', 'orders_warn_only']);
  });

  it('shows a suite as YAML that puts back unchanged', async () => {
    const shown = await fw('suites', 'show', 'orders_warn_only');
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines[0]).toMatch(/^# suite orders_warn_only · dataset orders · sha256 [0-9a-f]{64} · updated /);
    expect(lines.slice(1)).toEqual([
      'name: orders_warn_only',
      'dataset: orders',
      'checks:',
      '  - type: not_null',
      '    column: id',
      '    severity: error',
      '    mostly: 1',
      '    name: not_null(id)',
      '  - type: between',
      '    column: amount',
      '    min: 0',
      '    min_inclusive: true',
      '    max_inclusive: true',
      '    severity: warn',
      '    mostly: 1',
      '    name: between(amount)',
      '',
    ]);
    const file = path.join(home, 'shown.yaml');
    fs.writeFileSync(file, shown.stdout);
    expect((await fw('suites', 'put', file, '--json')).stdout).toContain('"change": "unchanged"');
    expect(JSON.parse((await fw('suites', 'show', 'orders_warn_only', '--json')).stdout)).toMatchObject({ name: 'orders_warn_only', dataset: 'orders' });
  });

  it('removes a suite; unknown names and bad files exit 2', async () => {
    await fw('suites', 'put', path.join(SUITES, 'orders-quarantine.yaml'));
    expect(await fw('suites', 'rm', 'orders_quarantine')).toEqual({ code: 0, stdout: 'Deleted suite orders_quarantine\n', stderr: '' });
    expect(await fw('suites', 'rm', 'orders_quarantine')).toMatchObject({ code: 2, stderr: 'flywheel: No suite named "orders_quarantine" is registered' });
    expect(await fw('suites', 'show', 'orders_quarantine')).toMatchObject({ code: 2, stderr: 'flywheel: No suite named "orders_quarantine" is registered' });
    expect(await fw('suites', 'put', path.join(home, 'none.yaml'))).toMatchObject({ code: 2, stderr: `flywheel: suite file ${path.join(home, 'none.yaml')} does not exist` });
    expect(JSON.parse((await fw('suites', 'rm', 'orders_basic', '--json')).stdout)).toEqual({ deleted: 'orders_basic' });
    await fw('suites', 'put', path.join(SUITES, 'orders.yaml'));
  });

  it('data validate --suite NAME uses the registered suite when no such file exists, and a file of that name first', async () => {
    expect((await fw('data', 'add', 'orders', ORDERS)).code).toBe(0);
    const failing = await fw('data', 'validate', 'orders', '--suite', 'orders_basic');
    expect(failing.code).toBe(1);
    expect(failing.stdout.trimEnd().split('\n').at(-1)).toBe('orders · suite orders_basic: 3 of 5 checks passed, 1 error, 1 warning — FAILED');
    expect((await fw('data', 'validate', 'orders', '--suite', 'orders_warn_only')).code).toBe(0);
    expect(await fw('data', 'validate', 'orders', '--suite', 'orders_none')).toMatchObject({
      code: 2,
      stderr: 'flywheel: No suite file orders_none and no suite named "orders_none" is registered',
    });

    // A file named orders_basic in the working directory wins over the registered suite.
    const cwd = process.cwd();
    const dir = fs.mkdtempSync(path.join(root, 'cwd-'));
    fs.writeFileSync(path.join(dir, 'orders_basic'), 'name: from_file\ndataset: orders\nchecks:\n  - {type: row_count, min: 1}\n');
    try {
      process.chdir(dir);
      const fromFile = await fw('data', 'validate', 'orders', '--suite', 'orders_basic');
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout.trimEnd().split('\n').at(-1)).toBe('orders · suite from_file: 1 of 1 checks passed, 0 errors, 0 warnings — PASSED');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('flywheel suites against a server', () => {
  it('puts and lists through the REST API', async () => {
    const put = await run('--tracking-uri', server.url, 'suites', 'put', path.join(SUITES, 'orders-warn-only.yaml'));
    expect(put.stdout).toMatch(/^Registered suite orders_warn_only \(dataset orders, 2 checks, sha256 [0-9a-f]{12}\)\n$/);
    const listed = JSON.parse((await run('--tracking-uri', server.url, 'suites', 'ls', '--json')).stdout);
    expect(listed.suites.map((s: { name: string }) => s.name)).toEqual(['orders_warn_only']);
    expect(await run('--tracking-uri', server.url, 'suites', 'rm', 'nope')).toMatchObject({ code: 2, stderr: 'flywheel: No suite named "nope" is registered' });
  });
});
