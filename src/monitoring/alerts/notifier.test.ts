/**
 * The notifier against a real local HTTP server: the POSTed JSON and its
 * headers, retries after 5xx answers and after an endpoint that hangs past
 * the per-attempt timeout, giving up after the last attempt (and at once on
 * a 4xx), notify() returning while the endpoint hangs, flush() waiting for
 * delivery, the bounded queue dropping the oldest, the event-log target
 * (independent of a hanging webhook), close(), and the backoff schedule.
 * Timeouts and backoffs are tiny so the suite stays short; nothing asserts
 * how long anything took.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import type { AlertNotification } from './notification.js';
import { AlertNotifier, backoffDelay, type GiveUpReport } from './notifier.js';

/** What the endpoint does with one request: answer with a status, or hold it until released. */
type Behaviour = number | 'hang';

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: AlertNotification;
}

class Endpoint {
  readonly received: Received[] = [];
  /** Behaviours for the next requests, in order; afterwards `fallback`. */
  script: Behaviour[] = [];
  fallback: Behaviour = 200;
  private readonly held: ServerResponse[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ method: req.method!, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        const b = this.script.length > 0 ? this.script.shift()! : this.fallback;
        if (b === 'hang') this.held.push(res);
        else res.writeHead(b, { 'content-type': 'text/plain' }).end(b >= 400 ? `status ${b}` : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Answers every held request with `status`. */
  release(status = 200): void {
    for (const res of this.held.splice(0)) if (!res.destroyed) res.writeHead(status).end('ok');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `cond` holds; the test timeout bounds the wait. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

function notification(i: number, state: 'firing' | 'resolved' = 'firing'): AlertNotification {
  return {
    id: `drift@w${i}/${state}`,
    alert: 'drift',
    rule: 'drift: feature_drift_share >= 0.5 for 3',
    state,
    severity: 'warning',
    metric: 'feature_drift_share',
    op: '>=',
    value: 0.75,
    threshold: 0.5,
    time: 1_700_000_000_000 + i,
    windowId: `w${i}`,
    incident: { id: `drift@w${i}`, startWindow: `w${i}`, startTime: 1_700_000_000_000, lastBadWindow: `w${i}`, lastBadTime: 1_700_000_000_000, peak: 0.75, badWindows: 3 },
    labels: { model: 'churn' },
  };
}

let endpoint: Endpoint;
const notifiers: AlertNotifier[] = [];
const make = (opts: Partial<ConstructorParameters<typeof AlertNotifier>[0]> = {}) => {
  const n = new AlertNotifier({ targets: [{ kind: 'webhook', url: endpoint.url }], baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 10_000, ...opts });
  notifiers.push(n);
  return n;
};

beforeEach(async () => {
  endpoint = new Endpoint();
  await endpoint.start();
});

afterEach(async () => {
  endpoint.release();
  for (const n of notifiers.splice(0)) await n.close({ timeoutMs: 0 });
  await endpoint.stop();
});

describe('AlertNotifier webhook', () => {
  it('POSTs the notification as JSON with its id in a header', async () => {
    const notifier = make({ targets: [{ kind: 'webhook', url: endpoint.url, headers: { authorization: 'Bearer t0k' } }] });
    const n = notification(1);
    notifier.notify(n);
    await notifier.flush();
    expect(endpoint.received).toHaveLength(1);
    const [req] = endpoint.received;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-flywheel-alert-id']).toBe('drift@w1/firing');
    expect(req.headers.authorization).toBe('Bearer t0k');
    expect(req.body).toEqual(n);
    expect(notifier.stats()).toMatchObject({ sent: 1, failedAttempts: 0, givenUp: 0, dropped: 0, queued: 0 });
  });

  it('retries after 5xx answers until one succeeds', async () => {
    endpoint.script = [500, 503];
    const notifier = make();
    notifier.notify(notification(1));
    await notifier.flush();
    expect(endpoint.received.map((r) => r.body.id)).toEqual(['drift@w1/firing', 'drift@w1/firing', 'drift@w1/firing']);
    const stats = notifier.stats();
    expect(stats).toMatchObject({ sent: 1, failedAttempts: 2, givenUp: 0 });
    expect(stats.targets[`${endpoint.url}`].lastError).toBe('HTTP 503: status 503');
  });

  it('abandons an attempt that exceeds the timeout and retries', async () => {
    endpoint.script = ['hang'];
    const notifier = make({ timeoutMs: 100 });
    notifier.notify(notification(1));
    await notifier.flush();
    // The first attempt hangs and must time out; a later attempt gets 200. (On a
    // loaded machine a later attempt may also exceed 100 ms: each is a failed attempt.)
    const stats = notifier.stats();
    expect(endpoint.received.length).toBeGreaterThanOrEqual(2);
    expect(stats).toMatchObject({ sent: 1, givenUp: 0, failedAttempts: endpoint.received.length - 1 });
    expect(stats.targets[endpoint.url].lastError).toBe('timed out after 100 ms');
  });

  it('gives up after the last attempt, reports it, and goes on with the next notification', async () => {
    endpoint.script = [500, 500, 500];
    const reports: GiveUpReport[] = [];
    const notifier = make({ attempts: 3, onGiveUp: (r) => reports.push(r) });
    notifier.notify(notification(1));
    notifier.notify(notification(2));
    await notifier.flush();
    expect(endpoint.received.map((r) => r.body.id)).toEqual(['drift@w1/firing', 'drift@w1/firing', 'drift@w1/firing', 'drift@w2/firing']);
    expect(notifier.stats()).toMatchObject({ sent: 1, failedAttempts: 3, givenUp: 1, dropped: 0 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ target: endpoint.url, attempts: 3, error: 'HTTP 500: status 500' });
    expect(reports[0].notification.id).toBe('drift@w1/firing');
  });

  it('gives up at once on a 4xx answer other than 408 and 429', async () => {
    endpoint.script = [404, 429, 408];
    const notifier = make();
    notifier.notify(notification(1));
    notifier.notify(notification(2));
    await notifier.flush();
    // #1: 404 → given up after one attempt; #2: 429 and 408 are retried, then 200.
    expect(endpoint.received.map((r) => r.body.id)).toEqual(['drift@w1/firing', 'drift@w2/firing', 'drift@w2/firing', 'drift@w2/firing']);
    expect(notifier.stats()).toMatchObject({ sent: 1, failedAttempts: 3, givenUp: 1 });
  });

  it('returns from notify() while the endpoint hangs, and flush() waits for the delivery', async () => {
    endpoint.fallback = 'hang';
    const notifier = make();
    notifier.notify(notification(1));
    // notify() is synchronous: nothing has been delivered when it returns.
    expect(notifier.stats()).toMatchObject({ sent: 0, queued: 1 });
    let flushed = false;
    const flushing = notifier.flush().then(() => (flushed = true));
    await until(() => endpoint.received.length === 1);
    // The request is at the endpoint, unanswered: flush has not finished, and the caller goes on.
    await new Promise((r) => setImmediate(r));
    expect(flushed).toBe(false);
    notifier.notify(notification(2));
    expect(notifier.stats()).toMatchObject({ sent: 0, queued: 2 });
    endpoint.fallback = 200;
    endpoint.release();
    await flushing;
    expect(flushed).toBe(true);
    expect(notifier.stats()).toMatchObject({ sent: 2, queued: 0, failedAttempts: 0 });
    expect(endpoint.received.map((r) => r.body.id)).toEqual(['drift@w1/firing', 'drift@w2/firing']);
  });

  it('bounds the queue by dropping the oldest waiting notification', async () => {
    endpoint.script = ['hang'];
    const notifier = make({ queueLimit: 2 });
    for (let i = 0; i < 5; i++) notifier.notify(notification(i));
    // #0 is in flight (not counted by the bound); of #1..#4 the two oldest are dropped.
    expect(notifier.stats()).toMatchObject({ dropped: 2, queued: 3 });
    await until(() => endpoint.received.length === 1);
    endpoint.release();
    await notifier.flush();
    expect(endpoint.received.map((r) => r.body.id)).toEqual(['drift@w0/firing', 'drift@w3/firing', 'drift@w4/firing']);
    expect(notifier.stats()).toMatchObject({ sent: 3, dropped: 2, queued: 0 });
  });
});

describe('AlertNotifier event log and shutdown', () => {
  it('writes to the event log while a webhook hangs, retrying a failed write', async () => {
    endpoint.fallback = 'hang';
    const written: AlertNotification[] = [];
    let failures = 1;
    const notifier = make({
      targets: [
        { kind: 'webhook', url: endpoint.url, name: 'hook' },
        {
          kind: 'event-log',
          record: async (n) => {
            if (failures-- > 0) throw new Error('database is locked');
            written.push(n);
          },
        },
      ],
    });
    notifier.notify(notification(1));
    notifier.notify(notification(1, 'resolved'));
    await until(() => written.length === 2);
    expect(written.map((n) => n.id)).toEqual(['drift@w1/firing', 'drift@w1/resolved']);
    const stats = notifier.stats();
    expect(stats.targets['event-log']).toEqual({ sent: 2, failedAttempts: 1, givenUp: 0, dropped: 0, queued: 0, lastError: 'database is locked' });
    expect(stats.targets.hook).toMatchObject({ sent: 0, queued: 2 });
    expect(stats).toMatchObject({ sent: 2, queued: 2 });
  });

  it('close() refuses new notifications and, past its timeout, abandons what is left', async () => {
    endpoint.fallback = 'hang';
    const notifier = make();
    notifier.notify(notification(1));
    notifier.notify(notification(2));
    await until(() => endpoint.received.length === 1);
    const stats = await notifier.close({ timeoutMs: 20 });
    // #1 was in flight and #2 waiting: both abandoned.
    expect(stats).toMatchObject({ sent: 0, dropped: 2, queued: 0, givenUp: 0 });
    expect(() => notifier.notify(notification(3))).toThrow(FlywheelError);
  });

  it('close() without a timeout delivers everything first', async () => {
    endpoint.script = [500];
    const notifier = make();
    notifier.notify(notification(1));
    notifier.notify(notification(2));
    const stats = await notifier.close();
    expect(stats).toMatchObject({ sent: 2, failedAttempts: 1, dropped: 0, queued: 0 });
  });

  it('rejects bad targets and options, naming the field', () => {
    const bad: [ConstructorParameters<typeof AlertNotifier>[0], RegExp][] = [
      [{ targets: [{ kind: 'webhook', url: 'not a url' }] }, /targets\[0\]: "url" "not a url" is not a URL/],
      [{ targets: [{ kind: 'webhook', url: 'ftp://x/y' }] }, /"url" must be http or https/],
      [{ targets: [{ kind: 'webhook', url: 'http://a/x' }, { kind: 'webhook', url: 'http://a/x' }] }, /targets\[1\]: two targets are named "http:\/\/a\/x"/],
      [{ targets: [{ kind: 'event-log' } as never] }, /targets\[0\]: "record" must be a function/],
      [{ targets: [], attempts: 0 }, /"attempts" must be a whole number ≥ 1/],
      [{ targets: [], queueLimit: 1.5 }, /"queueLimit" must be a whole number ≥ 1/],
      [{ targets: [], baseDelayMs: -1 }, /"baseDelayMs" must be a number ≥ 0/],
    ];
    for (const [opts, re] of bad) expect(() => new AlertNotifier(opts)).toThrow(re);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base, caps at the maximum, and waits between half and all of it', () => {
    // attempt k → full = min(max, base·2^(k−1)); delay = full/2 + random·full/2.
    expect(backoffDelay(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, 30_000, () => 0.5)).toBe(375);
    expect(backoffDelay(2, 500, 30_000, () => 0)).toBe(500);
    expect(backoffDelay(4, 500, 30_000, () => 0.999999)).toBeCloseTo(4000, 2);
    expect(backoffDelay(10, 500, 30_000, () => 0)).toBe(15_000);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
  });
});
