/**
 * Delivers alert notifications to webhooks (HTTP POST JSON) and to the event
 * log, without ever blocking monitoring: `notify()` only enqueues. Each
 * target has its own bounded queue and one worker, so a hanging webhook
 * delays neither the event log nor the caller, and notifications reach a
 * target in the order they were raised (firing before its resolved).
 *
 * Delivery: each attempt has a timeout (webhooks default 5 s, via
 * AbortSignal.timeout); a failed attempt — network error, timeout, HTTP 5xx,
 * 408 or 429, or a throwing event-log callback — is retried after an
 * exponential backoff with jitter, base × 2^(k−1) capped at maxDelayMs, of
 * which a random half is waited ("equal jitter": spreads retries from many
 * monitors while keeping a floor). Other HTTP 4xx answers are permanent and
 * given up at once (a malformed request will not improve). After `attempts`
 * attempts the notification is given up and counted.
 *
 * A full queue drops its OLDEST waiting notification (counted): under an
 * outage the newest state matters most. The notification being delivered
 * does not count towards the bound.
 *
 * Shutdown: `flush()` waits until every queue is empty; `close()` stops
 * accepting, flushes, and after `timeoutMs` (if given) aborts what is left
 * (the abandoned notifications are counted as dropped).
 */
import { FlywheelError, invalidArgument } from '../../core/errors.js';
import type { AlertNotification } from './notification.js';

export interface WebhookTarget {
  kind: 'webhook';
  url: string;
  /** Name in stats and give-up reports (default: the URL without query string). */
  name?: string;
  /** Extra request headers, e.g. an Authorization token. */
  headers?: Record<string, string>;
  /** Per-attempt timeout in ms (default: the notifier's timeoutMs). */
  timeoutMs?: number;
}

export interface EventLogTarget {
  kind: 'event-log';
  /** Writes one notification, e.g. `(n) => recordEvent(db, alertEvent(n))`. */
  record: (notification: AlertNotification) => Promise<void>;
  name?: string;
  /** Per-attempt timeout in ms (default: none — a database write is not abandoned half-way, which could record it twice). */
  timeoutMs?: number;
}

export type NotifierTarget = WebhookTarget | EventLogTarget;

export interface NotifierOptions {
  targets: NotifierTarget[];
  /** Attempts per notification and target, the first included (default 5). */
  attempts?: number;
  /** Backoff before the 2nd attempt, doubled for each later one (default 500 ms). */
  baseDelayMs?: number;
  /** Cap on one backoff (default 30 s). */
  maxDelayMs?: number;
  /** Per-attempt timeout for webhooks (default 5 s). */
  timeoutMs?: number;
  /** Waiting notifications per target before the oldest is dropped (default 1000). */
  queueLimit?: number;
  /** Source of jitter in [0, 1) (default Math.random). */
  random?: () => number;
  /** Told about each notification given up; must not throw (a throw is ignored). */
  onGiveUp?: (report: GiveUpReport) => void;
}

export interface GiveUpReport {
  target: string;
  notification: AlertNotification;
  attempts: number;
  error: string;
}

export interface DeliveryStats {
  /** Notifications delivered. */
  sent: number;
  /** Attempts that failed (each retry that failed counts once). */
  failedAttempts: number;
  /** Notifications abandoned after the last attempt or a permanent error. */
  givenUp: number;
  /** Notifications dropped from a full queue, or abandoned at close. */
  dropped: number;
  /** Notifications waiting or being delivered now. */
  queued: number;
  lastError?: string;
}

export interface NotifierStats extends DeliveryStats {
  targets: Record<string, DeliveryStats>;
}

export const NOTIFIER_DEFAULTS = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5_000, queueLimit: 1_000 } as const;

/** An answer that retrying will not change (HTTP 4xx other than 408 and 429). */
class PermanentFailure extends Error {}

type Deliver = (n: AlertNotification, signal: AbortSignal) => Promise<void>;

