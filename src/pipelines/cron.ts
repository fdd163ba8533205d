/**
 * Cron arithmetic for pipeline schedules, on croner: compiling a pattern with
 * its timezone (a bad pattern or zone is one FW_INVALID_ARGUMENT), the next
 * fire time strictly after an instant, and the ticks that fell in a window
 * (last fire, now] — what the scheduler needs to tell an on-time tick from
 * missed ones. Times are ms since the epoch; no clock is read here.
 */
import { Cron } from 'croner';
import { invalidArgument } from '../core/errors.js';

export interface CompiledCron {
  readonly pattern: string;
  readonly timezone: string;
  /** The first tick strictly after `after`; null if the pattern never fires again. */
  next(after: number): number | null;
  /** Ticks in (after, upTo]: how many (capped at 2: "one" or "more than one") and the latest. */
  ticksIn(after: number, upTo: number): { count: 0 } | { count: 1 | 2; latest: number };
}

export function compileCron(pattern: string, timezone = 'UTC'): CompiledCron {
  let cron: Cron;
  try {
    cron = new Cron(pattern, { timezone, paused: true });
    cron.nextRun(new Date(0)); // a bad timezone only fails on use
  } catch (err) {
    throw invalidArgument(`schedule "${pattern}" (timezone ${timezone}): ${(err as Error).message.split('. ')[0]}`);
  }
  const next = (after: number): number | null => cron.nextRun(new Date(after))?.getTime() ?? null;
  return {
    pattern,
    timezone,
    next,
    ticksIn(after, upTo) {
      const first = next(after);
      if (first === null || first > upTo) return { count: 0 };
      const second = next(first);
      if (second === null || second > upTo) return { count: 1, latest: first };
      // previousRuns excludes a tick at exactly the reference instant; +1 ms makes upTo inclusive.
      const latest = cron.previousRuns(1, new Date(upTo + 1))[0]?.getTime() ?? second;
      return { count: 2, latest };
    },
  };
}
