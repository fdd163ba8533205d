/**
 * Parsers for option values shared by the commands. A bad value throws
 * commander's InvalidArgumentError, which the CLI reports as a usage error
 * (one line, exit 2).
 */
import { InvalidArgumentError } from 'commander';

/** `--max 10`: a whole number from 1 up. */
export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  }
  return Number(value);
}

/** `--port 5000`: 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return Number(value);
}

/** Accumulates a repeatable option (`--order-by a --order-by b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Accumulates `--tag key=value` pairs; the value may itself contain "=". */
export function collectTag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value.');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `--metrics acc,loss`: a comma-separated list of keys, blanks dropped. */
export function parseKeyList(value: string): string[] {
  return value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}
