/**
 * `flywheel lineage` as a user sees it, after two transforms run through the
 * CLI (`data transform features.sql --into features`, then scores.sql): the
 * upstream tree from scores reaches raw through features, the downstream tree
 * from raw reaches scores, both directions by default, JSON, and errors.
 * Commands run in-process on a real DataService and TrackingService.
 */
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDiffTransformCommands, type WithDataContext } from '../data/diff-transform-commands.js';
import { openTransformHarness, TRANSFORM_FIXTURES, type TransformHarness } from '../../test/support/transforms.js';
import { registerLineageCommands, type WithLineage } from './commands.js';
import { runCli, type CliResult } from '../../test/support/cli.js';

let h: TransformHarness;
let featuresRun: string;
let scoresRun: string;
let badSql: string;
let features2Result: CliResult;
let badResult: CliResult;

function cli(...args: string[]): Promise<CliResult> {
  const withData: WithDataContext = (_g, fn) => fn({ data: h.data, tracking: h.tracking, engine: h.engine, store: h.store });
  const withLineage: WithLineage = (_g, fn) => fn({ db: h.store.db, data: h.data, tracking: h.tracking });
  const program = new Command('flywheel').exitOverride().configureOutput({ outputError: () => {} });
  registerDiffTransformCommands(program.command('data'), withData);
  registerLineageCommands(program, withLineage);
  return runCli(program, args);
}

beforeAll(async () => {
  h = await openTransformHarness();
  await h.data.add('raw', path.join(TRANSFORM_FIXTURES, 'raw.csv'));
  const f = await cli('data', 'transform', path.join(TRANSFORM_FIXTURES, 'features.sql'), '--into', 'features', '--json');
  expect(f.code).toBe(0);
  featuresRun = JSON.parse(f.stdout).runId;
  const s = await cli('data', 'transform', path.join(TRANSFORM_FIXTURES, 'scores.sql'), '--into', 'scores', '-m', 'nightly scores');
  expect(s.code).toBe(0);
  scoresRun = /run ([0-9a-f]{32}) /.exec(s.stdout)![1];
  // A third transform of raw, and a failing one (its run consumed raw@1 before the SQL failed).
  features2Result = await cli('data', 'transform', path.join(TRANSFORM_FIXTURES, 'features.sql'), '--into', 'features2');
  badSql = h.write('bad.sql', "select nope from {{ ref('raw') }}");
  badResult = await cli('data', 'transform', badSql, '--into', 'nothing');
});
afterAll(async () => {
  await h?.dispose();
});

