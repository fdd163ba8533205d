/**
 * The alert state machine over hand-written window sequences: firing after
 * exactly N bad windows, resolving after exactly M good ones, flapping,
 * no-data gaps, one firing per incident, the resolved incident's summary,
 * re-evaluated and out-of-order windows, and that the state survives a JSON
 * round trip between every window.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { alertEvent, alertNotification } from './notification.js';
import { validateAlertRule, type AlertRuleInput } from './rule.js';
import { evaluateAlert, initialAlertState, type AlertEvaluation, type AlertState } from './state.js';

const rule = (extra: Partial<AlertRuleInput> = {}) => validateAlertRule({ name: 'drift', metric: 'feature_drift_share', op: '>=', threshold: 0.5, ...extra });

/** Runs values through the machine (window i at time i*1000, windowId `w<i>`); the state goes through JSON each step. */
function run(r: AlertRuleInput, values: (number | null)[]) {
  let state: AlertState | null = null;
  const steps: { status: string; transition: string | null; result: AlertEvaluation }[] = [];
  values.forEach((value, i) => {
    const result = evaluateAlert(r, state, { time: i * 1000, value, windowId: `w${i}` });
    state = JSON.parse(JSON.stringify(result.state)) as AlertState;
    expect(state).toEqual(result.state);
    steps.push({ status: result.state.status, transition: result.transition, result });
  });
  return { steps, statuses: steps.map((s) => s.status), transitions: steps.map((s) => s.transition), final: state! };
}

const B = 0.9; // bad under ">= 0.5"
const G = 0.1; // good

describe('evaluateAlert', () => {
  it('fires on the Nth consecutive bad window, not the (N-1)th', () => {
    const { statuses, transitions } = run(rule({ for: 3 }), [G, B, B, B, B]);
    expect(statuses).toEqual(['ok', 'pending', 'pending', 'firing', 'firing']);
    expect(transitions).toEqual([null, 'pending', null, 'firing', null]);
    // Two bad windows never fire a for-3 rule.
    expect(run(rule({ for: 3 }), [B, B, G]).transitions).not.toContain('firing');
  });

  it('fires on the first bad window with for 1, without a pending step', () => {
    const { statuses, transitions } = run(rule(), [G, B, G]);
    expect(statuses).toEqual(['ok', 'firing', 'resolved']);
    expect(transitions).toEqual([null, 'firing', 'resolved']);
  });

  it('treats the threshold itself by the operator: ">=" 0.5 is bad at 0.5, ">" 0.5 is not', () => {
    expect(run(rule({ op: '>=' }), [0.5]).transitions).toEqual(['firing']);
    expect(run(rule({ op: '>' }), [0.5]).transitions).toEqual([null]);
    expect(run(rule({ op: '<', threshold: 0.8 }), [0.79, 0.8]).statuses).toEqual(['firing', 'resolved']);
  });

  it('resolves after exactly M consecutive good windows; a bad window restarts the count', () => {
    const { statuses, transitions } = run(rule({ for: 2, resolveAfter: 3 }), [B, B, G, G, B, G, G, G, G]);
    expect(statuses).toEqual(['pending', 'firing', 'firing', 'firing', 'firing', 'firing', 'firing', 'resolved', 'resolved']);
    expect(transitions).toEqual(['pending', 'firing', null, null, null, null, null, 'resolved', null]);
  });

  it('sends one firing per incident while the condition flaps inside it', () => {
    const { transitions } = run(rule({ for: 1, resolveAfter: 2 }), [B, G, B, G, B, B, G, G]);
    expect(transitions.filter((t) => t === 'firing')).toHaveLength(1);
    expect(transitions).toEqual(['firing', null, null, null, null, null, null, 'resolved']);
  });

  it('never fires when bad windows alternate with good ones under for 2, and cancels pending silently', () => {
    const { statuses, transitions, final } = run(rule({ for: 2 }), [B, G, B, G, B, G]);
    expect(statuses).toEqual(['pending', 'ok', 'pending', 'ok', 'pending', 'ok']);
    expect(transitions).toEqual(['pending', null, 'pending', null, 'pending', null]);
    expect(final.incident).toBeNull();
    expect(final.lastResolved).toBeNull();
  });

  it('lets no-data windows (null, NaN) neither advance nor reset a streak', () => {
    // Bad, gap, bad: the gap does not break the streak, so a for-2 rule fires on the second bad window.
    const fire = run(rule({ for: 2 }), [B, null, Number.NaN, B]);
    expect(fire.transitions).toEqual(['pending', null, null, 'firing']);
    expect(fire.steps[1].result.skipped).toBe('no-data');
    expect(fire.steps[2].result.skipped).toBe('no-data');
    // Gaps alone never fire and never resolve.
    expect(run(rule(), [null, null, null]).statuses).toEqual(['ok', 'ok', 'ok']);
    const firing = run(rule({ resolveAfter: 2 }), [B, G, null, null, G]);
    expect(firing.statuses).toEqual(['firing', 'firing', 'firing', 'firing', 'resolved']);
    expect(firing.steps[4].result.incident?.badWindows).toBe(1);
  });

  it('gives the incident a stable id and summarises it on resolution', () => {
    // Windows: w0 good, w1..w2 pending→firing, w3 good, w4 bad 0.95 (peak), w5 bad 0.7, w6 w7 good → resolved at w7.
    const { steps } = run(rule({ for: 2, resolveAfter: 2 }), [0.2, 0.6, 0.8, 0.3, 0.95, 0.7, 0.1, 0.2]);
    const pending = steps[1].result.incident!;
    const fired = steps[2].result.incident!;
    const resolved = steps[7].result.incident!;
    expect(pending.id).toBe('drift@w1');
    expect(fired.id).toBe('drift@w1');
    expect(resolved).toEqual({
      id: 'drift@w1',
      startWindow: 'w1',
      startTime: 1000,
      firedWindow: 'w2',
      firedTime: 2000,
      lastBadWindow: 'w5',
      lastBadTime: 5000,
      endWindow: 'w7',
      endTime: 7000,
      peak: 0.95,
      badWindows: 4,
    });
    expect(steps[7].result.state.lastResolved).toEqual(resolved);
    expect(steps[7].result.state.incident).toBeNull();
  });

  it('takes the smallest value as the peak of a "<" rule', () => {
    const { steps } = run(validateAlertRule({ name: 'auc', metric: 'auc', op: '<', threshold: 0.8 }), [0.7, 0.6, 0.75, 0.9]);
    expect(steps[3].result.incident?.peak).toBe(0.6);
    expect(steps[3].result.incident?.badWindows).toBe(3);
  });

  it('opens a new incident with a new id after a resolution (resolved behaves as ok)', () => {
    const { steps, transitions } = run(rule({ for: 2 }), [B, B, G, G, B, B, G]);
    expect(transitions).toEqual(['pending', 'firing', 'resolved', null, 'pending', 'firing', 'resolved']);
    expect(steps[1].result.incident!.id).toBe('drift@w0');
    expect(steps[5].result.incident!.id).toBe('drift@w4');
    expect(steps[6].result.incident!.badWindows).toBe(2);
  });

  it('ignores a window evaluated again and a window older than the last one', () => {
    const r = rule({ for: 2 });
    const first = evaluateAlert(r, null, { time: 1000, value: B, windowId: 'w1' });
    const again = evaluateAlert(r, first.state, { time: 1000, value: B, windowId: 'w1' });
    expect(again.skipped).toBe('duplicate-window');
    expect(again.state).toEqual(first.state);
    const older = evaluateAlert(r, first.state, { time: 500, value: B, windowId: 'w0' });
    expect(older.skipped).toBe('out-of-order');
    expect(older.state.badStreak).toBe(1);
    expect(evaluateAlert(r, first.state, { time: 2000, value: B, windowId: 'w2' }).transition).toBe('firing');
  });

  it('does not modify the state passed in', () => {
    const r = rule();
    const start = initialAlertState('drift');
    const copy = structuredClone(start);
    evaluateAlert(r, start, { time: 0, value: B, windowId: 0 });
    expect(start).toEqual(copy);
  });

  it('rejects a state of another rule, a bad observation and a bad rule', () => {
    const r = rule();
    const other = initialAlertState('latency');
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(FlywheelError);
        return (e as FlywheelError).message;
      }
      throw new Error('expected an error');
    };
    expect(err(() => evaluateAlert(r, other, { time: 0, value: 1, windowId: 'w' }))).toMatch(/alert rule "drift": the stored state belongs to rule "latency"/);
    expect(err(() => evaluateAlert(r, { version: 2 } as unknown as AlertState, { time: 0, value: 1, windowId: 'w' }))).toMatch(/not an alert state/);
    expect(err(() => evaluateAlert(r, null, { time: Number.NaN, value: 1, windowId: 'w' }))).toMatch(/time must be a finite number/);
    expect(err(() => evaluateAlert(r, null, { time: 0, value: 1, windowId: '' }))).toMatch(/windowId/);
    expect(err(() => evaluateAlert(r, null, { time: 0, value: '1' as unknown as number, windowId: 'w' }))).toMatch(/value must be a number or null/);
    expect(err(() => evaluateAlert({ ...r, for: 0 }, null, { time: 0, value: 1, windowId: 'w' }))).toMatch(/"for" must be/);
  });
});

