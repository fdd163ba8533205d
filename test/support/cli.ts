/**
 * Runs a commander program in-process as `flywheel …args` for CLI tests: captures
 * what it writes to stdout, and turns a failure into the exit code and the one
 * stderr line `main` would produce (src/cli/errors.ts describeFailure).
 */
import type { Command } from 'commander';
import { vi } from 'vitest';
import { describeFailure } from '../../src/cli/errors.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(program: Command, args: string[]): Promise<CliResult> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'flywheel', ...args]);
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const f = describeFailure(err);
    return { code: f.exitCode, stdout, stderr: f.message };
  } finally {
    spy.mockRestore();
  }
}
