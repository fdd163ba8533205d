/**
 * The alert state machine: one rule, one stored state, one monitor window at
 * a time. Hysteresis keeps a noisy metric from paging on every blip and from
 * resolving on one lucky window:
 *
 *   ok ──bad──▶ pending ──(N bad in a row)──▶ firing ──(M good in a row)──▶ resolved
 *    ▲            │ good                         │ bad / good < M              │
 *    └────────────┘ (silently, nothing fired)    └─ stays firing, no new       └─ behaves as ok
 *                                                   notification (dedup)
 *
 * With `for: 1` the first bad window fires directly (no pending transition).
 * The state is plain JSON so the caller can store it between windows.
 *
 * Data gaps: a window whose value is null or NaN ("no data", e.g. a window
 * with zero rows) neither advances nor resets any streak; the streak carries
 * over the gap. A window already evaluated (same windowId as the last one)
 * or older than the last one (time) is ignored, so re-running a monitor over
 * the same window cannot fire twice.
 */
import { invalidArgument } from '../../core/errors.js';
import { isBad, validateAlertRule, type AlertRule, type AlertRuleInput } from './rule.js';

export type AlertStatus = 'ok' | 'pending' | 'firing' | 'resolved';
export type AlertTransition = 'pending' | 'firing' | 'resolved';
export type WindowId = string | number;

export interface AlertObservation {
  /** End of the window, epoch milliseconds. */
  time: number;
  /** The metric over the window; null (or NaN) when the window had no data. */
  value: number | null;
  windowId: WindowId;
}

/** One episode of the condition holding, from its first bad window to its resolution. */
export interface Incident {
  /** Stable id: `<rule name>@<start window>`; the same in the firing and the resolved notification. */
  id: string;
  startWindow: WindowId;
  startTime: number;
  /** The window whose bad value made the alert fire (absent while pending). */
  firedWindow?: WindowId;
  firedTime?: number;
  /** The window that completed the M good windows (present once resolved). */
  endWindow?: WindowId;
  endTime?: number;
  lastBadWindow: WindowId;
  lastBadTime: number;
  /** The worst bad value: the largest for > and >=, the smallest for < and <=, the farthest from the threshold for != (the threshold itself for ==). */
  peak: number;
  /** Bad windows in the incident, the pending ones included; good windows that did not reach M are not counted. */
  badWindows: number;
}

export interface AlertState {
  /** Format of this object, for readers of stored states. */
  version: 1;
  rule: string;
  status: AlertStatus;
  /** Consecutive bad windows (no-data windows skipped). */
  badStreak: number;
  /** Consecutive good windows while firing. */
  goodStreak: number;
  /** The open incident (pending or firing), else null. */
  incident: Incident | null;
  /** The most recently resolved incident, kept for display. */
  lastResolved: Incident | null;
  lastWindowId: WindowId | null;
  lastTime: number | null;
}

export interface AlertEvaluation {
  /** The new state (a fresh object; the state passed in is not modified). */
  state: AlertState;
  /** The edge this window crossed, if any: a notification is due for `firing` and `resolved`. */
  transition: AlertTransition | null;
  /** The incident the transition is about (for resolved: with end, peak and bad-window count). */
  incident?: Incident;
  /** Why the window changed nothing: it had no data, or it was already evaluated / older than the last one. */
  skipped?: 'no-data' | 'duplicate-window' | 'out-of-order';
}

export function initialAlertState(ruleName: string): AlertState {
  return { version: 1, rule: ruleName, status: 'ok', badStreak: 0, goodStreak: 0, incident: null, lastResolved: null, lastWindowId: null, lastTime: null };
}

/** The worse of two bad values under the rule (see Incident.peak). */
function worse(rule: AlertRule, a: number, b: number): number {
  switch (rule.op) {
    case '>':
    case '>=':
      return Math.max(a, b);
    case '<':
    case '<=':
      return Math.min(a, b);
    case '!=':
      return Math.abs(b - rule.threshold) > Math.abs(a - rule.threshold) ? b : a;
    case '==':
      return a;
  }
}