describe('alertNotification', () => {
  it('builds the firing and resolved documents, and nothing for other windows', () => {
    const r = validateAlertRule({ name: 'drift', metric: 'feature_drift_share', op: '>=', threshold: 0.5, for: 2, severity: 'critical', labels: { model: 'churn' } });
    let state: AlertState | null = null;
    const sent = [];
    const values = [0.6, 0.7, 0.8, 0.1];
    for (let i = 0; i < values.length; i++) {
      const obs = { time: 1000 * i, value: values[i], windowId: i };
      const ev = evaluateAlert(r, state, obs);
      state = ev.state;
      const n = alertNotification(r, ev, obs);
      if (i === 0) expect(alertNotification(r, ev, obs, { includePending: true })?.state).toBe('pending');
      if (n) sent.push(n);
    }
    expect(sent.map((n) => n.state)).toEqual(['firing', 'resolved']);
    expect(sent[0]).toEqual({
      id: 'drift@0/firing',
      alert: 'drift',
      rule: 'drift: feature_drift_share >= 0.5 for 2 severity critical',
      state: 'firing',
      severity: 'critical',
      metric: 'feature_drift_share',
      op: '>=',
      value: 0.7,
      threshold: 0.5,
      time: 1000,
      windowId: 1,
      incident: { id: 'drift@0', startWindow: 0, startTime: 0, firedWindow: 1, firedTime: 1000, lastBadWindow: 1, lastBadTime: 1000, peak: 0.7, badWindows: 2 },
      labels: { model: 'churn' },
    });
    expect(sent[1]).toMatchObject({ id: 'drift@0/resolved', value: 0.1, incident: { peak: 0.8, badWindows: 3, endWindow: 3, endTime: 3000 } });
    expect(alertEvent(sent[1])).toEqual({ actor: 'monitoring', kind: 'alert.resolved', entityType: 'alert', entityId: 'drift', payload: sent[1], time: 3000 });
  });
});
