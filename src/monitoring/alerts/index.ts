/**
 * Alerts over monitor metrics (issue 7, part 4): threshold rules with
 * hysteresis, a pure state machine whose state is stored as JSON, and a
 * non-blocking notifier for webhooks and the event log. Persistence, routes
 * and scheduling live with the callers.
 */
export { parseAlertRule, validateAlertRule, formatAlertRule, isBad, ALERT_OPS, ALERT_SEVERITIES, DEFAULT_SEVERITY } from './rule.js';
export type { AlertRule, AlertRuleInput, AlertRuleDefaults, AlertOp, AlertSeverity } from './rule.js';
export { evaluateAlert, initialAlertState } from './state.js';
export type { AlertState, AlertStatus, AlertTransition, AlertObservation, AlertEvaluation, Incident, WindowId } from './state.js';
export { alertNotification, alertEvent } from './notification.js';
export type { AlertNotification, NotificationOptions } from './notification.js';
export { AlertNotifier, backoffDelay, NOTIFIER_DEFAULTS } from './notifier.js';
export type { NotifierOptions, NotifierTarget, WebhookTarget, EventLogTarget, NotifierStats, DeliveryStats, GiveUpReport } from './notifier.js';
