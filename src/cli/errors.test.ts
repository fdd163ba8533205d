import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../core/errors.js';
import { describeFailure } from './errors.js';

describe('describeFailure', () => {
  it('reports a Flywheel error as one line with exit code 2', () => {
    expect(describeFailure(new FlywheelError('FW_NOT_FOUND', 'Run with id=abc not found'))).toEqual({
      exitCode: 2,
      message: 'flywheel: Run with id=abc not found',
    });
  });

  it('reports a usage error as one line with exit code 2, suggestion included', () => {
    const err = new CommanderError(1, 'commander.unknownCommand', "error: unknown command 'expriments'\n(Did you mean experiments?)");
    expect(describeFailure(err)).toEqual({ exitCode: 2, message: "flywheel: unknown command 'expriments' (Did you mean experiments?)" });
  });

  it('treats --help and --version as success', () => {
    expect(describeFailure(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({ exitCode: 0, message: '' });
    expect(describeFailure(new CommanderError(0, 'commander.version', '0.1.0'))).toEqual({ exitCode: 0, message: '' });
    expect(describeFailure(new CommanderError(0, 'commander.help', '(outputHelp)'))).toEqual({ exitCode: 0, message: '' });
  });

  it('treats a command group called without a subcommand as a usage error (help already printed)', () => {
    expect(describeFailure(new CommanderError(1, 'commander.help', '(outputHelp)'))).toEqual({ exitCode: 2, message: '' });
  });

  it('reports anything else as unexpected, exit 1, with the stack only in debug mode', () => {
    const err = new Error('disk on fire');
    const quiet = describeFailure(err);
    expect(quiet.exitCode).toBe(1);
    expect(quiet.message).toBe('flywheel: unexpected error: disk on fire (set FLYWHEEL_DEBUG=1 for details)');
    const loud = describeFailure(err, true);
    expect(loud.exitCode).toBe(1);
    expect(loud.message.split('\n')[0]).toBe('flywheel: unexpected error: disk on fire');
    expect(loud.message).toContain('errors.test.ts');
  });
});
