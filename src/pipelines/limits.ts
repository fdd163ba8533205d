/**
 * Concurrency slots for the executor: one global limit and optional per-tag
 * limits. A step with tags [a, b] needs a free global slot and a free slot in
 * each limited tag; tags without a limit are unlimited.
 *
 * Acquisition is all-or-nothing (`tryAcquire` takes every slot a step needs or
 * none), so no step ever holds some slots while waiting for others — the
 * classic hold-and-wait deadlock cannot happen. Since every limit is ≥ 1, any
 * single step fits once nothing else runs, so a pipeline always progresses.
 */
import { invalidArgument } from '../core/errors.js';

export class ConcurrencyLimiter {
  private running = 0;
  private readonly tagRunning = new Map<string, number>();

  constructor(
    readonly global: number,
    readonly tagLimits: Readonly<Record<string, number>> = {},
  ) {
    checkLimit('concurrency', global);
    for (const [tag, limit] of Object.entries(tagLimits)) checkLimit(`tag concurrency of "${tag}"`, limit);
  }

  /** Takes one global slot and one slot per limited tag, or nothing; true when taken. */
  tryAcquire(tags: readonly string[]): boolean {
    if (this.running >= this.global) return false;
    const limited = this.limitedTags(tags);
    for (const tag of limited) {
      if ((this.tagRunning.get(tag) ?? 0) >= this.tagLimits[tag]) return false;
    }
    this.running++;
    for (const tag of limited) this.tagRunning.set(tag, (this.tagRunning.get(tag) ?? 0) + 1);
    return true;
  }

  /** Gives back the slots taken by a successful `tryAcquire(tags)`. */
  release(tags: readonly string[]): void {
    if (this.running <= 0) throw new Error('ConcurrencyLimiter.release without acquire');
    this.running--;
    for (const tag of this.limitedTags(tags)) this.tagRunning.set(tag, (this.tagRunning.get(tag) ?? 1) - 1);
  }

  /** Slots in use: global and per limited tag. */
  inUse(): { global: number; tags: Record<string, number> } {
    return { global: this.running, tags: Object.fromEntries(this.tagRunning) };
  }

  private limitedTags(tags: readonly string[]): string[] {
    return [...new Set(tags)].filter((tag) => Object.hasOwn(this.tagLimits, tag));
  }
}

function checkLimit(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw invalidArgument(`${what} must be an integer ≥ 1, got ${String(value)}`);
  }
}
