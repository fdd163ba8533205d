/**
 * MonitorService: monitor definitions (create, get, list, delete, with
 * events) and their execution. `run(name, {now})` computes one window
 * (compute.ts), records it as a Run in experiment `monitoring/<name>` whose
 * metrics are stamped with the window end (so successive runs form time
 * series), then advances every alert rule and stores the new states, with an
 * `alert.firing` / `alert.resolved` event per transition, in one transaction.
 * Executions of one monitor are meant to be serial (one scheduler); if two
 * overlap, the later to finish gets FW_CONFLICT and its run is marked FAILED.
 */
import { randomUUID } from 'node:crypto';
import { alreadyExists, FlywheelError, notFound } from '../../core/errors.js';
import { recordEvent, type NewEvent } from '../../events/service.js';
import type { Store } from '../../store/index.js';
import type { Metric } from '../../tracking/types.js';
import { alertEvent, alertNotification, evaluateAlert, type AlertState, type AlertStatus, type AlertTransition } from '../alerts/index.js';
import { checkMonitorTargets, computeMonitor, type MonitorComputation, type MonitorDeps } from './compute.js';
import { deleteMonitorRow, findMonitor, insertMonitor, listMonitorRows, saveExecution, toMonitor, type AlertStates } from './store.js';
import { parseMonitorAlerts, validateMonitorInput, validateMonitorName, type Monitor } from './types.js';

export interface MonitorServiceOptions extends MonitorDeps {
  store: Store;
  actor?: string;
  now?: () => number;
}

export interface AlertOutcome {
  rule: string;
  metric: string;
  /** The metric's value in this window; null when the window had none (no data). */
  value: number | null;
  status: AlertStatus;
  transition: AlertTransition | null;
  skipped?: 'no-data' | 'duplicate-window' | 'out-of-order';
}

export interface MonitorRunResult extends MonitorComputation {
  monitor: string;
  /** 1, 2, 3… per monitor: the step of the logged metrics. */
  execution: number;
  runId: string;
  alerts: AlertOutcome[];
}

export const monitorExperimentName = (name: string) => `monitoring/${name}`;

export class MonitorService {
  private readonly store: Store;
  private readonly deps: MonitorDeps;
  private readonly actor: string;
  private readonly now: () => number;

  constructor(options: MonitorServiceOptions) {
    this.store = options.store;
    this.deps = options;
    this.actor = options.actor ?? 'monitoring';
    this.now = options.now ?? Date.now;
  }

  private async require(name: string) {
    const row = await findMonitor(this.store.db, validateMonitorName(name));
    if (!row) throw notFound(`Monitor ${name} not found`);
    return row;
  }

  /** Validates the definition and checks the target, reference and columns exist before anything is written. */
  async create(input: unknown): Promise<Monitor> {
    const def = validateMonitorInput(input);
    if (await findMonitor(this.store.db, def.name)) throw alreadyExists(`Monitor ${def.name} already exists`);
    const columns = await checkMonitorTargets(this.deps, def);
    const id = randomUUID().replaceAll('-', '');
    const time = this.now();
    await this.store.db.transaction().execute(async (trx) => {
      await insertMonitor(trx, id, def, time);
      await recordEvent(trx, { actor: this.actor, kind: 'monitor.created', entityType: 'monitor', entityId: def.name, payload: { monitorId: id, target: def.target, reference: def.reference, columns, checks: def.checks }, time });
    });
    return this.get(def.name);
  }

  async get(name: string): Promise<Monitor> {
    return toMonitor(await this.require(name));
  }

  async list(): Promise<Monitor[]> {
    return (await listMonitorRows(this.store.db)).map(toMonitor);
  }

  /** The stored alert state of each rule (rules never evaluated are absent). */
  async alertStates(name: string): Promise<AlertStates> {
    return JSON.parse((await this.require(name)).alert_state) as AlertStates;
  }

