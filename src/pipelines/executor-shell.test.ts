/**
 * The executor driving real shell steps: a step over its timeout has its
 * process group killed (the `sleep` child of the shell included) and fails
 * with the timeout message; a cancelled run kills the running command and
 * never starts the next one; the failing command's exit code reaches the
 * step's error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executePipeline, type RunStep } from './executor.js';
import { runShellStep } from './shell.js';
import type { StepDefinition } from './types.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-exec-shell-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function shellStep(name: string, cmd: string, upstream: string[] = [], extra: Partial<StepDefinition> = {}): StepDefinition {
  return {
    name,
    kind: 'shell',
    cmd,
    inputs: Object.fromEntries(upstream.map((u) => [u, { step: u, output: 'out' }])),
    outputs: [],
    params: {},
    retry: { retries: 0, backoffMs: 1, maxBackoffMs: 1 },
    tags: [],
    cache: false,
    deps: [],
    ...extra,
  };
}

const runStep: RunStep = async (step, attempt, signal) => {
  const dir = path.join(root, step.name, String(attempt));
  await runShellStep({ cmd: step.cmd!, cwd: root, outputsDir: path.join(dir, 'out'), logFile: path.join(dir, 'log'), maxLogBytes: 1 << 16, signal, killGraceMs: 200 });
};

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('executePipeline with shell steps', () => {
  it('kills a timed-out command with its children and fails with the timeout', async () => {
    const pidFile = path.join(root, 'timeout.pid');
    const def = { name: 'p', steps: [shellStep('slow', `sleep 30 & echo $! > ${pidFile}; wait`, [], { timeoutMs: 1000 })] };
    const result = await executePipeline(def, { runStep, concurrency: 1 });
    expect(result.steps.slow).toMatchObject({ status: 'FAILED', error: 'step "slow" timed out after 1s' });
    expect(alive(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('cancels a running command and never starts the next step', async () => {
    const pidFile = path.join(root, 'cancel.pid');
    const ac = new AbortController();
    const def = {
      name: 'p',
      steps: [shellStep('long', `sleep 30 & echo $! > ${pidFile}; wait`), shellStep('next', 'touch next-ran', ['long'])],
    };
    const watcher = setInterval(() => {
      if (fs.existsSync(pidFile)) ac.abort();
    }, 10);
    const result = await executePipeline(def, { runStep, concurrency: 1, signal: ac.signal });
    clearInterval(watcher);
    expect(result.status).toBe('CANCELLED');
    expect(result.steps).toMatchObject({ long: { status: 'CANCELLED' }, next: { status: 'CANCELLED', reason: 'cancelled' } });
    expect(alive(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false);
    expect(fs.existsSync(path.join(root, 'next-ran'))).toBe(false);
  });

  it('puts the exit code and stderr tail in the failed step', async () => {
    const def = { name: 'p', steps: [shellStep('bad', 'echo "no such table: orders" >&2; exit 4')] };
    const result = await executePipeline(def, { runStep, concurrency: 1 });
    expect(result.steps.bad.error).toBe(
      'command failed with exit code 4: echo "no such table: orders" >&2; exit 4\nlast lines of stderr:\nno such table: orders',
    );
  });
});