function checkState(rule: AlertRule, state: unknown): AlertState {
  const s = state as AlertState;
  if (typeof s !== 'object' || s === null || s.version !== 1 || !['ok', 'pending', 'firing', 'resolved'].includes(s.status)) {
    throw invalidArgument(`alert rule "${rule.name}": the stored state is not an alert state (version 1)`, { rule: rule.name });
  }
  if (s.rule !== rule.name) throw invalidArgument(`alert rule "${rule.name}": the stored state belongs to rule "${s.rule}"`, { rule: rule.name });
  return s;
}

/**
 * Advances the rule's state by one window. `state` null starts from ok.
 * Pure: the same inputs give the same result, and nothing is notified here —
 * the caller sends a notification when `transition` is firing or resolved.
 */
export function evaluateAlert(ruleInput: AlertRule | AlertRuleInput, state: AlertState | null, observation: AlertObservation): AlertEvaluation {
  const rule = validateAlertRule(ruleInput);
  const { time, value, windowId } = observation;
  if (typeof time !== 'number' || !Number.isFinite(time)) throw invalidArgument(`alert rule "${rule.name}": the observation time must be a finite number (epoch ms)`, { rule: rule.name });
  if (!((typeof windowId === 'string' && windowId !== '') || (typeof windowId === 'number' && Number.isFinite(windowId)))) {
    throw invalidArgument(`alert rule "${rule.name}": the observation windowId must be a non-empty string or a number`, { rule: rule.name });
  }
  if (value !== null && typeof value !== 'number') throw invalidArgument(`alert rule "${rule.name}": the observed value must be a number or null`, { rule: rule.name });

  // A deep copy keeps the caller's state untouched and proves the state is plain JSON.
  const s: AlertState = state === null ? initialAlertState(rule.name) : structuredClone(checkState(rule, state));
  if (s.lastWindowId !== null && windowId === s.lastWindowId) return { state: s, transition: null, skipped: 'duplicate-window' };
  if (s.lastTime !== null && time < s.lastTime) return { state: s, transition: null, skipped: 'out-of-order' };
  s.lastWindowId = windowId;
  s.lastTime = time;
  if (value === null || Number.isNaN(value)) return { state: s, transition: null, skipped: 'no-data' };

  if (isBad(rule, value)) {
    s.badStreak++;
    s.goodStreak = 0;
    if (s.incident === null) {
      s.incident = { id: `${rule.name}@${windowId}`, startWindow: windowId, startTime: time, lastBadWindow: windowId, lastBadTime: time, peak: value, badWindows: 1 };
    } else {
      s.incident.lastBadWindow = windowId;
      s.incident.lastBadTime = time;
      s.incident.peak = worse(rule, s.incident.peak, value);
      s.incident.badWindows++;
    }
    if (s.status === 'firing') return { state: s, transition: null };
    if (s.badStreak >= rule.for) {
      s.status = 'firing';
      s.incident.firedWindow = windowId;
      s.incident.firedTime = time;
      return { state: s, transition: 'firing', incident: structuredClone(s.incident) };
    }
    if (s.status === 'pending') return { state: s, transition: null };
    s.status = 'pending';
    return { state: s, transition: 'pending', incident: structuredClone(s.incident) };
  }

  // A good window.
  s.badStreak = 0;
  if (s.status === 'pending') {
    // The condition did not hold long enough: nothing fired, nothing to resolve.
    s.status = 'ok';
    s.incident = null;
    return { state: s, transition: null };
  }
  if (s.status !== 'firing') return { state: s, transition: null };
  s.goodStreak++;
  if (s.goodStreak < rule.resolveAfter) return { state: s, transition: null };
  const incident = s.incident!;
  incident.endWindow = windowId;
  incident.endTime = time;
  s.status = 'resolved';
  s.goodStreak = 0;
  s.incident = null;
  s.lastResolved = incident;
  return { state: s, transition: 'resolved', incident: structuredClone(incident) };
}
