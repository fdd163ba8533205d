/** Dataset names and refs: what is accepted, what each ref selects, and what is refused. */
import { describe, expect, it } from 'vitest';
import { parseRef, validateDatasetName } from './names.js';

describe('dataset names', () => {
  it('accepts plain tokens up to 128 characters', () => {
    for (const n of ['a', 'orders', 'Orders_2024-01.v2', '9lives', 'x'.repeat(128)]) expect(validateDatasetName(n)).toBe(n);
  });

  it('refuses path characters, leading dots and dashes, blanks and long names', () => {
    for (const n of ['', '.', '..', '../etc', 'a/b', 'a\\b', '-x', '_x', '.x', 'a b', 'a@1', 'é', 'x'.repeat(129)]) {
      expect(() => validateDatasetName(n)).toThrow(/Invalid dataset name|required/);
    }
  });
});

describe('refs', () => {
  it('reads NAME, NAME@latest, NAME@N and NAME@<hash prefix>', () => {
    expect(parseRef('orders')).toEqual({ name: 'orders', selector: { kind: 'latest' } });
    expect(parseRef('orders@latest')).toEqual({ name: 'orders', selector: { kind: 'latest' } });
    expect(parseRef('orders@3')).toEqual({ name: 'orders', selector: { kind: 'number', version: 3 } });
    expect(parseRef('orders@ab12')).toEqual({ name: 'orders', selector: { kind: 'hash', prefix: 'ab12' } });
    expect(parseRef('orders@AB12CD')).toEqual({ name: 'orders', selector: { kind: 'hash', prefix: 'ab12cd' } });
    // Four or more digits: a version number when one exists, else a hash prefix (decided by the service).
    expect(parseRef('orders@1234')).toEqual({ name: 'orders', selector: { kind: 'number', version: 1234 } });
    expect(parseRef('orders@0123')).toEqual({ name: 'orders', selector: { kind: 'hash', prefix: '0123' } });
  });

  it('refuses version 0, short or non-hex selectors and bad names', () => {
    for (const r of ['orders@0', 'orders@abc', 'orders@xyz1', 'orders@', '@3', 'a/b@1', '']) expect(() => parseRef(r)).toThrow();
  });
});
