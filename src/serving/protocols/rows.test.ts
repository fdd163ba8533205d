/** Serving's row check before batching: types, nulls, NaN/Infinity as JSON strings, errors naming row and field. */
import { describe, expect, it } from 'vitest';
import type { ModelSignature } from '../../models/manifest.js';
import { prepareRows } from './rows.js';

const signature: ModelSignature = {
  inputs: [
    { name: 'age', type: 'double', nullable: false },
    { name: 'income', type: 'double', nullable: true },
    { name: 'visits', type: 'long', nullable: false },
    { name: 'member', type: 'boolean', nullable: false },
    { name: 'city', type: 'string', nullable: true },
  ],
  outputs: [{ name: 'prediction', type: 'double' }],
};

const good = { age: 41.5, income: 1000, visits: 3, member: true, city: 'Oslo' };

function errorOf(fn: () => unknown): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected an error');
}

describe('prepareRows', () => {
  it('keeps only the signature inputs, in fresh objects', () => {
    const row = { ...good, id: 'r-1', label: 1 };
    const out = prepareRows(signature, [row]);
    expect(out).toEqual([good]);
    expect(out[0]).not.toBe(row);
    expect(row).toHaveProperty('id', 'r-1'); // the caller's row is not modified
  });

  it('names the row and field of a missing input', () => {
    const { age: _, ...noAge } = good;
    const e = errorOf(() => prepareRows(signature, [good, good, good, noAge]));
    expect(e.code).toBe('FW_INVALID_ARGUMENT');
    expect(e.message).toBe('row 3: field "age" is missing (the signature requires it)');
    expect(e.details).toEqual({ row: 3, field: 'age' });
  });

  it('treats a missing nullable input as missing, not null', () => {
    const { city: _, ...noCity } = good;
    expect(errorOf(() => prepareRows(signature, [noCity])).details).toEqual({ row: 0, field: 'city' });
  });

  it('refuses a non-object row', () => {
    for (const bad of [null, 3, 'x', [1, 2]]) {
      const e = errorOf(() => prepareRows(signature, [good, bad]));
      expect(e.code).toBe('FW_INVALID_ARGUMENT');
      expect(e.message).toMatch(/^row 1 must be an object/);
    }
  });

  it('accepts null only where the input is nullable', () => {
    expect(prepareRows(signature, [{ ...good, income: null, city: null }])).toEqual([{ ...good, income: null, city: null }]);
    const e = errorOf(() => prepareRows(signature, [{ ...good, age: null }]));
    expect(e.message).toBe('row 0: field "age" is null, but the signature does not allow nulls for it');
    expect(e.details).toEqual({ row: 0, field: 'age' });
  });

  it('checks each type and names the bad value', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ age: 'abc' }, 'row 0: field "age" must be a double (a number), got the string "abc"'],
      [{ age: true }, 'row 0: field "age" must be a double (a number), got boolean true'],
      [{ visits: 2.5 }, 'row 0: field "visits" must be a long (an integer), got number 2.5'],
      [{ visits: '3' }, 'row 0: field "visits" must be a long (an integer), got the string "3"'],
      [{ member: 1 }, 'row 0: field "member" must be a boolean, got number 1'],
      [{ member: 'true' }, 'row 0: field "member" must be a boolean, got the string "true"'],
      [{ city: 7 }, 'row 0: field "city" must be a string, got number 7'],
      [{ city: ['Oslo'] }, 'row 0: field "city" must be a string, got an array'],
    ];
    for (const [patch, message] of cases) {
      const e = errorOf(() => prepareRows(signature, [{ ...good, ...patch }]));
      expect(e.code).toBe('FW_INVALID_ARGUMENT');
      expect(e.message).toBe(message);
    }
  });

  it('refuses longs outside the safe integer range', () => {
    const e = errorOf(() => prepareRows(signature, [{ ...good, visits: 2 ** 53 }]));
    expect(e.details).toEqual({ row: 0, field: 'visits' });
    expect(e.message).toContain('between -(2^53-1) and 2^53-1');
    expect(prepareRows(signature, [{ ...good, visits: Number.MAX_SAFE_INTEGER }])[0].visits).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('turns "NaN" into a missing value for nullable doubles, and refuses it otherwise', () => {
    expect(prepareRows(signature, [{ ...good, income: 'NaN' }])[0].income).toBeNull();
    expect(prepareRows(signature, [{ ...good, income: NaN }])[0].income).toBeNull();
    const e = errorOf(() => prepareRows(signature, [{ ...good, age: 'NaN' }]));
    expect(e.message).toBe('row 0: field "age" is NaN (a missing value), but the signature does not allow nulls for it');
    expect(e.details).toEqual({ row: 0, field: 'age' });
  });

  it('always refuses Infinity and -Infinity, as strings or numbers, even where nullable', () => {
    for (const v of ['Infinity', '-Infinity', Infinity, -Infinity]) {
      const e = errorOf(() => prepareRows(signature, [good, { ...good, income: v }]));
      expect(e.code).toBe('FW_INVALID_ARGUMENT');
      expect(e.details).toEqual({ row: 1, field: 'income' });
      expect(e.message).toMatch(/^row 1: field "income" is -?Infinity; only finite numbers are accepted$/);
    }
  });

  it('does not convert the non-finite strings for non-double inputs', () => {
    expect(errorOf(() => prepareRows(signature, [{ ...good, visits: 'NaN' }])).details).toEqual({ row: 0, field: 'visits' });
    expect(prepareRows(signature, [{ ...good, city: 'NaN' }])[0].city).toBe('NaN');
  });

  it('accepts an empty request', () => {
    expect(prepareRows(signature, [])).toEqual([]);
  });
});