/** Backoff before attempt `attempt + 1`, with equal jitter: half fixed, half random. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const full = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return full / 2 + random() * (full / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function describeError(err: unknown, timeoutMs: number | undefined): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

function webhookDeliver(target: WebhookTarget): Deliver {
  return async (n, signal) => {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'flywheel-alerts', 'x-flywheel-alert-id': n.id, ...target.headers },
      body: JSON.stringify(n),
      signal,
    });
    // Read the body either way: it frees the connection, and a failure's body says why.
    const body = await res.text().catch(() => '');
    if (res.ok) return;
    const message = `HTTP ${res.status}${body ? `: ${body.slice(0, 200)}` : ''}`;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentFailure(message);
    throw new Error(message);
  };
}

function eventLogDeliver(target: EventLogTarget): Deliver {
  return (n, signal) =>
    new Promise<void>((resolve, reject) => {
      // The callback cannot be cancelled; on abort (timeout, close) we stop waiting for it.
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(() => target.record(n))
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
}

/** One target's queue and its single worker. */
class TargetWorker {
  private readonly queue: AlertNotification[] = [];
  private pumping = false;
  private current: Promise<void> = Promise.resolve();
  private inFlight = 0;
  readonly stats = { sent: 0, failedAttempts: 0, givenUp: 0, dropped: 0, lastError: undefined as string | undefined };

  constructor(
    readonly name: string,
    private readonly deliver: Deliver,
    private readonly timeoutMs: number | undefined,
    private readonly opts: Required<Omit<NotifierOptions, 'targets' | 'onGiveUp'>> & Pick<NotifierOptions, 'onGiveUp'>,
    private readonly closing: AbortSignal,
  ) {}

  enqueue(n: AlertNotification): void {
    if (this.queue.length >= this.opts.queueLimit) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(n);
    if (!this.pumping) this.current = this.pump();
  }

  get queued(): number {
    return this.queue.length + this.inFlight;
  }

  /** Resolves once the queue is empty and nothing is being delivered. */
  async idle(): Promise<void> {
    while (this.pumping) await this.current;
  }

  /** Drops what is still waiting (after close gave up waiting). */
  abandon(): void {
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const n = this.queue.shift()!;
        this.inFlight = 1;
        try {
          await this.deliverWithRetry(n);
        } finally {
          this.inFlight = 0;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async deliverWithRetry(n: AlertNotification): Promise<void> {
    const { attempts, baseDelayMs, maxDelayMs, random } = this.opts;
    for (let attempt = 1; ; attempt++) {
      if (this.closing.aborted) {
        this.stats.dropped++;
        return;
      }
      // One signal per attempt, aborted by the timeout or by close(). Linked by
      // hand rather than AbortSignal.any, so nothing stays registered on the
      // notifier's long-lived close signal after the attempt.
      const attemptAbort = new AbortController();
      const onClose = () => attemptAbort.abort(this.closing.reason);
      this.closing.addEventListener('abort', onClose, { once: true });
      const timeout = this.timeoutMs !== undefined ? AbortSignal.timeout(this.timeoutMs) : null;
      const onTimeout = () => attemptAbort.abort(timeout!.reason);
      timeout?.addEventListener('abort', onTimeout, { once: true });
      try {
        await this.deliver(n, attemptAbort.signal);
        this.stats.sent++;
        return;
      } catch (err) {
        if (this.closing.aborted) {
          this.stats.dropped++;
          return;
        }
        this.stats.failedAttempts++;
        const error = describeError(err, this.timeoutMs);
        this.stats.lastError = error;
        if (err instanceof PermanentFailure || attempt >= attempts) {
          this.stats.givenUp++;
          try {
            this.opts.onGiveUp?.({ target: this.name, notification: n, attempts: attempt, error });
          } catch {
            // A reporting hook must not stop delivery of the next notification.
          }
          return;
        }
        await sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs, random), this.closing);
      } finally {
        this.closing.removeEventListener('abort', onClose);
        timeout?.removeEventListener('abort', onTimeout);
      }
    }
  }
}

export class AlertNotifier {
  private readonly workers: TargetWorker[];
  private readonly closing = new AbortController();
  private closed = false;

