/**
 * The monitors CLI on a local home: create, run (text and --json), show,
 * ls, rm, and bad options as exit code 2 with one line naming the problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/support/cli.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../../test/support/serving.js';
import { openContext } from '../../server/context.js';
import { registerMonitorCommands } from './commands.js';

let h: ServingHarness;

function program(): Command {
  const p = new Command('flywheel').option('--home <dir>').option('--db <url>').option('--tracking-uri <uri>').exitOverride().configureOutput({ outputError: () => {} });
  registerMonitorCommands(p);
  return p;
}
const cli = (...args: string[]) => runCli(program(), ['--home', h.home, ...args]);

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('yes'));
  const { deploymentId } = await h.ctx.deployments.deploy('churn', { model: 'churn/1' });
  const csv = path.join(h.home, 'reference.csv');
  fs.writeFileSync(csv, 'x,plan\n' + Array.from({ length: 40 }, (_, i) => `${i / 4},${i % 2 ? 'pro' : 'basic'}`).join('\n') + '\n');
  await h.ctx.data.add('reference', csv);
  // 40 logged rows with x shifted by 20: outside the reference's [0, 9.75].
  await h.ctx.deployments.writePredictions(
    Array.from({ length: 40 }, (_, i) => ({
      predictionId: `p${i}`,
      deploymentId,
      revision: 1,
      arm: 'primary',
      modelName: 'churn',
      modelVersion: '1',
      shadow: false,
      time: 1_700_000_000_000 + i,
      latencyMs: 2,
      requestKey: null,
      features: { x: i / 4 + 20, plan: i % 2 ? 'pro' : 'basic' },
      prediction: 'yes',
      probability: [0.4, 0.6],
      error: null,
    })),
  );
  // The CLI opens the store itself.
  await h.ctx.close();
}, 60_000);

afterAll(async () => {
  h.ctx = await openContext(h.config, 'tester');
  await h?.dispose();
});

describe('flywheel monitors', () => {
  it('creates, runs, shows, lists and removes a monitor', async () => {
    const created = await cli('monitors', 'create', 'watch', '--deployment', 'churn', '--reference', 'reference@1', '--rows', '100', '--method', 'x=psi', '--alert', 'drift: feature_drift_share >= 0.5');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('Monitor watch on deployment churn, window 100 rows');

    const run = await cli('monitors', 'run', 'watch', '--now', '1700000001000', '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.window.rows).toBe(40);
    expect(result.featureDrift.columns.map((c: { column: string; method: string; drifted: boolean }) => [c.column, c.method, c.drifted])).toEqual([
      ['x', 'psi', true],
      // A binary categorical column with a small reference gets the Z-test (Evidently's rule).
      ['plan', 'z', false],
    ]);
    expect(result.quality.x.out_of_range_share).toBe(1);
    expect(result.alerts).toEqual([expect.objectContaining({ rule: 'drift', transition: 'firing', value: 0.5 })]);

    const text = await cli('monitors', 'run', 'watch', '--now', '1700000002000');
    expect(text.stdout).toMatch(/Feature drift: 0\.5 of columns drifted — DATASET DRIFT/);
    expect(text.stdout).toContain('Alert drift: firing');

    const shown = await cli('monitors', 'show', 'watch');
    expect(shown.stdout).toMatch(/Executions\s+2/);
    expect(shown.stdout).toMatch(/Alert drift\s+firing/);
    expect((await cli('monitors', 'ls')).stdout).toMatch(/watch\s+deployment churn\s+100 rows\s+reference@1\s+2/);
    expect((await cli('monitors', 'rm', 'watch')).code).toBe(0);
    expect((await cli('monitors', 'ls')).stdout).toBe('No monitors.\n');
  });

  it('refuses bad options with one line', async () => {
    const both = await cli('monitors', 'create', 'm', '--deployment', 'churn', '--dataset', 'reference');
    expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('exactly one of --deployment and --dataset') });
    const method = await cli('monitors', 'create', 'm', '--deployment', 'churn', '--reference', 'reference@1', '--method', 'x');
    expect(method).toMatchObject({ code: 2, stderr: expect.stringContaining('--method takes COLUMN=VALUE') });
    const missing = await cli('monitors', 'run', 'ghost');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ghost');
  });
});
