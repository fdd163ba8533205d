/**
 * `flywheel data …` in-process: the commands registered on a program with the
 * CLI's global options, run against a temporary --home, with stdout captured.
 * Failures are turned into the CLI's one line and exit code by describeFailure,
 * as main does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_FIXTURES } from '../../test/support/data.js';
import { registerDataCommands } from './commands.js';
import { runCli, type CliResult } from '../../test/support/cli.js';

const PEOPLE = path.join(DATA_FIXTURES, 'people.csv');
let home: string;
let scratch: string;

beforeAll(() => {
  process.env.FLYWHEEL_ENGINE_THREADS = '1';
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-data-cli-'));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-data-cli-src-'));
});
afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

function program(): Command {
  const p = new Command('flywheel')
    .option('--home <dir>')
    .option('--db <url>')
    .option('--tracking-uri <url>')
    .configureOutput({ outputError: () => {}, writeOut: () => {}, writeErr: () => {} })
    .exitOverride();
  registerDataCommands(p);
  return p;
}

/** Runs `flywheel --home HOME …args`; returns stdout, and the exit code and stderr line main would produce. */
function run(...args: string[]): Promise<CliResult> {
  return runCli(program(), ['--home', home, ...args]);
}

describe('flywheel data', () => {
  it('add prints the new version; --json prints the result', async () => {
    const r = await run('data', 'add', 'people', PEOPLE, '-m', 'first load', '--tag', 'team=data');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Added people@1: 40 rows, 11 columns, [\d.]+ (B|KiB), sha256 [0-9a-f]{12}\n$/);
    const again = await run('data', 'add', 'people', PEOPLE, '--skip-unchanged', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, unchanged: 'fingerprint', version: { version: 1 } });
    const plain = await run('data', 'add', 'people', PEOPLE, '--skip-unchanged');
    expect(plain.stdout).toBe('Unchanged: people@1 already holds this file (same path, size and modification time); no version made.\n');
  });

  it('ls, log and show', async () => {
    const ls = await run('data', 'ls');
    expect(ls.stdout.split('\n')[0]).toMatch(/^NAME\s+LATEST\s+CREATED$/);
    expect(ls.stdout).toMatch(/^people\s+1\s/m);
    expect(JSON.parse((await run('data', 'ls', '--json')).stdout).datasets).toMatchObject([{ name: 'people', latestVersion: 1 }]);
    const log = await run('data', 'log', 'people');
    expect(log.stdout).toMatch(/^VERSION\s+CREATED\s+ROWS\s+SIZE\s+HASH\s+AUTHOR\s+MESSAGE$/m);
    expect(log.stdout).toMatch(/^\s*1\s.*\s40\s.*first load$/m);
    const show = await run('data', 'show', 'people@1');
    expect(show.stdout).toMatch(/^Version\s+people@1$/m);
    expect(show.stdout).toMatch(/^Tags\s+team=data$/m);
    expect(show.stdout).toMatch(/^age\s+BIGINT\s+yes$/m);
    expect(show.stdout).toContain('Personal data suspected in: email (email); card (payment_card); ip (ip_address); phone (phone)');
    expect(JSON.parse((await run('data', 'show', 'people', '--json')).stdout).version.rowCount).toBe(40);
  });

  it('profile and head', async () => {
    const p = await run('data', 'profile', 'people@latest');
    expect(p.stdout.split('\n')[0]).toBe('40 rows');
    expect(p.stdout).toMatch(/^city\s+VARCHAR\s+0\s+5\s+Berlin\s+Rome\s+Paris \(12\)$/m);
    expect(JSON.parse((await run('data', 'profile', 'people', '--json')).stdout).columns[1].nulls).toBe(4);
    const head = await run('data', 'head', 'people', '-n', '2');
    const lines = head.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^id\s+age\s+income\s+city/);
    expect(lines[2]).toMatch(/^2\s+25\s+4507\.25\s+Berlin/);
    expect(JSON.parse((await run('data', 'head', 'people', '-n', '1', '--json')).stdout).rows).toHaveLength(1);
  });

  it('export writes CSV and Parquet', async () => {
    const out = path.join(scratch, 'people.csv');
    expect((await run('data', 'export', 'people@1', out)).stdout).toBe(`Wrote 40 rows to ${out} (csv)\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(PEOPLE, 'utf8'));
    const pq = path.join(scratch, 'people.parquet');
    expect(JSON.parse((await run('data', 'export', 'people', pq, '--json')).stdout)).toEqual({ path: pq, format: 'parquet', rows: 40 });
  });

  it('reports bad input as one line with exit code 2', async () => {
    const bad = path.join(scratch, 'bad.csv');
    fs.writeFileSync(bad, 'a,b\n1,2\n3\n');
    const r = await run('data', 'add', 'bad', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`flywheel: ${bad} line 3: expected 2 columns, found 1 ("3"); --on-bad-rows=quarantine keeps the good rows and sets the bad ones aside`);
    const q = await run('data', 'add', 'bad', bad, '--on-bad-rows', 'quarantine');
    expect(q.stdout).toBe('Added bad@1: 1 rows, 2 columns, ' + /[\d.]+ (B|KiB)/.exec(q.stdout)![0] + ', sha256 ' + /[0-9a-f]{12}/.exec(q.stdout)![0] + '\nSet aside 1 bad row(s) as bad__quarantine@1 (see: flywheel data head bad__quarantine@1)\n');
    expect((await run('data', 'show', 'nope')).stderr).toBe('flywheel: Dataset "nope" does not exist');
    expect((await run('data', 'add', 'x', bad, '--on-bad-rows', 'skip')).code).toBe(2);
    expect((await run('data', 'head', 'people', '-n', 'ten')).code).toBe(2);
  });

  it('rm deletes softly', async () => {
    expect((await run('data', 'rm', 'people')).stdout).toBe('Deleted dataset people (versions are kept)\n');
    expect((await run('data', 'ls')).stdout).not.toMatch(/^people\s/m);
    expect((await run('data', 'ls', '--all')).stdout).toMatch(/^people\s+1\s+.*deleted$/m);
    expect((await run('data', 'show', 'people@1')).code).toBe(0);
  });
});
