/** Unit tests of the order_by parser for runs and experiments. */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import { parseExperimentOrderBy, parseOrderBy } from './order-by.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlywheelError);
    expect((err as FlywheelError).code).toBe('FW_FILTER_SYNTAX');
    return (err as Error).message;
  }
  throw new Error('expected FW_FILTER_SYNTAX, nothing was thrown');
}

describe('parseOrderBy', () => {
  it('parses entities, quoted keys, bare attributes and directions', () => {
    expect(parseOrderBy(['metrics.acc DESC', 'params.lr', 'attributes.start_time asc', 'tags.`x y`', 'end_time Desc', 'tags.mlflow.runName'])).toEqual([
      { type: 'metric', key: 'acc', ascending: false },
      { type: 'param', key: 'lr', ascending: true },
      { type: 'attribute', key: 'start_time', ascending: true },
      { type: 'tag', key: 'x y', ascending: true },
      { type: 'attribute', key: 'end_time', ascending: false },
      { type: 'tag', key: 'mlflow.runName', ascending: true },
    ]);
  });

  it('maps attribute aliases and accepts no items', () => {
    expect(parseOrderBy(['created DESC', 'run_name'])).toEqual([
      { type: 'attribute', key: 'start_time', ascending: false },
      { type: 'attribute', key: 'run_name', ascending: true },
    ]);
    expect(parseOrderBy([])).toEqual([]);
    expect(parseOrderBy(undefined)).toEqual([]);
  });

  it.each([
    [['metrics.acc DESCENDING'], /Invalid order_by clause "metrics.acc DESCENDING": expected ASC or DESC, found "DESCENDING" at position 12$/],
    [['metrics.acc DESC nulls'], /unexpected "nulls" after the sort direction at position 17$/],
    [['foo.acc'], /unknown entity "foo" .* at position 0$/],
    [['bogus'], /invalid attribute "bogus"/],
    [['metrics.acc', 'metric.acc DESC'], /metric "acc" is already ordered by/],
    [['start_time', 'created'], /attribute "start_time" is already ordered by/],
    [['  '], /empty clause at position 0$/],
    [["metrics.'acc"], /unterminated string/],
    [['metrics.acc = 1'], /expected ASC or DESC, found "=" at position 12$/],
  ])('rejects %j', (items, message) => {
    expect(messageOf(() => parseOrderBy(items))).toMatch(message);
  });
});

describe('parseExperimentOrderBy', () => {
  it('accepts the experiment attributes', () => {
    expect(parseExperimentOrderBy(['name', 'experiment_id DESC', 'attributes.creation_time', 'last_update_time asc'])).toEqual([
      { type: 'attribute', key: 'name', ascending: true },
      { type: 'attribute', key: 'experiment_id', ascending: false },
      { type: 'attribute', key: 'creation_time', ascending: true },
      { type: 'attribute', key: 'last_update_time', ascending: true },
    ]);
  });

  it('rejects run attributes', () => {
    expect(messageOf(() => parseExperimentOrderBy(['start_time']))).toMatch(/invalid attribute "start_time" \(valid attributes for experiments: name, creation_time, last_update_time, experiment_id\)/);
  });
});
