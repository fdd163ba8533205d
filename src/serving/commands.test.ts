/**
 * The serving CLI: `flywheel deploy` and `flywheel deployments …` on a local
 * home, bad input as exit code 2 with one line; and `flywheel serve` as a
 * real child process (two cluster workers) that answers predictions and, on
 * SIGTERM, exits only after every acknowledged prediction is in the log.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { openServingHarness, taggedModule, type ServingHarness } from '../../test/support/serving.js';
import { registerServingCommands } from './commands.js';
import { openContext } from '../server/context.js';

const ENTRY = fileURLToPath(new URL('../cli/entry.ts', import.meta.url));
const ROOT = path.resolve(path.dirname(ENTRY), '../..');

let h: ServingHarness;

function program(): Command {
  const p = new Command('flywheel').option('--home <dir>').option('--db <url>').option('--tracking-uri <uri>').exitOverride().configureOutput({ outputError: () => {} });
  registerServingCommands(p);
  return p;
}
const cli = (...args: string[]) => runCli(program(), ['--home', h.home, ...args]);

beforeAll(async () => {
  h = await openServingHarness();
  await h.register('churn', taggedModule('v1'));
  await h.register('churn', taggedModule('v2'));
  await h.ctx.registry.setAlias('churn', 'champion', 1);
  // The CLI opens the store itself: the harness's context must not hold it.
  await h.ctx.close();
}, 60_000);

afterAll(async () => {
  // dispose closes the (already closed) context again: reopen one so it has something to close.
  h.ctx = await openContext(h.config, 'tester');
  await h?.dispose();
});

describe('flywheel deploy and deployments', () => {
  it('creates revisions, shows them, changes traffic and rolls back', async () => {
    const d = await cli('deploy', 'churn', '--model', 'churn@champion', '--canary', 'churn/2:10%');
    expect(d.stderr).toBe('');
    expect(d.stdout).toMatch(/^Deployment churn revision 1: primary churn@champion 90% · canary churn\/2 10%/);

    const t = await cli('deployments', 'traffic', 'churn', '--shadow', 'churn/2', '--json');
    const detail = JSON.parse(t.stdout);
    expect(detail.currentRevision).toBe(2);
    expect(detail.revision.policy).toEqual({ kind: 'shadow', arms: [{ name: 'primary', model: 'models:/churn@champion', weight: 100, shadow: false }, { name: 'shadow', model: 'models:/churn/2', weight: 0, shadow: true }], key: null });

    const r = await cli('deployments', 'rollback', 'churn', '--json');
    expect(JSON.parse(r.stdout).revision.policy.kind).toBe('canary');

    const ls = await cli('deployments', 'ls');
    expect(ls.stdout).toMatch(/churn\s+3\s+pending\s+primary churn@champion 90% · canary churn\/2 10%/);
    const show = await cli('deployments', 'show', 'churn');
    expect(show.stdout.match(/^\s+\d\s+pending/gm)).toHaveLength(3);
  });

  it('refuses bad input with exit code 2 and one line', async () => {
    const cases: [string[], RegExp][] = [
      [['deploy', 'Bad_Name', '--model', 'churn/1'], /Invalid deployment name "Bad_Name"/],
      [['deploy', 'x', '--model', 'nope@champion'], /Registered Model with name=nope not found/],
      [['deploy', 'x', '--model', 'churn/1', '--canary', 'churn/2:150%'], /canary: the percentage must be above 0 and below 100/],
      [['deploy', 'x', '--model', 'churn/1', '--canary', 'churn/2:10%', '--ab', 'churn/2:50%'], /canary and ab cannot be combined/],
      [['deployments', 'show', 'missing'], /Deployment missing not found/],
      [['deployments', 'rollback', 'churn', '--to', '99'], /Deployment churn has no revision 99/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // Nothing was created by the refused deploys.
    expect((await cli('deployments', 'ls', '--json')).stdout).not.toMatch(/"name": "x"/);
  });
});

describe('flywheel serve', () => {
  it('serves from two workers and flushes every acknowledged prediction on SIGTERM', async () => {
    await cli('deploy', 'churn', '--model', 'churn@champion');
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--home', h.home, 'serve', '--port', '0', '--workers', '2', '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, FLYWHEEL_SERVING_LOG_FLUSH_MS: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += String(c);
        const m = /Flywheel serving on (http:\/\/[\d.]+:\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    });

    // A flush interval of a minute: nothing reaches the store before SIGTERM unless shutdown flushes it.
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 25; i++) {
          const res = await fetch(`${url}/api/v1/deployments/churn/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: [{ x: (c + i) % 10, plan: null }] }) });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { predictions: { prediction_id: string; prediction: string }[] };
          expect(body.predictions[0].prediction).toBe('v1');
          ids.push(body.predictions[0].prediction_id);
        }
      }),
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    // Both workers' counters, summed by the cluster primary.
    expect(metrics).toMatch(/flywheel_serving_requests_total\{deployment="churn",version="churn\/1",arm="primary",protocol="plain"\} 200\n/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const logs = await cli('deployments', 'logs', 'churn', '--limit', '1000', '--json');
    const logged = new Set((JSON.parse(logs.stdout) as { predictionId: string }[]).map((p) => p.predictionId));
    expect(ids).toHaveLength(200);
    expect(ids.filter((id) => !logged.has(id))).toEqual([]);
  }, 90_000);
});