  async delete(name: string): Promise<void> {
    const row = await this.require(name);
    await this.store.db.transaction().execute(async (trx) => {
      await deleteMonitorRow(trx, row.monitor_id);
      await recordEvent(trx, { actor: this.actor, kind: 'monitor.deleted', entityType: 'monitor', entityId: row.name, payload: { monitorId: row.monitor_id }, time: this.now() });
    });
  }

  /** One execution over the window ending at `now` (default: the clock). */
  async run(name: string, options: { now?: number } = {}): Promise<MonitorRunResult> {
    const row = await this.require(name);
    const monitor = toMonitor(row);
    const now = options.now ?? this.now();
    const rules = parseMonitorAlerts(monitor.alerts);
    // Bad input (unknown columns, empty reference…) fails here, before a run is created.
    const computed = await computeMonitor(this.deps, monitor, now);
    const execution = Number(row.executions) + 1;

    const tracking = this.deps.tracking;
    const experiment = await tracking.ensureExperiment(monitorExperimentName(monitor.name));
    const target: Record<string, string> = monitor.target.kind === 'deployment' ? { 'flywheel.deployment': monitor.target.deployment } : { 'flywheel.dataset': monitor.target.dataset };
    const run = await tracking.createRun({
      experimentId: experiment.experimentId,
      runName: `${monitor.name}-${execution}`,
      startTime: this.now(),
      tags: {
        'flywheel.monitor': monitor.name,
        ...target,
        'flywheel.monitor.window_start': String(computed.window.start),
        'flywheel.monitor.window_end': String(computed.window.end),
        'flywheel.monitor.window_id': computed.window.id,
        'flywheel.monitor.reference': computed.reference.source,
        'flywheel.monitor.no_data': String(computed.noData),
      },
    });
    const runId = run.info.runId;
    try {
      const metrics: Metric[] = Object.entries(computed.metrics).map(([key, value]) => ({ key, value, timestamp: computed.window.end, step: execution }));
      for (let i = 0; i < metrics.length; i += 1000) await tracking.logBatch(runId, { metrics: metrics.slice(i, i + 1000) });
    } catch (err) {
      await tracking.updateRun(runId, { status: 'FAILED', endTime: this.now() });
      throw err;
    }

    const states = JSON.parse(row.alert_state) as AlertStates;
    const next: AlertStates = {};
    const outcomes: AlertOutcome[] = [];
    const events: NewEvent[] = [];
    for (const rule of rules) {
      const value = computed.metrics[rule.metric] ?? null;
      const observation = { time: computed.window.end, value, windowId: computed.window.id };
      const prior: AlertState | null = states[rule.name] ?? null;
      const evaluation = evaluateAlert(rule, prior, observation);
      next[rule.name] = evaluation.state;
      outcomes.push({ rule: rule.name, metric: rule.metric, value, status: evaluation.state.status, transition: evaluation.transition, ...(evaluation.skipped ? { skipped: evaluation.skipped } : {}) });
      const note = alertNotification({ ...rule, labels: { monitor: monitor.name, ...rule.labels } }, evaluation, observation);
      if (note) {
        const e = alertEvent(note, this.actor);
        // Rule names are per monitor: the event's entity is `<monitor>/<rule>`.
        events.push({ ...e, entityId: `${monitor.name}/${rule.name}`, payload: { ...e.payload, monitor: monitor.name, runId } });
      }
    }
    const saved = await this.store.db.transaction().execute(async (trx) => {
      if (!(await saveExecution(trx, row.monitor_id, next, execution, now))) return false;
      for (const e of events) await recordEvent(trx, e);
      return true;
    });
    if (!saved) {
      // Another execution of this monitor finished first: its alert states stand, this one's are dropped.
      await tracking.updateRun(runId, { status: 'FAILED', endTime: this.now() });
      throw new FlywheelError('FW_CONFLICT', `monitor ${monitor.name} was executed concurrently; this execution's alert evaluation was not recorded (run it again).`);
    }
    await tracking.updateRun(runId, { status: 'FINISHED', endTime: this.now() });
    return { ...computed, monitor: monitor.name, execution, runId, alerts: outcomes };
  }
}