  constructor(options: NotifierOptions) {
    const positive = (field: keyof typeof NOTIFIER_DEFAULTS, integer: boolean): number => {
      const v = options[field] ?? NOTIFIER_DEFAULTS[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || (integer ? !Number.isSafeInteger(v) || v < 1 : v < 0)) {
        throw invalidArgument(`alert notifier: "${field}" must be ${integer ? 'a whole number ≥ 1' : 'a number ≥ 0'}`, { field });
      }
      return v;
    };
    const opts = {
      attempts: positive('attempts', true),
      baseDelayMs: positive('baseDelayMs', false),
      maxDelayMs: positive('maxDelayMs', false),
      timeoutMs: positive('timeoutMs', false),
      queueLimit: positive('queueLimit', true),
      random: options.random ?? Math.random,
      onGiveUp: options.onGiveUp,
    };
    if (!Array.isArray(options.targets)) throw invalidArgument('alert notifier: "targets" must be a list', { field: 'targets' });
    const names = new Set<string>();
    this.workers = options.targets.map((t, i) => {
      const where = `alert notifier: targets[${i}]`;
      let name: string;
      let deliver: Deliver;
      let timeoutMs: number | undefined;
      if (t?.kind === 'webhook') {
        let url: URL;
        try {
          url = new URL(t.url);
        } catch {
          throw invalidArgument(`${where}: "url" ${JSON.stringify(t.url)} is not a URL`, { field: `targets[${i}].url` });
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`${where}: "url" must be http or https, not ${url.protocol}`, { field: `targets[${i}].url` });
        name = t.name ?? `${url.origin}${url.pathname}`;
        deliver = webhookDeliver(t);
        timeoutMs = t.timeoutMs ?? opts.timeoutMs;
      } else if (t?.kind === 'event-log') {
        if (typeof t.record !== 'function') throw invalidArgument(`${where}: "record" must be a function`, { field: `targets[${i}].record` });
        name = t.name ?? 'event-log';
        deliver = eventLogDeliver(t);
        timeoutMs = t.timeoutMs;
      } else {
        throw invalidArgument(`${where}: "kind" must be "webhook" or "event-log"`, { field: `targets[${i}].kind` });
      }
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw invalidArgument(`${where}: "timeoutMs" must be a number > 0`, { field: `targets[${i}].timeoutMs` });
      if (names.has(name)) throw invalidArgument(`${where}: two targets are named "${name}"; give one a "name"`, { field: `targets[${i}].name` });
      names.add(name);
      return new TargetWorker(name, deliver, timeoutMs, opts, this.closing.signal);
    });
  }

  /** Queues the notification for every target and returns at once. */
  notify(notification: AlertNotification): void {
    if (this.closed) throw new FlywheelError('FW_INVALID_STATE', `alert notifier is closed; notification ${notification.id} was not sent`);
    for (const w of this.workers) w.enqueue(notification);
  }

  /** Waits until every queued notification is delivered or given up. */
  async flush(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.idle()));
  }

  /**
   * Stops accepting notifications and flushes. With `timeoutMs`, whatever is
   * still queued or in flight after that long is abandoned (counted as dropped).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<NotifierStats> {
    this.closed = true;
    if (options.timeoutMs === undefined) {
      await this.flush();
    } else {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.timeoutMs)));
      await Promise.race([this.flush(), deadline]);
      clearTimeout(timer);
      for (const w of this.workers) w.abandon();
      this.closing.abort(new Error('alert notifier closed'));
      await this.flush();
    }
    return this.stats();
  }

  stats(): NotifierStats {
    const targets: Record<string, DeliveryStats> = {};
    const total: DeliveryStats = { sent: 0, failedAttempts: 0, givenUp: 0, dropped: 0, queued: 0 };
    for (const w of this.workers) {
      const s: DeliveryStats = { sent: w.stats.sent, failedAttempts: w.stats.failedAttempts, givenUp: w.stats.givenUp, dropped: w.stats.dropped, queued: w.queued };
      if (w.stats.lastError !== undefined) s.lastError = w.stats.lastError;
      targets[w.name] = s;
      total.sent += s.sent;
      total.failedAttempts += s.failedAttempts;
      total.givenUp += s.givenUp;
      total.dropped += s.dropped;
      total.queued += s.queued;
    }
    return { ...total, targets };
  }
}
