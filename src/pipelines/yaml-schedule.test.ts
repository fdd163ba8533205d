import { describe, expect, it } from 'vitest';
import { parsePipelinesYaml } from './yaml.js';

const one = (body: string) => parsePipelinesYaml(`pipelines:\n  p:\n${body}\n    steps:\n      s: { cmd: echo hi, outputs: [made] }\n`, 'flywheel.yaml')[0];

describe('flywheel.yaml schedule and triggers', () => {
  it('reads a schedule with defaults (UTC, skip), a cron string shorthand, and triggers', () => {
    expect(one('    schedule: { cron: "*/15 * * * *" }').schedule).toEqual({ cron: '*/15 * * * *', timezone: 'UTC', missed: 'skip' });
    expect(one('    schedule: "0 9 * * 1"').schedule).toEqual({ cron: '0 9 * * 1', timezone: 'UTC', missed: 'skip' });
    expect(one('    schedule: { cron: "0 9 * * 1", timezone: Europe/Berlin, missed: catch_up_one }').schedule).toEqual({ cron: '0 9 * * 1', timezone: 'Europe/Berlin', missed: 'catch_up_one' });
    expect(one('    triggers: [{ on: dataset, dataset: orders }, { on: alert, monitor: drift }]').triggers).toEqual([
      { on: 'dataset', dataset: 'orders' },
      { on: 'alert', monitor: 'drift' },
    ]);
  });

  it('reports a bad schedule or trigger with file:line:column', () => {
    expect(() => one('    schedule: { cron: "61 * * * *" }')).toThrow(/^flywheel\.yaml:3:23: pipeline "p", field "schedule": schedule "61 \* \* \* \*"/);
    expect(() => one('    schedule: { cron: "0 * * * *", missed: always }')).toThrow('flywheel.yaml:3:44: pipeline "p", field "schedule.missed": must be skip or catch_up_one (got "always")');
    expect(() => one('    triggers: [{ on: push }]')).toThrow('flywheel.yaml:3:16: pipeline "p", trigger 1: field "on" must be dataset or alert (got "push")');
    expect(() => one('    triggers: [{ on: dataset, dataset: made }]')).toThrow('pipeline "p": cannot be triggered by dataset "made", which it writes');
  });
});
