/** `flywheel run` exit codes: 0 when the pipeline succeeded, 1 when it failed, 2 for bad input. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../cli/main.js';
import { describeFailure } from '../cli/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-run-cli-'));
fs.writeFileSync(path.join(dir, 'raw.csv'), 'id\n1\n2\n');
fs.writeFileSync(
  path.join(dir, 'flywheel.yaml'),
  `pipelines:
  ok:
    steps:
      ingest: { uses: ingest, with: { source: raw.csv }, outputs: [raw] }
      copy: { cmd: 'cp "$FW_INPUT_RAW" "$FW_OUTPUT_COPY"', inputs: { raw: ingest.raw }, outputs: [copy] }
  broken:
    steps:
      fail: { cmd: 'exit 3' }
`,
);

async function exitCode(...args: string[]): Promise<number> {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await buildProgram().parseAsync(['node', 'flywheel', '--home', path.join(dir, '.flywheel'), ...args]);
    return 0;
  } catch (err) {
    return describeFailure(err).exitCode;
  } finally {
    spy.mockRestore();
  }
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('flywheel run', () => {
  const file = path.join(dir, 'flywheel.yaml');
  it('exits 0 when the pipeline succeeded', async () => {
    expect(await exitCode('run', 'ok', '--file', file)).toBe(0);
  }, 60_000);
  it('exits 1 when a step failed', async () => {
    expect(await exitCode('run', 'broken', '--file', file)).toBe(1);
  }, 60_000);
  it('exits 2 for an unknown pipeline or an unknown param', async () => {
    expect(await exitCode('run', 'nope', '--file', file)).toBe(2);
    expect(await exitCode('run', 'ok', '--file', file, '--param', 'k=1')).toBe(2);
  }, 60_000);
});