describe('flywheel data transform', () => {
  it('prints the new version, its inputs and the run', async () => {
    const s = await h.data.resolve('scores@1');
    expect(s.message).toBe('nightly scores');
    expect(s.runId).toBe(scoresRun);
    const runId = (await h.data.resolve('features2@1')).runId;
    expect(features2Result.stdout).toBe(`Created features2@1 (3 rows) from raw@1 — run ${runId} in experiment 'transforms'\n`);
  });

  it('fails with exit 2 and one line naming the file for bad SQL', async () => {
    const [file, r] = [badSql, badResult];
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^flywheel: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: SQL failed: Binder Error: Referenced column "nope" not found`));
    expect(r.stderr).not.toContain('\n');
  });

  it('requires --into', async () => {
    const r = await cli('data', 'transform', path.join(TRANSFORM_FIXTURES, 'features.sql'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--into <name>' not specified");
  });
});

describe('flywheel lineage', () => {
  const short = (id: string) => id.slice(0, 8);

  it('shows where scores came from, through features, back to raw', async () => {
    const r = await cli('lineage', 'scores@1', '--upstream');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'scores@1',
        `└─ run transform scores (${short(scoresRun)})`,
        '   ├─ features@1',
        `   │  └─ run transform features (${short(featuresRun)})`,
        '   │     └─ raw@1',
        '   └─ raw@1',
        '',
      ].join('\n'),
    );
  });

  it('shows what was made from raw, marking a subtree shown before', async () => {
    const r = await cli('lineage', 'raw', '--downstream');
    const features2Run = (await h.data.resolve('features2@1')).runId!;
    const exp = await h.tracking.getExperimentByName('transforms');
    const [failed] = (await h.tracking.searchRuns({ experimentIds: [exp.experimentId], filter: "attributes.status = 'FAILED'" })).items;
    const badRun = failed.info.runId;
    expect(r.stdout).toBe(
      [
        'raw@1',
        `├─ run transform features (${short(featuresRun)})`,
        '│  └─ features@1',
        `│     └─ run transform scores (${short(scoresRun)})`,
        '│        └─ scores@1',
        `├─ run transform features2 (${short(features2Run)})`,
        '│  └─ features2@1',
        `├─ run transform nothing (${short(badRun)}) [FAILED]`,
        `└─ run transform scores (${short(scoresRun)}) (see above)`,
        '',
      ].join('\n'),
    );
  });

  it('shows both directions by default', async () => {
    const r = await cli('lineage', 'features@1');
    expect(r.stdout).toBe(
      [
        'Upstream (where features@1 came from):',
        'features@1',
        `└─ run transform features (${short(featuresRun)})`,
        '   └─ raw@1',
        '',
        'Downstream (what was made from features@1):',
        'features@1',
        `└─ run transform scores (${short(scoresRun)})`,
        '   └─ scores@1',
        '',
      ].join('\n'),
    );
  });

  it('starts from a run with run:<id>, and says when there is nothing', async () => {
    const r = await cli('lineage', `run:${featuresRun}`, '--upstream');
    expect(r.stdout).toBe([`run transform features (${short(featuresRun)})`, '└─ raw@1', ''].join('\n'));
    const none = await cli('lineage', 'raw@1', '--upstream');
    expect(none.stdout).toBe('raw@1\n   (nothing upstream)\n');
  });

  it('limits the depth', async () => {
    const r = await cli('lineage', 'scores@1', '--upstream', '--depth', '2');
    expect(r.stdout).toBe(['scores@1', `└─ run transform scores (${short(scoresRun)})`, '   ├─ features@1', '   └─ raw@1', ''].join('\n'));
  });

  it('prints the labelled graph as JSON', async () => {
    const r = await cli('lineage', 'scores@1', '--upstream', '--json');
    const g = JSON.parse(r.stdout);
    const s = await h.data.resolve('scores@1');
    expect(g.root).toEqual({ type: 'dataset_version', id: s.id, label: 'scores@1', dataset: 'scores', version: 1 });
    expect(g.direction).toBe('upstream');
    expect(g.nodes.map((n: { label: string }) => n.label).sort()).toEqual(
      ['features@1', 'raw@1', 'scores@1', `run transform features (${short(featuresRun)})`, `run transform scores (${short(scoresRun)})`].sort(),
    );
    // produces scores, consumes features and raw; produces features, consumes raw.
    expect(g.edges).toHaveLength(5);
    const both = JSON.parse((await cli('lineage', 'scores@1', '--json')).stdout);
    expect(Object.keys(both)).toEqual(['upstream', 'downstream']);
    expect(both.downstream.nodes).toHaveLength(1);
  });

  it('reports unknown refs and conflicting flags as usage errors', async () => {
    const r = await cli('lineage', 'nope@1');
    expect(r).toMatchObject({ code: 2, stderr: 'flywheel: Dataset "nope" does not exist' });
    const both = await cli('lineage', 'raw', '--upstream', '--downstream');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("option '--downstream' cannot be used with option '--upstream'");
    const run = await cli('lineage', 'run:0123456789abcdef0123456789abcdef');
    expect(run).toMatchObject({ code: 2, stderr: 'flywheel: No run with id 0123456789abcdef0123456789abcdef' });
  });
});
