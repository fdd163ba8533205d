/**
 * What a failure looks like to a CLI user: one line on stderr and an exit
 * code. Flywheel errors and usage errors (commander's) exit 2; anything
 * unexpected exits 1, with the stack only when FLYWHEEL_DEBUG=1.
 */
import { CommanderError } from 'commander';
import { isFlywheelError } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_UNEXPECTED = 1;
export const EXIT_USAGE = 2;

export interface Failure {
  exitCode: number;
  /** The one line for stderr, without its trailing newline; empty when nothing should be printed. */
  message: string;
}

/** Commander codes that mean "the user asked for help or the version", not a failure. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.executeSubCommandAsync']);

function singleLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

/**
 * Thrown by a command that has already printed its outcome and only needs a
 * non-zero exit code (e.g. `data validate` exits 1 when an error check fails).
 */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CommandExit';
  }
}

export function describeFailure(err: unknown, debug = false): Failure {
  if (err instanceof CommandExit) return { exitCode: err.exitCode, message: '' };
  if (err instanceof CommanderError) {
    if (COMMANDER_SUCCESS.has(err.code)) return { exitCode: err.exitCode, message: '' };
    // `flywheel help …` exits 0; help printed because a group was called without a subcommand is a usage error.
    if (err.code === 'commander.help') return { exitCode: err.exitCode === 0 ? EXIT_OK : EXIT_USAGE, message: '' };
    return { exitCode: EXIT_USAGE, message: `flywheel: ${singleLine(err.message.replace(/^error:\s*/, ''))}` };
  }
  if (isFlywheelError(err)) return { exitCode: EXIT_USAGE, message: `flywheel: ${singleLine(err.message)}` };
  const e = err as Error | undefined;
  const text = e instanceof Error ? e.message || e.name : String(err);
  const message = `flywheel: unexpected error: ${singleLine(text)}`;
  if (debug && e instanceof Error && e.stack) return { exitCode: EXIT_UNEXPECTED, message: `${message}\n${e.stack}` };
  return { exitCode: EXIT_UNEXPECTED, message: debug ? message : `${message} (set FLYWHEEL_DEBUG=1 for details)` };
}
