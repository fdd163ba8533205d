/**
 * Shell steps with real processes: the environment contract (params, inputs,
 * outputs, params file), log capture of stdout and stderr, log rotation on a
 * command printing 5 MB, the error of a non-zero exit (exit code and stderr
 * tail), command not found, and abort killing the shell's children too —
 * including one that ignores SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName, runShellStep, ShellStepError, type ShellStepOptions } from './shell.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-shell-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
function options(cmd: string, extra: Partial<ShellStepOptions> = {}): ShellStepOptions {
  const dir = path.join(root, `case${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  return { cmd, cwd: dir, outputsDir: path.join(dir, 'out'), logFile: path.join(dir, 'logs', 'step.log'), maxLogBytes: 1 << 20, ...extra };
}

async function waitFor(file: string): Promise<string> {
  for (;;) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith('\n')) return fs.readFileSync(file, 'utf8').trim();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True while `pid` is a live (non-zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runShellStep environment contract', () => {
  it('passes params, inputs, outputs and the params file', async () => {
    const opts = options(
      [
        'echo "lr=$FW_PARAM_LR depth=$FW_PARAM_MAX_DEPTH flag=$FW_PARAM_USE_GPU" > seen.txt',
        'echo "raw=$FW_INPUT_RAW_ORDERS" >> seen.txt',
        'echo "extra=$EXTRA" >> seen.txt',
        'cat "$FW_PARAMS_FILE" > params.json',
        'printf parquet-bytes > "$FW_OUTPUT_FEATURES"',
        'echo "dir=$FW_OUTPUTS_DIR" >> seen.txt',
      ].join('\n'),
      {
        params: { lr: 0.1, 'max-depth': 6, use_gpu: false },
        inputs: { 'raw-orders': '/data/raw.parquet' },
        outputs: ['features'],
        env: { EXTRA: 'yes' },
      },
    );
    const result = await runShellStep(opts);
    expect(fs.readFileSync(path.join(opts.cwd, 'seen.txt'), 'utf8')).toBe(
      `lr=0.1 depth=6 flag=false\nraw=/data/raw.parquet\nextra=yes\ndir=${opts.outputsDir}\n`,
    );
    expect(JSON.parse(fs.readFileSync(path.join(opts.cwd, 'params.json'), 'utf8'))).toEqual({ lr: 0.1, 'max-depth': 6, use_gpu: false });
    const out = path.join(opts.outputsDir, 'features.parquet');
    expect(result.outputs).toEqual({ features: out });
    expect(fs.readFileSync(out, 'utf8')).toBe('parquet-bytes');
  });

  it('maps names to env var suffixes and rejects two names on one variable', async () => {
    expect(envName('raw-orders.v2')).toBe('RAW_ORDERS_V2');
    await expect(runShellStep(options('true', { params: { 'a-b': 1, a_b: 2 } }))).rejects.toThrow(/FW_PARAM_A_B/);
  });
});

describe('runShellStep logs', () => {
  it('captures stdout and stderr in the log file', async () => {
    const opts = options('echo to-stdout; echo to-stderr >&2');
    const result = await runShellStep(opts);
    const log = fs.readFileSync(opts.logFile, 'utf8');
    expect(log).toContain('to-stdout\n');
    expect(log).toContain('to-stderr\n');
    expect(result).toMatchObject({ logBytes: 20, logTruncated: false });
  });

  it('rotates the log of a command printing 5 MB, keeping at most two files and the last output', async () => {
    const cap = 64 * 1024;
    // 5,000,000 bytes of "y\n", then a last line on stdout and one on stderr.
    const opts = options('yes | head -c 5000000; echo last-stdout-line; echo last-stderr-line >&2', { maxLogBytes: cap });
    const result = await runShellStep(opts);
    const rotated = `${opts.logFile}.1`;
    const marker = '[flywheel] log rotated: the output before this line is in step.log.1, older output was discarded\n';
    const current = fs.readFileSync(opts.logFile, 'utf8');
    const previous = fs.readFileSync(rotated, 'utf8');
    // Two files only, each within the cap.
    expect(fs.readdirSync(path.dirname(opts.logFile)).sort()).toEqual(['step.log', 'step.log.1']);
    expect(fs.statSync(opts.logFile).size).toBeLessThanOrEqual(cap);
    expect(fs.statSync(rotated).size).toBeLessThanOrEqual(cap);
    // The tail is kept: the newest file ends with the last lines printed.
    expect(current.endsWith('last-stdout-line\nlast-stderr-line\n')).toBe(true);
    expect(current.startsWith(marker)).toBe(true);
    // Cuts fall on line boundaries: after the marker, every line is whole.
    expect(current.slice(marker.length, -'last-stdout-line\nlast-stderr-line\n'.length)).toMatch(/^(y\n)*$/);
    expect(previous).toMatch(/^(\[flywheel\] log rotated[^\n]*\n)?(y\n)+$/);
    // Every byte was counted, none was kept in the files beyond the two caps.
    expect(result.logBytes).toBe(5_000_000 + 'last-stdout-line\nlast-stderr-line\n'.length);
    expect(result.logTruncated).toBe(true);
    expect(result.logRotations).toBeGreaterThan(5_000_000 / cap - 1);
  });

  it('does not rotate output that fits under the cap', async () => {
    const opts = options('yes | head -c 1000', { maxLogBytes: 1000 });
    const result = await runShellStep(opts);
    expect(fs.statSync(opts.logFile).size).toBe(1000);
    expect(fs.existsSync(`${opts.logFile}.1`)).toBe(false);
    expect(result).toMatchObject({ logBytes: 1000, logRotations: 0, logTruncated: false });
  });

  it('keeps the stderr tail in the error of a failing step that printed far more than the cap', async () => {
    const opts = options('yes | head -c 2000000; echo the-real-error >&2; exit 4', { maxLogBytes: 4096 });
    await expect(runShellStep(opts)).rejects.toMatchObject({ exitCode: 4, message: expect.stringMatching(/exit code 4[\s\S]*the-real-error$/) });
    expect(fs.readFileSync(opts.logFile, 'utf8').endsWith('the-real-error\n')).toBe(true);
  });
});

describe('runShellStep failures', () => {
  it('reports the exit code and the last 20 lines of stderr', async () => {
    const opts = options('for i in $(seq -w 1 25); do echo "err-$i" >&2; done; echo std""out-only; exit 3');
    const err = await runShellStep(opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ShellStepError);
    const e = err as ShellStepError;
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain('command failed with exit code 3');
    expect(e.message).toContain('err-06\n');
    expect(e.message.endsWith('err-25')).toBe(true);
    expect(e.message).not.toContain('err-05');
    // stdout is not part of the error.
    expect(e.message).not.toContain('stdout-only');
  });

  it('says clearly when the command is not found', async () => {
    await expect(runShellStep(options('flywheel-no-such-command-xyz --flag'))).rejects.toMatchObject({
      exitCode: 127,
      message: expect.stringContaining('command not found (exit code 127): flywheel-no-such-command-xyz --flag'),
    });
  });

  it('fails when the working directory does not exist', async () => {
    await expect(runShellStep(options('true', { cwd: path.join(root, 'missing-dir') }))).rejects.toThrow(/could not start/);
  });
});

describe('runShellStep abort', () => {
  it('kills the whole process group, children of the shell included', async () => {
    const ac = new AbortController();
    const opts = options('sleep 30 & echo $! > child.pid; wait', { signal: ac.signal });
    const running = runShellStep(opts);
    const pid = Number(await waitFor(path.join(opts.cwd, 'child.pid')));
    expect(alive(pid)).toBe(true);
    ac.abort(new Error('step "x" timed out after 1s'));
    await expect(running).rejects.toThrow('step "x" timed out after 1s');
    expect(alive(pid)).toBe(false);
  });

  it('escalates to SIGKILL when the processes ignore SIGTERM', async () => {
    const ac = new AbortController();
    const opts = options("trap '' TERM; sleep 30 & echo $! > child.pid; wait", { signal: ac.signal, killGraceMs: 100 });
    const running = runShellStep(opts);
    const pid = Number(await waitFor(path.join(opts.cwd, 'child.pid')));
    ac.abort();
    await expect(running).rejects.toThrow('This operation was aborted');
    expect(alive(pid)).toBe(false);
  });

  it('kills processes the shell left behind when it exits', async () => {
    const opts = options('sleep 30 & echo $! > child.pid');
    await runShellStep(opts);
    expect(alive(Number(fs.readFileSync(path.join(opts.cwd, 'child.pid'), 'utf8')))).toBe(false);
  });
});
