/**
 * What an alert tells the outside world: the JSON body of a webhook POST and
 * the payload of an event-log entry, built from one state-machine step.
 * Kept apart from delivery so both targets send the same document.
 */
import type { NewEvent } from '../../events/service.js';
import { formatAlertRule, type AlertRule, type AlertSeverity, type AlertOp } from './rule.js';
import type { AlertEvaluation, AlertObservation, AlertTransition, Incident, WindowId } from './state.js';

export interface AlertNotification {
  /** Unique per incident and state (`<incident id>/<state>`): receivers can drop a retried delivery they already have. */
  id: string;
  /** The rule name. */
  alert: string;
  /** The rule in its one-line form. */
  rule: string;
  state: AlertTransition;
  severity: AlertSeverity;
  metric: string;
  op: AlertOp;
  /** The value observed in the window that caused the transition. */
  value: number;
  threshold: number;
  /** End of that window, epoch milliseconds. */
  time: number;
  windowId: WindowId;
  incident: Incident;
  labels: Record<string, string>;
}

export interface NotificationOptions {
  /** Also notify the pending transition (default false: only firing and resolved page anyone). */
  includePending?: boolean;
}

/**
 * The notification for one evaluation, or null when nothing is due (no
 * transition, or pending unless asked for). `rule` must be the validated rule.
 */
export function alertNotification(rule: AlertRule, evaluation: AlertEvaluation, observation: AlertObservation, options: NotificationOptions = {}): AlertNotification | null {
  const { transition, incident } = evaluation;
  if (transition === null || incident === undefined) return null;
  if (transition === 'pending' && !options.includePending) return null;
  return {
    id: `${incident.id}/${transition}`,
    alert: rule.name,
    rule: formatAlertRule(rule),
    state: transition,
    severity: rule.severity,
    metric: rule.metric,
    op: rule.op,
    value: observation.value as number,
    threshold: rule.threshold,
    time: observation.time,
    windowId: observation.windowId,
    incident,
    labels: { ...rule.labels },
  };
}

/**
 * The event-log entry for a notification, shaped for src/events/service.ts
 * `recordEvent`: kind `alert.firing` / `alert.resolved`, entity the rule.
 */
export function alertEvent(n: AlertNotification, actor = 'monitoring'): NewEvent {
  return { actor, kind: `alert.${n.state}`, entityType: 'alert', entityId: n.alert, payload: { ...n }, time: n.time };
}
